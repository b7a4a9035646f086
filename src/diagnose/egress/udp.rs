//! UDP rules: does anything answer a datagram on the profile's UDP ports. Silence is never a
//! block on its own: a server may ignore what it does not understand and a drop looks the
//! same, and the tunnels fall back to TLS over TCP. An ICMP rejection, by contrast, is a
//! definite answer from the path.

use crate::diagnose::{Cause, Check, CheckStatus, Facts, Severity, list};
use crate::evidence::{UdpOutcome, UdpProbe};

fn on_port<'a>(facts: &Facts<'a>, port: u16) -> Vec<&'a UdpProbe> {
    facts
        .evidence
        .udp
        .probes
        .iter()
        .filter(|p| p.port == port)
        .collect()
}

fn line(p: &UdpProbe) -> String {
    let what = match &p.outcome {
        UdpOutcome::Answered { ms, bytes } => format!("answered ({bytes} bytes, {ms} ms)"),
        UdpOutcome::NoAnswer { ms } => format!("no answer in {ms} ms"),
        UdpOutcome::Refused { .. } => "ICMP port unreachable".into(),
        UdpOutcome::Unreachable { detail } | UdpOutcome::Other { detail } => detail.clone(),
        UdpOutcome::Unfinished(why) => why.label().into(),
    };
    format!("{}:{} (UDP) {what}", p.addr, p.port)
}

/// `egress.udp_<port>_rejected` (ICMP answers) and `egress.udp_<port>_unanswered` (silence).
pub(in crate::diagnose) fn unanswered(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    let mut causes = Vec::new();
    for (order, &port) in plan.udp.ports.iter().enumerate() {
        let probes = on_port(facts, port);
        if probes.is_empty()
            || probes
                .iter()
                .any(|p| matches!(p.outcome, UdpOutcome::Answered { .. }))
        {
            continue;
        }
        let rejected: Vec<&UdpProbe> = probes
            .iter()
            .copied()
            .filter(|p| matches!(p.outcome, UdpOutcome::Refused { .. }))
            .collect();
        let evidence: Vec<String> = probes.iter().take(4).map(|p| line(p)).collect();
        let mut cause = if rejected.is_empty() {
            Cause::new(
                crate::causes::EGRESS_UDP_UNANSWERED.port(port),
                Severity::Info,
                0.4,
            )
            .title(format!(
                "UDP/{port} got no answer (UDP cannot prove a block)"
            ))
            .detail(format!(
                "None of {} destinations answered a datagram on UDP/{port}. A firewall that \
                     drops UDP looks the same as a server that ignores the probe; the tunnels \
                     then fall back to TLS over TCP/{port}, slower but working.",
                probes.len()
            ))
        } else {
            Cause::new(
                crate::causes::EGRESS_UDP_REJECTED.port(port),
                Severity::Warning,
                0.7,
            )
            .title(format!(
                "UDP/{port} is rejected on the path to {} of {} destinations",
                rejected.len(),
                probes.len()
            ))
            .detail(format!(
                "ICMP port unreachable came back for UDP/{port}: a firewall REJECT rule (a \
                     Zscaler edge listens there). The tunnels fall back to TLS over TCP/{port}, \
                     at a cost in throughput."
            ))
        }
        .evidence(evidence)
        .remedy(format!(
            "Allow UDP/{port} (DTLS) to the ZIA service edges, beside TCP/{port}, in the security \
             group, network ACL and egress firewall."
        ));
        cause.order = order;
        causes.push(cause);
    }
    causes
}

/// One check line per UDP port of the profile.
pub(in crate::diagnose) fn checks(facts: &Facts) -> Vec<Check> {
    facts
        .evidence
        .plan
        .udp
        .ports
        .iter()
        .map(|&port| {
            let probes = on_port(facts, port);
            let mut check = Check {
                id: format!("udp.{port}"),
                label: format!("UDP {port}"),
                status: CheckStatus::Skipped,
                summary: String::new(),
                reason: None,
            };
            if probes.is_empty() {
                check.reason = Some("no destination to send a datagram to".into());
                return check;
            }
            let count =
                |f: fn(&UdpOutcome) -> bool| probes.iter().filter(|p| f(&p.outcome)).count();
            let answered = count(|o| matches!(o, UdpOutcome::Answered { .. }));
            let silent = count(|o| matches!(o, UdpOutcome::NoAnswer { .. }));
            let rejected = count(|o| matches!(o, UdpOutcome::Refused { .. }));
            let mut parts = vec![format!("{answered}/{} destinations answer", probes.len())];
            if silent > 0 {
                parts.push(format!(
                    "no answer from {silent} (UDP cannot prove a block)"
                ));
            }
            if rejected > 0 {
                parts.push(format!("{rejected} rejected with ICMP port unreachable"));
            }
            let others: Vec<String> = probes
                .iter()
                .filter(|p| {
                    matches!(
                        p.outcome,
                        UdpOutcome::Unreachable { .. } | UdpOutcome::Other { .. }
                    )
                })
                .map(|p| line(p))
                .collect();
            if !others.is_empty() {
                parts.push(list(&others, 2));
            }
            check.status = if answered > 0 {
                CheckStatus::Pass
            } else {
                CheckStatus::Warn
            };
            check.summary = parts.join(" · ");
            check
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnose::testing::*;
    use crate::diagnose::{CheckStatus, Severity, diagnose};
    use crate::evidence::{UdpOutcome, UdpProbe};
    use crate::plan::Origin;

    fn with_udp(outcome: UdpOutcome) -> crate::evidence::Evidence {
        let mut ev = healthy();
        ev.plan.udp.ports = vec![443];
        ev.udp.probes = ["165.225.112.252", "13.127.26.17"]
            .iter()
            .map(|addr| UdpProbe {
                addr: addr.parse().unwrap(),
                port: 443,
                origin: Origin::Published,
                outcome: outcome.clone(),
            })
            .collect();
        ev
    }

    #[test]
    fn silence_is_information_and_rejection_a_warning() {
        let answered = diagnose(&with_udp(UdpOutcome::Answered { ms: 3, bytes: 40 }));
        assert!(answered.causes.is_empty(), "{:?}", answered.causes);
        let check = answered.checks.iter().find(|c| c.id == "udp.443").unwrap();
        assert_eq!(check.status, CheckStatus::Pass);

        let silent = diagnose(&with_udp(UdpOutcome::NoAnswer { ms: 3000 }));
        assert_eq!(silent.causes[0].id, "egress.udp_443_unanswered");
        assert_eq!(silent.causes[0].severity, Severity::Info);
        assert_eq!(silent.verdict, crate::diagnose::Verdict::Ready);
        let check = silent.checks.iter().find(|c| c.id == "udp.443").unwrap();
        assert!(
            check.summary.contains("UDP cannot prove a block"),
            "{}",
            check.summary
        );

        let rejected = diagnose(&with_udp(UdpOutcome::Refused { ms: 1 }));
        assert_eq!(rejected.causes[0].id, "egress.udp_443_rejected");
        assert_eq!(rejected.causes[0].severity, Severity::Warning);
    }
}
