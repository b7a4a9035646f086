//! DNS rules: is there a resolver, do the names resolve, and to what.

use super::{AddrClass, Cause, Check, CheckStatus, Facts, NameView, Severity, list};
use crate::evidence::{QueryOutcome, ResolverState};

/// `dns.no_resolver`: nothing to ask, or nobody answers.
pub(super) fn no_resolver(facts: &Facts) -> Vec<Cause> {
    let cause = |confidence, title: &str, detail: String, evidence| {
        vec![
            Cause::new(
                crate::causes::DNS_NO_RESOLVER.id(),
                Severity::Blocking,
                confidence,
            )
            .title(title)
            .detail(detail)
            .evidence(evidence)
            .remedy(
                "Give the VM a reachable resolver: a `nameserver` line in /etc/resolv.conf \
                     (or the cloud's DHCP options), and allow UDP and TCP 53 to it. The \
                     `zscaler` user must be able to read /etc/resolv.conf.",
            ),
        ]
    };
    match &facts.evidence.dns.resolver {
        ResolverState::NoNameserver { path } => cause(
            0.95,
            "No DNS nameserver is configured",
            format!("{path} names no nameserver, so no Zscaler name can be resolved."),
            vec![format!("{path}: no `nameserver` line")],
        ),
        ResolverState::Unreadable { path, error } => cause(
            0.95,
            "The resolver configuration cannot be read",
            format!("{path} cannot be read ({error}), so no Zscaler name can be resolved."),
            vec![format!("{path}: {error}")],
        ),
        ResolverState::Configured { nameservers, .. } => {
            let names: Vec<&NameView> = facts
                .names
                .iter()
                .filter(|n| n.resolution.is_some())
                .collect();
            let all_silent = !names.is_empty()
                && names.iter().all(|n| {
                    let r = n.resolution.expect("filtered");
                    r.a.resolver_silent() && r.aaaa.resolver_silent()
                });
            if !all_silent {
                return Vec::new();
            }
            let evidence = names
                .iter()
                .take(4)
                .map(|n| {
                    let r = n.resolution.expect("filtered");
                    format!("{}: {}", r.host, r.a.label())
                })
                .collect();
            cause(
                0.9,
                "The configured nameservers do not answer",
                format!(
                    "Every query to {} went unanswered, so no Zscaler name resolves.",
                    list(nameservers, 3)
                ),
                evidence,
            )
        }
    }
}

/// Whether [`no_resolver`] already explains every DNS failure.
fn resolver_explains_all(facts: &Facts) -> bool {
    !no_resolver(facts).is_empty()
}

/// `dns.unresolvable`: the resolver answers, but not with an address for these names.
pub(super) fn unresolvable(facts: &Facts) -> Vec<Cause> {
    if resolver_explains_all(facts) {
        return Vec::new();
    }
    let failed: Vec<&NameView> = facts
        .names
        .iter()
        .filter(|n| n.resolution.is_some_and(|r| !r.pending()))
        .filter(|n| n.answers.is_empty())
        .collect();
    if failed.is_empty() {
        return Vec::new();
    }
    let blocking = failed.iter().any(|n| n.spec.required);
    let definite = failed.iter().all(|n| {
        matches!(
            n.resolution.expect("filtered").outcome(),
            QueryOutcome::NxDomain
        )
    });
    let evidence: Vec<String> = failed
        .iter()
        .map(|n| {
            let r = n.resolution.expect("filtered");
            format!(
                "{} ({}): A {}, AAAA {}",
                r.host,
                n.spec.role,
                r.a.label(),
                r.aaaa.label()
            )
        })
        .collect();
    let hosts: Vec<String> = failed.iter().map(|n| n.spec.host.to_string()).collect();
    vec![
        Cause::new(
            crate::causes::DNS_UNRESOLVABLE.id(),
            if blocking {
                Severity::Blocking
            } else {
                Severity::Warning
            },
            if definite { 0.95 } else { 0.85 },
        )
        .title(format!("{} does not resolve", list(&hosts, 2)))
        .detail(format!(
            "The resolver answers, but gives no address for {}. The connector cannot find its \
             enrollment endpoint or brokers without them.",
            list(&hosts, 4)
        ))
        .evidence(evidence)
        .remedy(
            "Make the resolver forward these names to public DNS: look for a split-horizon zone, \
             a DNS filtering policy or a firewall's DNS proxy that answers NXDOMAIN or SERVFAIL \
             for *.prod.zpath.net and *.private.zscaler.com.",
        ),
    ]
}

/// `dns.sinkhole`: a public Zscaler name answered with a special-purpose address.
pub(super) fn sinkhole(facts: &Facts) -> Vec<Cause> {
    let hit: Vec<&NameView> = facts
        .names
        .iter()
        .filter(|n| {
            n.answers
                .iter()
                .any(|(_, c)| matches!(c, AddrClass::Sinkhole(_)))
        })
        .collect();
    if hit.is_empty() {
        return Vec::new();
    }
    let blocking = hit.iter().any(|n| n.spec.required && !n.usable());
    let evidence = hit
        .iter()
        .flat_map(|n| {
            n.answers
                .iter()
                .filter_map(move |(addr, class)| match class {
                    AddrClass::Sinkhole(label) => {
                        Some(format!("{} → {addr} ({label})", n.spec.host))
                    }
                    _ => None,
                })
        })
        .collect();
    let hosts: Vec<String> = hit.iter().map(|n| n.spec.host.to_string()).collect();
    vec![
        Cause::new(
            crate::causes::DNS_SINKHOLE.id(),
            if blocking { Severity::Blocking } else { Severity::Warning },
            0.9,
        )
        .title(format!("{} resolves to a sinkhole address", list(&hosts, 2)))
        .detail(
            "A public Zscaler name was answered with an unspecified, loopback or private \
             address: a DNS filter or sinkhole rewrote it, and the connector would dial nowhere.",
        )
        .evidence(evidence)
        .remedy(
            "Exempt *.prod.zpath.net and *.private.zscaler.com from the DNS filtering or RPZ \
             policy, or, for a private deployment, declare its ranges in the profile's [zen] ranges.",
        ),
    ]
}

/// `dns.outside_zen`: public answers outside the Zen ranges (hijack, or a stale list).
pub(super) fn outside_zen(facts: &Facts) -> Vec<Cause> {
    let zen = &facts.evidence.plan.zen;
    let evidence: Vec<String> = facts
        .names
        .iter()
        .flat_map(|n| {
            n.answers
                .iter()
                .filter(|(_, c)| *c == AddrClass::OutsideZen)
                .map(move |(addr, _)| format!("{} → {addr}", n.spec.host))
        })
        .collect();
    if evidence.is_empty() {
        return Vec::new();
    }
    let (severity, confidence, why) = if zen.complete {
        (
            Severity::Warning,
            0.7,
            "The list is the complete feed, so this points at a hijacked answer or a feed that \
             predates these addresses (Zscaler announces new ranges 90 days ahead).",
        )
    } else {
        (
            Severity::Info,
            0.3,
            "The built-in list is only a documented subset of the feed, so this is expected \
             until the full feed is given with --cidrs.",
        )
    };
    vec![
        Cause::new(crate::causes::DNS_OUTSIDE_ZEN.id(), severity, confidence)
            .title("Broker answers fall outside the known Zen ranges")
            .detail(format!("Answers are not in {zen}. {why}"))
            .evidence(evidence)
            .remedy(
                "Download the current feed (config.zscaler.com, ZPA, JSON) and run again with \
                 --cidrs FILE; if the answers are still outside it, check which resolver rewrites them.",
            ),
    ]
}

/// The DNS line of the check list.
pub(super) fn check(facts: &Facts) -> Check {
    let planned = facts.names.len();
    let mut check = Check {
        id: "dns".into(),
        label: "DNS".into(),
        status: CheckStatus::Pass,
        summary: String::new(),
        reason: None,
    };
    if planned == 0 {
        check.status = CheckStatus::Skipped;
        check.reason = Some("no names to resolve (only addresses were given)".into());
        return check;
    }
    // A name with no lookup recorded (a report cut short, or edited) or whose lookup never
    // finished (the deadline, a signal) is unknown, not failed.
    let looked_up = |n: &&super::NameView| n.resolution.is_some_and(|r| !r.pending());
    if !facts.names.iter().any(|n| looked_up(&n)) {
        check.status = CheckStatus::Skipped;
        check.reason = Some(format!(
            "none of the {planned} names was looked up to the end: unknown, not passed"
        ));
        return check;
    }
    let usable = facts.names.iter().filter(|n| n.usable()).count();
    let required_failed = facts
        .names
        .iter()
        .filter(looked_up)
        .any(|n| n.spec.required && !n.usable());
    let optional_failed = facts
        .names
        .iter()
        .filter(looked_up)
        .any(|n| !n.spec.required && !n.usable());
    let outside = facts
        .names
        .iter()
        .flat_map(|n| &n.answers)
        .filter(|(_, c)| *c == AddrClass::OutsideZen)
        .count();
    check.status = if required_failed {
        CheckStatus::Fail
    } else if optional_failed || (outside > 0 && facts.evidence.plan.zen.complete) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let mut parts = vec![format!("{usable}/{planned} names resolve")];
    match &facts.evidence.dns.resolver {
        ResolverState::Configured { nameservers, .. } => {
            if let Some(r) = facts
                .names
                .iter()
                .find_map(|n| n.resolution)
                .filter(|_| usable == 0)
            {
                parts.push(format!("{} {}", list(nameservers, 2), r.outcome().label()));
            }
        }
        ResolverState::NoNameserver { path } => parts.push(format!("no nameserver in {path}")),
        ResolverState::Unreadable { path, .. } => parts.push(format!("{path} unreadable")),
    }
    for n in facts.names.iter().filter(|n| n.spec.role.expects_zen()) {
        let total = n.answers.len();
        if total == 0 {
            continue;
        }
        let in_zen = n
            .answers
            .iter()
            .filter(|(_, c)| *c == AddrClass::Zen)
            .count();
        parts.push(format!(
            "{} → {total} address(es), {in_zen} in Zen ranges",
            n.spec.host
        ));
    }
    check.summary = parts.join(" · ");
    check
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Severity, Verdict, diagnose};
    use crate::evidence::{QueryOutcome, ResolverState};

    #[test]
    fn healthy_is_ready() {
        let d = diagnose(&healthy());
        assert_eq!(d.verdict, Verdict::Ready, "{:?}", d.causes);
        assert!(d.causes.is_empty() || d.causes.iter().all(|c| c.severity == Severity::Info));
        assert!(
            d.checks
                .iter()
                .all(|c| c.status == super::CheckStatus::Pass),
            "{:?}",
            d.checks
        );
    }

    /// (what goes wrong, the cause ranked first, its severity)
    #[test]
    fn table() {
        type Fault = fn(&mut crate::evidence::Evidence);
        let cases: &[(&str, Fault, &str, Severity)] = &[
            (
                "no nameserver",
                |ev| {
                    ev.dns.resolver = ResolverState::NoNameserver {
                        path: "/etc/resolv.conf".into(),
                    };
                    for h in [
                        "co2br.prod.zpath.net",
                        "api.private.zscaler.com",
                        "dist.private.zscaler.com",
                        "yum.private.zscaler.com",
                    ] {
                        fail_name(
                            ev,
                            h,
                            QueryOutcome::NotRun {
                                reason: "no nameserver to ask".into(),
                            },
                        );
                    }
                },
                "dns.no_resolver",
                Severity::Blocking,
            ),
            (
                "resolver silent",
                |ev| {
                    for h in [
                        "co2br.prod.zpath.net",
                        "api.private.zscaler.com",
                        "dist.private.zscaler.com",
                        "yum.private.zscaler.com",
                    ] {
                        fail_name(ev, h, QueryOutcome::TimedOut { after_ms: 3000 });
                    }
                },
                "dns.no_resolver",
                Severity::Blocking,
            ),
            (
                "broker NXDOMAIN",
                |ev| fail_name(ev, "co2br.prod.zpath.net", QueryOutcome::NxDomain),
                "dns.unresolvable",
                Severity::Blocking,
            ),
            (
                "optional host SERVFAIL",
                |ev| fail_name(ev, "yum.private.zscaler.com", QueryOutcome::ServFail),
                "dns.unresolvable",
                Severity::Warning,
            ),
            (
                "broker sinkholed",
                |ev| answer(ev, "co2br.prod.zpath.net", &["0.0.0.0"]),
                "dns.sinkhole",
                Severity::Blocking,
            ),
            (
                "one sinkholed answer among good ones",
                |ev| answer(ev, "co2br.prod.zpath.net", &["165.225.112.252", "10.1.1.1"]),
                "dns.sinkhole",
                Severity::Warning,
            ),
            (
                "outside the documented subset",
                |ev| answer(ev, "co2br.prod.zpath.net", &["8.8.4.4"]),
                "dns.outside_zen",
                Severity::Info,
            ),
            (
                "outside a complete feed",
                |ev| {
                    ev.plan.zen.complete = true;
                    answer(ev, "co2br.prod.zpath.net", &["8.8.4.4"]);
                },
                "dns.outside_zen",
                Severity::Warning,
            ),
        ];
        for (what, fault, id, severity) in cases {
            assert_top(what, *fault, id, *severity);
        }
    }

    #[test]
    fn unresolved_names_are_not_also_port_blocked() {
        let mut ev = healthy();
        fail_name(&mut ev, "co2br.prod.zpath.net", QueryOutcome::NxDomain);
        fail_name(&mut ev, "api.private.zscaler.com", QueryOutcome::NxDomain);
        let d = diagnose(&ev);
        assert_eq!(ids(&ev), vec!["dns.unresolvable"], "{:?}", d.causes);
        let tcp9000 = d.checks.iter().find(|c| c.id == "tcp.9000").unwrap();
        assert_eq!(tcp9000.status, super::CheckStatus::Skipped);
        assert!(
            tcp9000.reason.as_deref().unwrap().contains("DNS"),
            "{tcp9000:?}"
        );
    }

    #[test]
    fn a_declared_range_is_trusted_whatever_its_class() {
        let mut ev = healthy();
        ev.plan.zen.ranges.push("127.0.0.0/8".parse().unwrap());
        answer(&mut ev, "co2br.prod.zpath.net", &["127.0.0.5"]);
        assert!(ids(&ev).is_empty(), "{:?}", ids(&ev));
    }
}
