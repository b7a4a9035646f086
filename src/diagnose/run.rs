//! Rules about the run itself: a verdict is only as good as the probes that finished.

use super::{Cause, Check, CheckStatus, Facts, Severity};
use crate::evidence::{Evidence, HandshakeResult, NtpOutcome, QueryOutcome, TcpOutcome, secs};

/// Why probes were left unfinished.
#[derive(Clone, Copy)]
enum Halted {
    Deadline,
    Signal,
}

/// How many probes of each kind a deadline or a signal left unfinished.
struct Unfinished {
    queries: usize,
    connects: usize,
    times: usize,
}

impl Unfinished {
    fn count(ev: &Evidence, why: Halted) -> Unfinished {
        // The one outcome each kind of probe records for `why`.
        let (query, tcp, tls, ntp) = match why {
            Halted::Signal => (
                QueryOutcome::Interrupted,
                TcpOutcome::Interrupted,
                HandshakeResult::Interrupted,
                NtpOutcome::Interrupted,
            ),
            Halted::Deadline => (
                QueryOutcome::DeadlineReached,
                TcpOutcome::DeadlineReached,
                HandshakeResult::DeadlineReached,
                NtpOutcome::DeadlineReached,
            ),
        };
        Unfinished {
            queries: ev
                .dns
                .names
                .iter()
                .flat_map(|n| [&n.a, &n.aaaa])
                .filter(|q| **q == query)
                .count(),
            connects: ev.tcp.attempts.iter().filter(|a| a.outcome == tcp).count()
                + ev.tls.handshakes.iter().filter(|h| h.result == tls).count(),
            times: ev.clock.ntp.iter().filter(|s| s.outcome == ntp).count(),
        }
    }
}

/// `run.interrupted`: a signal stopped the run; what was not seen is unknown, never passed.
pub(super) fn interrupted(facts: &Facts) -> Vec<Cause> {
    let ev = facts.evidence;
    let Some(signal) = &ev.interrupted else {
        return Vec::new();
    };
    let Unfinished {
        queries,
        connects,
        times,
    } = Unfinished::count(ev, Halted::Signal);
    vec![
        Cause::new(crate::causes::RUN_INTERRUPTED.id(), Severity::Warning, 1.0)
            .title(format!("The run was interrupted ({signal})"))
            .detail(
                "A signal stopped the probes before every one finished: this report holds what \
                 was seen until then, and the checks of the rest are unknown, not passed."
                    .to_string(),
            )
            .evidence(vec![
                format!("received {signal}"),
                format!(
                    "interrupted: {queries} DNS queries, {connects} connects or handshakes, \
                     {times} time queries"
                ),
            ])
            .remedy("Run the check again and let it finish (it ends by its overall deadline)."),
    ]
}

/// `run.incomplete`: probes were abandoned at the overall deadline, so "ready" cannot be said.
pub(super) fn incomplete(facts: &Facts) -> Vec<Cause> {
    let ev = facts.evidence;
    if ev.interrupted.is_some() {
        // The interruption, not the deadline, explains what is pending.
        return Vec::new();
    }
    let Unfinished {
        queries, connects, ..
    } = Unfinished::count(ev, Halted::Deadline);
    if queries + connects == 0 {
        return Vec::new();
    }
    let deadline = match ev.tcp.deadline_ms {
        0 => ev.plan.timeouts.overall_ms,
        kept => kept,
    };
    vec![
        Cause::new(crate::causes::RUN_INCOMPLETE.id(), Severity::Warning, 0.5)
            .title("Some probes did not finish before the overall deadline")
            .detail(format!(
                "{queries} DNS queries and {connects} connects or handshakes were still pending after {}; \
                 their checks are unknown, not passed.",
                secs(deadline)
            ))
            .evidence(vec![format!(
                "overall deadline {}, probe timeout {}, {} in flight at most",
                secs(deadline),
                secs(ev.plan.timeouts.probe_ms),
                match (ev.tcp.in_flight, ev.plan.limits.max_in_flight) {
                    (0, Some(cap)) => cap.to_string(),
                    (0, None) => "an unrecorded number".into(),
                    (n, _) => n.to_string(),
                }
            )])
            .remedy(
                "Run again with a longer deadline (the profile's [timeouts] overall) or fewer \
                 targets; a very slow resolver is worth a look on its own.",
            ),
    ]
}

/// `run.not_judged`: nothing that decides was judged, so the run says so instead of "ready".
/// The deciding checks are the network's (DNS, TCP, TLS) whenever the run has a destination;
/// a run without one (a profile of host checks only) is decided by the checks it has. A check
/// skipped or left unjudged (a saved chain with no name to verify, a report with no probes) is
/// an answer with its reason, never a pass. `None` when something decided.
pub(super) fn not_judged(facts: &Facts, checks: &[Check]) -> Option<Cause> {
    let plan = &facts.evidence.plan;
    let network = |c: &&Check| c.id == "dns" || c.id == "tls" || c.id.starts_with("tcp.");
    let has_destination = !plan.names.is_empty() || !plan.fixed_targets.is_empty();
    let deciding: Vec<&Check> = if has_destination {
        checks.iter().filter(network).collect()
    } else {
        checks.iter().collect()
    };
    if deciding.iter().any(|c| c.status != CheckStatus::Skipped) {
        return None;
    }
    let reasons: Vec<String> = deciding
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                c.label,
                c.reason.as_deref().unwrap_or("skipped, no reason recorded")
            )
        })
        .collect();
    Some(
        Cause::new(crate::causes::RUN_NOT_JUDGED.id(), Severity::Blocking, 1.0)
            .title("Nothing that decides enrollment was judged")
            .detail(
                "Every check that decides whether the connector can enroll was skipped or could \
                 not be judged, so this run cannot say \"ready\": what was not judged is \
                 unknown, not passed."
                    .to_string(),
            )
            .evidence(reasons)
            .remedy(
                "Run `check` on the VM again and let it finish (a run interrupted or cut short \
                 judges nothing); for a saved chain, pass the chain the server presented (leaf \
                 first) or its name with --sni.",
            ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Verdict, diagnose};
    use crate::evidence::TcpOutcome;

    /// Nothing that decides was judged: blocking, first, with each check's reason; a run with
    /// one deciding check judged, or with no destination but host checks judged, is not.
    #[test]
    fn nothing_judged_is_never_ready() {
        // The probes of a run that never got to run them: every network check skipped.
        let mut ev = healthy();
        ev.dns.names.clear();
        ev.tcp.attempts.clear();
        ev.tls.handshakes.clear();
        let d = diagnose(&ev);
        assert!(!d.causes.is_empty(), "{:?}", d.checks);
        assert_eq!(d.causes[0].id, "run.not_judged", "{:?}", d.causes);
        assert_eq!(d.verdict, Verdict::Blocked);
        assert!(
            d.causes[0].evidence.iter().any(|e| e.starts_with("DNS: ")),
            "{:?}",
            d.causes[0]
        );

        // --ignore downgrades it like any blocking cause, and says so.
        ev.plan.ignore = vec!["run.not_judged".into()];
        let d = diagnose(&ev);
        assert_eq!(d.verdict, Verdict::Warnings);
        assert!(d.causes[0].ignored);

        // Something judged: no such cause.
        let d = diagnose(&healthy());
        assert!(
            d.causes.iter().all(|c| c.id != "run.not_judged"),
            "{:?}",
            d.causes
        );
        assert_eq!(d.verdict, Verdict::Ready);

        // No destination at all, and the host judged: decided by the host.
        let mut ev = healthy();
        ev.plan.names.clear();
        ev.plan.fixed_targets.clear();
        ev.dns.names.clear();
        ev.tcp.attempts.clear();
        ev.tls.handshakes.clear();
        let d = diagnose(&ev);
        assert!(
            d.causes.iter().all(|c| c.id != "run.not_judged"),
            "{:?}",
            d.causes
        );
    }

    #[test]
    fn abandoned_probes_are_not_a_pass() {
        let mut ev = healthy();
        set_port(&mut ev, 9000, TcpOutcome::DeadlineReached);
        let d = diagnose(&ev);
        assert_eq!(d.verdict, Verdict::Warnings);
        assert_eq!(d.causes[0].id, "run.incomplete");
        let tcp = d.checks.iter().find(|c| c.id == "tcp.9000").unwrap();
        assert_eq!(tcp.status, super::super::CheckStatus::Skipped);
    }

    /// A signal leaves every unfinished probe `interrupted`: the run says so, and no rule reads
    /// an unfinished probe as a failure of the network.
    #[test]
    fn interrupted_probes_are_unknown_not_failures() {
        use crate::evidence::{NtpOutcome, QueryOutcome};
        let mut ev = healthy();
        ev.interrupted = Some("SIGINT".into());
        set_port(&mut ev, 443, TcpOutcome::Interrupted);
        set_port(&mut ev, 9000, TcpOutcome::Interrupted);
        for name in &mut ev.dns.names {
            name.a = QueryOutcome::Interrupted;
            name.aaaa = QueryOutcome::Interrupted;
        }
        for sample in &mut ev.clock.ntp {
            sample.outcome = NtpOutcome::Interrupted;
        }
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "run.interrupted", "{:?}", d.causes);
        assert_ne!(d.verdict, Verdict::Ready);
        for id in ["dns.unresolvable", "ntp.blocked", "run.incomplete"] {
            assert!(d.causes.iter().all(|c| c.id != id), "{id}: {:?}", d.causes);
        }
        assert!(
            d.causes.iter().all(|c| !c.id.starts_with("egress.")),
            "{:?}",
            d.causes
        );
        let tcp = d.checks.iter().find(|c| c.id == "tcp.9000").unwrap();
        assert_eq!(tcp.status, super::super::CheckStatus::Skipped);
        assert!(
            tcp.reason.as_deref().unwrap_or("").contains("interrupted"),
            "{tcp:?}"
        );
        assert!(
            d.causes[0].evidence[1].contains("interrupted: "),
            "{:?}",
            d.causes[0]
        );
    }
}
