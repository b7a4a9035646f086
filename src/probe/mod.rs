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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::evidence::{
    DateOutcome, DateSample, DnsEvidence, EchoOutcome, EchoSample, Evidence, FollowUp,
    HandshakeResult, NameResolution, NtpOutcome, NtpSample, QueryOutcome, TcpAttempt, TcpEvidence,
    TcpOutcome, TlsEvidence, TlsHandshake, UdpEvidence, UdpOutcome, UdpProbe, Unfinished,
};
use crate::plan::proxy::{Proxy, ProxyAddr, ProxyHost};
use crate::plan::schedule::{Change, Schedule, Step, TlsStep};
use crate::plan::{Origin, Plan};

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
/// files, already read; `progress` counts what has finished, for a display. What to do is the
/// pure [`Schedule`]'s decision, step by step as answers arrive; this only carries it out.
pub async fn run(
    plan: &Plan,
    anchors: &[tls::Anchor],
    progress: &Progress,
    interrupted: tokio::sync::watch::Receiver<bool>,
) -> Evidence {
    let capacity = capacity::size(plan.limits.max_in_flight);
    let overall = overall(plan, capacity.in_flight);
    let stop = Stop::new(Instant::now() + overall, interrupted);
    let exec = Arc::new(Executor::new(plan, anchors, capacity.in_flight, stop));
    let mut schedule = Schedule::new(plan);
    let mut running = JoinSet::new();
    for step in schedule.start() {
        spawn(&mut running, &exec, step);
    }
    let mut seen = Seen::new(plan.names.len());
    while let Some(joined) = running.join_next().await {
        let done = unwrap_join(joined);
        // Each name's connects start the moment its answer arrives.
        if let Done::Name(index, resolution) = &done {
            for step in schedule.answered(*index, &resolution.addresses()) {
                spawn(&mut running, &exec, step);
            }
        }
        // A handshake TCP reached but something cut off: the follow-ups that tell what.
        if let Done::Tls(asked, handshake) = &done
            && handshake.result.cut_off()
        {
            for step in schedule.cut_off(asked) {
                spawn(&mut running, &exec, step);
            }
        }
        seen.record(done, progress);
    }
    let debug_port = seen.debug_port;
    let mut evidence = seen.into_evidence(plan, &exec);
    evidence.tcp.in_flight = capacity.in_flight;
    evidence.tcp.deadline_ms = u64::try_from(overall.as_millis()).unwrap_or(u64::MAX);
    local(plan, &mut evidence, debug_port).await;
    evidence
}

/// Spawns one step. A connect, of which an audit has thousands in flight at once, is spawned
/// as it is: its future is the task, with no second allocation beside it (boxed like the other
/// steps, 2,000 targets peaked 1.4 to 2 MiB higher, benches/scale.rs).
fn spawn(running: &mut JoinSet<Done>, exec: &Arc<Executor>, step: Step) {
    match step {
        Step::Connect {
            addr,
            port,
            origin,
            sinkhole,
        } => running.spawn(exec.clone().connect(addr, port, origin, sinkhole)),
        step => running.spawn(exec.clone().carry_out(step)),
    };
}

/// What one step returned.
enum Done {
    Name(usize, NameResolution),
    Tcp(TcpAttempt),
    Udp(UdpProbe),
    /// A handshake, and the step that asked for it (its follow-ups are made from it).
    Tls(Box<TlsStep>, TlsHandshake),
    /// Whether the connector's debug interface listens (`None`: the run ended first).
    DebugPort(Option<bool>),
    /// A follow-up of the handshake to (address, port, name).
    FollowUp((std::net::IpAddr, u16, String), FollowUp),
    Date(DateSample),
    Ntp(NtpSample),
    Echo(EchoSample),
}

/// Everything the steps returned, gathered as they finish.
#[derive(Default)]
struct Seen {
    names: Vec<Option<NameResolution>>,
    attempts: Vec<TcpAttempt>,
    datagrams: Vec<UdpProbe>,
    handshakes: Vec<TlsHandshake>,
    follow_ups: Vec<((std::net::IpAddr, u16, String), FollowUp)>,
    debug_port: Option<bool>,
    dates: Vec<DateSample>,
    ntp: Vec<NtpSample>,
    echo: Option<EchoSample>,
}

impl Seen {
    fn new(names: usize) -> Seen {
        Seen {
            names: vec![None; names],
            ..Seen::default()
        }
    }

    fn record(&mut self, done: Done, progress: &Progress) {
        match done {
            Done::Name(index, resolution) => {
                self.names[index] = Some(resolution);
                progress.names.fetch_add(1, Ordering::Relaxed);
            }
            Done::Tcp(attempt) => {
                self.attempts.push(attempt);
                progress.connects.fetch_add(1, Ordering::Relaxed);
            }
            Done::Udp(probe) => self.datagrams.push(probe),
            Done::Tls(_, handshake) => {
                self.handshakes.push(handshake);
                progress.handshakes.fetch_add(1, Ordering::Relaxed);
            }
            Done::FollowUp(key, follow_up) => self.follow_ups.push((key, follow_up)),
            Done::DebugPort(listening) => self.debug_port = listening,
            Done::Date(sample) => self.dates.push(sample),
            Done::Ntp(sample) => {
                self.ntp.push(sample);
                progress.time_servers.fetch_add(1, Ordering::Relaxed);
            }
            Done::Echo(sample) => self.echo = Some(sample),
        }
    }

    /// The network's evidence, in a stable order (the order of completion is noise).
    fn into_evidence(mut self, plan: &Plan, exec: &Executor) -> Evidence {
        self.attempts.sort_by_key(|a| (a.port, a.addr));
        self.datagrams.sort_by_key(|p| (p.port, p.addr));
        self.handshakes
            .sort_by(|a, b| (&a.sni, a.addr).cmp(&(&b.sni, b.addr)));
        // Each follow-up joins the handshake it followed, in the order of the changes.
        self.follow_ups.sort_by_key(|(_, f)| f.change as u8);
        for ((addr, port, sni), follow_up) in self.follow_ups {
            if let Some(h) = self
                .handshakes
                .iter_mut()
                .find(|h| h.addr == addr && h.port == port && h.sni == sni)
            {
                h.follow_ups.push(follow_up);
            }
        }
        Evidence {
            plan: plan.clone(),
            dns: DnsEvidence {
                resolver: exec.dns.state.clone(),
                names: self
                    .names
                    .into_iter()
                    .map(|n| n.expect("every name's lookup was joined"))
                    .collect(),
            },
            tcp: TcpEvidence {
                attempts: self.attempts,
                ..TcpEvidence::default()
            },
            tls: TlsEvidence {
                system_store: exec
                    .verifiers
                    .as_ref()
                    .map(|v| v.store.clone())
                    .unwrap_or_default(),
                handshakes: self.handshakes,
            },
            clock: crate::evidence::ClockEvidence {
                ntp: self.ntp,
                http_date: self.dates,
                ..Default::default()
            },
            host: crate::evidence::HostEvidence::default(),
            udp: UdpEvidence {
                probes: self.datagrams,
            },
            gateway: plan
                .gateway
                .as_ref()
                .map(|_| crate::evidence::GatewayEvidence {
                    echo: self.echo,
                    ..Default::default()
                }),
            interrupted: None,
            files_read: Vec::new(),
            machine: Default::default(),
        }
    }
}

/// The VM's own state, read once the network probes are done: the host checks, the time
/// daemons and the kernel clock, IP forwarding; and the list of files read.
async fn local(plan: &Plan, evidence: &mut Evidence, debug_port: Option<bool>) {
    let root = std::path::Path::new(&plan.root);
    if let Some(spec) = &plan.host {
        // The connector's own log only when it exists; a --log file that does not is news.
        let default_log = crate::vm::VmPath::new(root, crate::vm::CONNECTOR_LOG);
        let logs: Vec<crate::vm::VmPath> = plan
            .logs
            .iter()
            .filter(|l| {
                **l != default_log || rootfs::RootFs::new(root).exists(crate::vm::CONNECTOR_LOG)
            })
            .cloned()
            .collect();
        evidence.host = host::inspect(root, spec, &logs, &plan.log_patterns, debug_port);
    }
    if plan.clock.is_some() {
        evidence.clock.daemons = clock::daemons(root);
        evidence.clock.kernel = clock::kernel(root);
    }
    if let Some(gateway) = evidence.gateway.as_mut() {
        (gateway.ipv4_forwarding, gateway.ipv6_forwarding) = gateway::forwarding(root);
    }
    evidence.machine = machine(root);
    evidence.files_read = rootfs::files_read();
}

/// Which machine this is, as its files say: the kernel's host name on the live system,
/// `/etc/hostname` in an image; the machine id; cloud-init's instance id. One line each, read
/// bounded like every file of the inspected system.
fn machine(root: &std::path::Path) -> crate::evidence::Machine {
    let fs = rootfs::RootFs::new(root);
    let line = |rel: &str| {
        fs.read(rel, 4096)
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
            .filter(|l| !l.is_empty())
    };
    let live = root == std::path::Path::new("/");
    crate::evidence::Machine {
        hostname: live
            .then(|| line(crate::vm::KERNEL_HOSTNAME))
            .flatten()
            .or_else(|| line(crate::vm::HOSTNAME)),
        machine_id: line(crate::vm::MACHINE_ID),
        instance_id: line(crate::vm::CLOUD_INSTANCE_ID),
    }
}

/// The overall deadline: the profile's, or longer when the planned probes cannot all be in
/// flight at once (a low open-file limit, or a profile's cap), so that the deadline stays a
/// backstop and never a cliff that hides work: one probe timeout per wave, plus one for the
/// names' answers and the handshakes after them, and one for the follow-ups of a handshake
/// that was cut off.
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
    let follow_ups = u64::from(!plan.tls.ports.is_empty());
    let scaled = plan
        .timeouts
        .probe_ms
        .saturating_mul(waves + 1 + follow_ups);
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

    async fn reached(&self) -> Unfinished {
        let mut interrupted = self.interrupted.clone();
        let signal = async move {
            // A dropped sender means no interruption can come: wait for the deadline alone.
            if interrupted.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(self.deadline) => Unfinished::DeadlineReached,
            () = signal => Unfinished::Interrupted,
        }
    }

    /// `work`'s output, or why probing had to stop first.
    pub async fn within<F: Future>(&self, work: F) -> Result<F::Output, Unfinished> {
        tokio::select! {
            biased;
            out = work => Ok(out),
            halt = self.reached() => Err(halt),
        }
    }
}

/// What every step shares: the cap, the timeout, when to stop, the resolver, the trust
/// stores and the proxies' routes.
struct Executor {
    permits: Semaphore,
    timeout: Duration,
    stop: Stop,
    dns: dns::Dns,
    names: Vec<crate::profile::Hostname>,
    /// Built only when a step makes a handshake: with the system store for a plan with TLS
    /// ports, else (an echo page alone) Mozilla's roots and the `--trust` anchors.
    verifiers: Option<Arc<tls::Verifiers>>,
    /// Each proxy's route, found once per run: a proxy named by host is resolved once, under
    /// the run's deadline, however many handshakes go through it (one lookup per address, one
    /// after another and outside the deadline, once took 40 s against a 4 s deadline).
    routes: tokio::sync::Mutex<HashMap<ProxyAddr, tls::Via>>,
}

impl Executor {
    fn new(plan: &Plan, anchors: &[tls::Anchor], in_flight: usize, stop: Stop) -> Executor {
        let timeout = Duration::from_millis(plan.timeouts.probe_ms);
        Executor {
            permits: Semaphore::new(in_flight),
            timeout,
            stop,
            dns: dns::Dns::new(&plan.resolver, timeout),
            names: plan.names.iter().map(|n| n.host.clone()).collect(),
            verifiers: if !plan.tls.ports.is_empty() {
                Some(Arc::new(tls::Verifiers::new(plan, anchors)))
            } else if plan.gateway.as_ref().is_some_and(|g| g.echo.is_some()) {
                Some(Arc::new(tls::Verifiers::offline(anchors)))
            } else {
                None
            },
            routes: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The work `start` makes, under the cap on probes in flight, ended by the deadline or a
    /// signal: the one wrapper every step goes through. One flat `select!`, and the work future
    /// made inside it: an async fn keeps its argument beside the future it awaits, so a future
    /// passed in (and through `Stop::within`) was held twice or three times, and a connect's
    /// task was 2.8 KiB with 4,000 in flight at once.
    async fn bounded<F: Future>(&self, start: impl FnOnce() -> F) -> Result<F::Output, Unfinished> {
        tokio::select! {
            biased;
            out = async {
                let _permit = self.permits.acquire().await.expect("never closed");
                start().await
            } => Ok(out),
            halt = self.stop.reached() => Err(halt),
        }
    }

    /// The route to `proxy`, resolved once per run.
    async fn route(&self, proxy: Option<Proxy>) -> Option<tls::Via> {
        let proxy = proxy?;
        let mut routes = self.routes.lock().await;
        if let Some(via) = routes.get(&proxy.addr) {
            return Some(via.clone());
        }
        let via = self
            .stop
            .within(proxy_route(&proxy, &self.dns))
            .await
            .unwrap_or_else(|halt| tls::Via {
                addr: Err(format!(
                    "the proxy name in {} did not resolve before {}",
                    proxy.addr,
                    match halt {
                        Unfinished::DeadlineReached => "the overall deadline",
                        Unfinished::Interrupted => "the run was interrupted",
                    }
                )),
                label: proxy.label(),
            });
        routes.insert(proxy.addr.clone(), via.clone());
        Some(via)
    }

    async fn target(&self, step: TlsStep) -> tls::Target {
        tls::Target {
            via: self.route(step.via).await,
            addr: step.addr,
            port: step.port,
            sni: step.sni,
            origin: step.origin,
            class: step.class,
        }
    }

    /// The verifiers of a step that makes a handshake: the schedule plans one only with TLS
    /// ports or an echo page, and then they are built.
    fn verifiers(&self) -> Arc<tls::Verifiers> {
        self.verifiers
            .clone()
            .expect("a TLS step is scheduled only with TLS ports or an echo page")
    }

    /// Carries out one step; whatever happens, it returns what was seen. Each step's future is
    /// boxed on its own, so a task holds its step's work and no more: a task is as large as its
    /// future, and one future for every kind of step is as large as the largest (unboxed, a
    /// handshake made each of 4,000 connect tasks 10 KiB: 128 MiB peak instead of 14). The
    /// connect, spawned unboxed by [`spawn`], is boxed here only when carried out this way.
    fn carry_out(self: Arc<Self>, step: Step) -> Pin<Box<dyn Future<Output = Done> + Send>> {
        match step {
            Step::Resolve { index } => Box::pin(async move { self.resolve(index).await }),
            Step::Connect {
                addr,
                port,
                origin,
                sinkhole,
            } => Box::pin(self.connect(addr, port, origin, sinkhole)),
            Step::Datagram { addr, port, origin } => {
                Box::pin(async move { self.datagram(addr, port, origin).await })
            }
            Step::Handshake { tls } => Box::pin(async move { self.handshake(tls).await }),
            Step::FollowUp { tls, change } => {
                Box::pin(async move { self.follow_up(tls, change).await })
            }
            Step::Date { tls } => Box::pin(async move { self.date(tls).await }),
            Step::Sntp { server } => Box::pin(async move { self.sntp(server).await }),
            Step::Echo { host, path, via } => {
                Box::pin(async move { self.echo(host, path, via).await })
            }
            Step::DebugPort { addr } => Box::pin(async move {
                let listening = self
                    .bounded(|| tcp::connect(addr, self.timeout))
                    .await
                    .ok()
                    .map(|outcome| outcome.connected());
                Done::DebugPort(listening)
            }),
        }
    }

    async fn resolve(&self, index: usize) -> Done {
        let host = &self.names[index];
        let resolution = self.bounded(|| self.dns.resolve(host)).await;
        Done::Name(
            index,
            resolution.unwrap_or_else(|halt| {
                let pending = QueryOutcome::Unfinished(halt);
                NameResolution {
                    host: host.clone(),
                    a: pending.clone(),
                    aaaa: pending,
                    elapsed_ms: 0,
                }
            }),
        )
    }

    /// Owns its `Arc` so that its future is the task itself, with no wrapper around it.
    async fn connect(
        self: Arc<Self>,
        addr: std::net::IpAddr,
        port: u16,
        origin: Origin,
        sinkhole: Option<&'static str>,
    ) -> Done {
        let outcome = match sinkhole {
            // A sinkholed answer (0.0.0.0 reaches this very VM): connecting proves nothing.
            Some(range) => TcpOutcome::NotRun {
                reason: format!("answer is {range}, not a real destination"),
            },
            None => self
                .bounded(|| tcp::connect(SocketAddr::new(addr, port), self.timeout))
                .await
                .unwrap_or_else(TcpOutcome::Unfinished),
        };
        Done::Tcp(TcpAttempt {
            addr,
            port,
            origin,
            outcome,
        })
    }

    async fn datagram(&self, addr: std::net::IpAddr, port: u16, origin: Origin) -> Done {
        let outcome = self
            .bounded(|| udp::probe(addr, port, self.timeout))
            .await
            .unwrap_or_else(UdpOutcome::Unfinished);
        Done::Udp(UdpProbe {
            addr,
            port,
            origin,
            outcome,
        })
    }

    async fn handshake(&self, step: TlsStep) -> Done {
        let asked = Box::new(step.clone());
        let target = self.target(step).await;
        // What an unfinished handshake reports, kept before the target moves into the attempt.
        let (addr, port, sni, origin, class) = (
            target.addr,
            target.port,
            target.sni.clone(),
            target.origin.clone(),
            target.class,
        );
        let verifiers = self.verifiers();
        let handshake = self
            .bounded(|| tls::handshake(target, self.timeout, &verifiers))
            .await;
        Done::Tls(
            asked,
            handshake.unwrap_or_else(|halt| TlsHandshake {
                addr,
                port,
                sni,
                origin,
                class,
                result: HandshakeResult::Unfinished(halt),
                chain: Vec::new(),
                verification: None,
                local_time: chrono::Utc::now().timestamp(),
                via_proxy: None,
                follow_ups: Vec::new(),
            }),
        )
    }

    async fn follow_up(&self, step: TlsStep, change: Change) -> Done {
        let key = (step.addr, step.port, step.sni.clone());
        let target = self.target(step).await;
        let verifiers = self.verifiers();
        let result = self
            .bounded(|| tls::follow_up(target, change, self.timeout, &verifiers))
            .await
            .unwrap_or_else(HandshakeResult::Unfinished);
        Done::FollowUp(key, FollowUp { change, result })
    }

    async fn date(&self, step: TlsStep) -> Done {
        let target = self.target(step).await;
        let verifiers = self.verifiers();
        let (host, addr) = (target.sni.clone(), target.addr);
        let sample = self
            .bounded(|| date(&target, self.timeout, &verifiers))
            .await;
        // An estimate the run stopped is recorded as unfinished, never dropped: a clock check
        // with fewer samples than it asked for says why.
        Done::Date(sample.unwrap_or_else(|halt| DateSample {
            host,
            addr,
            outcome: DateOutcome::Unfinished(halt),
        }))
    }

    async fn sntp(&self, server: crate::plan::NtpServerPlan) -> Done {
        let sample = self
            .bounded(|| clock::sntp(&server, &self.dns, self.timeout))
            .await;
        Done::Ntp(sample.unwrap_or_else(|halt| NtpSample {
            server: server.server.clone(),
            origin: server.origin,
            source: server.source.clone(),
            addr: None,
            outcome: NtpOutcome::Unfinished(halt),
        }))
    }

    async fn echo(&self, host: crate::profile::Hostname, path: String, via: Option<Proxy>) -> Done {
        // Through the system proxy, a name resolved like every other proxy's.
        let via = self.route(via).await;
        let verifiers = self.verifiers();
        let sample = self
            .bounded(|| gateway::echo(&host, &path, &self.dns, self.timeout, &verifiers, via))
            .await;
        Done::Echo(sample.unwrap_or_else(|halt| EchoSample {
            host: host.to_string(),
            addr: None,
            outcome: EchoOutcome::Unfinished(halt),
        }))
    }
}

/// An HTTPS `Date` estimate from `target` (htpdate's method).
async fn date(target: &tls::Target, timeout: Duration, verifiers: &tls::Verifiers) -> DateSample {
    let started = std::time::Instant::now();
    match tls::open_any(target, timeout, verifiers).await {
        Ok(stream) => {
            let connect_rtt = started.elapsed();
            let exchange = clock::http_date(
                &target.sni,
                target.addr,
                stream,
                chrono::Utc::now(),
                connect_rtt,
            );
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| DateSample {
                    host: target.sni.clone(),
                    addr: target.addr,
                    outcome: DateOutcome::Failed {
                        detail: format!(
                            "no Date header within {}",
                            humantime::format_duration(timeout)
                        ),
                    },
                })
        }
        Err(detail) => DateSample {
            host: target.sni.clone(),
            addr: target.addr,
            outcome: DateOutcome::Failed { detail },
        },
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
#[cfg(test)]
mod tests {
    /// A task is its step's future, boxed on its own, so that 4,000 connects in flight cost a
    /// few MiB, not a hundred (measured by benches/scale.rs).
    #[test]
    fn a_step_task_stays_small() {
        let plan = crate::plan::plan(
            &crate::profile::load("app-connector").unwrap(),
            &Default::default(),
            &Default::default(),
            std::path::Path::new("/"),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (_tx, rx) = tokio::sync::watch::channel(false);
            let stop = super::Stop::new(tokio::time::Instant::now(), rx);
            let exec = std::sync::Arc::new(super::Executor::new(&plan, &[], 10, stop));
            // Each step is a future of its own size: a lookup's at most 4 KiB, a connect's
            // (thousands at once in an audit) under 1 KiB.
            for (step, at_most) in [
                (crate::plan::schedule::Step::Resolve { index: 0 }, 4096),
                (
                    crate::plan::schedule::Step::Connect {
                        addr: std::net::IpAddr::from([127, 0, 0, 1]),
                        port: 9,
                        origin: crate::plan::Origin::Published,
                        sinkhole: None,
                    },
                    1024,
                ),
            ] {
                let what = format!("{step:?}");
                let task = exec.clone().carry_out(step);
                let size = std::mem::size_of_val(&*task);
                eprintln!("{what}: {size} bytes");
                assert!(size <= at_most, "{what}: {size} bytes");
            }
        });
    }
}
