//! The range-by-range audit (`check --coverage`): one address in every published range, on
//! the profile's ports, and which regions the firewall forgot.
//!
//! An address picked inside a range may host nothing, so a single silent range never blocks
//! on its own. What the audit looks for is failure that lines up with the feed's own
//! structure: every range of a region dropped on a port while other regions connect is an
//! allowlist that stops short ("allowed Europe, forgot Asia"), reported as
//! `egress.tcp_<port>_partial`, by region.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::diagnose::{Cause, Facts, Severity, list};
use crate::evidence::{TcpAttempt, TcpOutcome};
use crate::plan::Origin;

/// What the audit found for one port: every sampled range, by region.
pub(super) struct PortCoverage<'a> {
    /// The port.
    pub port: u16,
    /// (region, its ranges' attempts), in region order.
    pub regions: BTreeMap<&'a str, Vec<(&'a IpNet, &'a TcpAttempt)>>,
}

/// Where a range sits when the feed does not say.
const UNLABELLED: &str = "ranges without a region";

impl<'a> PortCoverage<'a> {
    /// The audit of `port`, or `None` when the run was no audit.
    pub fn of(facts: &Facts<'a>, port: u16) -> Option<PortCoverage<'a>> {
        let plan = &facts.evidence.plan;
        if !plan.coverage {
            return None;
        }
        let mut regions: BTreeMap<&str, Vec<(&IpNet, &TcpAttempt)>> = BTreeMap::new();
        for attempt in facts
            .evidence
            .tcp
            .attempts
            .iter()
            .filter(|a| a.port == port)
        {
            if let Origin::RangeSample { range } = &attempt.origin {
                let region = plan.zen.region(range).unwrap_or(UNLABELLED);
                regions.entry(region).or_default().push((range, attempt));
            }
        }
        (!regions.is_empty()).then_some(PortCoverage { port, regions })
    }

    /// "820 ranges: 783 connect, 37 dropped, …" for the check line.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut total = 0;
        for (_, attempt) in self.regions.values().flatten() {
            *counts.entry(word(&attempt.outcome)).or_default() += 1;
            total += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
        format!("coverage of {total} Zen ranges: {}", parts.join(", "))
    }
}

/// How one sampled address answered, as the audit counts it.
fn word(outcome: &TcpOutcome) -> &'static str {
    match outcome {
        TcpOutcome::Connected { .. } => "connect",
        TcpOutcome::Refused { .. } => "refused",
        TcpOutcome::TimedOut { .. } => "dropped",
        TcpOutcome::HostUnreachable { .. } | TcpOutcome::NoRoute { .. } => "unreachable",
        _ => "not judged",
    }
}

/// Silence or an ICMP rejection: the path, not the destination, stops it.
fn cut(outcome: &TcpOutcome) -> bool {
    matches!(
        outcome,
        TcpOutcome::TimedOut { .. }
            | TcpOutcome::HostUnreachable { .. }
            | TcpOutcome::NoRoute { .. }
    )
}

/// `egress.tcp_<port>_partial` from the audit: whole regions silent on a port while others
/// connect.
pub(in crate::diagnose) fn partial(facts: &Facts) -> Vec<Cause> {
    facts
        .evidence
        .plan
        .ports
        .iter()
        .enumerate()
        .filter_map(|(order, spec)| {
            let mut cause = port_partial(&PortCoverage::of(facts, spec.port)?)?;
            cause.order = order;
            Some(cause)
        })
        .collect()
}

fn port_partial(coverage: &PortCoverage) -> Option<Cause> {
    let port = coverage.port;
    let connects =
        |attempts: &[(&IpNet, &TcpAttempt)]| attempts.iter().any(|(_, a)| a.outcome.connected());
    // A region is cut off when none of its ranges connects and at least one was silently
    // dropped or rejected on the path (a reset only says nothing listens there).
    let cut_off: Vec<(&str, &Vec<(&IpNet, &TcpAttempt)>)> = coverage
        .regions
        .iter()
        .filter(|(_, attempts)| {
            !connects(attempts) && attempts.iter().any(|(_, a)| cut(&a.outcome))
        })
        .map(|(region, attempts)| (*region, attempts))
        .collect();
    let reachable = coverage.regions.values().filter(|a| connects(a)).count();
    if cut_off.is_empty() || reachable == 0 {
        return None;
    }
    let total: usize = coverage.regions.values().map(Vec::len).sum();
    let failed: usize = cut_off.iter().map(|(_, a)| a.len()).sum();
    let names: Vec<&str> = cut_off.iter().map(|(region, _)| *region).collect();
    let evidence: Vec<String> = cut_off
        .iter()
        .flat_map(|(region, attempts)| {
            attempts.iter().map(move |(range, a)| {
                format!(
                    "{region}: {range} ({}:{port}) {}",
                    a.addr,
                    a.outcome.label()
                )
            })
        })
        .collect();
    Some(
        Cause::new(
            crate::causes::EGRESS_TCP_PARTIAL.port(port),
            Severity::Warning,
            0.7,
        )
        .title(format!(
            "TCP/{port} is cut off to {failed} of {total} Zen ranges: {}",
            list(&names, 6)
        ))
        .detail(format!(
            "Every range of {} region(s) is dropped or rejected on TCP/{port} while {reachable} \
                 other region(s) connect: an egress allowlist that stops short of the feed. A \
                 connector sent to a broker there cannot reach it.",
            names.len()
        ))
        .evidence(evidence)
        .remedy(format!(
            "Allow TCP/{port} to every range of the current feed (`zpa-preflight check \
                 --coverage --cidrs FEED` lists them), not a regional subset."
        )),
    )
}
