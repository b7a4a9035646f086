//! The plan: exactly what a run will contact, derived from the profile and the flags.
//!
//! Pure and deterministic, so `--dry-run` can show a security team the list before anything is
//! sent, and so the plan can travel inside the report: `explain` then judges a saved run
//! against the same names, ports and ranges it was made with, offline.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub mod proxy;
pub mod schedule;

use proxy::{Proxies, Proxy};

use crate::profile::{
    ClockSpec, HostSpec, Hostname, Interceptor, KnownCa, Limits, LogPattern, NameSpec, PortSpec,
    Profile, Role, Timeouts, TlsSpec, ZenRanges,
};

/// Why a time server was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NtpOrigin {
    /// Configured on the VM (chrony.conf, ntp.conf, timesyncd.conf).
    Configured,
    /// The cloud's time service named by the profile.
    Cloud,
    /// The profile's fallback servers.
    Fallback,
    /// Named with `--ntp-server`.
    User,
}

/// Addresses a `--target CIDR` is sampled at, at most: enough to see a partial allowlist.
const SAMPLES_PER_USER_RANGE: u128 = 4;

/// What `--target` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A host name, resolved like a broker name.
    Host(Hostname),
    /// One address.
    Addr(IpAddr),
    /// A range, sampled.
    Net(IpNet),
}

impl FromStr for TargetSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(addr) = IpAddr::from_str(s) {
            return Ok(TargetSpec::Addr(addr));
        }
        if s.contains('/') {
            return IpNet::from_str(s)
                .map(|n| TargetSpec::Net(n.trunc()))
                .map_err(|_| format!("'{s}' is not a valid CIDR"));
        }
        Hostname::from_str(s)
            .map(TargetSpec::Host)
            .map_err(|_| format!("'{s}' is not a host name, an IP address or a CIDR"))
    }
}

/// The values flags set over the profile's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--dns-server`: ask this server instead of the system's resolvers.
    pub dns_server: Option<SocketAddr>,
    /// `--target`: probe only these (the profile's names and Zen addresses are left out).
    pub targets: Vec<TargetSpec>,
    /// `--timeout`: the per-probe timeout.
    pub probe_timeout_ms: Option<u64>,
    /// `--cidrs`: a full feed that replaces the profile's Zen ranges.
    pub zen: Option<ZenRanges>,
    /// `--ignore`: cause ids downgraded from blocking to warning.
    pub ignore: Vec<String>,
    /// `--coverage`: one address in every Zen range instead of a spread sample.
    pub coverage: bool,
    /// `--trust`: extra anchors that count as genuine (already read and validated).
    pub trust: Vec<TrustFile>,
    /// `--ntp-server`: ask only these time servers.
    pub ntp_servers: Vec<String>,
    /// `--log`: connector logs (or journal exports) to triage.
    pub logs: Vec<String>,
}

/// `host[:port]` of a time server as configured (`[v6]:port`, a bare v6, a name), port 123
/// when none is given.
pub fn split_ntp_server(server: &str) -> (String, u16) {
    const NTP_PORT: u16 = 123;
    if let Ok(addr) = server.parse::<SocketAddr>() {
        return (addr.ip().to_string(), addr.port());
    }
    if server.parse::<IpAddr>().is_ok() {
        return (server.to_string(), NTP_PORT);
    }
    match server.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            (host.to_string(), port.parse().unwrap_or(NTP_PORT))
        }
        _ => (server.to_string(), NTP_PORT),
    }
}

/// What the inspected VM's own configuration says before anything is probed: read by the
/// pre-plan stage ([`crate::probe::system`]), consumed by [`plan`].
#[derive(Debug, Clone, Default)]
pub struct SystemConfig {
    /// The explicit proxies configured on the inspected system.
    pub proxies: Proxies,
    /// The servers the inspected system's time daemons are configured with: (server, file).
    pub configured_ntp: Vec<(String, String)>,
}

/// One time server the clock check asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NtpServerPlan {
    /// `host[:port]`.
    pub server: String,
    /// Why it is asked.
    pub origin: NtpOrigin,
    /// Where it is named (a file, the profile, the command line).
    pub source: String,
}

/// Which kind of chain an endpoint should present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustClass {
    /// Brokers and the enrollment API: Zscaler's own private PKI.
    Broker,
    /// Software and package hosts: a public CA.
    Control,
}

impl From<Role> for TrustClass {
    fn from(role: Role) -> TrustClass {
        match role {
            Role::Control | Role::Edge => TrustClass::Control,
            Role::Broker | Role::Enrollment | Role::Target => TrustClass::Broker,
        }
    }
}

/// An anchor file declared with `--trust [CLASS=]FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrustFile {
    /// The class it vouches for; `None` for every class.
    pub class: Option<TrustClass>,
    /// The file.
    pub path: String,
    /// The subjects of its certificates, for the report.
    pub subjects: Vec<String>,
}

/// Where DNS questions go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolverPlan {
    /// The nameservers of this resolv.conf (under `--root`), as the connector itself would.
    System {
        /// The resolv.conf read.
        path: crate::vm::VmPath,
    },
    /// One server named with `--dns-server`.
    Explicit {
        /// Its address and port.
        server: SocketAddr,
    },
}

/// Why an address is probed; decides how much its result weighs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// An answer for a profile name (or a `--target` host): a real listener.
    Name {
        /// The name.
        host: Hostname,
        /// Its role.
        role: Role,
    },
    /// A single address the feed publishes (a /32 or /128 entry).
    Published,
    /// One address picked inside a wider Zen range; it may host nothing.
    RangeSample {
        /// The range it was picked from.
        #[schemars(with = "String")]
        range: IpNet,
    },
    /// An address or range given with `--target`.
    User {
        /// What the user typed.
        spec: String,
    },
    /// A chain read from a file (`explain --chain`): nothing was contacted.
    SavedChain {
        /// The file.
        file: String,
    },
}

impl Origin {
    /// Whether a failure here is enough for a blocking cause. A sampled address may simply
    /// host nothing, so it only ever adds evidence.
    pub fn drives_verdict(&self) -> bool {
        matches!(
            self,
            Origin::Name { .. } | Origin::User { .. } | Origin::SavedChain { .. }
        )
    }
}

/// An address probed without DNS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FixedTarget {
    /// The address.
    pub addr: IpAddr,
    /// Why it is probed.
    pub origin: Origin,
}

/// Everything a run will do, and the yardsticks its results are judged with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// Profile name.
    pub profile: String,
    /// Where the profile was read.
    pub profile_origin: String,
    /// Where DNS questions go.
    pub resolver: ResolverPlan,
    /// The ports, in the order the connector needs them.
    pub ports: Vec<PortSpec>,
    /// Names resolved (A and AAAA), then connected to on their ports.
    pub names: Vec<NameSpec>,
    /// Addresses connected to on `fixed_ports` without DNS.
    pub fixed_targets: Vec<FixedTarget>,
    /// Ports tried on every fixed target.
    pub fixed_ports: Vec<u16>,
    /// The Zen ranges.
    pub zen: ZenRanges,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// Bounds.
    pub limits: Limits,
    /// Cause ids the user downgraded with `--ignore`.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// A range-by-range audit (`--coverage`): every Zen range sampled, reported by region.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coverage: bool,
    /// The server name sent to an address given with `--target` (the profile's broker name,
    /// as the connector would send it); none when the profile names no broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_sni: Option<String>,
    /// The TLS probe's ports and expectations.
    #[serde(default = "TlsSpec::none")]
    pub tls: TlsSpec,
    /// The UDP probe's ports.
    #[serde(default)]
    pub udp: crate::profile::UdpSpec,
    /// What a forwarding connector must do itself (Cloud Connector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<crate::profile::GatewaySpec>,
    /// Whether the profile's connector brokers private applications (a Branch Connector
    /// does not).
    #[serde(default = "crate::profile::yes")]
    pub private_apps: bool,
    /// System trust bundles to read, under `--root`.
    #[serde(default)]
    pub system_trust: Vec<crate::vm::VmPath>,
    /// Extra anchors declared with `--trust`.
    #[serde(default)]
    pub trust: Vec<TrustFile>,
    /// The interceptor catalog the chains are matched against.
    #[serde(default)]
    pub interceptors: Vec<Interceptor>,
    /// CAs confirmed to sign Zscaler's broker certificates (name and key): they pin a broker
    /// chain when no anchor is declared.
    #[serde(default)]
    pub broker_cas: Vec<KnownCa>,
    /// Explicit proxies the handshakes go through, as the connector and the system's tools would.
    #[serde(default)]
    pub proxies: Proxies,
    /// Where the inspected system's files are read (`--root`).
    #[serde(default = "slash")]
    pub root: String,
    /// The clock check's thresholds; `None` when the profile has no clock check.
    #[serde(default)]
    pub clock: Option<ClockSpec>,
    /// The time servers asked.
    #[serde(default)]
    pub ntp_servers: Vec<NtpServerPlan>,
    /// The host checks' expectations; `None` when the profile has none.
    #[serde(default)]
    pub host: Option<HostSpec>,
    /// Connector logs to triage: `--log` files (this host's), then the connector's own log
    /// (under `--root`) when it exists.
    #[serde(default)]
    pub logs: Vec<crate::vm::VmPath>,
    /// The known log lines they are matched against.
    #[serde(default)]
    pub log_patterns: Vec<LogPattern>,
}

fn slash() -> String {
    "/".into()
}

impl Plan {
    /// Whether anchors were declared for `class`: then only they make a chain genuine.
    pub fn has_anchors(&self, class: TrustClass) -> bool {
        self.trust
            .iter()
            .any(|t| t.class.is_none_or(|c| c == class))
    }

    /// The proxy a handshake of `class` to `host`/`addr` goes through: the connector's own for
    /// the broker channel, the system's for control hosts; none when bypassed.
    pub fn proxy_for(&self, class: TrustClass, host: &str, addr: IpAddr) -> Option<&Proxy> {
        match class {
            TrustClass::Broker => self.proxies.connector.as_ref(),
            TrustClass::Control => self.proxies.system.as_ref(),
        }
        .filter(|proxy| !proxy.bypasses(host, addr))
    }

    /// What judges a chain saved elsewhere and presented for `sni` (`explain --chain`): the
    /// profile's yardsticks with nothing to contact and no VM's configuration, and the class
    /// `sni` has there (a control host of the profile as one, any other name as a broker).
    pub fn for_saved_chain(
        profile: &crate::profile::Profile,
        overrides: &Overrides,
        sni: &str,
    ) -> (Plan, TrustClass) {
        let class = profile
            .names
            .iter()
            .find(|n| n.host.as_str().eq_ignore_ascii_case(sni))
            .map_or(TrustClass::Broker, |n| n.role.into());
        let plan = plan(profile, overrides, &SystemConfig::default(), Path::new("/")).offline();
        (plan, class)
    }

    /// The same yardsticks with nothing to contact or read: for judging evidence brought from
    /// elsewhere (`explain --chain`), where every probe is "not run".
    pub fn offline(mut self) -> Plan {
        self.names.clear();
        self.fixed_targets.clear();
        self.fixed_ports.clear();
        self.ntp_servers.clear();
        self.clock = None;
        self.host = None;
        self.gateway = None;
        self.logs.clear();
        self.system_trust.clear();
        self.proxies = Proxies::default();
        self
    }

    /// The profile's declaration for `port`, if any.
    pub fn port(&self, port: u16) -> Option<&PortSpec> {
        self.ports.iter().find(|p| p.port == port)
    }
}

/// Builds the plan. `root` is where `/etc/resolv.conf` is read from.
pub fn plan(profile: &Profile, overrides: &Overrides, system: &SystemConfig, root: &Path) -> Plan {
    let zen = overrides.zen.clone().unwrap_or_else(|| profile.zen.clone());
    let broker_ports = union_ports(
        profile
            .names
            .iter()
            .filter(|n| n.role == Role::Broker)
            .flat_map(|n| n.ports.iter().copied()),
    );
    let fixed_ports = if broker_ports.is_empty() {
        profile.ports.iter().map(|p| p.port).collect()
    } else {
        broker_ports
    };
    let (names, fixed_targets) = if overrides.targets.is_empty() {
        let targets = if overrides.coverage {
            every_range(&zen)
        } else {
            zen_targets(&zen, &profile.limits)
        };
        (profile.names.clone(), targets)
    } else {
        user_targets(&overrides.targets, &fixed_ports)
    };
    let resolver = match overrides.dns_server {
        Some(server) => ResolverPlan::Explicit { server },
        None => ResolverPlan::System {
            path: crate::vm::VmPath::new(root, crate::vm::RESOLV_CONF),
        },
    };
    let mut timeouts = profile.timeouts;
    if let Some(ms) = overrides.probe_timeout_ms {
        timeouts.probe_ms = ms;
        timeouts.overall_ms = timeouts.overall_ms.max(ms.saturating_mul(2));
    }
    Plan {
        profile: profile.name.clone(),
        profile_origin: profile.origin.clone(),
        resolver,
        ports: profile.ports.clone(),
        names,
        fixed_targets,
        fixed_ports,
        zen,
        timeouts,
        limits: profile.limits,
        ignore: overrides.ignore.clone(),
        coverage: overrides.coverage && overrides.targets.is_empty(),
        system_trust: profile
            .tls
            .system_trust
            .iter()
            .map(|rel| crate::vm::VmPath::new(root, rel))
            .collect(),
        address_sni: profile
            .names
            .iter()
            .find(|n| n.role == Role::Broker)
            .map(|n| n.host.to_string()),
        tls: profile.tls.clone(),
        udp: profile.udp.clone(),
        private_apps: profile.private_apps,
        gateway: profile.gateway.clone(),
        trust: overrides.trust.clone(),
        interceptors: crate::profile::interceptors(),
        broker_cas: crate::profile::broker_cas(),
        proxies: system.proxies.clone(),
        root: root.display().to_string(),
        ntp_servers: profile
            .clock
            .as_ref()
            .map(|clock| ntp_servers(clock, overrides, system))
            .unwrap_or_default(),
        clock: profile.clock.clone(),
        host: profile.host.clone(),
        logs: overrides
            .logs
            .iter()
            .map(crate::vm::VmPath::host)
            .chain(std::iter::once(crate::vm::VmPath::new(
                root,
                crate::vm::CONNECTOR_LOG,
            )))
            .collect(),
        log_patterns: crate::profile::log_patterns(),
    }
}

/// `--ntp-server` alone when given; else the VM's own servers, the cloud's, the fallbacks.
fn ntp_servers(
    clock: &ClockSpec,
    overrides: &Overrides,
    system: &SystemConfig,
) -> Vec<NtpServerPlan> {
    let entry = |server: &String, origin, source: &str| NtpServerPlan {
        server: server.clone(),
        origin,
        source: source.into(),
    };
    let mut servers: Vec<NtpServerPlan> = if overrides.ntp_servers.is_empty() {
        system
            .configured_ntp
            .iter()
            .map(|(server, file)| entry(server, NtpOrigin::Configured, file))
            .chain(
                clock
                    .cloud_servers
                    .iter()
                    .map(|s| entry(s, NtpOrigin::Cloud, "profile")),
            )
            .chain(
                clock
                    .fallback_servers
                    .iter()
                    .map(|s| entry(s, NtpOrigin::Fallback, "profile")),
            )
            .collect()
    } else {
        overrides
            .ntp_servers
            .iter()
            .map(|s| entry(s, NtpOrigin::User, "--ntp-server"))
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    servers.retain(|s| seen.insert(s.server.clone()));
    servers
}

fn union_ports(ports: impl Iterator<Item = u16>) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::new();
    for p in ports {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Published single addresses, then one address inside each of a spread of wider ranges.
fn zen_targets(zen: &ZenRanges, limits: &Limits) -> Vec<FixedTarget> {
    let (singles, wide): (Vec<IpNet>, Vec<IpNet>) = zen
        .ranges
        .iter()
        .partition(|n| n.prefix_len() == n.max_prefix_len());
    let published = spread(&singles, limits.max_published)
        .into_iter()
        .map(|net| FixedTarget {
            addr: net.addr(),
            origin: Origin::Published,
        });
    // IPv4 only: many VMs have no IPv6 egress at all, which would drown the sample in noise.
    let wide_v4: Vec<IpNet> = wide.into_iter().filter(|n| n.addr().is_ipv4()).collect();
    let samples = spread(&wide_v4, limits.max_sampled_ranges)
        .into_iter()
        .filter_map(|net| {
            Some(FixedTarget {
                addr: net.hosts().next()?,
                origin: Origin::RangeSample { range: net },
            })
        });
    published.chain(samples).collect()
}

/// One address in every range, IPv4 and IPv6: the audit. A single address is itself; in a
/// wider range, its first host.
fn every_range(zen: &ZenRanges) -> Vec<FixedTarget> {
    zen.ranges
        .iter()
        .filter_map(|net| {
            let addr = if net.prefix_len() == net.max_prefix_len() {
                net.addr()
            } else {
                net.hosts().next()?
            };
            Some(FixedTarget {
                addr,
                origin: Origin::RangeSample { range: *net },
            })
        })
        .collect()
}

/// Up to `n` items evenly spread over `items`, so a cap does not only probe one region.
fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n]).collect()
}

fn user_targets(targets: &[TargetSpec], ports: &[u16]) -> (Vec<NameSpec>, Vec<FixedTarget>) {
    let mut names = Vec::new();
    let mut fixed = Vec::new();
    for target in targets {
        match target {
            TargetSpec::Host(host) => names.push(NameSpec {
                host: host.clone(),
                role: Role::Target,
                ports: ports.to_vec(),
                required: true,
                source: "--target".into(),
            }),
            TargetSpec::Addr(addr) => fixed.push(FixedTarget {
                addr: *addr,
                origin: Origin::User {
                    spec: addr.to_string(),
                },
            }),
            TargetSpec::Net(net) => {
                for addr in sample_net(*net) {
                    fixed.push(FixedTarget {
                        addr,
                        origin: Origin::User {
                            spec: net.to_string(),
                        },
                    });
                }
            }
        }
    }
    (names, fixed)
}

/// A few host addresses spread across `net` (the first one always included).
fn sample_net(net: IpNet) -> Vec<IpAddr> {
    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size: u128 = if bits >= 128 {
        u128::MAX
    } else {
        1u128 << bits
    };
    if size <= 2 {
        return vec![net.addr()];
    }
    let usable = size - 2;
    let n = usable.min(SAMPLES_PER_USER_RANGE);
    let base = match net.network() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    (0..n)
        .map(|i| {
            let offset = 1 + i * (usable / n);
            match net {
                IpNet::V4(_) => IpAddr::from(std::net::Ipv4Addr::from((base + offset) as u32)),
                IpNet::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(base + offset)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_strings() {
        assert_eq!(
            split_ntp_server("127.0.0.1:12300"),
            ("127.0.0.1".into(), 12300)
        );
        assert_eq!(
            split_ntp_server("169.254.169.123"),
            ("169.254.169.123".into(), 123)
        );
        assert_eq!(split_ntp_server("[::1]:1234"), ("::1".into(), 1234));
        assert_eq!(split_ntp_server("fd00::123"), ("fd00::123".into(), 123));
        assert_eq!(
            split_ntp_server("time.example:4123"),
            ("time.example".into(), 4123)
        );
        assert_eq!(
            split_ntp_server("time.example"),
            ("time.example".into(), 123)
        );
    }

    use crate::profile;

    fn app() -> Profile {
        profile::load(profile::DEFAULT_PROFILE).unwrap()
    }

    /// A saved chain is judged with nothing to contact, as the class its name has.
    #[test]
    fn a_saved_chain_is_judged_as_its_names_class() {
        for (sni, class) in [
            ("co2br.prod.zpath.net", TrustClass::Broker),
            ("DIST.private.zscaler.com", TrustClass::Control),
            ("proxy.corp.example", TrustClass::Broker),
            ("", TrustClass::Broker),
        ] {
            let (plan, got) = Plan::for_saved_chain(&app(), &Overrides::default(), sni);
            assert_eq!(got, class, "{sni}");
            assert!(plan.names.is_empty() && plan.fixed_targets.is_empty() && plan.logs.is_empty());
        }
    }

    #[test]
    fn default_plan_resolves_profile_names_and_samples_zen() {
        let plan = plan(
            &app(),
            &Overrides::default(),
            &SystemConfig::default(),
            Path::new("/mnt/vm"),
        );
        assert_eq!(
            plan.resolver,
            ResolverPlan::System {
                path: crate::vm::VmPath::new("/mnt/vm", crate::vm::RESOLV_CONF)
            }
        );
        assert_eq!(plan.fixed_ports, vec![443, 9000]);
        assert!(
            plan.names
                .iter()
                .any(|n| n.host.as_str() == "co2br.prod.zpath.net")
        );
        let published = plan
            .fixed_targets
            .iter()
            .filter(|t| t.origin == Origin::Published)
            .count();
        assert_eq!(published, 5);
        let sample = plan
            .fixed_targets
            .iter()
            .find(|t| matches!(t.origin, Origin::RangeSample { .. }))
            .unwrap();
        assert!(plan.zen.contains(sample.addr));
    }

    #[test]
    fn targets_replace_the_profile_targets() {
        let overrides = Overrides {
            targets: vec![
                "broker.lab.test".parse().unwrap(),
                "127.0.0.5".parse().unwrap(),
                "198.18.0.0/24".parse().unwrap(),
            ],
            probe_timeout_ms: Some(500),
            ..Overrides::default()
        };
        let plan = plan(&app(), &overrides, &SystemConfig::default(), Path::new("/"));
        assert_eq!(plan.names.len(), 1);
        assert_eq!(plan.names[0].role, Role::Target);
        assert_eq!(plan.names[0].ports, vec![443, 9000]);
        let addrs: Vec<String> = plan
            .fixed_targets
            .iter()
            .map(|t| t.addr.to_string())
            .collect();
        assert_eq!(
            addrs,
            [
                "127.0.0.5",
                "198.18.0.1",
                "198.18.0.64",
                "198.18.0.127",
                "198.18.0.190"
            ]
        );
        assert_eq!(plan.timeouts.probe_ms, 500);
    }

    #[test]
    fn target_spec_rejects_garbage() {
        assert!("10.0.0.0/33".parse::<TargetSpec>().is_err());
        assert!("not a host".parse::<TargetSpec>().is_err());
        assert_eq!(
            "::1".parse::<TargetSpec>().unwrap(),
            TargetSpec::Addr("::1".parse().unwrap())
        );
    }

    #[test]
    fn spread_keeps_ends_apart() {
        assert_eq!(spread(&[1, 2, 3, 4, 5, 6, 7, 8], 4), vec![1, 3, 5, 7]);
        assert_eq!(spread(&[1, 2], 4), vec![1, 2]);
    }
}
