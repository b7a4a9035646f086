//! The probe schedule: every step a run takes, decided by one pure function of the plan and
//! each answer.
//!
//! Which addresses to connect to, which of them get a TLS handshake and through which proxy,
//! which one gives the HTTPS `Date`, what a sinkholed answer means: decided here, without a
//! network, table-tested below, and printed by `--dry-run`. The executor
//! ([`crate::probe::run`]) only carries the steps out (tailscale's netcheck keeps the same
//! split: a pure plan of probes, then the I/O).

use std::collections::HashSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::proxy::Proxy;
use super::{NtpServerPlan, Origin, Plan, TrustClass};
use crate::profile::Hostname;

/// One thing a run does.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A and AAAA for the plan's name `index`.
    Resolve {
        /// Its position in `plan.names`.
        index: usize,
    },
    /// A TCP connect. A `sinkhole` answer (0.0.0.0 reaches this very VM) is recorded as not
    /// run, with the reason: connecting would prove nothing.
    Connect {
        /// Where.
        addr: IpAddr,
        /// Which port.
        port: u16,
        /// Why.
        origin: Origin,
        /// The special-purpose class of the address, when it is one outside the Zen ranges.
        sinkhole: Option<&'static str>,
    },
    /// One QUIC-shaped datagram.
    Datagram {
        /// Where.
        addr: IpAddr,
        /// Which port.
        port: u16,
        /// Why.
        origin: Origin,
    },
    /// A TLS handshake (no application data).
    Handshake {
        /// Where and how.
        #[serde(flatten)]
        tls: TlsStep,
    },
    /// An HTTPS `Date` estimate (htpdate's method), from the first control host's answer:
    /// the clock's fallback when UDP/123 is blocked.
    Date {
        /// Where and how.
        #[serde(flatten)]
        tls: TlsStep,
    },
    /// One SNTP request.
    Sntp {
        /// The server.
        #[serde(flatten)]
        server: NtpServerPlan,
    },
    /// One more handshake to the address and port of a handshake that TCP reached but that
    /// was cut off (reset, silenced, alerted), changed in one way: what the middlebox lets
    /// through tells which middlebox it is.
    FollowUp {
        /// The handshake that was cut off.
        #[serde(flatten)]
        tls: TlsStep,
        /// What is changed.
        change: Change,
    },
    /// The installed connector's debug interface on this VM (`127.0.0.1:9000`): whether it
    /// listens, read only when the connector runs. Live runs with host checks only.
    DebugPort {
        /// Where it listens.
        addr: std::net::SocketAddr,
    },
    /// A forwarding connector's echo page: the address this VM is seen with.
    Echo {
        /// The page's host.
        host: Hostname,
        /// Its path.
        path: String,
        /// The system proxy it goes through, if any.
        via: Option<Proxy>,
    },
}

/// How a follow-up handshake differs from the one that was cut off, one thing at a time, so
/// that the one that gets through names the middlebox (OONI Probe's SNI-blocking experiment
/// compares a control name on the same address the same way; `tracepath` probes the path's
/// MTU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Another server name, [`NEUTRAL_SNI`]: through, it is an SNI or URL-category filter.
    OtherName,
    /// No server name at all: the same, for a filter that keys on any name it dislikes.
    NoName,
    /// Segments of at most [`SMALL_MSS`] bytes (`TCP_MAXSEG`): through, the full-size
    /// segments of the server's first flight vanish on the path, a path-MTU black hole.
    SmallSegments,
    /// TLS 1.2 alone (the default offers 1.3 and 1.2).
    Tls12Only,
    /// TLS 1.3 alone.
    Tls13Only,
}

impl Change {
    /// Every change, in the order a report lists them.
    pub const ALL: [Change; 5] = [
        Change::OtherName,
        Change::NoName,
        Change::SmallSegments,
        Change::Tls12Only,
        Change::Tls13Only,
    ];

    /// What it sends, for a person.
    pub fn label(self) -> String {
        match self {
            Change::OtherName => format!("server name {NEUTRAL_SNI}"),
            Change::NoName => "no server name".into(),
            Change::SmallSegments => format!("segments of {SMALL_MSS} bytes (MSS)"),
            Change::Tls12Only => "TLS 1.2 only".into(),
            Change::Tls13Only => "TLS 1.3 only".into(),
        }
    }
}

/// Where an installed connector serves its debug interface.
pub const CONNECTOR_DEBUG_PORT: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9000);

/// The control name of the other-name follow-up: `example.com` is reserved for examples
/// (RFC 2606, IANA), is in no block list or "unknown" category of any URL filter, and names
/// no Zscaler service, so a filter keyed on Zscaler's names lets it through while any other
/// fault of the path stops it just the same.
pub const NEUTRAL_SNI: &str = "example.com";

/// The MSS of the small-segments follow-up: 536 bytes, the IPv4 default that every path must
/// carry (RFC 879, RFC 9293), so that an MTU of 576 is enough.
pub const SMALL_MSS: u32 = 536;

/// Where a handshake goes.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TlsStep {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// The server name sent.
    pub sni: String,
    /// Why.
    pub origin: Origin,
    /// What chain it should present.
    pub class: TrustClass,
    /// The explicit proxy to tunnel through, if the connector (or the system's tools) would.
    pub via: Option<Proxy>,
}

/// The schedule of one run: what has been decided so far, so that an address answered for
/// two names is connected to once, and only one `Date` is asked.
#[derive(Debug)]
pub struct Schedule<'a> {
    plan: &'a Plan,
    seen: HashSet<(IpAddr, u16)>,
    dated: bool,
    /// The names already followed up: one cut-off handshake per name tells the middlebox.
    followed: HashSet<String>,
}

impl<'a> Schedule<'a> {
    /// A schedule for `plan`, nothing decided yet.
    pub fn new(plan: &'a Plan) -> Schedule<'a> {
        Schedule {
            plan,
            seen: HashSet::new(),
            dated: false,
            followed: HashSet::new(),
        }
    }

    /// What needs no answer: the fixed addresses (with a handshake for `--target`s on a TLS
    /// port, under the broker name the connector would send), the echo page, the time
    /// servers, and every name's lookup.
    pub fn start(&mut self) -> Vec<Step> {
        let plan = self.plan;
        let mut steps = Vec::new();
        for target in &plan.fixed_targets {
            let user = matches!(target.origin, Origin::User { .. });
            for &port in &plan.fixed_ports {
                if self.seen.insert((target.addr, port)) {
                    steps.push(Step::Connect {
                        addr: target.addr,
                        port,
                        origin: target.origin.clone(),
                        sinkhole: None,
                    });
                }
                if user && plan.udp.ports.contains(&port) {
                    steps.push(Step::Datagram {
                        addr: target.addr,
                        port,
                        origin: target.origin.clone(),
                    });
                }
                if let (true, true, Some(sni)) =
                    (user, plan.tls.ports.contains(&port), &plan.address_sni)
                {
                    steps.push(Step::Handshake {
                        tls: TlsStep {
                            addr: target.addr,
                            port,
                            sni: sni.clone(),
                            origin: target.origin.clone(),
                            class: TrustClass::Broker,
                            via: plan
                                .proxy_for(TrustClass::Broker, sni, target.addr)
                                .cloned(),
                        },
                    });
                }
            }
        }
        // The connector's own interface, on this VM: under the run's deadline like every probe.
        if plan.host.is_some() && plan.root == "/" {
            steps.push(Step::DebugPort {
                addr: CONNECTOR_DEBUG_PORT,
            });
        }
        if let Some((host, path)) = plan
            .gateway
            .as_ref()
            .and_then(|g| Some((g.echo.clone()?, g.echo_path.clone())))
        {
            // The echo page is a control-plane fetch: the system proxy applies, by name.
            let via = plan
                .proxy_for(TrustClass::Control, host.as_str(), ANY_ADDRESS)
                .cloned();
            steps.push(Step::Echo { host, path, via });
        }
        steps.extend(
            plan.ntp_servers
                .iter()
                .cloned()
                .map(|server| Step::Sntp { server }),
        );
        steps.extend((0..plan.names.len()).map(|index| Step::Resolve { index }));
        steps
    }

    /// What follows the answer for name `index`: each address on each of the name's ports,
    /// its datagram and handshake, and the run's one `Date`.
    pub fn answered(&mut self, index: usize, addresses: &[IpAddr]) -> Vec<Step> {
        let plan = self.plan;
        let spec = &plan.names[index];
        let origin = Origin::Name {
            host: spec.host.clone(),
            role: spec.role,
        };
        let mut steps = Vec::new();
        for &addr in addresses {
            // Declared ranges are trusted whatever their class: that is how labs and private
            // deployments name their own brokers.
            let sinkhole =
                crate::address::special_purpose(addr).filter(|_| !plan.zen.contains(addr));
            for action in self.each_address(index, addr, sinkhole.is_some()) {
                match action {
                    Action::Connect { port, datagram } if self.seen.insert((addr, port)) => {
                        steps.push(Step::Connect {
                            addr,
                            port,
                            origin: origin.clone(),
                            sinkhole,
                        });
                        if datagram {
                            steps.push(Step::Datagram {
                                addr,
                                port,
                                origin: origin.clone(),
                            });
                        }
                    }
                    Action::Connect { .. } => {}
                    Action::Handshake(tls) => steps.push(Step::Handshake {
                        tls: tls.at(addr, &origin),
                    }),
                    Action::Date(tls) => steps.push(Step::Date {
                        tls: tls.at(addr, &origin),
                    }),
                }
            }
        }
        steps
    }

    /// What follows a handshake that TCP reached but that was cut off before a usable
    /// certificate (reset, silence, an alert): one follow-up per [`Change`], to the same
    /// address and port, all at once, under the run's deadline. Only direct handshakes (a
    /// proxy's tunnel has its own findings), and only the first cut-off of each name: one is
    /// enough to tell the middlebox. A healthy run never gets here, so it costs nothing.
    pub fn cut_off(&mut self, tls: &TlsStep) -> Vec<Step> {
        if tls.via.is_some() || !self.followed.insert(tls.sni.clone()) {
            return Vec::new();
        }
        Change::ALL
            .into_iter()
            .map(|change| Step::FollowUp {
                tls: tls.clone(),
                change,
            })
            .collect()
    }

    /// What every answer address of name `index` gets (the address-free half of
    /// [`Schedule::answered`], which `--dry-run` prints): a connect per port (with a datagram
    /// on a UDP port), a handshake on the TLS ports when the name's role has one, none of it
    /// but the connect for a sinkhole answer, and the run's one `Date` from the first control
    /// host. The proxy is the one the connector would use
    /// for `addr` (a bypass list may name addresses); [`ANY_ADDRESS`] asks by name alone.
    pub fn each_address(&mut self, index: usize, addr: IpAddr, sinkhole: bool) -> Vec<Action> {
        let plan = self.plan;
        let spec = &plan.names[index];
        let class = TrustClass::from(spec.role);
        let mut actions = Vec::new();
        for &port in &spec.ports {
            actions.push(Action::Connect {
                port,
                datagram: !sinkhole && plan.udp.ports.contains(&port),
            });
            if sinkhole || !spec.role.handshakes() || !plan.tls.ports.contains(&port) {
                continue;
            }
            let tls = TlsAction {
                port,
                sni: spec.host.to_string(),
                class,
                via: plan.proxy_for(class, spec.host.as_str(), addr).cloned(),
            };
            if class == TrustClass::Control && !self.dated && plan.clock.is_some() {
                self.dated = true;
                actions.push(Action::Date(tls.clone()));
            }
            actions.push(Action::Handshake(tls));
        }
        actions
    }
}

/// What `--dry-run` shows of a schedule: the steps that need no answer, and what every
/// answer of each name (in the plan's order) would get, the one `Date` on the first control
/// host.
pub fn preview(plan: &Plan) -> (Vec<Step>, Vec<Vec<Action>>) {
    let mut schedule = Schedule::new(plan);
    let start = schedule.start();
    let each = (0..plan.names.len())
        .map(|index| schedule.each_address(index, ANY_ADDRESS, false))
        .collect();
    (start, each)
}

/// Stands for "any address" where only a name can decide (`--dry-run`, before any answer):
/// a proxy's bypass is then judged by the name alone.
pub const ANY_ADDRESS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// What one answer address gets, before the address is known.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A TCP connect.
    Connect {
        /// Which port.
        port: u16,
        /// Whether a datagram goes to the same port (a profile's UDP port).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        datagram: bool,
    },
    /// A TLS handshake.
    Handshake(TlsAction),
    /// The run's one HTTPS `Date`.
    Date(TlsAction),
}

/// A handshake before its address is known.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TlsAction {
    /// Which port.
    pub port: u16,
    /// The server name sent.
    pub sni: String,
    /// What chain it should present.
    pub class: TrustClass,
    /// Through which proxy.
    pub via: Option<Proxy>,
}

impl TlsAction {
    /// This handshake to `addr`.
    fn at(self, addr: IpAddr, origin: &Origin) -> TlsStep {
        TlsStep {
            addr,
            port: self.port,
            sni: self.sni,
            origin: origin.clone(),
            class: self.class,
            via: self.via,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Overrides, SystemConfig, TargetSpec, plan};
    use crate::profile::{self, Profile};
    use std::path::Path;

    fn app() -> Profile {
        profile::load("app-connector").unwrap()
    }

    /// The default profile's plan on a VM with no proxy and no configured time server.
    fn default_plan() -> Plan {
        plan(
            &app(),
            &Overrides::default(),
            &SystemConfig::default(),
            Path::new("/"),
        )
    }

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Resolve { index } => format!("resolve {index}"),
                Step::Connect {
                    addr,
                    port,
                    sinkhole,
                    ..
                } => match sinkhole {
                    Some(class) => format!("record {addr}:{port} ({class})"),
                    None => format!("connect {addr}:{port}"),
                },
                Step::Datagram { addr, port, .. } => format!("datagram {addr}:{port}"),
                Step::Handshake { tls: t } => format!(
                    "tls {}:{} {}{}",
                    t.addr,
                    t.port,
                    t.sni,
                    t.via
                        .as_ref()
                        .map(|p| format!(" via {}", p.addr))
                        .unwrap_or_default()
                ),
                Step::Date { tls: t } => format!("date {}:{}", t.addr, t.port),
                Step::FollowUp { tls: t, change } => {
                    format!("follow-up {}:{} {change:?}", t.addr, t.port)
                }
                Step::Sntp { server } => format!("sntp {}", server.server),
                Step::DebugPort { addr } => format!("debug port {addr}"),
                Step::Echo { host, .. } => format!("echo {host}"),
            })
            .collect()
    }

    fn index_of(plan: &Plan, host: &str) -> usize {
        plan.names
            .iter()
            .position(|n| n.host.as_str() == host)
            .unwrap()
    }

    /// answer → the steps that follow it, for the default profile.
    #[test]
    fn each_answer_decides_its_steps() {
        let plan = default_plan();
        let broker = index_of(&plan, "co2br.prod.zpath.net");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cases: &[(&str, &[&str])] = &[
            // A Zen answer: both ports, a handshake on 443.
            (
                "165.225.112.252",
                &[
                    "connect 165.225.112.252:443",
                    "tls 165.225.112.252:443 co2br.prod.zpath.net",
                    "connect 165.225.112.252:9000",
                ],
            ),
            // A sinkhole: recorded, never connected to, no handshake.
            (
                "0.0.0.0",
                &[
                    "record 0.0.0.0:443 (unspecified (0.0.0.0/8))",
                    "record 0.0.0.0:9000 (unspecified (0.0.0.0/8))",
                ],
            ),
        ];
        for (answer, expected) in cases {
            let mut schedule = Schedule::new(&plan);
            let steps = kinds(&schedule.answered(broker, &[ip(answer)]));
            let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            assert_eq!(steps, expected, "{answer}");
        }
    }

    #[test]
    fn an_address_answered_twice_is_connected_to_once_and_one_date_is_asked() {
        let plan = default_plan();
        let controls: Vec<usize> = plan
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.role == crate::profile::Role::Control)
            .map(|(i, _)| i)
            .collect();
        assert!(controls.len() >= 2, "the default profile has control hosts");
        let addr: IpAddr = "104.16.0.1".parse().unwrap();
        let mut schedule = Schedule::new(&plan);
        let first = kinds(&schedule.answered(controls[0], &[addr]));
        let second = kinds(&schedule.answered(controls[1], &[addr]));
        assert_eq!(first.iter().filter(|s| s.starts_with("date")).count(), 1);
        assert!(second.iter().all(|s| !s.starts_with("date")), "{second:?}");
        assert!(
            second.iter().all(|s| !s.starts_with("connect")),
            "{second:?}"
        );
        // Each name still gets its own handshake: the SNI differs.
        assert!(second.iter().any(|s| s.starts_with("tls")), "{second:?}");
    }

    #[test]
    fn a_target_gets_the_broker_name_and_the_connector_proxy() {
        let overrides = Overrides {
            targets: vec!["198.18.0.9".parse::<TargetSpec>().unwrap()],
            ..Overrides::default()
        };
        let system = SystemConfig {
            proxies: crate::plan::proxy::Proxies {
                connector: crate::plan::proxy::parse_proxy("192.0.2.8:3128", "file", vec![]),
                system: None,
            },
            configured_ntp: Vec::new(),
        };
        let plan = plan(&app(), &overrides, &system, Path::new("/"));
        let steps = kinds(&Schedule::new(&plan).start());
        assert!(
            steps.contains(&"tls 198.18.0.9:443 co2br.prod.zpath.net via 192.0.2.8:3128".into()),
            "{steps:?}"
        );
        assert!(
            steps.contains(&"connect 198.18.0.9:9000".to_string()),
            "{steps:?}"
        );
        assert!(steps.iter().all(|s| !s.starts_with("resolve")), "{steps:?}");
    }

    /// The connector's proxy bypass may name addresses: each answer is judged on its own.
    #[test]
    fn a_bypass_by_address_is_judged_per_answer() {
        let system = SystemConfig {
            proxies: crate::plan::proxy::Proxies {
                connector: crate::plan::proxy::parse_proxy(
                    "192.0.2.8:3128",
                    "file",
                    vec!["165.225.0.0/16".into()],
                ),
                system: None,
            },
            configured_ntp: Vec::new(),
        };
        let plan = plan(&app(), &Overrides::default(), &system, Path::new("/"));
        let broker = index_of(&plan, "co2br.prod.zpath.net");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let steps = kinds(
            &Schedule::new(&plan).answered(broker, &[ip("165.225.112.252"), ip("136.226.0.10")]),
        );
        assert!(
            steps.contains(&"tls 165.225.112.252:443 co2br.prod.zpath.net".into()),
            "{steps:?}"
        );
        assert!(
            steps.contains(&"tls 136.226.0.10:443 co2br.prod.zpath.net via 192.0.2.8:3128".into()),
            "{steps:?}"
        );
    }

    /// A cut-off handshake gets one follow-up per change, once per name, never through a
    /// proxy; a healthy run never asks.
    #[test]
    fn a_cut_off_handshake_is_followed_up_once_per_name() {
        let plan = default_plan();
        let mut schedule = Schedule::new(&plan);
        let step = |addr: &str, sni: &str, via: Option<Proxy>| TlsStep {
            addr: addr.parse().unwrap(),
            port: 443,
            sni: sni.into(),
            origin: Origin::User { spec: addr.into() },
            class: TrustClass::Broker,
            via,
        };
        let first = schedule.cut_off(&step("198.51.100.1", "co2br.prod.zpath.net", None));
        assert_eq!(
            kinds(&first),
            [
                "follow-up 198.51.100.1:443 OtherName",
                "follow-up 198.51.100.1:443 NoName",
                "follow-up 198.51.100.1:443 SmallSegments",
                "follow-up 198.51.100.1:443 Tls12Only",
                "follow-up 198.51.100.1:443 Tls13Only",
            ]
        );
        assert!(
            schedule
                .cut_off(&step("198.51.100.2", "co2br.prod.zpath.net", None))
                .is_empty(),
            "the name was followed up already"
        );
        let proxy = Proxy {
            addr: "proxy.corp:3128".parse().unwrap(),
            source: "test".into(),
            credentials: false,
            bypass: Vec::new(),
        };
        assert!(
            schedule
                .cut_off(&step(
                    "198.51.100.3",
                    "api.private.zscaler.com",
                    Some(proxy)
                ))
                .is_empty(),
            "a proxy's tunnel is not compared"
        );
    }

    /// The connector's debug interface is a step like any probe (under the deadline, listed
    /// by `--dry-run`), on a live run with host checks only.
    #[test]
    fn the_debug_port_is_scheduled_on_a_live_run_with_host_checks() {
        let live = default_plan();
        assert!(
            kinds(&Schedule::new(&live).start()).contains(&"debug port 127.0.0.1:9000".to_string())
        );
        let mut image = default_plan();
        image.root = "/mnt/image".into();
        assert!(
            !kinds(&Schedule::new(&image).start())
                .iter()
                .any(|k| k.starts_with("debug port"))
        );
        let mut no_host = default_plan();
        no_host.host = None;
        assert!(
            !kinds(&Schedule::new(&no_host).start())
                .iter()
                .any(|k| k.starts_with("debug port"))
        );
    }
}
