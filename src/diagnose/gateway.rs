//! A forwarding connector's own duties (Cloud Connector): IP forwarding, the workload route
//! table (which this VM cannot see: said so), and the address the world sees it with.

use super::{Cause, Check, CheckStatus, Facts, Severity};
use crate::evidence::EchoOutcome;

/// `gateway.forwarding_off`: the profile says this VM forwards others' traffic, and IPv4
/// forwarding is off.
pub(super) fn forwarding_off(facts: &Facts) -> Vec<Cause> {
    let (Some(spec), Some(seen)) = (&facts.evidence.plan.gateway, &facts.evidence.gateway) else {
        return Vec::new();
    };
    if !spec.forwarding || seen.ipv4_forwarding != Some(false) {
        return Vec::new();
    }
    vec![
        Cause::new(
            crate::causes::GATEWAY_FORWARDING_OFF.id(),
            Severity::Warning,
            0.8,
        )
        .title("IP forwarding is off on this VM")
        .detail(
            "A Cloud Connector forwards its workloads' traffic to Zscaler; with \
                 net.ipv4.ip_forward = 0 the kernel drops what the workloads route through it."
                .to_string(),
        )
        .evidence(vec![format!(
            "{}/proc/sys/net/ipv4/ip_forward = 0",
            facts.evidence.plan.root.trim_end_matches('/')
        )])
        .remedy(
            "On the connector's own image this is set at boot; on a VM you built, enable it \
                 (sysctl net.ipv4.ip_forward=1, persisted in /etc/sysctl.d/). Then check that the \
                 workloads' route table sends 0.0.0.0/0 to this VM's service interface or its \
                 load balancer endpoint.",
        ),
    ]
}

/// The gateway line of the check list.
pub(super) fn check(facts: &Facts) -> Option<Check> {
    let spec = facts.evidence.plan.gateway.as_ref()?;
    let seen = facts.evidence.gateway.as_ref();
    let flag = |v: Option<bool>| match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown (not readable)",
    };
    let mut parts = Vec::new();
    let mut status = CheckStatus::Pass;
    if let Some(seen) = seen {
        parts.push(format!(
            "IP forwarding: IPv4 {}, IPv6 {}",
            flag(seen.ipv4_forwarding),
            flag(seen.ipv6_forwarding)
        ));
        if spec.forwarding && seen.ipv4_forwarding == Some(false) {
            status = CheckStatus::Warn;
        }
        if let Some(echo) = &seen.echo {
            parts.push(match &echo.outcome {
                EchoOutcome::Seen { address } => {
                    format!("egress seen as {address} by {}", echo.host)
                }
                EchoOutcome::NoAddress { .. } => {
                    format!("{} answered without an address", echo.host)
                }
                EchoOutcome::Failed { detail } => {
                    format!("egress address unknown ({}: {detail})", echo.host)
                }
                EchoOutcome::Unfinished(why) => {
                    format!("egress address unknown ({}: {})", echo.host, why.label())
                }
            });
        }
    }
    parts.push(
        "the workloads' route table: cannot tell from inside this VM (the cloud's control plane \
         holds it)"
            .into(),
    );
    // Unknown is an answer, never a pass: forwarding the profile requires but could not read.
    let reason = match seen {
        None => Some("not run".to_string()),
        Some(seen) if spec.forwarding && seen.ipv4_forwarding.is_none() => {
            Some("IP forwarding cannot be read under --root".to_string())
        }
        Some(_) => None,
    };
    Some(Check {
        id: "gateway".into(),
        label: "Gateway".into(),
        status: if reason.is_some() {
            CheckStatus::Skipped
        } else {
            status
        },
        summary: parts.join(" · "),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{CheckStatus, diagnose};
    use crate::evidence::{EchoOutcome, EchoSample, GatewayEvidence};
    use crate::profile::GatewaySpec;

    #[test]
    fn forwarding_and_the_egress_address() {
        let mut ev = healthy();
        ev.plan.gateway = Some(GatewaySpec {
            forwarding: true,
            echo: Some("ip.zscaler.com".parse().unwrap()),
            echo_path: "/".into(),
            source: "test".into(),
        });
        ev.gateway = Some(GatewayEvidence {
            ipv4_forwarding: Some(true),
            ipv6_forwarding: None,
            echo: Some(EchoSample {
                host: "ip.zscaler.com".into(),
                addr: None,
                outcome: EchoOutcome::Seen {
                    address: "203.0.113.9".parse().unwrap(),
                },
            }),
        });
        let d = diagnose(&ev);
        let check = d.checks.iter().find(|c| c.id == "gateway").unwrap();
        assert_eq!(check.status, CheckStatus::Pass);
        assert!(
            check.summary.contains("egress seen as 203.0.113.9"),
            "{}",
            check.summary
        );
        assert!(check.summary.contains("cannot tell"), "{}", check.summary);
        ev.gateway.as_mut().unwrap().ipv4_forwarding = None;
        let unknown = diagnose(&ev);
        let check = unknown.checks.iter().find(|c| c.id == "gateway").unwrap();
        assert_eq!(check.status, CheckStatus::Skipped, "unknown is not a pass");
        ev.gateway.as_mut().unwrap().ipv4_forwarding = Some(false);
        assert_eq!(ids(&ev), ["gateway.forwarding_off"]);
    }
}
