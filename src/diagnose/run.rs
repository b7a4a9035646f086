//! Rules about the run itself: a verdict is only as good as the probes that finished.

use super::{Cause, Facts, Severity};
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Verdict, diagnose};
    use crate::evidence::TcpOutcome;

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
