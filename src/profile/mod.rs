//! The profile: what a run checks — names, ports, Zen ranges, timeouts and limits.
//!
//! Profiles are data (`checks/profiles/*.toml`, embedded at build time) so that a deployment
//! whose requirements differ changes a line, not code. This module reads and validates them;
//! it does not decide what to probe (that is [`crate::plan`]) and never touches the network.
//! Every error names the file and, where the parser knows it, the line: a malformed profile
//! is a usage error (exit 2), never a panic.

pub mod feed;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::files::{Kind, read_text};
pub use feed::{CONNECTOR_SOURCE, ZenRanges};

/// The profile `check` uses when `--profile` is not given.
pub const DEFAULT_PROFILE: &str = "app-connector";

/// Prefix of a path that names a file embedded from `checks/` rather than one on disk.
const BUILTIN_PREFIX: &str = "builtin:";

/// The data files of `checks/`, embedded so the binary works alone on a fresh VM.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "profiles/app-connector.toml",
        include_str!("../../checks/profiles/app-connector.toml"),
    ),
    (
        "profiles/cloud-connector.toml",
        include_str!("../../checks/profiles/cloud-connector.toml"),
    ),
    (
        "profiles/branch-connector.toml",
        include_str!("../../checks/profiles/branch-connector.toml"),
    ),
    (
        "feeds/zpa-private.json",
        include_str!("../../checks/feeds/zpa-private.json"),
    ),
    (
        "interceptors.toml",
        include_str!("../../checks/interceptors.toml"),
    ),
    (
        "log-patterns.toml",
        include_str!("../../checks/log-patterns.toml"),
    ),
    (
        "broker-cas.toml",
        include_str!("../../checks/broker-cas.toml"),
    ),
];

/// What a connector role means for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Locates the brokers (co2br); its answers are the control channel's real destinations.
    Broker,
    /// The enrollment API, reached through the brokers.
    Enrollment,
    /// Software distribution and package hosts, served by a public CDN rather than the Zen ranges.
    Control,
    /// A host the user named with `--target`.
    Target,
    /// A ZIA public service edge name (`gateway.<cloud>`), where Branch and Cloud Connectors
    /// tunnel user and workload traffic: its ranges are ZIA's (the cenr feed), its port 443
    /// speaks the tunnels, not a certificate this tool could judge.
    Edge,
}

impl Role {
    /// Whether this name's answers must fall inside the Zen ranges; a miss hints at a hijack.
    pub fn expects_zen(self) -> bool {
        matches!(self, Role::Broker | Role::Enrollment)
    }

    /// Whether its TLS port gets a handshake whose chain is judged.
    pub fn handshakes(self) -> bool {
        self != Role::Edge
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Broker => "broker",
            Role::Enrollment => "enrollment",
            Role::Control => "control",
            Role::Target => "target",
            Role::Edge => "edge",
        })
    }
}

/// One port the connector needs, with whether it is required and where that fact comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PortSpec {
    /// TCP port number.
    pub port: u16,
    /// A failure on a required port blocks; on an optional one it warns.
    pub required: bool,
    /// What the connector uses it for.
    pub purpose: String,
    /// One-line provenance of the requirement.
    pub source: String,
}

/// One name the connector resolves, and the ports it then connects to on every answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NameSpec {
    /// Fully qualified host name.
    pub host: Hostname,
    /// What the connector uses it for.
    pub role: Role,
    /// Ports probed on each address the name resolves to (each must be declared in `ports`).
    #[serde(default)]
    pub ports: Vec<u16>,
    /// A failure for a required name blocks; for an optional one it warns.
    #[serde(default = "yes")]
    pub required: bool,
    /// One-line provenance.
    #[serde(default)]
    pub source: String,
}

/// A serde default of `true`.
pub(crate) fn yes() -> bool {
    true
}

/// A syntactically valid DNS host name (checked when the profile is read).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Hostname(String);

impl Hostname {
    /// The name without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Hostname {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let name = text.trim_end_matches('.');
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if valid {
            Ok(Hostname(name.to_ascii_lowercase()))
        } else {
            Err(format!("'{text}' is not a valid host name"))
        }
    }
}

impl FromStr for Hostname {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Hostname::try_from(s.to_string())
    }
}

impl From<Hostname> for String {
    fn from(h: Hostname) -> String {
        h.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Deadlines, in milliseconds so that the JSON report is plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeouts {
    /// One DNS query or one TCP connect gives up after this long.
    pub probe_ms: u64,
    /// The whole run gives up after this long, whatever is still pending.
    pub overall_ms: u64,
}

/// Bounds that keep a run polite and fast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Limits {
    /// A cap on connections and queries in flight at once; absent: as many as the process's
    /// open-file limit allows (`probe::capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// Published single broker addresses (feed /32s) probed at most.
    pub max_published: usize,
    /// Wider Zen ranges sampled (one address each) at most.
    pub max_sampled_ranges: usize,
}

/// Which handshakes the TLS probe makes, and what a genuine chain looks like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsSpec {
    /// Ports on which each answer of a name also gets a TLS handshake (when the name probes
    /// that port).
    #[serde(default)]
    pub ports: Vec<u16>,
    /// The organisation a genuine broker leaf names in its subject (`O=Zscaler`, DOMAIN §1.2).
    /// Used only when no anchor is declared for brokers: Zscaler publishes none.
    #[serde(default)]
    pub broker_identity: String,
    /// The system trust bundles to compare with, relative to `--root`; the first that
    /// exists is read. An enterprise CA injected there is what makes inspection "work".
    #[serde(default)]
    pub system_trust: Vec<String>,
    /// Extra anchors, as `--trust` takes them (`[broker=|control=]FILE`), FILE relative to the
    /// profile: how a private deployment declares its own brokers' or hosts' CA.
    #[serde(default)]
    pub anchors: Vec<String>,
}

/// Which answers also get a UDP datagram: the ZIA tunnels of Branch and Cloud Connectors
/// prefer DTLS over UDP/443 and fall back to TLS over TCP/443.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UdpSpec {
    /// Ports on which each answer of a name (and each `--target` address) also gets one
    /// QUIC-shaped datagram, when the name probes that port over TCP.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Where it is documented.
    #[serde(default)]
    pub source: String,
}

/// What a connector that forwards other machines' traffic (Cloud Connector) must do itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GatewaySpec {
    /// IP forwarding must be on (read from `/proc/sys` under `--root`).
    #[serde(default)]
    pub forwarding: bool,
    /// A host whose HTTPS page shows the address a request arrives from: the egress address
    /// the world sees this VM with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<Hostname>,
    /// The path of that page.
    #[serde(default = "root_path")]
    pub echo_path: String,
    /// Where the requirement is documented.
    #[serde(default)]
    pub source: String,
}

fn root_path() -> String {
    "/".into()
}

/// What the clock check asks and how it judges: thresholds in seconds, positive = behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockSpec {
    /// A clock behind by more than this blocks: the freshly issued certificate is "not yet
    /// valid" for it (Zscaler publishes no leeway).
    pub behind_blocking_s: f64,
    /// A clock ahead by more than this blocks.
    pub ahead_blocking_s: f64,
    /// Any offset beyond this is worth a warning.
    pub warn_s: f64,
    /// The cloud's time service, asked besides the VM's own servers (`host[:port]`).
    #[serde(default)]
    pub cloud_servers: Vec<String>,
    /// Asked when the VM configures none, or in addition (`host[:port]`).
    #[serde(default)]
    pub fallback_servers: Vec<String>,
}

impl ClockSpec {
    /// No clock check (profiles and reports written before it).
    pub fn none() -> ClockSpec {
        ClockSpec {
            behind_blocking_s: 0.0,
            ahead_blocking_s: 0.0,
            warn_s: 0.0,
            cloud_servers: Vec::new(),
            fallback_servers: Vec::new(),
        }
    }
}

/// A known connector log line and the cause it supports (`checks/log-patterns.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogPattern {
    /// Stable id.
    pub id: String,
    /// Substrings that mark the line.
    pub contains: Vec<String>,
    /// The cause it supports: an id of [`crate::causes`], checked when the catalogue is loaded
    /// from TOML (a typo fails the load), a plain string on a report's wire (a newer version's
    /// cause loads, and is left out of a diagnosis that does not know it).
    pub cause: String,
    /// `blocking`, `warning` or `info`, when the line alone raises the cause.
    pub severity: crate::causes::Severity,
    /// The cause's title when the line alone raises it.
    pub title: String,
    /// The fix.
    pub remedy: String,
    /// A quantity the line carries, read by the rule that owns it rather than raised as a
    /// cause on its own (a clock correction of 10 ms is no finding; one of 12 min is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<Measure>,
}

/// What a log line measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The connector's own clock correction against the cloud: `Local time - 737.427447s =
    /// cloud_time` (this VM's clock was ahead by that much).
    ClockOffset,
}

#[derive(Deserialize)]
struct LogCatalog {
    pattern: Vec<LogPattern>,
}

/// The built-in log patterns (`checks/log-patterns.toml`).
pub fn log_patterns() -> Vec<LogPattern> {
    let text = builtin_file("log-patterns.toml").expect("embedded");
    parse_log_catalog(text).expect("checks/log-patterns.toml is valid (tested)")
}

/// A log-pattern catalogue: strict TOML, every cause an id of the catalogue.
fn parse_log_catalog(text: &str) -> Result<Vec<LogPattern>, String> {
    let catalog: LogCatalog = strict_toml(text)?;
    for pattern in &catalog.pattern {
        pattern
            .cause
            .parse::<crate::causes::CauseId>()
            .map_err(|e| format!("[[pattern]] {}: {e}", pattern.id))?;
    }
    Ok(catalog.pattern)
}

/// What the host checks expect of the VM itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostSpec {
    /// Minimum vCPUs.
    pub min_vcpus: u32,
    /// Minimum memory, MiB (as the kernel reports MemTotal).
    pub min_memory_mib: u64,
    /// Minimum free disk where the connector lives, MiB.
    pub min_free_disk_mib: u64,
    /// Supported systems: os-release `ID` and the `VERSION_ID` major versions.
    pub supported_os: Vec<SupportedOs>,
    /// Substrings of the names a Zscaler SELinux policy module may have (none is public).
    pub selinux_modules: Vec<String>,
    /// The user the connector runs as.
    pub connector_user: String,
}

/// One supported operating system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SupportedOs {
    /// os-release `ID`, e.g. `rhel`, `amzn`.
    pub id: String,
    /// Major versions, e.g. `["8", "9"]`.
    pub versions: Vec<String>,
}

/// One TLS-inspection product of `checks/interceptors.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Interceptor {
    /// Product name.
    pub name: String,
    /// Lower-case substrings searched in the CA names of a presented chain.
    #[serde(rename = "match")]
    pub patterns: Vec<String>,
    /// How surely a match names this product (0..1).
    pub confidence: f64,
    /// The product's own term for exempting destinations from inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass: Option<String>,
    /// Where the strings come from.
    pub source: String,
    /// SHA-256 of the public keys (SubjectPublicKeyInfo) of the product's fixed CAs, lower-case
    /// hex: a CA re-issued with the same key (Zscaler's root, 2014 and 2025) is still matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Their subject key identifiers, which the certificates they sign name as authority key
    /// identifier even when the CA itself is not sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Catalog {
    product: Vec<Interceptor>,
}

/// A CA confirmed to sign Zscaler's broker certificates (`checks/broker-cas.toml`): the only
/// thing besides a declared anchor that pins a broker chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KnownCa {
    /// The CA's common name, compared without regard to case.
    pub cn: String,
    /// SHA-256 of its public key (SubjectPublicKeyInfo), lower-case hex.
    pub spki_sha256: String,
    /// Its subject key identifier, lower-case hex, to recognise it when only the leaf is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Where it was confirmed.
    pub source: String,
}

#[derive(Deserialize)]
struct KnownCas {
    #[serde(default)]
    ca: Vec<KnownCa>,
}

/// The built-in list of confirmed broker CAs (`checks/broker-cas.toml`).
pub fn broker_cas() -> Vec<KnownCa> {
    let text = builtin_file("broker-cas.toml").expect("embedded");
    let list: KnownCas = strict_toml(text).expect("checks/broker-cas.toml is valid (tested)");
    list.ca
        .into_iter()
        .map(|mut ca| {
            ca.spki_sha256.make_ascii_lowercase();
            if let Some(id) = &mut ca.key_id {
                id.make_ascii_lowercase();
            }
            ca
        })
        .collect()
}

/// The built-in interceptor catalog (`checks/interceptors.toml`).
pub fn interceptors() -> Vec<Interceptor> {
    let text = builtin_file("interceptors.toml").expect("embedded");
    let catalog: Catalog = strict_toml(text).expect("checks/interceptors.toml is valid (tested)");
    catalog
        .product
        .into_iter()
        .map(|mut p| {
            p.patterns.iter_mut().for_each(|m| *m = m.to_lowercase());
            p.keys.iter_mut().for_each(|k| k.make_ascii_lowercase());
            p.key_ids.iter_mut().for_each(|k| k.make_ascii_lowercase());
            p
        })
        .collect()
}

/// A validated profile, ready to be planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Short name, e.g. `app-connector`.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Where it was read: `built-in:profiles/…` or a path.
    pub origin: String,
    /// When its facts were last checked against their sources.
    pub checked: String,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// Bounds.
    pub limits: Limits,
    /// Ports, in the order the connector needs them (earlier ports are upstream causes).
    pub ports: Vec<PortSpec>,
    /// Names to resolve.
    pub names: Vec<NameSpec>,
    /// The Zen ranges answers and targets are judged against.
    pub zen: ZenRanges,
    /// The kinds of cached feed that replace the built-in Zen ranges, in order.
    pub cached_feeds: Vec<feed::FeedKind>,
    /// The TLS probe's targets and expectations.
    pub tls: TlsSpec,
    /// Whether this connector brokers private applications (ZPA); a Branch Connector does not.
    pub private_apps: bool,
    /// The UDP probe's ports.
    pub udp: UdpSpec,
    /// What a forwarding connector must do itself; `None` for the others.
    pub gateway: Option<GatewaySpec>,
    /// The clock check's servers and thresholds; `None` when the profile has no `[clock]`.
    pub clock: Option<ClockSpec>,
    /// The host checks' expectations; `None` when the profile has no `[host]`.
    pub host: Option<HostSpec>,
}

#[derive(Deserialize)]
struct ProfileFile {
    name: String,
    description: String,
    checked: String,
    #[serde(default = "yes")]
    private_apps: bool,
    timeouts: TimeoutsFile,
    limits: Limits,
    zen: ZenFile,
    ports: Vec<PortSpec>,
    #[serde(default)]
    names: Vec<NameSpec>,
    #[serde(default = "TlsSpec::none")]
    tls: TlsSpec,
    #[serde(default)]
    udp: UdpSpec,
    #[serde(default)]
    gateway: Option<GatewaySpec>,
    #[serde(default)]
    clock: Option<ClockSpec>,
    #[serde(default)]
    host: Option<HostSpec>,
}

impl TlsSpec {
    /// No TLS probing (profiles and reports written before the TLS check).
    pub fn none() -> TlsSpec {
        TlsSpec {
            ports: Vec::new(),
            broker_identity: String::new(),
            system_trust: Vec::new(),
            anchors: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
struct TimeoutsFile {
    #[serde(deserialize_with = "human_duration")]
    probe: Duration,
    #[serde(deserialize_with = "human_duration")]
    overall: Duration,
}

#[derive(Deserialize)]
struct ZenFile {
    /// A feed file in Zscaler's JSON shape: `builtin:feeds/…` or a path relative to the profile.
    feed: Option<String>,
    /// The feed rows to keep.
    #[serde(default = "connector_source")]
    source: String,
    /// Whether the feed is the complete published list.
    #[serde(default)]
    complete: bool,
    /// Extra ranges declared inline: how a lab or a private deployment names its own brokers.
    #[serde(default)]
    ranges: Vec<String>,
    /// The kinds of cached feed (`feed update --kind`) that replace the built-in feed: its own
    /// kind when absent; Branch and Cloud Connectors list `zpa` and `cenr`, the ZIA service
    /// edges' ranges.
    #[serde(default)]
    cached: Vec<feed::FeedKind>,
}

fn connector_source() -> String {
    CONNECTOR_SOURCE.to_string()
}

fn human_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a duration ({e})")))
}

/// The names of the built-in profiles.
pub fn builtin_profiles() -> Vec<&'static str> {
    BUILTIN_FILES
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("profiles/")?.strip_suffix(".toml"))
        .collect()
}

/// The embedded text of a `checks/` file, by its path relative to `checks/`.
fn builtin_file(path: &str) -> Option<&'static str> {
    BUILTIN_FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

impl Profile {
    /// Whether its Zen ranges are a built-in copy of a published feed, which a fresher copy in
    /// the cache (`feed update`) replaces. Ranges a profile declares itself are never replaced.
    pub fn zen_from_builtin_feed(&self) -> bool {
        self.zen.source.starts_with(BUILTIN_PREFIX)
    }
}

/// Loads `spec`: the name of a built-in profile, or a path to a profile file.
pub fn load(spec: &str) -> Result<Profile, InputError> {
    if let Some(text) = builtin_file(&format!("profiles/{spec}.toml")) {
        return parse(text, &format!("{BUILTIN_PREFIX}profiles/{spec}.toml"), None);
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(InputError::UnknownProfile {
            name: spec.to_string(),
            builtins: builtin_profiles().join(", "),
        });
    }
    let text = read_text(path, Kind::Profile)?;
    parse(&text, spec, path.parent())
}

/// Reads a feed file given with `--cidrs`; it is taken as the complete published list.
pub fn load_feed(path: &Path, source: &str) -> Result<ZenRanges, InputError> {
    let text = read_text(path, Kind::Feed)?;
    let origin = path.display().to_string();
    feed::parse_feed(&text, source, &origin, true)
        .map_err(|e| InputError::invalid(origin, e.message))
}

/// TOML as a profile or a catalogue is read: strictly, an unknown key is an error naming its
/// line (a typo must never be silently ignored). The same types read back from a saved
/// report's JSON stay tolerant of what a newer version added ([`crate::report`]): the
/// strictness lives here, on the TOML side only, not in the types.
pub(crate) fn strict_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let located = |e: toml::de::Error| {
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            })
            .unwrap_or_default();
        format!("{at}{}", e.message().trim().replace('\n', "; "))
    };
    let de = toml::Deserializer::parse(text).map_err(located)?;
    let mut unknown = Vec::new();
    let value: T =
        serde_ignored::deserialize(de, |path| unknown.push(path.to_string())).map_err(located)?;
    if let Some(path) = unknown.first() {
        let key = path.rsplit('.').next().unwrap_or(path);
        let line = text
            .lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| format!("line {}: ", i + 1))
            .unwrap_or_default();
        return Err(format!("{line}unknown field `{path}`"));
    }
    Ok(value)
}

/// Parses and validates a profile's text. `base` is the directory relative feed paths start
/// from (`None` for a built-in profile, which may only name built-in feeds).
pub fn parse(text: &str, origin: &str, base: Option<&Path>) -> Result<Profile, InputError> {
    let invalid = |message: String| InputError::invalid(origin, message);
    let file: ProfileFile = strict_toml(text).map_err(invalid)?;
    validate(&file).map_err(invalid)?;
    let zen = zen_ranges(&file.zen, origin, base)?;
    let mut tls = file.tls;
    for anchor in &mut tls.anchors {
        let (class, path) = match anchor.split_once('=') {
            Some((class @ ("broker" | "control"), path)) => (Some(class), path),
            _ => (None, anchor.as_str()),
        };
        let Some(base) = base else {
            return Err(invalid(format!(
                "[tls] anchors: a built-in profile cannot name '{path}'"
            )));
        };
        let path = base.join(path).display().to_string();
        *anchor = class.map_or(path.clone(), |c| format!("{c}={path}"));
    }
    Ok(Profile {
        name: file.name,
        description: file.description,
        origin: origin.to_string(),
        checked: file.checked,
        timeouts: Timeouts {
            probe_ms: millis(file.timeouts.probe),
            overall_ms: millis(file.timeouts.overall),
        },
        limits: file.limits,
        ports: file.ports,
        names: file.names,
        cached_feeds: if file.zen.cached.is_empty() {
            vec![zen.kind]
        } else {
            file.zen.cached.clone()
        },
        zen,
        tls,
        udp: file.udp,
        gateway: file.gateway,
        clock: file.clock,
        host: file.host,
        private_apps: file.private_apps,
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Cross-field rules the TOML types cannot express.
fn validate(file: &ProfileFile) -> Result<(), String> {
    if file.ports.is_empty() {
        return Err("declares no [[ports]]".into());
    }
    if let Some(clock) = &file.clock {
        for (name, value) in [
            ("behind_blocking_s", clock.behind_blocking_s),
            ("ahead_blocking_s", clock.ahead_blocking_s),
            ("warn_s", clock.warn_s),
        ] {
            // NaN compares false with everything: it would silence every clock rule.
            if !(value.is_finite() && (0.0..=86_400.0 * 365.0).contains(&value)) {
                return Err(format!(
                    "[clock] {name} must be a number of seconds from 0 to a year (got {value})"
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for port in &file.ports {
        if port.port == 0 {
            return Err("port 0 cannot be probed".into());
        }
        if !seen.insert(port.port) {
            return Err(format!("port {} is declared twice", port.port));
        }
    }
    let mut hosts = BTreeSet::new();
    for (i, name) in file.names.iter().enumerate() {
        if !hosts.insert(&name.host) {
            return Err(format!("names[{i}]: {} is listed twice", name.host));
        }
        if let Some(port) = name.ports.iter().find(|p| !seen.contains(p)) {
            return Err(format!(
                "names[{i}] ({}): port {port} is not declared in [[ports]]",
                name.host
            ));
        }
    }
    if let Some(port) = file.tls.ports.iter().find(|p| !seen.contains(p)) {
        return Err(format!("[tls]: port {port} is not declared in [[ports]]"));
    }
    let t = &file.timeouts;
    if t.probe.is_zero() || t.probe > t.overall {
        return Err(format!(
            "[timeouts]: probe ({:?}) must be above zero and at most overall ({:?})",
            t.probe, t.overall
        ));
    }
    if let Some(n) = file.limits.max_in_flight
        && !(1..=1_000_000).contains(&n)
    {
        return Err(format!(
            "[limits]: max_in_flight must be between 1 and 1000000 (got {n}); leave it out to \
             size it from the open-file limit"
        ));
    }
    if file.zen.feed.is_none() && file.zen.ranges.is_empty() {
        return Err("[zen]: give a feed, ranges, or both".into());
    }
    Ok(())
}

fn zen_ranges(zen: &ZenFile, origin: &str, base: Option<&Path>) -> Result<ZenRanges, InputError> {
    let invalid = |file: &str, message: String| InputError::invalid(file, message);
    let mut ranges = match &zen.feed {
        Some(feed) => {
            let (text, feed_origin) = match feed.strip_prefix(BUILTIN_PREFIX) {
                Some(rel) => {
                    let text = builtin_file(rel).ok_or_else(|| {
                        invalid(origin, format!("[zen]: no built-in feed '{feed}'"))
                    })?;
                    (text.to_string(), feed.clone())
                }
                None => {
                    let Some(base) = base else {
                        return Err(invalid(
                            origin,
                            format!(
                                "[zen]: a built-in profile may only name built-in feeds, not '{feed}'"
                            ),
                        ));
                    };
                    let path: PathBuf = base.join(feed);
                    (read_text(&path, Kind::Feed)?, path.display().to_string())
                }
            };
            feed::parse_feed(&text, &zen.source, &feed_origin, zen.complete)
                .map_err(|e| invalid(&feed_origin, e.message))?
        }
        None => ZenRanges {
            cloud: "inline".into(),
            source: origin.to_string(),
            complete: zen.complete,
            ranges: Vec::new(),
            kind: feed::FeedKind::default(),
            fetched_at: None,
            age_days: None,
            regions: Default::default(),
        },
    };
    for text in &zen.ranges {
        let net =
            feed::parse_net(text).map_err(|e| invalid(origin, format!("[zen] ranges: {e}")))?;
        ranges.ranges.push(net);
    }
    ranges.ranges.sort();
    ranges.ranges.dedup();
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typo in a log pattern's cause or severity fails the load, naming the nearest id.
    #[test]
    fn log_patterns_speak_the_catalogue() {
        let parse = |cause: &str, severity: &str| {
            parse_log_catalog(&format!(
                "[[pattern]]\nid = 'x'\ncontains = ['y']\ncause = '{cause}'\n\
                 severity = '{severity}'\ntitle = 't'\nremedy = 'r'\n"
            ))
            .map(|_| ())
        };
        assert_eq!(parse("key.rejected", "warning"), Ok(()));
        let typo = parse("key.rejectd", "warning").unwrap_err();
        assert!(typo.contains("did you mean 'key.rejected'"), "{typo}");
        let severity = parse("key.rejected", "warn").unwrap_err();
        assert!(severity.contains("warn"), "{severity}");
        assert!(!log_patterns().is_empty());
    }

    #[test]
    fn every_builtin_profile_loads() {
        for name in builtin_profiles() {
            let profile = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(profile.name, name);
            assert!(!profile.names.is_empty());
            assert!(!profile.zen.ranges.is_empty());
        }
    }

    #[test]
    fn app_connector_requires_443_and_9000() {
        let profile = load(DEFAULT_PROFILE).unwrap();
        let ports: Vec<(u16, bool)> = profile.ports.iter().map(|p| (p.port, p.required)).collect();
        assert_eq!(ports, vec![(443, true), (9000, true)]);
        assert!(
            profile
                .names
                .iter()
                .any(|n| n.host.as_str() == "co2br.prod.zpath.net" && n.role == Role::Broker)
        );
    }

    const MINIMAL: &str = r#"
name = "t"
description = "d"
checked = "2026-11-25"
[timeouts]
probe = "1s"
overall = "2s"
[limits]
max_in_flight = 4
max_published = 2
max_sampled_ranges = 2
[zen]
ranges = ["127.0.0.0/8"]
[[ports]]
port = 443
required = true
purpose = "p"
source = "s"
[[names]]
host = "broker.lab.test"
role = "broker"
ports = [443]
"#;

    #[test]
    fn values_out_of_range_are_refused_at_load() {
        for (extra, expected) in [
            (
                "[clock]\nbehind_blocking_s = nan\nahead_blocking_s = 60.0\nwarn_s = 1.0\n",
                "behind_blocking_s must be a number",
            ),
            (
                "[clock]\nbehind_blocking_s = 2.0\nahead_blocking_s = inf\nwarn_s = 1.0\n",
                "ahead_blocking_s must be a number",
            ),
        ] {
            let text = format!("{MINIMAL}{extra}");
            let err = parse(&text, "t.toml", None).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        let huge = MINIMAL.replace("max_in_flight = 4", "max_in_flight = 2305843009213693952");
        let err = parse(&huge, "t.toml", None).unwrap_err().to_string();
        assert!(
            err.contains("max_in_flight must be between 1 and 1000000"),
            "{err}"
        );
    }

    #[test]
    fn minimal_profile_parses() {
        let p = parse(MINIMAL, "t.toml", None).unwrap();
        assert_eq!(p.timeouts.probe_ms, 1000);
        assert!(p.zen.contains("127.1.2.3".parse().unwrap()));
    }

    #[test]
    fn errors_name_the_file_and_line_on_one_line() {
        let cases = [
            (MINIMAL.replace("port = 443", "port = 70000"), "line 15"),
            (
                MINIMAL.replace("role = \"broker\"", "role = \"boss\""),
                "line 21",
            ),
            (
                MINIMAL.replace("broker.lab.test", "bad host!"),
                "not a valid host name",
            ),
            (
                MINIMAL.replace("ports = [443]", "ports = [9000]"),
                "port 9000 is not declared",
            ),
            (
                MINIMAL.replace("probe = \"1s\"", "probe = \"soon\""),
                "not a duration",
            ),
            (
                MINIMAL.replace("probe = \"1s\"", "probe = \"5s\""),
                "at most overall",
            ),
            (
                MINIMAL.replace("[\"127.0.0.0/8\"]", "[\"0.0.0.0/0\"]"),
                "broader than",
            ),
            (
                MINIMAL.replace("max_in_flight", "max_inflight"),
                "unknown field",
            ),
            ("name = ".to_string(), "line 1"),
        ];
        for (text, expected) in cases {
            let err = parse(&text, "lab.toml", None).unwrap_err().to_string();
            assert!(err.starts_with("lab.toml: "), "{err}");
            assert!(err.contains(expected), "expected {expected:?} in {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn keys_in_the_catalogs_are_hex_fingerprints() {
        let hex = |k: &str, len: usize| k.len() == len && k.bytes().all(|b| b.is_ascii_hexdigit());
        for p in interceptors() {
            assert!(p.keys.iter().all(|k| hex(k, 64)), "{}", p.name);
            assert!(p.key_ids.iter().all(|k| hex(k, 40)), "{}", p.name);
        }
        for ca in broker_cas() {
            assert!(hex(&ca.spki_sha256, 64), "{}", ca.cn);
            assert!(!ca.source.is_empty(), "{}", ca.cn);
        }
    }

    #[test]
    fn the_interceptor_catalog_names_every_product() {
        let catalog = interceptors();
        assert_eq!(
            catalog.len(),
            43,
            "42 products of DOMAIN.md §3.3 and the docs' Safemarch"
        );
        for p in &catalog {
            assert!(
                !p.patterns.is_empty() && (0.0..=1.0).contains(&p.confidence),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn anchors_are_relative_to_the_profile() {
        let text = format!("{MINIMAL}\n[tls]\nanchors = [\"broker=ca/broker.pem\", \"all.pem\"]\n");
        let p = parse(&text, "/etc/zpa/lab.toml", Some(Path::new("/etc/zpa"))).unwrap();
        assert_eq!(
            p.tls.anchors,
            ["broker=/etc/zpa/ca/broker.pem", "/etc/zpa/all.pem"]
        );
        assert!(parse(&text, "builtin:x", None).is_err());
    }

    #[test]
    fn the_log_patterns_load() {
        // Causes and severities are typed: loading is the check.
        assert!(log_patterns().len() >= 9);
    }

    #[test]
    fn unknown_profile_lists_the_builtins() {
        let err = load("no-such-profile").unwrap_err().to_string();
        assert!(err.contains("app-connector"), "{err}");
    }
}
