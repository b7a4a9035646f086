//! What this tool can conclude: the catalogue of causes, in one table.
//!
//! Every cause a rule raises is built from an entry here ([`CauseKind`]); the JSON keeps the
//! dotted ids (`egress.tcp_9000_blocked`). `--ignore` and the log patterns' `cause` are checked
//! against this table, so a typo is an error naming the nearest id instead of a silent no-op;
//! `zpa-preflight causes` prints it (`render::causes`) and the README's table is kept equal to it
//! by a test.
//! It sits at the bottom of the house (no imports) because the profile's log patterns, the
//! rules and the command line all speak of causes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How much a cause matters for enrollment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The connector cannot enroll or stay connected while this holds.
    Blocking,
    /// Worth fixing; enrollment may still work.
    Warning,
    /// Context, no action needed.
    Info,
}

impl Severity {
    /// Its name as the JSON spells it: `blocking`, `warning`, `info`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Blocking => "blocking",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Which part of the path a cause is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Routes, firewalls, ports.
    Egress,
    /// Resolvers and answers.
    Dns,
    /// Explicit proxies.
    Proxy,
    /// Handshakes and who signed the chains.
    Tls,
    /// The clock and its sources.
    Clock,
    /// The VM itself: size, OS, permissions, SELinux.
    Host,
    /// The provision key.
    Key,
    /// The connector process and its own log.
    Connector,
    /// A forwarding connector's own duties.
    Gateway,
    /// What a connector flavour does and does not do.
    Flavour,
    /// The Zen ranges' feed.
    Feed,
    /// The run itself.
    Run,
}

impl Family {
    /// Its name, as `causes` prints it.
    pub fn label(self) -> &'static str {
        match self {
            Family::Egress => "egress",
            Family::Dns => "dns",
            Family::Proxy => "proxy",
            Family::Tls => "tls",
            Family::Clock => "clock",
            Family::Host => "host",
            Family::Key => "key",
            Family::Connector => "connector",
            Family::Gateway => "gateway",
            Family::Flavour => "flavour",
            Family::Feed => "feed",
            Family::Run => "run",
        }
    }

    /// The id prefixes it owns: its own name, and the older names kept on the wire because
    /// `--ignore` lines and saved reports carry them (`ntp.blocked` is about the clock,
    /// `selinux.*` about the host). One taxonomy: an id's prefix names exactly one family.
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Family::Clock => &["clock", "ntp"],
            Family::Host => &["host", "selinux"],
            Family::Egress => &["egress"],
            Family::Dns => &["dns"],
            Family::Proxy => &["proxy"],
            Family::Tls => &["tls"],
            Family::Key => &["key"],
            Family::Connector => &["connector"],
            Family::Gateway => &["gateway"],
            Family::Flavour => &["flavour"],
            Family::Feed => &["feed"],
            Family::Run => &["run"],
        }
    }
}

/// One kind of cause: its id (with `<port>` where the port is part of it), family, default
/// severity and meaning.
#[derive(Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CauseKind {
    /// The dotted id, or its template (`egress.tcp_<port>_blocked`).
    pub id: &'static str,
    /// Which part of the path it is about.
    pub family: Family,
    /// Its severity when nothing softens or hardens it.
    pub severity: Severity,
    /// When the severity differs from the default, and why.
    pub severity_note: &'static str,
    /// What it means, in one line.
    pub meaning: &'static str,
}

/// The placeholder a templated id carries.
const PORT: &str = "<port>";

impl CauseKind {
    /// The id of this (untemplated) kind.
    pub fn id(&'static self) -> CauseId {
        debug_assert!(!self.id.contains(PORT), "{} needs a port", self.id);
        CauseId(self.id.to_string())
    }

    /// The id of this templated kind for `port`.
    pub fn port(&'static self, port: u16) -> CauseId {
        debug_assert!(self.id.contains(PORT), "{} takes no port", self.id);
        CauseId(self.id.replace(PORT, &port.to_string()))
    }

    /// Its default severity, and when it differs: `blocking (warning for optional names)`.
    pub fn severity_text(&self) -> String {
        match self.severity_note {
            "" => self.severity.label().to_string(),
            note => format!("{} ({note})", self.severity.label()),
        }
    }

    /// Whether `id` is this kind (any port, for a template).
    fn matches(&self, id: &str) -> bool {
        match self.id.split_once(PORT) {
            None => self.id == id,
            Some((head, tail)) => id
                .strip_prefix(head)
                .and_then(|rest| rest.strip_suffix(tail))
                .is_some_and(|port| port.parse::<u16>().is_ok()),
        }
    }
}

/// A cause id known to the catalogue: the only way a rule, a log pattern or `--ignore` names a
/// cause. Serialised as the dotted string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct CauseId(String);

impl CauseId {
    /// The dotted id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CauseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<CauseId> for String {
    fn from(id: CauseId) -> String {
        id.0
    }
}

impl TryFrom<String> for CauseId {
    type Error = UnknownCause;
    fn try_from(id: String) -> Result<CauseId, UnknownCause> {
        id.parse()
    }
}

impl std::str::FromStr for CauseId {
    type Err = UnknownCause;

    fn from_str(id: &str) -> Result<CauseId, UnknownCause> {
        if CATALOGUE.iter().any(|k| k.matches(id)) {
            return Ok(CauseId(id.to_string()));
        }
        Err(UnknownCause {
            id: id.to_string(),
            nearest: nearest(id),
        })
    }
}

/// An id the catalogue does not hold, with the nearest one it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cause id '{id}'{}; `zpa-preflight causes` lists them all", match nearest {
    Some(near) => format!(" (did you mean '{near}'?)"),
    None => String::new(),
})]
pub struct UnknownCause {
    /// What was given.
    pub id: String,
    /// The closest known id, when one is close.
    pub nearest: Option<String>,
}

/// The known id closest to `id` (a template is tried with the port `id` carries, if any).
fn nearest(id: &str) -> Option<String> {
    let port: Option<String> = {
        let digits: String = id.chars().filter(char::is_ascii_digit).collect();
        (!digits.is_empty() && digits.parse::<u16>().is_ok()).then_some(digits)
    };
    CATALOGUE
        .iter()
        .map(|k| match (&port, k.id.contains(PORT)) {
            (Some(port), true) => k.id.replace(PORT, port),
            _ => k.id.to_string(),
        })
        .map(|known| (strsim::jaro_winkler(id, &known), known))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| known)
}

macro_rules! kinds {
    ($($name:ident = $id:literal, $family:ident, $severity:ident, $note:literal, $meaning:literal;)*) => {
        $(
            #[doc = $meaning]
            pub static $name: CauseKind = CauseKind {
                id: $id,
                family: Family::$family,
                severity: Severity::$severity,
                severity_note: $note,
                meaning: $meaning,
            };
        )*
        /// Every cause this tool can conclude, in the order the README lists them (the
        /// enrollment flow: upstream first).
        pub static CATALOGUE: &[&CauseKind] = &[$(&$name),*];
    };
}

kinds! {
    EGRESS_NO_ROUTE = "egress.no_route", Egress, Blocking,
        "warning or info when only one address family lacks a route",
        "connects fail with \"network unreachable\": no default route or no egress interface";
    DNS_NO_RESOLVER = "dns.no_resolver", Dns, Blocking, "",
        "resolv.conf missing, unreadable, without a `nameserver`, or every configured nameserver silent or unreachable";
    EGRESS_LOCAL_FIREWALL = "egress.local_firewall", Egress, Blocking, "",
        "connect() refused by the VM's own kernel (EPERM/EACCES): local nftables/iptables, prohibit routes";
    DNS_UNRESOLVABLE = "dns.unresolvable", Dns, Blocking, "warning for optional names",
        "the resolver answers NXDOMAIN, SERVFAIL, REFUSED or no address for a profile name";
    DNS_SINKHOLE = "dns.sinkhole", Dns, Blocking, "warning if usable answers remain",
        "a public Zscaler name answered with 0.0.0.0, loopback, RFC 1918 or another special-purpose address";
    PROXY_MISCONFIGURED = "proxy.misconfigured", Proxy, Blocking,
        "warning for the system's proxy (control hosts)",
        "the explicit proxy (`/opt/zscaler/var/proxy`, or `HTTPS_PROXY` for control hosts) is unreachable, does not resolve, or refuses the CONNECT (e.g. 407: the connector does not authenticate to proxies)";
    EGRESS_PMTU_BLACKHOLE = "egress.pmtu_blackhole", Egress, Blocking,
        "warning when every name the connector needs still completes",
        "TCP connects and the ClientHello goes out, but the server's full-size segments never arrive while the same handshake with 536-byte segments completes: a path-MTU black hole (a tunnel or VPN narrower than the MSS, and no ICMP \"fragmentation needed\")";
    TLS_SNI_FILTERED = "tls.sni_filtered", Tls, Blocking,
        "warning when every name the connector needs still completes",
        "the handshake is cut off for Zscaler's server name and completes on the same address with another name or none: an SNI or URL-category filter";
    TLS_VERSION_FILTERED = "tls.version_filtered", Tls, Blocking,
        "warning when every name the connector needs still completes",
        "the handshake is cut off as the connector offers it and completes on the same address offering TLS 1.2 or 1.3 alone: a filter on the TLS version or the ClientHello's shape";
    TLS_HANDSHAKE_BLOCKED = "tls.handshake_blocked", Tls, Blocking,
        "warning when every name the connector needs still completes",
        "TCP connects but the TLS handshake is reset, silenced, answered with an alert or with a certificate that does not parse, and no follow-up (another name, no name, small segments, another TLS version) told the middlebox apart: DPI filtering or a broken peer";
    TLS_INTERCEPTED = "tls.intercepted", Tls, Blocking, "",
        "the chain presented for a broker is re-signed: it does not chain to the declared anchor, its issuer is a known inspection CA (by name or key), the same CA signs a control host's chain, only the system store trusts it, or its issuers do not name Zscaler; the product is named from `checks/interceptors.toml` when catalogued, and the issuing CA's SHA-256 (or the leaf's key id) is quoted";
    EGRESS_TCP_BLOCKED = "egress.tcp_<port>_blocked", Egress, Blocking, "warning for an optional port",
        "no destination accepts TCP on this port (dropped, reset or ICMP-rejected); e.g. `egress.tcp_443_blocked`, `egress.tcp_9000_blocked`";
    EGRESS_TCP_PARTIAL = "egress.tcp_<port>_partial", Egress, Warning, "",
        "some brokers accept the port and others do not, or (`--coverage`) every range of some regions is dropped while others connect: a partial allowlist";
    CLOCK_SKEWED = "clock.skewed", Clock, Blocking,
        "blocking past the profile's thresholds (2 s behind, 60 s ahead), warning past 1 s",
        "the best estimate (SNTP, else HTTPS `Date`, else the connector's own logged correction, else a not-yet-valid leaf) is off; a clock behind weighs more, since a freshly issued certificate is \"not yet valid\" for it";
    NTP_BLOCKED = "ntp.blocked", Clock, Warning,
        "blocking when the clock is also off",
        "no time server gave a usable answer: UDP/123 dropped, port unreachable, no route, kiss-o'-death, unsynchronised or malformed answers";
    CLOCK_UNSYNCHRONISED = "clock.unsynchronised", Clock, Warning, "",
        "the kernel reports STA_UNSYNC, no time daemon is installed, or the installed ones are not running";
    HOST_RESOLV_UNREADABLE = "host.resolv_unreadable", Host, Blocking, "",
        "the `zscaler` user cannot read `/etc/resolv.conf` (a documented enrollment failure)";
    HOST_VAR_UNWRITABLE = "host.var_unwritable", Host, Blocking, "",
        "the `zscaler` user cannot write `/opt/zscaler/var` (a documented enrollment failure)";
    SELINUX_DENIALS_SEEN = "selinux.denials_seen", Host, Blocking, "warning when permissive",
        "AVC denials for the connector in the audit log";
    SELINUX_BLOCKS_CONNECTOR = "selinux.blocks_connector", Host, Warning,
        "lower confidence when the module store is unreadable",
        "enforcing without a Zscaler policy module: likely to deny the control channel; fix by installing the module, never `setenforce 0`";
    KEY_MISSING = "key.missing", Key, Blocking, "info before the connector is installed",
        "no `/opt/zscaler/var/provision_key`";
    KEY_UNREADABLE = "key.unreadable", Key, Blocking, "",
        "the key cannot be read by `zscaler`";
    KEY_MALFORMED = "key.malformed", Key, Warning, "blocking when empty",
        "the key does not look like a key (one line, `n|cloud|token`)";
    KEY_WORLD_WRITABLE = "key.world_writable", Key, Warning, "",
        "anyone may overwrite the key";
    CONNECTOR_NOT_RUNNING = "connector.not_running", Connector, Warning, "blocking when enabled",
        "installed but no process";
    HOST_UNDERSIZED = "host.undersized", Host, Warning, "",
        "below 2 vCPU / 4 GB, or low disk";
    HOST_UNSUPPORTED_OS = "host.unsupported_os", Host, Warning, "",
        "not RHEL/CentOS 8–9, Amazon Linux 2 or a rebuild";
    HOST_UNSUPPORTED_ARCH = "host.unsupported_arch", Host, Blocking, "",
        "a CPU other than x86_64, for which the connector has no package";
    HOST_AUTO_UPDATES = "host.auto_updates", Host, Warning, "",
        "unattended upgrades (library-mismatch outages)";
    KEY_REJECTED = "key.rejected", Key, Blocking, "from the connector's log",
        "HTTP 401 on the key";
    HOST_CLONED = "host.cloned", Host, Blocking, "from the connector's log",
        "a cloned or migrated VM (`instance_id.crypt` cannot be decrypted)";
    CONNECTOR_CONTROL_CHANNEL_TIMEOUT = "connector.control_channel_timeout", Connector, Blocking,
        "from the connector's log",
        "the control channel handshake times out";
    CONNECTOR_CONNECTION_BACKOFF = "connector.connection_backoff", Connector, Warning,
        "from the connector's log",
        "the connections to the brokers keep failing and backing off";
    CONNECTOR_CRASH_LOOP = "connector.crash_loop", Connector, Warning, "from the connector's log",
        "the connector process keeps crashing at start";
    CONNECTOR_NOT_CONNECTED = "connector.not_connected", Connector, Warning,
        "from the connector's log",
        "the connector never reaches the cloud, or was deleted in the portal";
    CONNECTOR_PAUSED = "connector.paused", Connector, Info, "from the connector's log",
        "the connector paused itself";
    CONNECTOR_HEALTHY = "connector.healthy", Connector, Info, "from the connector's log",
        "the log shows a healthy control connection";
    TLS_INSPECTION_ON_PATH = "tls.inspection_on_path", Tls, Warning, "",
        "only a control host (dist/yum) is re-signed: a proxy is on the path and the broker channel may or may not be exempt";
    DNS_OUTSIDE_ZEN = "dns.outside_zen", Dns, Warning, "info with the built-in subset of the ranges",
        "a broker answer is a public address outside the Zen ranges: hijack, or a stale list";
    EGRESS_UDP_REJECTED = "egress.udp_<port>_rejected", Egress, Warning, "",
        "a datagram on a profile's UDP port (Cloud/Branch Connector: 443) drew ICMP port unreachable: a firewall REJECT; the tunnels fall back to TCP";
    EGRESS_UDP_UNANSWERED = "egress.udp_<port>_unanswered", Egress, Info, "",
        "no datagram was answered: UDP cannot prove a block, so this never decides a verdict";
    GATEWAY_FORWARDING_OFF = "gateway.forwarding_off", Gateway, Warning, "",
        "a profile that forwards workloads' traffic (Cloud Connector) finds `net.ipv4.ip_forward = 0`";
    FLAVOUR_NO_PRIVATE_APPS = "flavour.no_private_apps", Flavour, Warning, "",
        "a profile whose connector does not broker private applications (Branch Connector) was asked about one (`--target`)";
    FEED_STALE = "feed.stale", Feed, Warning, "",
        "the cached Zen feed is older than 90 days (Zscaler's notice period for new ranges): run `feed update`";
    RUN_INTERRUPTED = "run.interrupted", Run, Warning,
        "blocking when a required name's lookup, connect or handshake was left unfinished",
        "a signal stopped the run: what was not seen is unknown, not passed";
    RUN_INCOMPLETE = "run.incomplete", Run, Warning,
        "blocking when a required name's lookup, connect or handshake was left unfinished",
        "probes were abandoned at the overall deadline: their checks are unknown, not passed";
    RUN_NOT_JUDGED = "run.not_judged", Run, Blocking, "",
        "every check that decides (DNS, TCP and TLS; the others when the run has no destination) was skipped or could not be judged: \"ready\" cannot be said";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id's prefix names its family, and no prefix is claimed twice.
    #[test]
    fn every_id_prefix_names_its_family() {
        for kind in CATALOGUE {
            let prefix = kind.id.split('.').next().unwrap();
            assert!(
                kind.family.prefixes().contains(&prefix),
                "{} is in family {} but its prefix is {prefix}",
                kind.id,
                kind.family.label()
            );
            let owners = CATALOGUE
                .iter()
                .map(|k| k.family)
                .filter(|f| f.prefixes().contains(&prefix))
                .collect::<std::collections::BTreeSet<_>>();
            assert_eq!(owners.len(), 1, "{prefix} is claimed by {owners:?}");
        }
    }

    /// given → known, or the suggestion.
    #[test]
    fn ids_are_checked_with_a_near_miss() {
        let cases: &[(&str, Result<&str, Option<&str>>)] = &[
            ("tls.intercepted", Ok("tls.intercepted")),
            ("egress.tcp_9000_blocked", Ok("egress.tcp_9000_blocked")),
            ("egress.udp_443_unanswered", Ok("egress.udp_443_unanswered")),
            (
                "egress.tcp_9000_blockd",
                Err(Some("egress.tcp_9000_blocked")),
            ),
            ("tls.intercept", Err(Some("tls.intercepted"))),
            (
                "egress.tcp_99999_blocked",
                Err(Some("egress.tcp_<port>_blocked")),
            ),
            ("egress.tcp_<port>_blocked", Err(None)),
            ("nothing.like.it", Err(None)),
        ];
        for (given, expected) in cases {
            let got = given.parse::<CauseId>();
            match (expected, got) {
                (Ok(id), Ok(got)) => assert_eq!(got.as_str(), *id),
                (Err(near), Err(e)) => {
                    if near.is_some() {
                        assert_eq!(e.nearest.as_deref(), *near, "{given}");
                    }
                    assert!(e.to_string().contains(given), "{e}");
                }
                (expected, got) => panic!("{given}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn every_id_is_unique_and_dotted() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|k| k.id).collect();
        for id in &ids {
            assert!(id.contains('.'), "{id}");
        }
        ids.sort_unstable();
        let len = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), len);
        assert!(EGRESS_TCP_BLOCKED.matches(EGRESS_TCP_BLOCKED.port(9000).as_str()));
        assert_eq!(TLS_INTERCEPTED.id().as_str(), "tls.intercepted");
    }
}
