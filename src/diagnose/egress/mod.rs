//! Egress rules: can the VM open TCP to the brokers, on every port the connector needs.
//!
//! Only destinations that are real listeners (answers for the profile's names, and `--target`)
//! can produce a blocking port cause. Published and sampled Zen addresses are reported as
//! supporting numbers: an address picked inside a range may simply host nothing.

use std::net::IpAddr;

pub(super) mod coverage;
pub(super) mod udp;

use super::{Cause, Check, CheckStatus, Facts, Severity, list};
use crate::evidence::{ResolverState, TcpAttempt, TcpOutcome, Unfinished, secs};
use crate::plan::Origin;
use crate::profile::PortSpec;

/// `egress.no_route`: the kernel has no route toward the destinations (or the resolvers).
pub(super) fn no_route(facts: &Facts) -> Vec<Cause> {
    let attempts = &facts.evidence.tcp.attempts;
    let no_route: Vec<&TcpAttempt> = attempts
        .iter()
        .filter(|a| matches!(a.outcome, TcpOutcome::NoRoute { .. }))
        .collect();
    let resolvers_unroutable: &[String] = match &facts.evidence.dns.resolver {
        ResolverState::Configured { no_route, .. } => no_route,
        _ => &[],
    };
    if no_route.is_empty() && resolvers_unroutable.is_empty() {
        return Vec::new();
    }
    let mut evidence: Vec<String> = resolvers_unroutable
        .iter()
        .map(|ns| format!("nameserver {ns}: no route"))
        .collect();
    evidence.extend(attempt_lines(&no_route, 4));
    // Routes are judged per address family: a family is routed when the kernel sent some
    // packet of it on its way (connected, refused, silently dropped, ICMP-rejected past this
    // VM), whatever came back. An IPv4-only VM has no IPv6 route, which is normal, not a cause:
    // a firewall dropping everything must not read as "no default route".
    let routed = |v4: bool| {
        attempts.iter().any(|a| {
            a.addr.is_ipv4() == v4
                && !matches!(
                    a.outcome,
                    TcpOutcome::NoRoute { .. } | TcpOutcome::Unfinished(_)
                )
        })
    };
    let (v4_routed, v6_routed) = (routed(true), routed(false));
    let families_without_route: Vec<bool> = [true, false]
        .into_iter()
        .filter(|&v4| no_route.iter().any(|a| a.addr.is_ipv4() == v4) && !routed(v4))
        .collect();
    // Whether the connector's own names have answers in a family.
    let names_in = |v4: bool| {
        facts
            .names
            .iter()
            .flat_map(|n| &n.answers)
            .any(|(ip, _)| ip.is_ipv4() == v4)
    };
    let cause = if !v4_routed && !v6_routed {
        Cause::new(
            crate::causes::EGRESS_NO_ROUTE.id(),
            Severity::Blocking,
            0.95,
        )
        .title("The VM has no route to the Internet")
        .detail(format!(
            "The kernel has no route to {} of {} destinations and {} of {} nameservers, and \
                 nothing connects: there is no default route, or no egress interface is up.",
            no_route.len(),
            attempts.len(),
            resolvers_unroutable.len(),
            facts.evidence.dns.resolver.nameserver_count(),
        ))
        .remedy(
            "Give the VM a default route to its NAT gateway or egress firewall \
                 (`ip route` should show `default via …`) and check the subnet's route table.",
        )
    } else if let [v4] = families_without_route.as_slice() {
        let (missing, present) = if *v4 {
            ("IPv4", "IPv6")
        } else {
            ("IPv6", "IPv4")
        };
        // Information while the other family routes and the connector's names resolve in it;
        // a cause only when the connector has nothing but the unrouted family to use.
        let severity = if !names_in(!*v4) && names_in(*v4) {
            Severity::Blocking
        } else if *v4 {
            Severity::Warning
        } else {
            Severity::Info
        };
        Cause::new(crate::causes::EGRESS_NO_ROUTE.id(), severity, 0.8)
            .title(format!("No {missing} route; {present} is routed"))
            .detail(format!(
                "{missing} destinations are unreachable for lack of a route while {present} ones \
                 leave the VM. The connector uses whichever family its resolver returns first{}.",
                if severity == Severity::Blocking {
                    format!(", and its names resolve only to {missing} addresses")
                } else {
                    String::new()
                }
            ))
            .remedy(format!(
                "Nothing to do if {present} is the VM's intended egress; otherwise add a {missing} \
                 default route."
            ))
    } else {
        Cause::new(crate::causes::EGRESS_NO_ROUTE.id(), Severity::Warning, 0.6)
            .title("Some destinations have no route")
            .detail(
                "Part of the destinations fail with \"network unreachable\" while others connect: \
                 the routing table covers only some prefixes.",
            )
            .remedy("Check the VM's route table and policy routing rules (`ip route`, `ip rule`).")
    };
    vec![cause.evidence(evidence)]
}

/// `egress.local_firewall`: this VM's own kernel refused the connect.
pub(super) fn local_firewall(facts: &Facts) -> Vec<Cause> {
    let denied: Vec<&TcpAttempt> = facts
        .evidence
        .tcp
        .attempts
        .iter()
        .filter(|a| matches!(a.outcome, TcpOutcome::PermissionDenied { .. }))
        .collect();
    if denied.is_empty() {
        return Vec::new();
    }
    let blocking = denied.iter().any(|a| a.origin.drives_verdict());
    let ports: Vec<u16> = unique(denied.iter().map(|a| a.port));
    vec![
        Cause::new(
            crate::causes::EGRESS_LOCAL_FIREWALL.id(),
            if blocking { Severity::Blocking } else { Severity::Warning },
            0.85,
        )
        .title(format!(
            "The VM's own firewall refuses outbound TCP/{}",
            list(&ports, 3)
        ))
        .detail(
            "connect() failed with \"operation not permitted\" before a packet left: a local \
             nftables/iptables OUTPUT rule, a prohibit route or a security policy denies it.",
        )
        .evidence(attempt_lines(&denied, 4))
        .remedy(
            "Allow the connector's outbound TCP in the VM's own firewall (`nft list ruleset`, \
             `iptables -S OUTPUT`, `firewall-cmd --list-all`) and look for `prohibit` routes (`ip route`).",
        ),
    ]
}

/// `egress.tcp_<port>_blocked` and `egress.tcp_<port>_partial`, one per profile port.
pub(super) fn port_blocked(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    plan.ports
        .iter()
        .enumerate()
        .filter_map(|(order, spec)| {
            let mut cause = port_cause(facts, spec)?;
            cause.order = order;
            Some(cause)
        })
        .collect()
}

fn port_cause(facts: &Facts, spec: &PortSpec) -> Option<Cause> {
    let port = spec.port;
    let stats = PortStats::new(facts, port);
    let failed: Vec<&TcpAttempt> = stats
        .judged
        .iter()
        .copied()
        .filter(|a| a.outcome.blocked())
        .collect();
    if failed.is_empty() {
        return None;
    }
    let connected = stats.judged.len() - failed.len();
    // The same destinations reached on another port: the sharpest evidence there is that this
    // port, and not the destination, is what the firewall stops.
    let failed_set: std::collections::HashSet<IpAddr> = failed.iter().map(|a| a.addr).collect();
    let elsewhere: Vec<&TcpAttempt> = facts
        .evidence
        .tcp
        .attempts
        .iter()
        .filter(|a| a.port != port && a.outcome.connected() && failed_set.contains(&a.addr))
        .collect();
    let other_ports: Vec<u16> = unique(elsewhere.iter().map(|a| a.port));

    let mut evidence = attempt_lines(&failed, 4);
    evidence.extend(attempt_lines(&elsewhere, 2));
    evidence.extend(stats.secondary_lines());

    if connected > 0 {
        return Some(
            Cause::new(
                crate::causes::EGRESS_TCP_PARTIAL.port(port),
                Severity::Warning,
                0.6,
            )
            .title(format!(
                "TCP/{port} reaches only {connected} of {} destinations",
                stats.judged.len()
            ))
            .detail(format!(
                "Some brokers answer on TCP/{port} and others do not ({}): the allowlist \
                     covers only part of the Zen ranges, and the connector fails whenever it is \
                     sent to a broker outside it.",
                failure_mode(&failed)
            ))
            .evidence(evidence)
            .remedy(format!(
                "Allow TCP/{port} to all the Zen ranges, not a subset: Zscaler asks for every \
                     data centre that hosts Public Service Edges (see `--dry-run` and --cidrs)."
            )),
        );
    }
    // With a proxy file the connector does not dial the brokers directly: a closed direct
    // path is then worth knowing, not a verdict.
    let proxied = facts.evidence.plan.proxies.connector.as_ref();
    let severity = if spec.required && proxied.is_none() {
        Severity::Blocking
    } else {
        Severity::Warning
    };
    if let Some(proxy) = proxied {
        evidence.push(format!(
            "the connector is configured to use the proxy {} ({}), not this direct path",
            proxy.addr, proxy.source
        ));
    }
    let confidence = if other_ports.is_empty() { 0.85 } else { 0.95 };
    let remedy = if other_ports.is_empty() {
        format!(
            "Allow egress TCP/{port} to the Zen ranges in the security group, network ACL and \
             egress firewall (`zpa-preflight check --dry-run` lists the destinations)."
        )
    } else {
        format!(
            "Allow egress TCP/{port} to the Zen ranges in the security group, network ACL and \
             egress firewall: the same destinations already work on TCP/{}.",
            list(&other_ports, 2)
        )
    };
    let works_elsewhere = if other_ports.is_empty() {
        String::new()
    } else {
        format!(
            " while TCP/{} to the same brokers connects",
            list(&other_ports, 2)
        )
    };
    Some(
        Cause::new(
            crate::causes::EGRESS_TCP_BLOCKED.port(port),
            severity,
            confidence,
        )
        .title(format!("TCP/{port} to the brokers is blocked"))
        .detail(format!(
            "0 of {} destinations accept TCP/{port}{works_elsewhere}: {}. The connector \
                 uses TCP/{port} for {}.",
            stats.judged.len(),
            failure_mode(&failed),
            spec.purpose
        ))
        .evidence(evidence)
        .remedy(remedy),
    )
}

/// One `tcp.<port>` line per profile port.
pub(super) fn checks(facts: &Facts) -> Vec<Check> {
    facts
        .evidence
        .plan
        .ports
        .iter()
        .map(|spec| port_check(facts, spec))
        .collect()
}

fn port_check(facts: &Facts, spec: &PortSpec) -> Check {
    let port = spec.port;
    let stats = PortStats::new(facts, port);
    let mut check = Check {
        id: format!("tcp.{port}"),
        label: format!("TCP {port}"),
        status: CheckStatus::Skipped,
        summary: String::new(),
        reason: None,
    };
    let secondary = match coverage::PortCoverage::of(facts, port) {
        Some(coverage) => Some(coverage.summary()),
        None => stats.secondary_summary(),
    };
    if stats.ran.is_empty() {
        let planned_names = facts
            .names
            .iter()
            .filter(|n| n.spec.ports.contains(&port))
            .collect::<Vec<_>>();
        let reason = if stats
            .drivers
            .iter()
            .any(|a| a.outcome == TcpOutcome::Unfinished(Unfinished::DeadlineReached))
        {
            "the overall deadline passed before any connect finished".to_string()
        } else if stats
            .drivers
            .iter()
            .any(|a| a.outcome == TcpOutcome::Unfinished(Unfinished::Interrupted))
        {
            "the run was interrupted before any connect finished".to_string()
        } else if !planned_names.is_empty()
            && planned_names
                .iter()
                .all(|n| n.resolution.is_none_or(|r| r.pending()))
        {
            "no broker address (DNS did not finish: unknown)".to_string()
        } else if !planned_names.is_empty() && planned_names.iter().all(|n| !n.usable()) {
            "no broker address (DNS failed)".to_string()
        } else {
            "no destination uses this port".to_string()
        };
        check.summary = secondary.unwrap_or_default();
        check.reason = Some(reason);
        return check;
    }
    let connected: Vec<&TcpAttempt> = stats
        .judged
        .iter()
        .copied()
        .filter(|a| a.outcome.connected())
        .collect();
    let failed: Vec<&TcpAttempt> = stats
        .ran
        .iter()
        .copied()
        .filter(|a| !a.outcome.connected())
        .collect();
    check.status = if stats.judged.is_empty() || connected.is_empty() {
        if spec.required {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        }
    } else if connected.len() < stats.judged.len() {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let mut parts = vec![format!(
        "{}/{} destinations connect",
        connected.len(),
        stats.judged.len().max(stats.ran.len())
    )];
    if !connected.is_empty() {
        let times: Vec<String> = connected
            .iter()
            .filter_map(|a| match a.outcome {
                TcpOutcome::Connected { ms } => Some(format!("{ms} ms")),
                _ => None,
            })
            .collect();
        parts[0].push_str(&format!(" ({})", list(&times, 3)));
    }
    if !failed.is_empty() {
        parts.push(failure_mode(&failed));
    }
    parts.extend(secondary);
    check.summary = parts.join(" · ");
    check
}

/// The attempts on one port, split by how much they weigh.
/// The numbers of one port, for [`super::measures`].
pub(super) fn measure(facts: &Facts, port: u16) -> super::measures::PortMeasure {
    let stats = PortStats::new(facts, port);
    let connected = stats
        .judged
        .iter()
        .filter(|a| a.outcome.connected())
        .count();
    let blocked = stats.judged.len() - connected;
    super::measures::PortMeasure {
        port,
        destinations: stats.drivers.len(),
        connected,
        blocked,
        unknown: stats.drivers.len() - stats.judged.len(),
        reachable_ratio: (!stats.judged.is_empty())
            .then(|| connected as f64 / stats.judged.len() as f64),
    }
}

struct PortStats<'a> {
    /// Real listeners (names, `--target`).
    drivers: Vec<&'a TcpAttempt>,
    /// Drivers that were attempted.
    ran: Vec<&'a TcpAttempt>,
    /// Drivers whose result says something about this port: connected or blocked. Missing
    /// routes and local denials have their own causes and are not counted against the port.
    judged: Vec<&'a TcpAttempt>,
    /// Published single addresses.
    published: Vec<&'a TcpAttempt>,
    /// Addresses sampled inside wider ranges.
    sampled: Vec<&'a TcpAttempt>,
}

impl<'a> PortStats<'a> {
    fn new(facts: &Facts<'a>, port: u16) -> PortStats<'a> {
        let attempts: &'a [TcpAttempt] = &facts.evidence.tcp.attempts;
        let on_port = || attempts.iter().filter(move |a| a.port == port);
        // A name's answer already probed as a range's sample (an audit's /32) is probed once,
        // under the range: it still speaks for the name.
        let drivers: Vec<&TcpAttempt> = on_port()
            .filter(|a| a.origin.drives_verdict() || facts.answered.contains(&a.addr))
            .collect();
        let ran: Vec<&TcpAttempt> = drivers
            .iter()
            .copied()
            .filter(|a| {
                !matches!(
                    a.outcome,
                    TcpOutcome::NotRun { .. } | TcpOutcome::Unfinished(_)
                )
            })
            .collect();
        let judged = ran
            .iter()
            .copied()
            .filter(|a| a.outcome.connected() || a.outcome.blocked())
            .collect();
        PortStats {
            drivers,
            ran,
            judged,
            published: on_port()
                .filter(|a| a.origin == Origin::Published)
                .collect(),
            sampled: on_port()
                .filter(|a| matches!(a.origin, Origin::RangeSample { .. }))
                .collect(),
        }
    }

    fn secondary_summary(&self) -> Option<String> {
        let lines = self.secondary_lines();
        (!lines.is_empty()).then(|| lines.join(" · "))
    }

    fn secondary_lines(&self) -> Vec<String> {
        let count = |set: &[&TcpAttempt]| set.iter().filter(|a| a.outcome.connected()).count();
        let mut lines = Vec::new();
        if !self.published.is_empty() {
            lines.push(format!(
                "published addresses {}/{} connect",
                count(&self.published),
                self.published.len()
            ));
        }
        if !self.sampled.is_empty() {
            lines.push(format!(
                "{}/{} sampled Zen ranges answer",
                count(&self.sampled),
                self.sampled.len()
            ));
        }
        lines
    }
}

/// "all timed out after 3.0 s (silently dropped)", or the mix when outcomes differ.
fn failure_mode(failed: &[&TcpAttempt]) -> String {
    let kinds: Vec<&str> = unique(failed.iter().map(|a| a.outcome.kind()));
    if let [kind] = kinds.as_slice() {
        return match (*kind, &failed[0].outcome) {
            ("timed_out", TcpOutcome::TimedOut { ms }) => format!(
                "all timed out after {} (silently dropped: a DROP rule or a security group without this port)",
                secs(*ms)
            ),
            ("refused", _) => {
                "all refused with a TCP reset (a firewall REJECT rule, or nothing listens)".into()
            }
            ("host_unreachable", _) => {
                "all rejected with ICMP host-unreachable/prohibited by a router or firewall".into()
            }
            ("no_route", _) => "no route to any of them".into(),
            ("permission_denied", _) => "all denied by this VM's own firewall".into(),
            _ => format!("all failed: {}", failed[0].outcome.label()),
        };
    }
    let counts: Vec<String> = kinds
        .iter()
        .map(|k| {
            let n = failed.iter().filter(|a| a.outcome.kind() == *k).count();
            format!("{n} {}", k.replace('_', " "))
        })
        .collect();
    counts.join(", ")
}

/// "198.51.100.20:9000 timed out (3.0 s) · co2br.prod.zpath.net", at most `max`.
fn attempt_lines(attempts: &[&TcpAttempt], max: usize) -> Vec<String> {
    let mut lines: Vec<String> = attempts
        .iter()
        .take(max)
        .map(|a| {
            let via = match &a.origin {
                Origin::Name { host, .. } => format!(" · {host}"),
                Origin::Published => " · published address".into(),
                Origin::RangeSample { range } => format!(" · sample of {range}"),
                Origin::User { spec } => format!(" · --target {spec}"),
                Origin::SavedChain { file } => format!(" · saved chain {file}"),
            };
            let dest = match a.addr {
                IpAddr::V4(v4) => format!("{v4}:{}", a.port),
                IpAddr::V6(v6) => format!("[{v6}]:{}", a.port),
            };
            format!("{dest} {}{via}", a.outcome.label())
        })
        .collect();
    if attempts.len() > max {
        lines.push(format!("… and {} more like these", attempts.len() - max));
    }
    lines
}

/// The distinct items, in first-seen order.
fn unique<T: Eq + std::hash::Hash + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    // A set beside the list: linear in the attempts, which an audit counts in thousands.
    let mut seen = std::collections::HashSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{CheckStatus, Severity, Verdict, diagnose};
    use crate::evidence::{Evidence, TcpOutcome};
    use crate::plan::Origin;

    /// (what goes wrong, the cause ranked first, its severity, the verdict)
    #[test]
    fn table() {
        type Fault = fn(&mut Evidence);
        let cases: &[(&str, Fault, &str, Severity)] = &[
            (
                "9000 dropped, 443 fine",
                |ev| set_port(ev, 9000, timed_out()),
                "egress.tcp_9000_blocked",
                Severity::Blocking,
            ),
            (
                "9000 rejected",
                |ev| set_port(ev, 9000, TcpOutcome::Refused { ms: 1 }),
                "egress.tcp_9000_blocked",
                Severity::Blocking,
            ),
            (
                "443 and 9000 dropped: 443 first",
                |ev| {
                    set_port(ev, 9000, timed_out());
                    set_port(ev, 443, timed_out());
                },
                "egress.tcp_443_blocked",
                Severity::Blocking,
            ),
            (
                "no route anywhere",
                |ev| {
                    set_port(ev, 9000, TcpOutcome::NoRoute { ms: 0 });
                    set_port(ev, 443, TcpOutcome::NoRoute { ms: 0 });
                },
                "egress.no_route",
                Severity::Blocking,
            ),
            (
                "local firewall",
                |ev| {
                    set_port(
                        ev,
                        9000,
                        TcpOutcome::PermissionDenied {
                            detail: "Operation not permitted".into(),
                        },
                    )
                },
                "egress.local_firewall",
                Severity::Blocking,
            ),
            (
                "9000 reaches one broker of two",
                |ev| {
                    let a = ev.tcp.attempts.iter_mut().find(|a| a.port == 9000).unwrap();
                    a.outcome = timed_out();
                },
                "egress.tcp_9000_partial",
                Severity::Warning,
            ),
            (
                "no IPv6 route, IPv4 fine",
                |ev| {
                    add_attempt(
                        ev,
                        "2605:4300::1",
                        443,
                        Origin::Name {
                            host: "co2br.prod.zpath.net".parse().unwrap(),
                            role: crate::profile::Role::Broker,
                        },
                        TcpOutcome::NoRoute { ms: 0 },
                    )
                },
                "egress.no_route",
                Severity::Info,
            ),
        ];
        for (what, fault, id, severity) in cases {
            assert_top(what, *fault, id, *severity);
        }
    }

    /// The issue-20 case: an IPv4-only VM behind a firewall that drops everything, auditing a
    /// feed of both families. IPv6 has no route (normal for it), and the real cause, the ports
    /// dropped, ranks first; "no route" is information, never "give the VM a default route".
    #[test]
    fn an_ipv4_only_vm_whose_firewall_drops_all_is_blocked_by_the_ports_not_by_routes() {
        let mut ev = healthy();
        set_port(&mut ev, 443, timed_out());
        set_port(&mut ev, 9000, timed_out());
        for (addr, port) in [("2605:4300:a::1", 443), ("2605:4300:a::1", 9000)] {
            add_attempt(
                &mut ev,
                addr,
                port,
                Origin::RangeSample {
                    range: "2605:4300::/32".parse().unwrap(),
                },
                TcpOutcome::NoRoute { ms: 0 },
            );
        }
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "egress.tcp_443_blocked", "{:?}", d.causes);
        let route = d.causes.iter().find(|c| c.id == "egress.no_route").unwrap();
        assert_eq!(route.severity, Severity::Info, "{route:?}");
        assert!(
            !route.remedy.contains("default route to its NAT"),
            "{route:?}"
        );
    }

    #[test]
    fn port_9000_blocked_carries_the_443_counter_evidence() {
        let mut ev = healthy();
        set_port(&mut ev, 9000, timed_out());
        let d = diagnose(&ev);
        assert_eq!(ids(&ev), vec!["egress.tcp_9000_blocked"]);
        let cause = &d.causes[0];
        assert_eq!(cause.confidence, 0.95);
        assert!(cause.detail.contains("0 of 2"), "{}", cause.detail);
        assert!(
            cause.detail.contains("timed out after 3.0 s"),
            "{}",
            cause.detail
        );
        assert!(
            cause.evidence.iter().any(|l| l.contains(":443 connected")),
            "{:?}",
            cause.evidence
        );
        let check = |id: &str| d.checks.iter().find(|c| c.id == id).unwrap().status;
        assert_eq!(check("tcp.443"), CheckStatus::Pass);
        assert_eq!(check("tcp.9000"), CheckStatus::Fail);
    }

    #[test]
    fn a_dead_range_sample_alone_never_blocks() {
        let mut ev = healthy();
        add_attempt(
            &mut ev,
            "104.129.192.1",
            9000,
            Origin::RangeSample {
                range: "104.129.192.0/20".parse().unwrap(),
            },
            timed_out(),
        );
        let d = diagnose(&ev);
        assert_eq!(d.verdict, Verdict::Ready, "{:?}", d.causes);
        let tcp = d.checks.iter().find(|c| c.id == "tcp.9000").unwrap();
        assert!(
            tcp.summary.contains("0/1 sampled Zen ranges answer"),
            "{}",
            tcp.summary
        );
    }
}
