//! Probes: the only code that touches the network or reads the inspected system.
//!
//! [`run`] carries out a [`Plan`] and returns [`Evidence`]; it never judges. Everything runs
//! concurrently, as many at once as the open-file limit allows ([`capacity`]), under one
//! overall deadline, and each name's connects start the moment its answer arrives. That is what keeps a fully blackholed network
//! at about one probe timeout: fixed addresses are connected to while DNS is still waiting,
//! and nothing waits on anything it does not need.

pub mod capacity;
pub mod clock;
pub mod dns;
pub mod gateway;
pub mod host;
pub mod proxy;
pub mod rootfs;
pub mod system;
pub mod tcp;
pub mod tls;
pub mod udp;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::address;
use crate::evidence::{
    DnsEvidence, Evidence, HandshakeResult, NameResolution, QueryOutcome, TcpAttempt, TcpEvidence,
    TcpOutcome, TlsEvidence, TlsHandshake, UdpEvidence, UdpOutcome, UdpProbe,
};
use crate::plan::proxy::{Proxy, ProxyAddr, ProxyHost};
use crate::plan::{Origin, Plan, TrustClass};

/// The names of the processes running on this system (`/proc/*/comm`, 15 characters at most).
pub fn process_names() -> Vec<String> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|c| c.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Counters a live progress display reads while the probes run (and nothing else does).
#[derive(Debug, Default)]
pub struct Progress {
    /// Names resolved.
    pub names: AtomicUsize,
    /// TCP connects finished.
    pub connects: AtomicUsize,
    /// TLS handshakes finished.
    pub handshakes: AtomicUsize,
    /// Time servers answered or given up on.
    pub time_servers: AtomicUsize,
}

/// Runs every probe of `plan` and returns what was observed. `anchors` are the `--trust`
/// files, already read; `progress` counts what has finished, for a display.
pub async fn run(
    plan: &Plan,
    anchors: &[tls::Anchor],
    progress: &Progress,
    interrupted: tokio::sync::watch::Receiver<bool>,
) -> Evidence {
    let probe_timeout = Duration::from_millis(plan.timeouts.probe_ms);
    let capacity = capacity::size(plan.limits.max_in_flight);
    let overall = overall(plan, capacity.in_flight);
    let stop = Stop::new(Instant::now() + overall, interrupted);
    let permits = Arc::new(Semaphore::new(capacity.in_flight));
    let dns = Arc::new(dns::Dns::new(&plan.resolver, probe_timeout));
    let connector = Connector {
        permits: permits.clone(),
        timeout: probe_timeout,
        stop: stop.clone(),
    };

    let verifiers =
        (!plan.tls.ports.is_empty()).then(|| Arc::new(tls::Verifiers::new(plan, anchors)));
    let mut routes = Routes::default();
    let mut handshakes: JoinSet<TlsHandshake> = JoinSet::new();
    let mut connects = JoinSet::new();
    let mut datagrams: JoinSet<UdpProbe> = JoinSet::new();
    let mut seen: HashSet<(IpAddr, u16)> = HashSet::new();
    for target in &plan.fixed_targets {
        for &port in &plan.fixed_ports {
            if seen.insert((target.addr, port)) {
                connects.spawn(connector.attempt(target.addr, port, target.origin.clone(), None));
            }
            if matches!(target.origin, Origin::User { .. }) && plan.udp.ports.contains(&port) {
                datagrams.spawn(connector.datagram(target.addr, port, target.origin.clone()));
            }
            // What a user expects of `--target ADDR`: the interception check too, with the
            // name the connector would send.
            let tls_port = plan.tls.ports.contains(&port);
            if let (Origin::User { .. }, Some(verifiers), Some(sni), true) =
                (&target.origin, &verifiers, &plan.address_sni, tls_port)
            {
                let class = TrustClass::Broker;
                let via = match plan.proxy_for(class, sni, target.addr) {
                    Some(proxy) => Some(routes.via(proxy, &dns, &stop).await),
                    None => None,
                };
                let target = tls::Target {
                    addr: target.addr,
                    port,
                    sni: sni.to_string(),
                    origin: target.origin.clone(),
                    class,
                    via,
                };
                handshakes.spawn(connector.handshake(target, verifiers.clone()));
            }
        }
    }

    // A forwarding connector's echo page, asked while everything else runs.
    let echo = plan.gateway.as_ref().and_then(|g| {
        let host = g.echo.clone()?;
        let (dns, permits, path) = (dns.clone(), permits.clone(), g.echo_path.clone());
        let stop = stop.clone();
        let verifiers = verifiers
            .clone()
            .unwrap_or_else(|| Arc::new(tls::Verifiers::offline(anchors)));
        let proxy = plan
            .proxy_for(TrustClass::Control, host.as_str(), [0, 0, 0, 0].into())
            .cloned();
        Some(tokio::spawn(async move {
            stop.within(async {
                let _permit = permits.acquire_owned().await.expect("never closed");
                // Through the system proxy, a name resolved like every other proxy's.
                let via = match &proxy {
                    Some(proxy) => Some(proxy_route(proxy, &dns).await),
                    None => None,
                };
                gateway::echo(&host, &path, &dns, probe_timeout, &verifiers, via).await
            })
            .await
            .unwrap_or_else(|halt| crate::evidence::EchoSample {
                host: host.to_string(),
                addr: None,
                outcome: crate::evidence::EchoOutcome::Failed {
                    detail: halt
                        .pick("still waiting at the overall deadline", "interrupted")
                        .into(),
                },
            })
        }))
    });

    // Time servers are asked while everything else runs (each resolves its own name).
    let mut samples = JoinSet::new();
    for server in &plan.ntp_servers {
        let (dns, permits, server) = (dns.clone(), permits.clone(), server.clone());
        let stop = stop.clone();
        samples.spawn(async move {
            let sample = stop
                .within(async {
                    let _permit = permits.acquire_owned().await.expect("never closed");
                    clock::sntp(&server, &dns, probe_timeout).await
                })
                .await;
            sample.unwrap_or_else(|halt| crate::evidence::NtpSample {
                server: server.server.clone(),
                origin: server.origin,
                source: server.source.clone(),
                addr: None,
                outcome: halt.pick(
                    crate::evidence::NtpOutcome::DeadlineReached,
                    crate::evidence::NtpOutcome::Interrupted,
                ),
            })
        });
    }
    let mut dates = JoinSet::new();

    let mut lookups = JoinSet::new();
    for (index, name) in plan.names.iter().enumerate() {
        let dns = dns.clone();
        let permits = permits.clone();
        let stop = stop.clone();
        let host = name.host.clone();
        lookups.spawn(async move {
            let resolution = stop
                .within(async {
                    let _permit = permits.acquire_owned().await.expect("never closed");
                    dns.resolve(&host).await
                })
                .await
                .unwrap_or_else(|halt| {
                    let pending =
                        halt.pick(QueryOutcome::DeadlineReached, QueryOutcome::Interrupted);
                    NameResolution {
                        host: host.clone(),
                        a: pending.clone(),
                        aaaa: pending,
                        elapsed_ms: 0,
                    }
                });
            (index, resolution)
        });
    }

    let mut names: Vec<Option<NameResolution>> = vec![None; plan.names.len()];
    while let Some(joined) = lookups.join_next().await {
        let (index, resolution) = unwrap_join(joined);
        let spec = &plan.names[index];
        let origin = Origin::Name {
            host: spec.host.clone(),
            role: spec.role,
        };
        for addr in resolution.addresses() {
            // Declared ranges are trusted whatever their class: that is how labs and private
            // deployments name their own brokers.
            let sinkhole = address::special_purpose(addr).filter(|_| !plan.zen.contains(addr));
            for &port in &spec.ports {
                if seen.insert((addr, port)) {
                    connects.spawn(connector.attempt(addr, port, origin.clone(), sinkhole));
                    if sinkhole.is_none() && plan.udp.ports.contains(&port) {
                        datagrams.spawn(connector.datagram(addr, port, origin.clone()));
                    }
                }
                let tls_port =
                    sinkhole.is_none() && spec.role.handshakes() && plan.tls.ports.contains(&port);
                if let Some(verifiers) = verifiers.as_ref().filter(|_| tls_port) {
                    let class = TrustClass::from(spec.role);
                    let via = match plan.proxy_for(class, spec.host.as_str(), addr) {
                        Some(proxy) => Some(routes.via(proxy, &dns, &stop).await),
                        None => None,
                    };
                    let target = tls::Target {
                        addr,
                        port,
                        sni: spec.host.to_string(),
                        origin: origin.clone(),
                        class,
                        via,
                    };
                    // One Date estimate, from the first control host: htpdate's fallback for
                    // when UDP/123 is blocked.
                    if class == TrustClass::Control && dates.is_empty() && plan.clock.is_some() {
                        let date_target = tls::Target {
                            via: target.via.clone(),
                            origin: target.origin.clone(),
                            sni: target.sni.clone(),
                            ..target
                        };
                        dates.spawn(connector.date(date_target, verifiers.clone()));
                    }
                    handshakes.spawn(connector.handshake(target, verifiers.clone()));
                }
            }
        }
        names[index] = Some(resolution);
        progress.names.fetch_add(1, Ordering::Relaxed);
    }

    let mut udp = UdpEvidence::default();
    while let Some(joined) = datagrams.join_next().await {
        udp.probes.push(unwrap_join(joined));
    }
    udp.probes.sort_by_key(|p| (p.port, p.addr));
    let mut attempts = Vec::new();
    while let Some(joined) = connects.join_next().await {
        attempts.push(unwrap_join(joined));
        progress.connects.fetch_add(1, Ordering::Relaxed);
    }
    attempts.sort_by_key(|a| (a.port, a.addr));
    let mut tls = TlsEvidence {
        system_store: verifiers
            .as_ref()
            .map(|v| v.store.clone())
            .unwrap_or_default(),
        handshakes: Vec::new(),
    };
    while let Some(joined) = handshakes.join_next().await {
        tls.handshakes.push(unwrap_join(joined));
        progress.handshakes.fetch_add(1, Ordering::Relaxed);
    }
    tls.handshakes
        .sort_by(|a, b| (&a.sni, a.addr).cmp(&(&b.sni, b.addr)));
    let root = std::path::Path::new(&plan.root);
    let host = match &plan.host {
        Some(spec) => {
            // The connector's own log only when it exists; a --log file that does not is news.
            let default_log = root.join(crate::vm::CONNECTOR_LOG).display().to_string();
            let logs: Vec<String> = plan
                .logs
                .iter()
                .filter(|l| **l != default_log || std::path::Path::new(l).exists())
                .cloned()
                .collect();
            host::inspect(root, spec, &logs, &plan.log_patterns).await
        }
        None => crate::evidence::HostEvidence::default(),
    };
    let mut clock = crate::evidence::ClockEvidence::default();
    if plan.clock.is_some() {
        clock.daemons = clock::daemons(root);
        clock.kernel = clock::kernel(root);
        while let Some(joined) = samples.join_next().await {
            clock.ntp.push(unwrap_join(joined));
            progress.time_servers.fetch_add(1, Ordering::Relaxed);
        }
        while let Some(joined) = dates.join_next().await {
            clock.http_date.extend(unwrap_join(joined));
        }
    }

    let gateway = match &plan.gateway {
        Some(_) => {
            let (ipv4_forwarding, ipv6_forwarding) = gateway::forwarding(root);
            let echo = match echo {
                Some(task) => Some(unwrap_join(task.await)),
                None => None,
            };
            Some(crate::evidence::GatewayEvidence {
                ipv4_forwarding,
                ipv6_forwarding,
                echo,
            })
        }
        None => None,
    };

    Evidence {
        plan: plan.clone(),
        dns: DnsEvidence {
            resolver: dns.state.clone(),
            names: names
                .into_iter()
                .map(|n| n.expect("every spawned lookup was joined"))
                .collect(),
        },
        tcp: TcpEvidence {
            attempts,
            in_flight: capacity.in_flight,
            deadline_ms: u64::try_from(overall.as_millis()).unwrap_or(u64::MAX),
        },
        tls,
        clock,
        host,
        udp,
        gateway,
        interrupted: None,
        files_read: rootfs::files_read(),
    }
}

/// The overall deadline: the profile's, or longer when the planned probes cannot all be in
/// flight at once (a low open-file limit, or a profile's cap), so that the deadline stays a
/// backstop and never a cliff that hides work: one probe timeout per wave, plus one for the
/// names' answers and the handshakes after them.
fn overall(plan: &Plan, in_flight: usize) -> Duration {
    let tls = plan
        .tls
        .ports
        .iter()
        .filter(|p| plan.fixed_ports.contains(p))
        .count();
    let user = plan
        .fixed_targets
        .iter()
        .filter(|t| matches!(t.origin, Origin::User { .. }))
        .count();
    let planned = plan.fixed_targets.len() * plan.fixed_ports.len()
        + user * tls
        + plan.names.len() * 2
        + plan.ntp_servers.len();
    let waves = planned.div_ceil(in_flight.max(1)) as u64;
    let scaled = plan.timeouts.probe_ms.saturating_mul(waves + 1);
    Duration::from_millis(plan.timeouts.overall_ms.max(scaled))
}

/// When probing stops: the overall deadline, or an interruption (a signal), whichever comes
/// first. Every probe runs `within` it, so an interrupted run ends at once with what it has.
#[derive(Clone)]
pub struct Stop {
    deadline: Instant,
    interrupted: tokio::sync::watch::Receiver<bool>,
}

impl Stop {
    /// Stops at `deadline`, or when `interrupted` turns true.
    pub fn new(deadline: Instant, interrupted: tokio::sync::watch::Receiver<bool>) -> Stop {
        Stop {
            deadline,
            interrupted,
        }
    }

    async fn reached(&self) -> Halt {
        let mut interrupted = self.interrupted.clone();
        let signal = async move {
            // A dropped sender means no interruption can come: wait for the deadline alone.
            if interrupted.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(self.deadline) => Halt::Deadline,
            () = signal => Halt::Signal,
        }
    }

    /// `work`'s output, or why probing had to stop first.
    pub async fn within<F: Future>(&self, work: F) -> Result<F::Output, Halt> {
        tokio::select! {
            biased;
            out = work => Ok(out),
            halt = self.reached() => Err(halt),
        }
    }
}

/// Why a probe was stopped before it finished: the report tells the two apart, because a
/// deadline says something about the network (or the profile) and a signal says nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The run's overall deadline passed.
    Deadline,
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped the run.
    Signal,
}

impl Halt {
    /// `deadline` or `interrupted`, whichever this halt was.
    fn pick<T>(self, deadline: T, interrupted: T) -> T {
        match self {
            Halt::Deadline => deadline,
            Halt::Signal => interrupted,
        }
    }
}

/// What every connect shares: the cap, the timeout and when to stop.
#[derive(Clone)]
struct Connector {
    permits: Arc<Semaphore>,
    timeout: Duration,
    stop: Stop,
}

impl Connector {
    fn attempt(
        &self,
        addr: IpAddr,
        port: u16,
        origin: Origin,
        sinkhole: Option<&'static str>,
    ) -> impl Future<Output = TcpAttempt> + Send + 'static {
        let this = self.clone();
        async move {
            let outcome = if let Some(range) = sinkhole {
                // A sinkholed answer (0.0.0.0 reaches this very VM): connecting proves nothing.
                TcpOutcome::NotRun {
                    reason: format!("answer is {range}, not a real destination"),
                }
            } else {
                this.stop
                    .within(async {
                        let _permit = this.permits.acquire_owned().await.expect("never closed");
                        tcp::connect(SocketAddr::new(addr, port), this.timeout).await
                    })
                    .await
                    .unwrap_or_else(|halt| {
                        halt.pick(TcpOutcome::DeadlineReached, TcpOutcome::Interrupted)
                    })
            };
            TcpAttempt {
                addr,
                port,
                origin,
                outcome,
            }
        }
    }
}

impl Connector {
    fn datagram(
        &self,
        addr: IpAddr,
        port: u16,
        origin: Origin,
    ) -> impl Future<Output = UdpProbe> + Send + 'static {
        let this = self.clone();
        async move {
            let outcome = this
                .stop
                .within(async {
                    let _permit = this.permits.acquire_owned().await.expect("never closed");
                    udp::probe(addr, port, this.timeout).await
                })
                .await
                .unwrap_or_else(|halt| {
                    halt.pick(UdpOutcome::DeadlineReached, UdpOutcome::Interrupted)
                });
            UdpProbe {
                addr,
                port,
                origin,
                outcome,
            }
        }
    }
}

/// A probe task only ends by returning; a panic inside one is a bug worth surfacing as is.
impl Connector {
    fn handshake(
        &self,
        target: tls::Target,
        verifiers: Arc<tls::Verifiers>,
    ) -> impl Future<Output = TlsHandshake> + Send + 'static {
        let this = self.clone();
        async move {
            let (addr, port, sni, origin, class) = (
                target.addr,
                target.port,
                target.sni.clone(),
                target.origin.clone(),
                target.class,
            );
            this.stop
                .within(async {
                    let _permit = this.permits.acquire_owned().await.expect("never closed");
                    tls::handshake(target, this.timeout, &verifiers).await
                })
                .await
                .unwrap_or_else(|halt| TlsHandshake {
                    addr,
                    port,
                    sni,
                    origin,
                    class,
                    result: halt.pick(
                        HandshakeResult::DeadlineReached,
                        HandshakeResult::Interrupted,
                    ),
                    chain: Vec::new(),
                    verification: None,
                    local_time: chrono::Utc::now().timestamp(),
                    via_proxy: None,
                })
        }
    }
}

impl Connector {
    /// An HTTPS `Date` estimate from `target`, under the same cap and deadline.
    fn date(
        &self,
        target: tls::Target,
        verifiers: Arc<tls::Verifiers>,
    ) -> impl Future<Output = Option<crate::evidence::DateSample>> + Send + 'static {
        let this = self.clone();
        async move {
            this.stop
                .within(async {
                    let _permit = this.permits.acquire_owned().await.expect("never closed");
                    let started = std::time::Instant::now();
                    match tls::open_any(&target, this.timeout, &verifiers).await {
                        Ok(stream) => {
                            let connect_rtt = started.elapsed();
                            let exchange = clock::http_date(
                                &target.sni,
                                target.addr,
                                stream,
                                chrono::Utc::now(),
                                connect_rtt,
                            );
                            tokio::time::timeout(this.timeout, exchange).await.ok()
                        }
                        Err(detail) => Some(crate::evidence::DateSample {
                            host: target.sni.clone(),
                            addr: target.addr,
                            outcome: crate::evidence::DateOutcome::Failed { detail },
                        }),
                    }
                })
                .await
                .ok()
                .flatten()
        }
    }
}

/// Each proxy's route, found once per run: a proxy named by host is resolved once, under the
/// run's deadline, however many handshakes go through it (one lookup per address, one after
/// another and outside the deadline, once took 40 s against a 4 s deadline).
#[derive(Default)]
struct Routes {
    known: std::collections::HashMap<ProxyAddr, tls::Via>,
}

impl Routes {
    async fn via(&mut self, proxy: &Proxy, dns: &dns::Dns, stop: &Stop) -> tls::Via {
        if let Some(via) = self.known.get(&proxy.addr) {
            return via.clone();
        }
        let via = stop
            .within(proxy_route(proxy, dns))
            .await
            .unwrap_or_else(|halt| tls::Via {
                addr: Err(format!(
                    "the proxy name in {} did not resolve before {}",
                    proxy.addr,
                    halt.pick("the overall deadline", "the run was interrupted")
                )),
                label: proxy.label(),
            });
        self.known.insert(proxy.addr.clone(), via.clone());
        via
    }
}

/// The proxy's address: an IP literal as is, a name through the same resolver as everything
/// else.
async fn proxy_route(proxy: &Proxy, dns: &dns::Dns) -> tls::Via {
    let addr = match &proxy.addr.host {
        ProxyHost::Ip(ip) => Ok(SocketAddr::new(*ip, proxy.addr.port)),
        ProxyHost::Name(host) => match crate::profile::Hostname::try_from(host.clone()) {
            Ok(name) => dns
                .resolve(&name)
                .await
                .addresses()
                .first()
                .map(|ip| SocketAddr::new(*ip, proxy.addr.port))
                .ok_or_else(|| format!("the proxy name {host} does not resolve")),
            Err(e) => Err(e),
        },
    };
    tls::Via {
        addr,
        label: proxy.label(),
    }
}

fn unwrap_join<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
