//! Small evidence builders for the rule tests: a healthy run, then one fault at a time.

use std::net::IpAddr;

use crate::evidence::{
    DnsEvidence, Evidence, NameResolution, QueryOutcome, ResolverState, TcpAttempt, TcpEvidence,
    TcpOutcome,
};
use crate::plan::{self, Origin, Overrides, Plan};
use crate::profile;

/// A healthy run of the default profile: every name answers inside the Zen ranges and every
/// connect succeeds. No fixed targets, so each test controls every attempt.
pub fn healthy() -> Evidence {
    let profile = profile::load(profile::DEFAULT_PROFILE).unwrap();
    let mut plan: Plan = plan::plan(&profile, &Overrides::default(), std::path::Path::new("/"));
    plan.fixed_targets.clear();
    let mut ev = Evidence {
        dns: DnsEvidence {
            resolver: ResolverState::Configured {
                source: "/etc/resolv.conf".into(),
                nameservers: vec!["192.0.2.53:53".into()],
                no_route: Vec::new(),
            },
            names: Vec::new(),
        },
        tcp: TcpEvidence::default(),
        plan,
    };
    let answers = [
        (
            "co2br.prod.zpath.net",
            vec!["165.225.112.252", "13.127.26.17"],
        ),
        ("api.private.zscaler.com", vec!["52.4.154.137"]),
        ("dist.private.zscaler.com", vec!["8.8.8.8"]),
        ("yum.private.zscaler.com", vec!["8.8.8.9"]),
    ];
    for (host, addrs) in answers {
        answer(&mut ev, host, &addrs);
    }
    ev
}

/// Sets `host`'s A answer (AAAA: no records) and one connected attempt per address and port.
pub fn answer(ev: &mut Evidence, host: &str, addrs: &[&str]) {
    let addrs: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
    set_name(
        ev,
        host,
        QueryOutcome::Answered {
            addresses: addrs.clone(),
            ttl_s: 5,
            cname_chain: Vec::new(),
        },
        QueryOutcome::NoRecords,
    );
    let spec = ev
        .plan
        .names
        .iter()
        .find(|n| n.host.as_str() == host)
        .unwrap()
        .clone();
    for addr in addrs {
        for &port in &spec.ports {
            ev.tcp.attempts.push(TcpAttempt {
                addr,
                port,
                origin: Origin::Name {
                    host: spec.host.clone(),
                    role: spec.role,
                },
                outcome: TcpOutcome::Connected { ms: 30 },
            });
        }
    }
}

/// Makes `host` fail with `outcome` for both A and AAAA, and drops its attempts.
pub fn fail_name(ev: &mut Evidence, host: &str, outcome: QueryOutcome) {
    set_name(ev, host, outcome.clone(), outcome);
}

fn set_name(ev: &mut Evidence, host: &str, a: QueryOutcome, aaaa: QueryOutcome) {
    ev.dns.names.retain(|n| n.host.as_str() != host);
    ev.tcp
        .attempts
        .retain(|t| !matches!(&t.origin, Origin::Name { host: h, .. } if h.as_str() == host));
    ev.dns.names.push(NameResolution {
        host: host.parse().unwrap(),
        a,
        aaaa,
        elapsed_ms: 10,
    });
}

/// Sets every attempt on `port` to `outcome`.
pub fn set_port(ev: &mut Evidence, port: u16, outcome: TcpOutcome) {
    for attempt in ev.tcp.attempts.iter_mut().filter(|a| a.port == port) {
        attempt.outcome = outcome.clone();
    }
}

/// Adds a fixed target attempt.
pub fn add_attempt(ev: &mut Evidence, addr: &str, port: u16, origin: Origin, outcome: TcpOutcome) {
    ev.tcp.attempts.push(TcpAttempt {
        addr: addr.parse().unwrap(),
        port,
        origin,
        outcome,
    });
}

/// A dropped SYN.
pub fn timed_out() -> TcpOutcome {
    TcpOutcome::TimedOut { ms: 3000 }
}

/// The ids of the causes, most likely first.
pub fn ids(ev: &Evidence) -> Vec<String> {
    super::diagnose(ev)
        .causes
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Applies `fault` to a healthy run and checks the cause ranked first: its id and severity,
/// that it names evidence and a fix, and the verdict that follows. Returns the diagnosis for further checks.
pub fn assert_top(
    what: &str,
    fault: fn(&mut Evidence),
    id: &str,
    severity: super::Severity,
) -> super::Diagnosis {
    let mut ev = healthy();
    fault(&mut ev);
    let d = super::diagnose(&ev);
    let top = d
        .causes
        .first()
        .unwrap_or_else(|| panic!("{what}: no cause"));
    assert_eq!(
        (top.id.as_str(), top.severity),
        (id, severity),
        "{what}: {:?}",
        d.causes
    );
    assert!(!top.evidence.is_empty(), "{what}: no evidence");
    assert!(!top.remedy.is_empty(), "{what}: no remedy");
    let verdict = match severity {
        super::Severity::Blocking => super::Verdict::Blocked,
        super::Severity::Warning => super::Verdict::Warnings,
        super::Severity::Info => super::Verdict::Ready,
    };
    assert_eq!(d.verdict, verdict, "{what}");
    d
}
