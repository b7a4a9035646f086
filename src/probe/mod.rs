//! Probes: the only code that touches the network or reads the inspected system.
//!
//! [`run`] carries out a [`Plan`] and returns [`Evidence`]; it never judges. Everything runs
//! concurrently under a cap (`limits.max_in_flight`) and one overall deadline, and each name's
//! connects start the moment its answer arrives. That is what keeps a fully blackholed network
//! at about one probe timeout: fixed addresses are connected to while DNS is still waiting,
//! and nothing waits on anything it does not need.

pub mod dns;
pub mod tcp;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::address;
use crate::evidence::{
    DnsEvidence, Evidence, NameResolution, QueryOutcome, TcpAttempt, TcpEvidence, TcpOutcome,
};
use crate::plan::{Origin, Plan};

/// Runs every probe of `plan` and returns what was observed.
pub async fn run(plan: &Plan) -> Evidence {
    let probe_timeout = Duration::from_millis(plan.timeouts.probe_ms);
    let deadline = Instant::now() + Duration::from_millis(plan.timeouts.overall_ms);
    let permits = Arc::new(Semaphore::new(plan.limits.max_in_flight));
    let dns = Arc::new(dns::Dns::new(&plan.resolver, probe_timeout));
    let connector = Connector {
        permits: permits.clone(),
        timeout: probe_timeout,
        deadline,
    };

    let mut connects = JoinSet::new();
    let mut seen: HashSet<(IpAddr, u16)> = HashSet::new();
    for target in &plan.fixed_targets {
        for &port in &plan.fixed_ports {
            if seen.insert((target.addr, port)) {
                connects.spawn(connector.attempt(target.addr, port, target.origin.clone(), None));
            }
        }
    }

    let mut lookups = JoinSet::new();
    for (index, name) in plan.names.iter().enumerate() {
        let dns = dns.clone();
        let permits = permits.clone();
        let host = name.host.clone();
        lookups.spawn(async move {
            let resolution = tokio::time::timeout_at(deadline, async {
                let _permit = permits.acquire_owned().await.expect("never closed");
                dns.resolve(&host).await
            })
            .await
            .unwrap_or_else(|_| NameResolution {
                host: host.clone(),
                a: QueryOutcome::DeadlineReached,
                aaaa: QueryOutcome::DeadlineReached,
                elapsed_ms: 0,
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
                }
            }
        }
        names[index] = Some(resolution);
    }

    let mut attempts = Vec::new();
    while let Some(joined) = connects.join_next().await {
        attempts.push(unwrap_join(joined));
    }
    attempts.sort_by_key(|a| (a.port, a.addr));

    Evidence {
        plan: plan.clone(),
        dns: DnsEvidence {
            resolver: dns.state.clone(),
            names: names
                .into_iter()
                .map(|n| n.expect("every spawned lookup was joined"))
                .collect(),
        },
        tcp: TcpEvidence { attempts },
    }
}

/// What every connect shares: the cap, the timeout and the deadline.
#[derive(Clone)]
struct Connector {
    permits: Arc<Semaphore>,
    timeout: Duration,
    deadline: Instant,
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
                tokio::time::timeout_at(this.deadline, async {
                    let _permit = this.permits.acquire_owned().await.expect("never closed");
                    tcp::connect(SocketAddr::new(addr, port), this.timeout).await
                })
                .await
                .unwrap_or(TcpOutcome::DeadlineReached)
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

/// A probe task only ends by returning; a panic inside one is a bug worth surfacing as is.
fn unwrap_join<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
