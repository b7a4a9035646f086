//! Evidence: what the probes observed, as plain serde data.
//!
//! This is the boundary between the world and the judgement. Probes fill it; the diagnosis
//! reads only it (plus the plan it carries), so a saved report can be re-judged anywhere.
//! A probe that could not run is recorded as such (`not_run` with the reason), never as a
//! pass or a failure. Failure kinds are closed enums with stable snake_case tags: rules match
//! on them, never on message text.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::plan::{NtpOrigin, Origin, Plan, TrustClass};
use crate::profile::Hostname;
use crate::x509::CertSummary;

/// Everything a run observed, with the plan it followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// What was to be checked and the yardsticks (ports, Zen ranges, thresholds).
    pub plan: Plan,
    /// The DNS probe.
    pub dns: DnsEvidence,
    /// The TCP probe.
    pub tcp: TcpEvidence,
    /// The TLS probe (absent from 1.0 reports, which predate it).
    #[serde(default)]
    pub tls: TlsEvidence,
    /// The clock check (absent from reports before 1.2).
    #[serde(default)]
    pub clock: ClockEvidence,
    /// The host checks (absent from reports before 1.3).
    #[serde(default)]
    pub host: HostEvidence,
    /// The UDP probe (absent from reports before 1.4, and empty when no profile port asks).
    #[serde(default, skip_serializing_if = "UdpEvidence::is_empty")]
    pub udp: UdpEvidence,
    /// A forwarding connector's own duties (absent unless the profile has `[gateway]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayEvidence>,
    /// The signal that stopped the run before every probe finished (`SIGINT`, `SIGTERM`,
    /// `SIGHUP`); its unfinished probes read `interrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Every file read under `--root` (the pre-plan read and the probes), relative to it: what
    /// the tool looked at, for a security team; never their contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_read: Vec<String>,
    /// Which machine the run inspected, as its files tell it (schema 1.8): what a fleet
    /// summary names a host by.
    #[serde(default, skip_serializing_if = "Machine::is_empty")]
    pub machine: Machine,
}

/// The inspected machine's identity, where files under `--root` tell it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Machine {
    /// The host name (the kernel's on the live system, `/etc/hostname` in an image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// systemd's `/etc/machine-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    /// The cloud's instance id, as cloud-init recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

impl Machine {
    /// Nothing known.
    pub fn is_empty(&self) -> bool {
        self.hostname.is_none() && self.machine_id.is_none() && self.instance_id.is_none()
    }
}

/// What a forwarding connector does itself: IP forwarding, and the address it is seen with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GatewayEvidence {
    /// `net.ipv4.ip_forward`; `None` when unreadable.
    pub ipv4_forwarding: Option<bool>,
    /// `net.ipv6.conf.all.forwarding`; `None` when unreadable.
    pub ipv6_forwarding: Option<bool>,
    /// The echo endpoint's answer, when the profile names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<EchoSample>,
}

/// What the echo endpoint said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EchoSample {
    /// The endpoint.
    pub host: String,
    /// Its address, when it resolved.
    pub addr: Option<IpAddr>,
    /// Its answer.
    pub outcome: EchoOutcome,
}

/// The egress address, or why it is not known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EchoOutcome {
    /// The page named this address.
    Seen {
        /// The address this VM's requests arrive from.
        address: IpAddr,
    },
    /// The page answered without an address.
    NoAddress {
        /// What came back, shortened.
        detail: String,
    },
    /// The request failed.
    Failed {
        /// Why.
        detail: String,
    },
    /// Not finished (schema 1.9; before, recorded as a `failed` with the reason in words).
    #[serde(untagged)]
    Unfinished(Unfinished),
}

/// One datagram per (address, UDP port): whether anything answered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UdpEvidence {
    /// Every probe.
    pub probes: Vec<UdpProbe>,
}

impl UdpEvidence {
    /// No probe was planned.
    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }
}

/// One UDP probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UdpProbe {
    /// Destination.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// Why it was probed.
    pub origin: Origin,
    /// What came back.
    pub outcome: UdpOutcome,
}

/// What a datagram got back. Silence proves nothing on UDP: a server may ignore what it does
/// not understand, and a firewall's drop looks the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UdpOutcome {
    /// A datagram came back.
    Answered {
        /// Round trip.
        ms: u64,
        /// Its size.
        bytes: usize,
    },
    /// Nothing within the timeout.
    NoAnswer {
        /// The timeout.
        ms: u64,
    },
    /// ICMP port unreachable: nothing listens, or a firewall rejects.
    Refused {
        /// When it came.
        ms: u64,
    },
    /// ICMP host or network unreachable, or no route.
    Unreachable {
        /// The OS error.
        detail: String,
    },
    /// Any other error.
    Other {
        /// The OS error.
        detail: String,
    },
    /// Not finished: the run's deadline or a signal came first (`deadline_reached`,
    /// `interrupted`); unknown, never passed.
    #[serde(untagged)]
    Unfinished(Unfinished),
}

impl Evidence {
    /// Evidence of TLS handshakes alone, brought from elsewhere (`explain --chain`): no
    /// name was resolved, no port connected, no clock or host read.
    pub fn offline(plan: Plan, handshakes: Vec<TlsHandshake>) -> Evidence {
        Evidence {
            plan,
            dns: DnsEvidence {
                resolver: ResolverState::Configured {
                    source: "not used (a saved chain)".into(),
                    nameservers: Vec::new(),
                    no_route: Vec::new(),
                },
                names: Vec::new(),
            },
            tcp: TcpEvidence::default(),
            tls: TlsEvidence {
                system_store: StoreState::NotRead,
                handshakes,
            },
            clock: ClockEvidence::default(),
            host: HostEvidence::default(),
            udp: UdpEvidence::default(),
            gateway: None,
            interrupted: None,
            files_read: Vec::new(),
            machine: Machine::default(),
        }
    }
}

/// The resolver configuration and every name's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnsEvidence {
    /// Whether there was a resolver to ask at all.
    pub resolver: ResolverState,
    /// One entry per planned name, in plan order.
    pub names: Vec<NameResolution>,
}

/// The state of the resolver configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolverState {
    /// Nameservers to ask were found.
    Configured {
        /// Where they came from (`--dns-server` or a resolv.conf path).
        source: String,
        /// The servers, as `ip:port`.
        nameservers: Vec<String>,
        /// Those the kernel has no route to (found without sending anything).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        no_route: Vec<String>,
    },
    /// The resolv.conf exists but names no nameserver.
    NoNameserver {
        /// The file read.
        path: String,
    },
    /// The resolv.conf is missing or unreadable.
    Unreadable {
        /// The file.
        path: String,
        /// The OS error.
        error: String,
    },
}

impl ResolverState {
    /// How many nameservers were configured.
    pub fn nameserver_count(&self) -> usize {
        match self {
            ResolverState::Configured { nameservers, .. } => nameservers.len(),
            _ => 0,
        }
    }
}

/// The answers for one name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NameResolution {
    /// The name asked.
    pub host: Hostname,
    /// The A query.
    pub a: QueryOutcome,
    /// The AAAA query.
    pub aaaa: QueryOutcome,
    /// Time until both answers were in.
    pub elapsed_ms: u64,
}

impl NameResolution {
    /// Whether neither query finished (the deadline or a signal came first): the name's
    /// answer is unknown, which says nothing about the name.
    pub fn pending(&self) -> bool {
        self.a.pending() && self.aaaa.pending()
    }

    /// Every address from both answers.
    pub fn addresses(&self) -> Vec<IpAddr> {
        [&self.a, &self.aaaa]
            .into_iter()
            .flat_map(|q| match q {
                QueryOutcome::Answered { addresses, .. } => addresses.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The more telling of the two outcomes: an answer beats an error, an error beats "no data".
    pub fn outcome(&self) -> &QueryOutcome {
        if self.a.severity() >= self.aaaa.severity() {
            &self.a
        } else {
            &self.aaaa
        }
    }
}

/// How one DNS query ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryOutcome {
    /// Records came back.
    Answered {
        /// The addresses, in answer order.
        addresses: Vec<IpAddr>,
        /// The smallest TTL among the address records.
        ttl_s: u32,
        /// CNAME targets followed from the asked name, in order.
        cname_chain: Vec<String>,
    },
    /// NOERROR without records of this type (normal for AAAA).
    NoRecords,
    /// The name does not exist.
    NxDomain,
    /// The server failed (SERVFAIL).
    ServFail,
    /// The server refused to answer.
    Refused,
    /// Another error response code.
    ErrorCode {
        /// Its name, e.g. `NotImp`.
        code: String,
    },
    /// No answer before the probe timeout (a silent or dropped resolver).
    TimedOut {
        /// The timeout that ran out.
        after_ms: u64,
    },
    /// The nameserver could not be reached at all (no route, refused port).
    Unreachable {
        /// The OS error.
        detail: String,
    },
    /// An answer that could not be used (malformed, mismatched).
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// The query was not sent.
    NotRun {
        /// Why.
        reason: String,
    },
    /// Not finished: the run's deadline or a signal came first (`deadline_reached`,
    /// `interrupted`); unknown, never passed.
    #[serde(untagged)]
    Unfinished(Unfinished),
}

impl QueryOutcome {
    /// Whether the query never finished (the deadline or a signal came first): its answer is
    /// unknown, which says nothing about the name.
    pub fn pending(&self) -> bool {
        matches!(self, QueryOutcome::Unfinished(_))
    }

    /// Rank used by [`NameResolution::outcome`].
    fn severity(&self) -> u8 {
        match self {
            QueryOutcome::Answered { .. } => 5,
            QueryOutcome::NxDomain
            | QueryOutcome::ServFail
            | QueryOutcome::Refused
            | QueryOutcome::ErrorCode { .. }
            | QueryOutcome::Malformed { .. } => 4,
            QueryOutcome::TimedOut { .. } | QueryOutcome::Unreachable { .. } => 3,
            QueryOutcome::NotRun { .. } | QueryOutcome::Unfinished(_) => 2,
            QueryOutcome::NoRecords => 1,
        }
    }

    /// Whether the resolver itself could not be reached (as opposed to answering badly).
    pub fn resolver_silent(&self) -> bool {
        matches!(
            self,
            QueryOutcome::TimedOut { .. } | QueryOutcome::Unreachable { .. }
        )
    }

    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            QueryOutcome::Answered { addresses, .. } => format!("{} address(es)", addresses.len()),
            QueryOutcome::NoRecords => "no records".into(),
            QueryOutcome::NxDomain => "NXDOMAIN".into(),
            QueryOutcome::ServFail => "SERVFAIL".into(),
            QueryOutcome::Refused => "REFUSED".into(),
            QueryOutcome::ErrorCode { code } => code.clone(),
            QueryOutcome::TimedOut { after_ms } => format!("timed out after {}", secs(*after_ms)),
            QueryOutcome::Unreachable { detail } => format!("resolver unreachable ({detail})"),
            QueryOutcome::Malformed { detail } => format!("malformed answer ({detail})"),
            QueryOutcome::NotRun { reason } => format!("not run: {reason}"),
            QueryOutcome::Unfinished(why) => why.label().into(),
        }
    }
}

/// Every TCP connection attempt.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TcpEvidence {
    /// One per (address, port), in no particular order.
    pub attempts: Vec<TcpAttempt>,
    /// How many probes could be in flight at once in this run (the open-file limit less a
    /// margin, or the profile's cap); 0 in reports written before it was recorded.
    #[serde(default)]
    pub in_flight: usize,
    /// The overall deadline this run kept, in ms: the profile's, or longer when the probes
    /// needed more than one wave; 0 in reports written before it was recorded.
    #[serde(default)]
    pub deadline_ms: u64,
}

/// One connection attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TcpAttempt {
    /// Destination address.
    pub addr: IpAddr,
    /// Destination port.
    pub port: u16,
    /// Why this address was tried.
    pub origin: Origin,
    /// What happened.
    pub outcome: TcpOutcome,
}

/// How one TCP connect ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TcpOutcome {
    /// The handshake completed (the connection was closed at once, nothing sent).
    Connected {
        /// Handshake time.
        ms: u64,
    },
    /// A RST came back: nothing listens, or a firewall rejects.
    Refused {
        /// Time to the RST.
        ms: u64,
    },
    /// No answer: the SYN was silently dropped somewhere.
    TimedOut {
        /// The timeout that ran out.
        ms: u64,
    },
    /// ICMP host unreachable or prohibited: a router or firewall rejects.
    HostUnreachable {
        /// Time to the error.
        ms: u64,
    },
    /// The kernel has no route to the network (no default route, no egress interface).
    NoRoute {
        /// Time to the error.
        ms: u64,
    },
    /// The local kernel refused (EPERM/EACCES): local netfilter or a policy route.
    PermissionDenied {
        /// The OS error.
        detail: String,
    },
    /// Any other error.
    Other {
        /// The OS error.
        detail: String,
    },
    /// Not attempted.
    NotRun {
        /// Why.
        reason: String,
    },
    /// Not finished: the run's deadline or a signal came first (`deadline_reached`,
    /// `interrupted`); unknown, never passed.
    #[serde(untagged)]
    Unfinished(Unfinished),
}

impl TcpOutcome {
    /// Whether the attempt says the path is open.
    pub fn connected(&self) -> bool {
        matches!(self, TcpOutcome::Connected { .. })
    }

    /// Whether the attempt ran and failed in a way that points at the path to this destination.
    pub fn blocked(&self) -> bool {
        matches!(
            self,
            TcpOutcome::Refused { .. }
                | TcpOutcome::TimedOut { .. }
                | TcpOutcome::HostUnreachable { .. }
                | TcpOutcome::Other { .. }
        )
    }

    /// A stable snake_case tag, the same as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            TcpOutcome::Connected { .. } => "connected",
            TcpOutcome::Refused { .. } => "refused",
            TcpOutcome::TimedOut { .. } => "timed_out",
            TcpOutcome::HostUnreachable { .. } => "host_unreachable",
            TcpOutcome::NoRoute { .. } => "no_route",
            TcpOutcome::PermissionDenied { .. } => "permission_denied",
            TcpOutcome::Other { .. } => "other",
            TcpOutcome::NotRun { .. } => "not_run",
            TcpOutcome::Unfinished(why) => why.kind(),
        }
    }

    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            TcpOutcome::Connected { ms } => format!("connected ({ms} ms)"),
            TcpOutcome::Refused { ms } => format!("refused ({ms} ms)"),
            TcpOutcome::TimedOut { ms } => format!("timed out ({})", secs(*ms)),
            TcpOutcome::HostUnreachable { .. } => "host unreachable (ICMP)".into(),
            TcpOutcome::NoRoute { .. } => "no route to network".into(),
            TcpOutcome::PermissionDenied { detail } => format!("denied locally ({detail})"),
            TcpOutcome::Other { detail } => format!("error ({detail})"),
            TcpOutcome::NotRun { reason } => format!("not run: {reason}"),
            TcpOutcome::Unfinished(why) => why.label().into(),
        }
    }
}

/// Why a probe has no result: the run stopped before it finished. Every outcome embeds it
/// (`{"kind": "deadline_reached"}` or `{"kind": "interrupted"}`, the tags reports have always
/// carried), so "unfinished" is one idea, counted and worded once. A deadline says something
/// about the network or the profile; a signal says nothing: the report keeps them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unfinished {
    /// Still pending when the run's overall deadline passed.
    DeadlineReached,
    /// Stopped by a signal (Ctrl-C, SIGTERM, SIGHUP) before it finished.
    Interrupted,
}

impl Unfinished {
    /// The JSON tag.
    pub fn kind(self) -> &'static str {
        match self {
            Unfinished::DeadlineReached => "deadline_reached",
            Unfinished::Interrupted => "interrupted",
        }
    }

    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Unfinished::DeadlineReached => "abandoned at the overall deadline",
            Unfinished::Interrupted => "interrupted before it finished",
        }
    }
}

/// What every probe's outcome answers alike: whether it finished.
pub trait Outcome {
    /// `Some` when the run stopped before this probe finished.
    fn unfinished(&self) -> Option<Unfinished>;
}

macro_rules! outcome {
    ($($outcome:ident),*) => {$(
        impl Outcome for $outcome {
            fn unfinished(&self) -> Option<Unfinished> {
                match self {
                    $outcome::Unfinished(why) => Some(*why),
                    _ => None,
                }
            }
        }
    )*};
}

outcome!(
    QueryOutcome,
    TcpOutcome,
    UdpOutcome,
    HandshakeResult,
    NtpOutcome,
    DateOutcome,
    EchoOutcome
);

/// A duration the way people read it: "350 ms" below a second, "3.0 s" above.
pub fn secs(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The TLS probe: the system trust store it compared with, and every handshake.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsEvidence {
    /// The system trust bundle.
    pub system_store: StoreState,
    /// One per (address, TLS port) of a resolved name.
    pub handshakes: Vec<TlsHandshake>,
}

/// What became of the system trust bundle.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoreState {
    /// No TLS handshake was planned.
    #[default]
    NotRead,
    /// Read.
    Loaded {
        /// The bundle.
        path: String,
        /// How many anchors it holds.
        anchors: usize,
    },
    /// None of the profile's paths exists under `--root`.
    Missing {
        /// The paths tried.
        tried: Vec<String>,
    },
}

/// One TLS handshake, as far as it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsHandshake {
    /// Destination address.
    pub addr: IpAddr,
    /// Destination port.
    pub port: u16,
    /// The server name sent (the name that resolved to `addr`).
    pub sni: String,
    /// Why this address was tried.
    pub origin: Origin,
    /// What kind of chain it should present.
    pub class: TrustClass,
    /// How the handshake ended.
    pub result: HandshakeResult,
    /// The certificates presented, leaf first (captured even when the handshake failed).
    pub chain: Vec<ChainCert>,
    /// How the chain verifies against each trust store; absent when none was presented.
    pub verification: Option<ChainVerification>,
    /// This VM's clock at the handshake (Unix seconds): with the leaf's validity, a bound on
    /// the clock's skew, and a hint of how fresh a proxy-minted leaf is.
    #[serde(default)]
    pub local_time: i64,
    /// The explicit proxy tunnelled through (`addr (source)`), as the connector would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_proxy: Option<String>,
    /// When TCP connected and this handshake was cut off: the follow-up handshakes to the
    /// same address and port, each changed in one way, and how each ended (schema 1.7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUp>,
}

/// One follow-up handshake ([`crate::plan::schedule::Change`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FollowUp {
    /// What was changed.
    pub change: crate::plan::schedule::Change,
    /// How it ended.
    pub result: HandshakeResult,
}

impl HandshakeResult {
    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            HandshakeResult::Completed { protocol, ms } => {
                format!("completed ({protocol}, {ms} ms)")
            }
            HandshakeResult::Alert { alert } => format!("alert {alert}"),
            HandshakeResult::Reset => "reset by the peer".into(),
            HandshakeResult::Closed => "closed by the peer".into(),
            HandshakeResult::TimedOut { ms } => format!("no answer in {}", secs(*ms)),
            HandshakeResult::ConnectFailed { detail } => format!("no TCP connect ({detail})"),
            HandshakeResult::Failed { detail } => format!("failed ({detail})"),
            HandshakeResult::ProxyUnreachable { detail } => format!("proxy unreachable ({detail})"),
            HandshakeResult::ProxyRefused { status } => {
                format!("proxy refused the CONNECT ({status})")
            }
            HandshakeResult::Unfinished(why) => why.label().into(),
        }
    }

    /// TCP connected, then the handshake was cut off before a usable certificate: reset,
    /// closed, silent, alerted, or failed. What a follow-up can tell apart.
    pub fn cut_off(&self) -> bool {
        matches!(
            self,
            HandshakeResult::Reset
                | HandshakeResult::Closed
                | HandshakeResult::TimedOut { .. }
                | HandshakeResult::Alert { .. }
                | HandshakeResult::Failed { .. }
        )
    }

    /// A session was set up.
    pub fn completed(&self) -> bool {
        matches!(self, HandshakeResult::Completed { .. })
    }
}

/// One presented certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainCert {
    /// It parsed.
    Parsed(Box<CertSummary>),
    /// It did not: a hostile or broken peer.
    Unparsable {
        /// SHA-256 of the bytes.
        sha256: String,
        /// Their length.
        len: usize,
        /// The parser's complaint.
        error: String,
    },
}

impl ChainCert {
    /// The summary, when it parsed.
    pub fn parsed(&self) -> Option<&CertSummary> {
        match self {
            ChainCert::Parsed(summary) => Some(summary),
            ChainCert::Unparsable { .. } => None,
        }
    }
}

/// How a chain verifies. Checked at a moment inside the leaf's own validity, so a skewed local
/// clock cannot turn a genuine chain into a suspicious one (the clock check judges time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChainVerification {
    /// Against Mozilla's roots (webpki-roots).
    pub mozilla: Trust,
    /// Against the system trust bundle.
    pub system: Trust,
    /// The `--trust` file it verifies against, if any.
    pub anchor: Option<String>,
}

/// One verification result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trust {
    /// Chains to the store, name matching.
    Verified,
    /// Does not.
    Untrusted {
        /// rustls' reason, e.g. `UnknownIssuer`.
        reason: String,
    },
    /// Not checked (no such store).
    NotChecked,
}

/// How a TLS handshake ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandshakeResult {
    /// Completed (closed at once; no application data is ever sent).
    Completed {
        /// TLS version.
        protocol: String,
        /// Connect plus handshake time.
        ms: u64,
    },
    /// The server (or a middlebox) sent a TLS alert.
    Alert {
        /// The alert.
        alert: String,
    },
    /// A TCP reset after the ClientHello: DPI or SNI filtering.
    Reset,
    /// The connection closed mid-handshake.
    Closed,
    /// No answer to the ClientHello before the probe timeout.
    TimedOut {
        /// The timeout.
        ms: u64,
    },
    /// The TCP connect itself failed (the TCP probe says how).
    ConnectFailed {
        /// The OS error.
        detail: String,
    },
    /// The peer broke the protocol: garbage, oversized or unverifiable messages.
    Failed {
        /// rustls' complaint.
        detail: String,
    },
    /// The explicit proxy could not be reached.
    ProxyUnreachable {
        /// The OS error (or the proxy name's resolution failure).
        detail: String,
    },
    /// The explicit proxy answered the CONNECT with something other than 2xx.
    ProxyRefused {
        /// Its status line.
        status: String,
    },
    /// Not finished: the run's deadline or a signal came first (`deadline_reached`,
    /// `interrupted`); unknown, never passed.
    #[serde(untagged)]
    Unfinished(Unfinished),
}

/// The clock check: how this VM keeps time, and what the time servers and HTTPS hosts say.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockEvidence {
    /// The time daemons installed and running.
    pub daemons: Vec<Daemon>,
    /// The kernel's own view (adjtimex, read-only).
    pub kernel: KernelClock,
    /// One SNTP exchange per server asked.
    pub ntp: Vec<NtpSample>,
    /// Estimates from HTTPS `Date` headers, for when UDP/123 is blocked.
    pub http_date: Vec<DateSample>,
}

/// A time-sync daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Daemon {
    /// `chronyd`, `ntpd` or `systemd-timesyncd`.
    pub name: String,
    /// Its binary exists under `--root`.
    pub installed: bool,
    /// Whether a process of that name runs; `None` when that cannot be known (`--root` is
    /// another system).
    pub running: Option<bool>,
}

/// What the kernel says about its clock discipline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KernelClock {
    /// Read with adjtimex(2), modes = 0.
    Read {
        /// Neither `STA_UNSYNC` nor `TIME_ERROR`: a daemon disciplines the clock.
        synchronised: bool,
        /// The kernel's maximum error bound, µs (grows 500 µs/s when nobody updates it).
        maxerror_us: i64,
        /// The estimated error, µs.
        esterror_us: i64,
    },
    /// Not read.
    #[default]
    NotRun,
    /// Not read, and why.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// One SNTP exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NtpSample {
    /// The server as configured (`host[:port]`).
    pub server: String,
    /// Why it was asked.
    pub origin: NtpOrigin,
    /// Where it came from (a file, or the profile).
    pub source: String,
    /// The address asked, once resolved.
    pub addr: Option<String>,
    /// What came back.
    pub outcome: NtpOutcome,
}

/// How an SNTP exchange ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NtpOutcome {
    /// A usable answer.
    Answered {
        /// Server time minus this VM's time, seconds: positive means this clock is behind.
        offset_s: f64,
        /// Round-trip delay, seconds.
        rtt_s: f64,
        /// The server's stratum.
        stratum: u8,
        /// The leap indicator (a pending leap second, or none).
        #[serde(default)]
        leap: String,
    },
    /// No answer before the probe timeout: UDP/123 dropped somewhere.
    TimedOut,
    /// ICMP port unreachable: nothing listens, or a firewall rejects.
    Refused,
    /// No route to the server.
    Unreachable,
    /// The server told us to go away (kiss-o'-death).
    KissOfDeath {
        /// Its code, e.g. `RATE`, `DENY`.
        code: String,
    },
    /// The server says it is not synchronised itself.
    Unsynchronised,
    /// An answer that could not be used (malformed packet, negative round trip).
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// The server's name does not resolve.
    Unresolvable,
    /// Not finished: the run's deadline or a signal came first (`deadline_reached`,
    /// `interrupted`); unknown, never passed.
    #[serde(untagged)]
    Unfinished(Unfinished),
}

/// An estimate of the offset from an HTTPS `Date` header (htpdate's method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DateSample {
    /// The host asked.
    pub host: String,
    /// Its address.
    pub addr: IpAddr,
    /// What came back.
    pub outcome: DateOutcome,
}

/// How a `Date` estimate ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DateOutcome {
    /// An estimate: server time minus this VM's, ± the error bound (0.5 s of the header's
    /// resolution plus half the round trip).
    Estimated {
        /// Seconds, positive means this clock is behind.
        offset_s: f64,
        /// Seconds.
        error_s: f64,
    },
    /// No usable `Date`.
    Failed {
        /// Why.
        detail: String,
    },
    /// Not finished (schema 1.9; before, an unfinished estimate was left out).
    #[serde(untagged)]
    Unfinished(Unfinished),
}

/// The VM itself: SELinux, system, resources, permissions, the provision key, the installed
/// connector and its logs. Everything read under `--root`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostEvidence {
    /// Whether the host checks ran (the profile has a `[host]` table).
    pub checked: bool,
    /// SELinux.
    pub selinux: Selinux,
    /// `/etc/os-release`.
    pub os: Option<OsRelease>,
    /// CPU architecture (this system only).
    pub arch: Option<String>,
    /// vCPUs, from `/proc/cpuinfo` under the root.
    pub vcpus: Option<u32>,
    /// MemTotal, MiB, from `/proc/meminfo` under the root.
    pub memory_mib: Option<u64>,
    /// Free space where `/opt` lives, MiB.
    pub free_disk_mib: Option<u64>,
    /// Unattended OS upgrades found enabled, one line each.
    pub auto_updates: Vec<String>,
    /// The connector user's uid and gid, from `/etc/passwd` under the root.
    pub connector_user: Option<(u32, u32)>,
    /// Paths the connector must read or write.
    pub access: Vec<PathAccess>,
    /// The provision key file (never its contents).
    pub key: KeyState,
    /// The installed connector.
    pub connector: Connector,
    /// Connector logs read, with the known lines found.
    pub logs: Vec<LogFile>,
}

/// SELinux's state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Selinux {
    /// Not checked.
    #[default]
    NotRun,
    /// No selinuxfs (`/sys/fs/selinux/enforce` absent): disabled at runtime.
    Disabled {
        /// `SELINUX=` of `/etc/selinux/config`, the intent after a reboot.
        configured: Option<String>,
    },
    /// `/sys/fs/selinux/enforce` exists but cannot be read (not root, not a regular file):
    /// the mode is unknown, never "disabled".
    Unknown {
        /// Why it could not be read.
        reason: String,
    },
    /// selinuxfs present.
    Active {
        /// `1` in `/sys/fs/selinux/enforce`.
        enforcing: bool,
        /// `SELINUX=` of `/etc/selinux/config`.
        configured: Option<String>,
        /// `SELINUXTYPE=`.
        policy: Option<String>,
        /// Installed module names matching the profile's candidates; `None` when the module
        /// store cannot be read.
        zscaler_modules: Option<Vec<String>>,
        /// AVC denials for the connector; `None` when the audit log cannot be read.
        denials: Option<Vec<String>>,
    },
}

/// `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OsRelease {
    /// `ID`.
    pub id: String,
    /// `VERSION_ID`.
    pub version_id: String,
    /// `PRETTY_NAME`.
    pub pretty: String,
}

/// Whether the connector user can use a path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PathAccess {
    /// The path (as on the VM).
    pub path: String,
    /// What the connector needs.
    pub need: Need,
    /// Whether it exists.
    pub exists: bool,
    /// Whether the connector user has that access (by mode and ownership); `None` when the
    /// user is unknown.
    pub granted: Option<bool>,
    /// Its mode, octal.
    pub mode: Option<String>,
}

/// The access a connector path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// To read it (`/etc/resolv.conf`, the key).
    Read,
    /// To write in it (`/opt/zscaler/var`).
    Write,
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Need::Read => "read",
            Need::Write => "write",
        })
    }
}

/// What [`KeyState::Present`]'s `malformed` says of a key file with nothing in it: the one
/// flaw that makes `key.malformed` blocking (written by the probe, read by the rule).
pub const KEY_EMPTY: &str = "empty";

/// The provision key file. Its contents are read to judge the format and never kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyState {
    /// Not checked.
    #[default]
    NotRun,
    /// No file.
    Missing,
    /// It exists but this tool cannot read it.
    Unreadable {
        /// The OS error.
        error: String,
    },
    /// Read.
    Present {
        /// Size in bytes.
        bytes: u64,
        /// Non-empty lines.
        lines: usize,
        /// Mode, octal.
        mode: String,
        /// Readable by the connector user (`None`: user unknown).
        readable_by_connector: Option<bool>,
        /// Anyone may write it.
        world_writable: bool,
        /// Why the contents do not look like a key, if they do not.
        malformed: Option<String>,
    },
}

/// The installed connector.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Connector {
    /// Its package files exist.
    pub installed: bool,
    /// Its systemd unit is enabled.
    pub enabled: bool,
    /// A `zpa-connector` process runs (this system only).
    pub running: Option<bool>,
    /// An enrolled certificate exists in `/opt/zscaler/var`.
    pub enrolled: bool,
    /// Its local debug interface answers on 127.0.0.1:9000 (this system only).
    pub debug_port: Option<bool>,
}

/// One connector log read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogFile {
    /// Its path.
    pub path: String,
    /// Why it could not be read, if so.
    pub error: Option<String>,
    /// Known lines found in it, latest last: at most a few per pattern, so a report stays
    /// small whatever the log's size.
    pub findings: Vec<LogFinding>,
    /// How many lines each pattern matched in all (absent from reports before 1.4).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub counts: std::collections::BTreeMap<String, usize>,
}

/// A known connector log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogFinding {
    /// The pattern's id in `checks/log-patterns.toml`.
    pub pattern: String,
    /// 1-based line number.
    pub line: usize,
    /// The line, shortened.
    pub excerpt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `Unfinished` inside every outcome, and the JSON tags reports have always carried:
    /// `{"kind": "deadline_reached"}` and `{"kind": "interrupted"}`, read back as they were.
    #[test]
    fn unfinished_keeps_its_tags_in_every_outcome() {
        fn round_trip<
            T: Serialize + serde::de::DeserializeOwned + Outcome + PartialEq + std::fmt::Debug,
        >(
            make: fn(Unfinished) -> T,
        ) {
            for (why, tag) in [
                (Unfinished::DeadlineReached, "deadline_reached"),
                (Unfinished::Interrupted, "interrupted"),
            ] {
                let outcome = make(why);
                let json = serde_json::to_value(&outcome).unwrap();
                assert_eq!(json, serde_json::json!({ "kind": tag }));
                let back: T = serde_json::from_value(json).unwrap();
                assert_eq!(back, outcome);
                assert_eq!(back.unfinished(), Some(why));
            }
        }
        round_trip(QueryOutcome::Unfinished);
        round_trip(TcpOutcome::Unfinished);
        round_trip(UdpOutcome::Unfinished);
        round_trip(HandshakeResult::Unfinished);
        round_trip(NtpOutcome::Unfinished);
        round_trip(DateOutcome::Unfinished);
        round_trip(EchoOutcome::Unfinished);
        // A finished outcome is not unfinished, and an unknown tag is still an error.
        assert_eq!(TcpOutcome::Connected { ms: 1 }.unfinished(), None);
        assert!(serde_json::from_str::<TcpOutcome>(r#"{"kind":"teleported"}"#).is_err());
    }
}
