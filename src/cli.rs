//! The command line: clap definitions and validation of what the user typed, no I/O.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::exit::EXIT_CODES_HELP;
use crate::plan::TargetSpec;
use crate::profile::DEFAULT_PROFILE;
use crate::profile::feed::FeedKind;
use crate::render::ColorChoice;

/// Tells whether this VM's egress lets a Zscaler ZPA connector enroll, and if not, why.
#[derive(Debug, Parser)]
#[command(
    name = "zpa-preflight",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ZPA_PREFLIGHT_COMMIT"), ")"),
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe DNS, TCP, TLS and the clock as the connector would, judge the VM itself, and
    /// rank the causes of failure.
    #[command(after_help = EXIT_CODES_HELP)]
    Check(CheckArgs),
    /// Re-run the diagnosis on a saved JSON report, offline.
    #[command(after_help = EXIT_CODES_HELP)]
    Explain(ExplainArgs),
    /// For cloud-init and image pipelines: check until ready or until --wait runs out.
    #[command(after_help = GATE_HELP)]
    Gate(GateArgs),
    /// Run the checks and pack the report, the relevant configuration and the connector's
    /// recent log lines for a support ticket (the provision key is never included).
    #[command(after_help = BUNDLE_HELP)]
    Bundle(BundleArgs),
    /// Print the certificate chain a TLS host presents (summary and PEM), to pin a broker CA
    /// seen on a known-good path with `--trust broker=FILE`.
    #[command(after_help = CHAIN_HELP)]
    Chain(ChainArgs),
    /// Zscaler's published ranges: fetch one of its feeds into the cache, or show the ranges
    /// a check would use.
    Feed {
        /// What to do.
        #[command(subcommand)]
        action: FeedCommand,
    },
    /// Plan App Connectors for a protocol mix: per failure domain, N+1, scale out not up,
    /// with the arithmetic shown (the table is checks/sizing.toml).
    Size(SizeArgs),
    /// List every cause this tool can conclude: id, family, default severity, meaning (the ids
    /// `--ignore` accepts).
    Causes {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: CatalogFormat,
    },
    /// Print the JSON Schema (draft 2020-12) of the report this version writes and reads,
    /// generated from its types: what `check --format json`, `--output` and `gate` write.
    Schema,
    /// List the built-in profiles.
    Profiles,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), generated from these definitions: the tool's, or a
    /// subcommand's (`man feed update` is zpa-preflight-feed-update(1)).
    Man {
        /// The subcommand whose page to print (none: the tool's own page).
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
        /// List every page instead, one a line: the file name, then the subcommand words.
        #[arg(long, conflicts_with = "command")]
        list: bool,
    },
}

/// `bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The checks to run, as for `check`.
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// How the run is judged, as for `check`.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// The archive to write.
    #[arg(
        short = 'o',
        long = "bundle-output",
        value_name = "FILE.tar.gz",
        default_value = "zpa-preflight-bundle.tar.gz"
    )]
    pub out: PathBuf,
    /// Lines kept from the end of each connector log.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub log_lines: usize,
    /// Replace this site's host names and addresses with stable tokens of the same class
    /// (Zscaler's stay), so that `explain` still reaches the same verdict.
    #[arg(long)]
    pub redact: bool,
}

/// `gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The checks to run, as for `check`.
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// How each attempt is judged, as for `check`.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Give up after this long (networks and NAT routes often come up after cloud-init starts).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_span)]
    pub wait: Duration,
    /// Pause between attempts.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_span)]
    pub interval: Duration,
    /// Where the JSON report of the last attempt is written.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/log/zpa-preflight/report.json"
    )]
    pub report: PathBuf,
}

/// `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What to probe.
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Print every name, address and port the run would contact, and contact nothing (as
    /// human text or JSON).
    #[arg(long)]
    pub dry_run: bool,
    /// How the run is judged.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// How the report is shown.
    #[command(flatten)]
    pub show: ShowArgs,
}

/// What a run probes: shared by `check`, `gate` and `bundle`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// A built-in profile name, or a profile file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_PROFILE)]
    pub profile: String,
    /// A Zscaler feed in any shape it publishes (ZPA, ZIA cenr/future/hubs/ca JSON, or one
    /// CIDR a line); replaces the cached and the profile's ranges.
    #[arg(long, value_name = "FILE")]
    pub cidrs: Option<PathBuf>,
    /// Where `feed update` caches the feeds; a cached feed replaces the profile's built-in
    /// ranges.
    #[arg(long, value_name = "DIR", default_value = crate::feeds::DEFAULT_CACHE)]
    pub cache: PathBuf,
    /// Ask this DNS server instead of the ones in resolv.conf.
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// A connector log or `journalctl -u zpa-connector` export to triage (repeatable); the
    /// connector's own /var/log/zpa/connector.log is read too when it exists.
    #[arg(long, value_name = "FILE")]
    pub log: Vec<PathBuf>,
    /// Ask this time server instead of the configured, cloud and fallback ones (repeatable).
    #[arg(long, value_name = "HOST|IP[:PORT]")]
    pub ntp_server: Vec<String>,
    /// Probe only this host, address or range (repeatable); the profile's names and Zen
    /// addresses are then left out, its ports kept.
    #[arg(long, value_name = "HOST|IP|CIDR")]
    pub target: Vec<TargetSpec>,
    /// Audit every Zen range: one address in each range of the feed (IPv4 and IPv6) on the
    /// profile's ports, reported range by range and grouped by region (not with --target,
    /// which replaces the ranges).
    #[arg(long, conflicts_with = "target")]
    pub coverage: bool,
    /// Per-probe timeout, e.g. 2s or 500ms.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// PEM anchors that count as genuine for brokers, control hosts, or both (repeatable):
    /// how a private deployment or a lab declares its own CA.
    #[arg(long, value_name = "[broker=|control=]FILE")]
    pub trust: Vec<String>,
    /// Where /etc and /sys are read from (a mounted disk image, a fixture tree).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

/// `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A report written by `check --format json`, `--output` or `gate`; several reports, or
    /// a folder of them, give a fleet summary.
    #[arg(
        value_name = "REPORT.json|DIR",
        required_unless_present = "chain",
        conflicts_with = "chain",
        num_args = 1..
    )]
    pub reports: Vec<PathBuf>,
    /// Judge a certificate chain instead of a report: PEM certificates (leaf first), or the
    /// output of `openssl s_client -showcerts` as pasted into a ticket.
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
    /// With --chain: the server name the chain was presented for (default: the leaf's first
    /// name). A control host of the profile is judged as one; any other name as a broker.
    #[arg(long, value_name = "NAME", value_parser = parse_sni, conflicts_with = "reports")]
    pub sni: Option<String>,
    /// With --chain: the profile whose catalog and expectations judge it [default:
    /// app-connector]. (A report keeps the plan it was made with: not with a report.)
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "reports")]
    pub profile: Option<String>,
    /// With --chain: anchors that count as genuine, as for `check`.
    #[arg(
        long,
        value_name = "[broker=|control=]FILE",
        conflicts_with = "reports"
    )]
    pub trust: Vec<String>,
    /// How the reports are judged.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// How the report (or the fleet summary) is shown.
    #[command(flatten)]
    pub show: ShowArgs,
}

/// `feed update` and `feed show`.
#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Fetch a feed over HTTPS (or read a downloaded copy), validate it, and write it to the
    /// cache atomically; a failed update leaves the cache untouched.
    Update(FeedUpdateArgs),
    /// Print the ranges a check would use (--cidrs, else the cache, else the built-in list),
    /// their source and age, and the count per region.
    Show(FeedShowArgs),
}

/// `feed update`.
#[derive(Debug, Args)]
pub struct FeedUpdateArgs {
    /// Which feed.
    #[arg(long, value_enum, default_value_t = FeedKind::Zpa)]
    pub kind: FeedKind,
    /// The cloud (default: private.zscaler.com for zpa, zscaler.net for the ZIA feeds).
    #[arg(long, value_name = "NAME")]
    pub cloud: Option<String>,
    /// A downloaded copy, or an https:// URL, instead of Zscaler's URL for the kind and cloud.
    #[arg(long, value_name = "FILE|URL")]
    pub from: Option<String>,
    /// The cache directory.
    #[arg(long, value_name = "DIR", default_value = crate::feeds::DEFAULT_CACHE)]
    pub cache: PathBuf,
    /// Accept a feed that changes more than half of the cached entries.
    #[arg(long)]
    pub force: bool,
    /// Trust only this CA (PEM) for the feed host: a private mirror or a lab.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Where the system's proxy settings are read (`HTTPS_PROXY` in /etc/environment).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Download timeout.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// `feed show`.
#[derive(Debug, Args)]
pub struct FeedShowArgs {
    /// A feed file instead of the cache.
    #[arg(long, value_name = "FILE")]
    pub cidrs: Option<PathBuf>,
    /// The cache directory.
    #[arg(long, value_name = "DIR", default_value = crate::feeds::DEFAULT_CACHE)]
    pub cache: PathBuf,
    /// The profile whose built-in ranges are the fallback.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_PROFILE)]
    pub profile: String,
    /// `human`, or `json` with every range and its region.
    #[arg(long, value_enum, default_value_t = FeedFormat::Human)]
    pub format: FeedFormat,
}

/// What `feed show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FeedFormat {
    /// Source, age and counts per region.
    #[default]
    Human,
    /// Every range with its region.
    Json,
}

/// `size`.
#[derive(Debug, Args)]
pub struct SizeArgs {
    /// Concurrent users per protocol, e.g. http=1200,rdp=300,ssh=400 (also vdi, smb, voice).
    #[arg(long, value_name = "PROTOCOL=N,…", value_parser = parse_users)]
    pub users: UserMix,
    /// Failure domains (AZs, DC rows), each with its own connector group.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub domains: u32,
    /// The VM size to plan with: 2x4 (the minimum) or 4x8 (recommended).
    #[arg(long, value_name = "SIZE", default_value = "4x8", value_parser = parse_vm_size)]
    pub vm: String,
    /// Also judge this VM: what its vCPUs and memory carry of the mix.
    #[arg(long)]
    pub here: bool,
    /// Where /proc is read for --here.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: CatalogFormat,
}

/// Concurrent users per protocol, as `size --users` reads them against the sizing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMix(pub Vec<(String, u64)>);

/// `PROTOCOL=N,…`, every protocol one the sizing table knows.
fn parse_users(text: &str) -> Result<UserMix, String> {
    crate::sizing::table().parse_mix(text).map(UserMix)
}

/// A VM size the sizing table has.
fn parse_vm_size(text: &str) -> Result<String, String> {
    let table = crate::sizing::table();
    match table.size(text) {
        Some(_) => Ok(text.to_string()),
        None => {
            let known: Vec<&str> = table.sizes.iter().map(|s| s.name.as_str()).collect();
            Err(format!("the table has {}", known.join(", ")))
        }
    }
}

/// What `size` and `causes` print: tables, for people, a ticket or a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CatalogFormat {
    /// Aligned text.
    #[default]
    Human,
    /// A versioned JSON document.
    Json,
    /// Markdown tables.
    Markdown,
}

/// `chain`.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// The host (name or address), port 443 unless given.
    #[arg(value_name = "HOST[:PORT]", value_parser = parse_host_port)]
    pub host: HostPort,
    /// The server name to send (default: HOST when it is a name).
    #[arg(long, value_name = "NAME", value_parser = parse_sni)]
    pub sni: Option<String>,
    /// An explicit proxy to tunnel through with CONNECT.
    #[arg(long, value_name = "IP:PORT")]
    pub proxy: Option<SocketAddr>,
    /// Connect and handshake timeout, e.g. 5s.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// What to print.
    #[arg(long, value_enum, default_value_t = ChainFormat::Human)]
    pub format: ChainFormat,
}

/// `HOST`, `HOST:PORT`, `IP`, `IPv4:PORT` or `[IPv6]:PORT`, as `chain` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The name or address, without brackets.
    pub host: String,
    /// 443 unless given.
    pub port: u16,
    /// As typed, for messages and the report's origin.
    pub spec: String,
}

/// What `chain` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ChainFormat {
    /// A summary of each certificate, then its PEM.
    #[default]
    Human,
    /// Only the PEM of the CA certificates sent: the file `--trust broker=` takes.
    Pem,
    /// Each certificate's summary and PEM as JSON.
    Json,
}

/// How `chain` feeds a pin.
pub const CHAIN_HELP: &str = "\
Pin a broker CA seen on a known-good path (no SSL inspection):
  zpa-preflight chain co2br.prod.zpath.net --format pem > broker-ca.pem
  zpa-preflight check --trust broker=broker-ca.pem
Exit codes: 0 a chain was presented, 2 usage error, 3 no chain (the handshake failed).";

/// What `gate` prints, and where to see what it would contact.
pub const GATE_HELP: &str = "\
gate prints one plain line per attempt; the JSON report goes to --report (and --output).
zpa-preflight check --dry-run shows what gate would contact.

Exit codes: as for check (0 ready, 1 tool failed, 2 usage, 3 blocked when --wait ran out,
4 warnings with --strict, 129/130/143 interrupted).";

/// What `bundle` prints.
pub const BUNDLE_HELP: &str = "\
bundle prints one line; the report is inside the bundle (and in --output).
zpa-preflight check --dry-run shows what bundle would contact.";

/// How `check` and `explain` show a report.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// When to use colour (NO_COLOR is honoured under auto).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// What `check` and `explain` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// Checks, ranked causes and a SUMMARY line.
    #[default]
    Human,
    /// The report document (see the README's JSON contract).
    Json,
    /// A report to paste into a support ticket.
    Markdown,
    /// node_exporter textfile metrics.
    Prometheus,
}

/// How a run is judged and kept: shared by `check`, `explain`, `gate` and `bundle`.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Downgrade this blocking cause to a warning (repeatable), e.g. egress.tcp_9000_blocked.
    #[arg(long, value_name = "CAUSE_ID", value_parser = parse_cause_id)]
    pub ignore: Vec<String>,
    /// Exit 4 when there are warnings but nothing blocks.
    #[arg(long)]
    pub strict: bool,
}

impl Cli {
    /// The usage rules clap cannot say (a flag's value against another flag), checked before
    /// anything is read: a piped `--log` consumed by a run that is then refused is lost.
    pub fn validate(&self) -> Result<(), Error> {
        let plain =
            |format: ReportFormat| matches!(format, ReportFormat::Human | ReportFormat::Json);
        match &self.command {
            Command::Check(args) if args.dry_run && !plain(args.show.format) => Err(Error::Usage(
                "check --dry-run: prints the plan as human text or JSON only".into(),
            )),
            Command::Explain(args) if args.reports.len() > 1 && !plain(args.show.format) => {
                Err(Error::Usage(FLEET_FORMATS.into()))
            }
            Command::Feed {
                action: FeedCommand::Update(args),
            } => match &args.from {
                Some(from) if from.contains("://") && !from.starts_with("https://") => Err(
                    Error::Usage(format!("feed update: {from}: only https:// URLs or files")),
                ),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// Why a fleet summary is refused in a report-only format (a folder is a fleet too: it is
/// refused before any report in it is read).
pub const FLEET_FORMATS: &str = "explain: a fleet summary is printed as human text or JSON only";

/// `HOST`, `HOST:PORT`, `IP`, `IPv4:PORT` or `[IPv6]:PORT`; port 443 by default.
fn parse_host_port(text: &str) -> Result<HostPort, String> {
    let bad = || format!("'{text}' is not HOST, HOST:PORT or [IPv6]:PORT");
    let (host, port) = if let Ok(addr) = text.parse::<SocketAddr>() {
        (addr.ip().to_string(), addr.port())
    } else if let Ok(ip) = text.parse::<IpAddr>() {
        (ip.to_string(), 443)
    } else {
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad())?),
            None => (text, 443),
        };
        host.parse::<crate::profile::Hostname>()
            .map_err(|_| bad())?;
        (host.to_string(), port)
    };
    Ok(HostPort {
        host,
        port,
        spec: text.to_string(),
    })
}

/// `IP` (port 53) or `IP:PORT` (`[v6]:PORT` for IPv6).
fn parse_dns_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| format!("'{text}' is not IP or IP:PORT ([IPv6]:PORT)"))
}

/// A server name as a ClientHello carries it: one DNS name or IP address, never empty, a
/// wildcard, a port, spaces or control characters (a chain judged against a name that does
/// not parse would be judged against nothing).
fn parse_sni(text: &str) -> Result<String, String> {
    rustls::pki_types::ServerName::try_from(text.to_string())
        .map(|_| text.to_string())
        .map_err(|_| {
            format!(
                "'{}' is not a server name (one DNS name or IP address, without a port or a wildcard)",
                text.escape_debug()
            )
        })
}

/// A humantime duration, or a bare number of seconds; at least 1 ms.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(text).map_err(|e| format!("'{text}': {e}"))?,
    };
    if duration < Duration::from_millis(1) || duration > Duration::from_secs(300) {
        return Err(format!("'{text}' must be between 1ms and 5m"));
    }
    Ok(duration)
}

/// A humantime span (`5m`, `15s`, `500ms`).
fn parse_span(text: &str) -> Result<Duration, String> {
    let span = humantime::parse_duration(text).map_err(|e| format!("'{text}': {e}"))?;
    // A week is past any cloud-init or systemd wait; beyond it an Instant could overflow.
    if span > Duration::from_secs(7 * 24 * 3600) {
        return Err(format!("'{text}' is longer than a week"));
    }
    Ok(span)
}

/// Cause ids are dotted snake_case: `egress.tcp_9000_blocked`.
fn parse_cause_id(text: &str) -> Result<String, String> {
    // Checked against the catalogue: a typo is a usage error naming the nearest id, never a
    // flag that silently ignores nothing.
    text.parse::<crate::causes::CauseId>()
        .map(String::from)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_dns_server("127.0.0.1").unwrap().port(), 53);
        assert_eq!(parse_dns_server("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_dns_server("[::1]:5353").unwrap().port(), 5353);
        assert!(parse_dns_server("dns.example").is_err());
        assert_eq!(parse_timeout("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_span("18446744073709551615s").is_err());
        assert_eq!(parse_span("15s").unwrap(), Duration::from_secs(15));
        assert!(parse_cause_id("egress.tcp_9000_blocked").is_ok());
        assert!(parse_cause_id("Egress").is_err());
        assert!(parse_sni("co2br.prod.zpath.net").is_ok());
        assert!(parse_sni("198.51.100.7").is_ok());
        for bad in [
            "",
            " co2br.prod.zpath.net",
            "*.prod.zpath.net",
            "host:443",
            "a\u{1b}[31mb",
        ] {
            assert!(parse_sni(bad).is_err(), "{bad:?}");
        }
    }
}
#[cfg(test)]
mod usage_tests {
    use super::*;

    /// Usage rules are clap's, checked before anything is read.
    #[test]
    fn usage_rules_are_checked_before_any_io() {
        for args in [
            &["zpa-preflight", "explain", "--profile", "lab", "r.json"][..],
            &["zpa-preflight", "explain", "--sni", "a.example", "r.json"],
            &["zpa-preflight", "explain", "--trust", "ca.pem", "r.json"],
            &[
                "zpa-preflight",
                "check",
                "--coverage",
                "--target",
                "192.0.2.1",
            ],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        // gate and bundle print lines of their own: no --format, --color or --dry-run to refuse.
        for command in ["gate", "bundle"] {
            for flag in [
                &["--format", "json"][..],
                &["--color", "never"],
                &["--dry-run"],
            ] {
                let mut args = vec!["zpa-preflight", command];
                args.extend(flag);
                assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
            }
        }
        // Each command lists only the formats it prints.
        for args in [
            &["zpa-preflight", "causes", "--format", "prometheus"][..],
            &[
                "zpa-preflight",
                "size",
                "--users",
                "http=1",
                "--format",
                "prometheus",
            ],
            &["zpa-preflight", "feed", "show", "--format", "markdown"],
            &["zpa-preflight", "chain", "host:port"],
            &["zpa-preflight", "chain", "a b"],
            &["zpa-preflight", "size", "--users", "telnet=5"],
            &["zpa-preflight", "size", "--users", "http=1", "--vm", "1x1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        assert!(
            Cli::try_parse_from([
                "zpa-preflight",
                "explain",
                "--chain",
                "c.pem",
                "--sni",
                "a.example"
            ])
            .is_ok()
        );
    }

    /// What clap cannot say is said by `validate`, still before anything is read.
    #[test]
    fn value_rules_are_checked_before_any_io() {
        let verdict = |args: &[&str]| Cli::try_parse_from(args).unwrap().validate().is_ok();
        assert!(!verdict(&[
            "zpa-preflight",
            "check",
            "--dry-run",
            "--format",
            "markdown"
        ]));
        assert!(!verdict(&[
            "zpa-preflight",
            "check",
            "--dry-run",
            "--format",
            "prometheus"
        ]));
        assert!(verdict(&[
            "zpa-preflight",
            "check",
            "--dry-run",
            "--format",
            "json"
        ]));
        assert!(verdict(&[
            "zpa-preflight",
            "check",
            "--format",
            "prometheus"
        ]));
        assert!(!verdict(&[
            "zpa-preflight",
            "explain",
            "a.json",
            "b.json",
            "--format",
            "markdown"
        ]));
        assert!(verdict(&[
            "zpa-preflight",
            "explain",
            "a.json",
            "b.json",
            "--format",
            "json"
        ]));
        assert!(verdict(&[
            "zpa-preflight",
            "explain",
            "a.json",
            "--format",
            "markdown"
        ]));
    }

    #[test]
    fn chain_hosts() {
        for (text, host, port) in [
            ("co2br.prod.zpath.net", "co2br.prod.zpath.net", 443),
            ("co2br.prod.zpath.net:8443", "co2br.prod.zpath.net", 8443),
            ("198.18.0.7", "198.18.0.7", 443),
            ("198.18.0.7:9000", "198.18.0.7", 9000),
            ("[2001:db8::7]:9000", "2001:db8::7", 9000),
            ("2001:db8::7", "2001:db8::7", 443),
        ] {
            let parsed = parse_host_port(text).unwrap();
            assert_eq!((parsed.host.as_str(), parsed.port), (host, port), "{text}");
            assert_eq!(parsed.spec, text);
        }
        for bad in ["", "host:", "host:99999", "a b", ":443", "-x.example"] {
            assert!(parse_host_port(bad).is_err(), "{bad:?}");
        }
    }
}
