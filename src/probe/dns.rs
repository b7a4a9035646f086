//! The DNS probe: asks the VM's own resolvers (or `--dns-server`) for A and AAAA, like the
//! connector would, and classifies each answer.
//!
//! Resolver errors are mapped to [`QueryOutcome`] here and only here. The resolv.conf is read
//! under `--root`, so the probe can inspect a mounted disk image without touching the host's
//! configuration. The hosts file is not consulted: the question is what DNS answers.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

use crate::evidence::{NameResolution, QueryOutcome, ResolverState};
use crate::plan::ResolverPlan;
use crate::profile::Hostname;

/// A resolver ready to ask, or the reason there is none.
pub struct Dns {
    /// What the configuration said.
    pub state: ResolverState,
    resolver: Option<TokioResolver>,
    timeout: Duration,
}

impl Dns {
    /// Builds the resolver the plan names. Reads resolv.conf; sends nothing.
    pub fn new(plan: &ResolverPlan, timeout: Duration) -> Dns {
        let (state, servers) = configuration(plan);
        let resolver = (!servers.is_empty()).then(|| build(&servers, timeout));
        Dns {
            state,
            resolver,
            timeout,
        }
    }

    /// Resolves `host` for A and AAAA at once (sequential lookups would double the wait on a
    /// silent resolver).
    pub async fn resolve(&self, host: &Hostname) -> NameResolution {
        let started = Instant::now();
        let (a, aaaa) = match &self.resolver {
            Some(resolver) => tokio::join!(
                query(resolver, host, RecordType::A, self.timeout),
                query(resolver, host, RecordType::AAAA, self.timeout)
            ),
            None => {
                let not_run = QueryOutcome::NotRun {
                    reason: "no nameserver to ask".into(),
                };
                (not_run.clone(), not_run)
            }
        };
        NameResolution {
            host: host.clone(),
            a,
            aaaa,
            elapsed_ms: elapsed_ms(started),
        }
    }
}

/// What the plan's resolver configuration says, and the servers to ask. Reads resolv.conf
/// (under `--root`) and nothing else: `--dry-run` uses it to show where questions would go.
pub fn configuration(plan: &ResolverPlan) -> (ResolverState, Vec<SocketAddr>) {
    match plan {
        ResolverPlan::Explicit { server } => (
            ResolverState::Configured {
                source: "--dns-server".into(),
                nameservers: vec![server.to_string()],
                no_route: unroutable(&[*server]),
            },
            vec![*server],
        ),
        ResolverPlan::System { path } => read_resolv_conf(path),
    }
}

/// The system resolver configuration: what it says, and the servers to ask. Read inside the
/// root, as a chroot would (an image's resolv.conf is often a link to
/// /run/systemd/resolve/stub-resolv.conf).
fn read_resolv_conf(path: &crate::vm::VmPath) -> (ResolverState, Vec<SocketAddr>) {
    let bytes =
        match super::rootfs::RootFs::new(&path.root).read(&path.rel, super::rootfs::CONFIG_CAP) {
            Ok(text) => text.into_bytes(),
            Err(e) => {
                return (
                    ResolverState::Unreadable {
                        path: path.to_string(),
                        error: e.to_string(),
                    },
                    Vec::new(),
                );
            }
        };
    // Lenient like glibc: a bad line is skipped, the rest still counts.
    let (conf, _errors) = resolv_conf::Config::parse_with_errors(&bytes);
    let servers: Vec<SocketAddr> = conf
        .nameservers
        .iter()
        .map(|ip| SocketAddr::new(IpAddr::from(ip), 53))
        .collect();
    if servers.is_empty() {
        return (
            ResolverState::NoNameserver {
                path: path.to_string(),
            },
            servers,
        );
    }
    let state = ResolverState::Configured {
        source: path.to_string(),
        nameservers: servers.iter().map(ToString::to_string).collect(),
        no_route: unroutable(&servers),
    };
    (state, servers)
}

/// The servers the kernel has no route to. Connecting a UDP socket only consults the routing
/// table and sends nothing, so this is safe even under `--dry-run`; hickory would report the
/// same condition only as "no connections available".
fn unroutable(servers: &[SocketAddr]) -> Vec<String> {
    const ENETUNREACH: i32 = 101;
    servers
        .iter()
        .filter(|server| {
            let local: SocketAddr = if server.is_ipv4() {
                (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            std::net::UdpSocket::bind(local)
                .and_then(|socket| socket.connect(server))
                .is_err_and(|e| e.raw_os_error() == Some(ENETUNREACH))
        })
        .map(ToString::to_string)
        .collect()
}

fn build(servers: &[SocketAddr], timeout: Duration) -> TokioResolver {
    let name_servers = servers
        .iter()
        .map(|server| {
            let mut ns = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut ns.connections {
                connection.port = server.port();
            }
            ns
        })
        .collect();
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    // One attempt: the probe's timeout is the budget, and a retry would double it.
    opts.attempts = 1;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.preserve_intermediates = true;
    TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    )
    .with_options(opts)
    .build()
    .expect("a resolver with explicit name servers and no TLS always builds")
}

async fn query(
    resolver: &TokioResolver,
    host: &Hostname,
    rtype: RecordType,
    timeout: Duration,
) -> QueryOutcome {
    // Absolute name: no search-domain expansion, one question per type.
    let fqdn = format!("{host}.");
    // hickory may retry a silent server over TCP after its UDP timeout; the probe's budget is
    // one timeout, so this outer bound is the one that counts.
    match tokio::time::timeout(timeout, resolver.lookup(fqdn.as_str(), rtype)).await {
        Err(_) => QueryOutcome::TimedOut {
            after_ms: duration_ms(timeout),
        },
        Ok(Ok(lookup)) => answered(lookup.answers(), host),
        Ok(Err(e)) => classify(&e, timeout),
    }
}

fn answered(records: &[hickory_resolver::proto::rr::Record], host: &Hostname) -> QueryOutcome {
    let mut addresses = Vec::new();
    let mut cname_chain = Vec::new();
    let mut ttl_s = u32::MAX;
    for record in records {
        match &record.data {
            RData::A(a) => {
                addresses.push(IpAddr::V4(a.0));
                ttl_s = ttl_s.min(record.ttl);
            }
            RData::AAAA(aaaa) => {
                addresses.push(IpAddr::V6(aaaa.0));
                ttl_s = ttl_s.min(record.ttl);
            }
            RData::CNAME(target) => {
                let target = target.0.to_ascii();
                cname_chain.push(target.trim_end_matches('.').to_string());
            }
            _ => {}
        }
    }
    if addresses.is_empty() {
        // A CNAME that leads nowhere is a name without addresses, not a malformed answer.
        return if cname_chain.is_empty() {
            QueryOutcome::Malformed {
                detail: format!("answer for {host} holds no address record"),
            }
        } else {
            QueryOutcome::NoRecords
        };
    }
    QueryOutcome::Answered {
        addresses,
        ttl_s,
        cname_chain,
    }
}

/// Maps a resolver error onto the closed set of outcomes the rules understand.
fn classify(error: &NetError, timeout: Duration) -> QueryOutcome {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(none)) => match none.response_code {
            ResponseCode::NXDomain => QueryOutcome::NxDomain,
            ResponseCode::NoError => QueryOutcome::NoRecords,
            code => response_code(code),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => response_code(*code),
        NetError::Timeout => QueryOutcome::TimedOut {
            after_ms: duration_ms(timeout),
        },
        NetError::Io(io) => QueryOutcome::Unreachable {
            detail: io.to_string(),
        },
        NetError::NoConnections => QueryOutcome::Unreachable {
            detail: "no connection to any nameserver".into(),
        },
        other => QueryOutcome::Malformed {
            detail: other.to_string(),
        },
    }
}

fn response_code(code: ResponseCode) -> QueryOutcome {
    match code {
        ResponseCode::NXDomain => QueryOutcome::NxDomain,
        ResponseCode::ServFail => QueryOutcome::ServFail,
        ResponseCode::Refused => QueryOutcome::Refused,
        other => QueryOutcome::ErrorCode {
            code: format!("{other:?}"),
        },
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn elapsed_ms(since: Instant) -> u64 {
    duration_ms(since.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn state_of(contents: &str) -> ResolverState {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        read_resolv_conf(&crate::vm::VmPath::new("/", file.path())).0
    }

    #[test]
    fn resolv_conf_states() {
        match state_of("# managed\nsearch corp.example\nnameserver 192.0.2.53\nnameserver ::1\n") {
            ResolverState::Configured { nameservers, .. } => {
                assert_eq!(nameservers, ["192.0.2.53:53", "[::1]:53"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            state_of("search corp.example\n"),
            ResolverState::NoNameserver { .. }
        ));
        assert!(matches!(
            state_of("nameserver not-an-ip\n"),
            ResolverState::NoNameserver { .. }
        ));
        assert!(matches!(
            read_resolv_conf(&crate::vm::VmPath::new(
                "/nonexistent",
                crate::vm::RESOLV_CONF
            ))
            .0,
            ResolverState::Unreadable { .. }
        ));
    }
}
