//! Rules about the run itself: a verdict is only as good as the probes that finished.

use super::{Cause, Check, CheckStatus, Facts, Severity};
use crate::evidence::{Evidence, Outcome, Unfinished, secs};

/// How many probes the run left unfinished, for one reason or any, counted through
/// [`Outcome`]: DNS queries, connects and handshakes, time queries (SNTP and HTTPS `Date`). A
/// datagram, a follow-up or the echo left unfinished decides nothing, and is not counted.
struct Left {
    queries: usize,
    connects: usize,
    times: usize,
}

impl Left {
    fn count(ev: &Evidence, why: impl Fn(Unfinished) -> bool) -> Left {
        let left = |o: &dyn Outcome| o.unfinished().is_some_and(&why);
        Left {
            queries: ev
                .dns
                .names
                .iter()
                .flat_map(|n| [&n.a, &n.aaaa])
                .filter(|q| left(*q))
                .count(),
            connects: ev.tcp.attempts.iter().filter(|a| left(&a.outcome)).count()
                + ev.tls.handshakes.iter().filter(|h| left(&h.result)).count(),
            times: ev.clock.ntp.iter().filter(|s| left(&s.outcome)).count()
                + ev.clock
                    .http_date
                    .iter()
                    .filter(|s| left(&s.outcome))
                    .count(),
        }
    }
}

/// What the verdict rests on that was left unfinished (or never recorded): a required name's
/// lookup, a connect or a handshake of a name or a `--target`. Any of it makes the run's
/// cause blocking: a run that did not see what decides cannot say "ready", even when
/// something else was judged (found by the hostile round: one name interrupted, the other
/// answered, was "ready").
fn deciding_unfinished(facts: &Facts) -> Vec<String> {
    let ev = facts.evidence;
    let mut left = Vec::new();
    for name in facts.names.iter().filter(|n| n.spec.required) {
        // A lookup never recorded at all (an edited report) is `run.not_judged`'s, through
        // the DNS check.
        if name.resolution.is_some_and(|r| r.pending()) {
            left.push(format!("{}: lookup unfinished", name.spec.host));
        }
    }
    for a in ev
        .tcp
        .attempts
        .iter()
        .filter(|a| a.origin.drives_verdict() && a.outcome.unfinished().is_some())
    {
        left.push(format!("{}:{}: connect unfinished", a.addr, a.port));
    }
    for h in ev
        .tls
        .handshakes
        .iter()
        .filter(|h| h.origin.drives_verdict() && h.result.unfinished().is_some())
    {
        left.push(format!(
            "{} [{}]:{}: handshake unfinished",
            h.sni, h.addr, h.port
        ));
    }
    left
}

/// The run cause's severity, and what it adds to its evidence.
fn weight(facts: &Facts) -> (Severity, Vec<String>) {
    let left = deciding_unfinished(facts);
    if left.is_empty() {
        return (Severity::Warning, Vec::new());
    }
    let mut lines: Vec<String> = left.iter().take(4).cloned().collect();
    if left.len() > 4 {
        lines.push(format!("and {} more left unfinished", left.len() - 4));
    }
    (Severity::Blocking, lines)
}

/// `run.interrupted`: a signal stopped the run; what was not seen is unknown, never passed.
pub(super) fn interrupted(facts: &Facts) -> Vec<Cause> {
    let ev = facts.evidence;
    let Some(signal) = &ev.interrupted else {
        return Vec::new();
    };
    let Left {
        queries,
        connects,
        times,
    } = Left::count(ev, |why| why == Unfinished::Interrupted);
    let (severity, left) = weight(facts);
    vec![
        Cause::new(crate::causes::RUN_INTERRUPTED.id(), severity, 1.0)
            .title(format!("The run was interrupted ({signal})"))
            .detail(
                "A signal stopped the probes before every one finished: this report holds what \
                 was seen until then, and the checks of the rest are unknown, not passed."
                    .to_string(),
            )
            .evidence(
                [
                    format!("received {signal}"),
                    format!(
                        "interrupted: {queries} DNS queries, {connects} connects or handshakes, \
                         {times} time queries"
                    ),
                ]
                .into_iter()
                .chain(left)
                .collect(),
            )
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
    // Outcomes a signal leaves, in a report that records no signal (cut short, or edited),
    // are unfinished all the same.
    let Left {
        queries, connects, ..
    } = Left::count(ev, |_| true);
    let (severity, left) = weight(facts);
    if queries + connects == 0 && left.is_empty() {
        return Vec::new();
    }
    let deadline = match ev.tcp.deadline_ms {
        0 => ev.plan.timeouts.overall_ms,
        kept => kept,
    };
    vec![
        Cause::new(crate::causes::RUN_INCOMPLETE.id(), severity, 0.5)
            .title("Some probes did not finish before the overall deadline")
            .detail(format!(
                "{queries} DNS queries and {connects} connects or handshakes were still pending after {}; \
                 their checks are unknown, not passed.",
                secs(deadline)
            ))
            .evidence(
                std::iter::once(format!(
                    "overall deadline {}, probe timeout {}, {} in flight at most",
                    secs(deadline),
                    secs(ev.plan.timeouts.probe_ms),
                    match (ev.tcp.in_flight, ev.plan.limits.max_in_flight) {
                        (0, Some(cap)) => cap.to_string(),
                        (0, None) => "an unrecorded number".into(),
                        (n, _) => n.to_string(),
                    }
                ))
                .chain(left)
                .collect(),
            )
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
    use crate::evidence::{TcpOutcome, Unfinished};

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

    /// The brokers' 9000 left unfinished: what the verdict rests on was not seen, so the run's
    /// cause blocks and names it (a warning let a cut-short run exit 0).
    #[test]
    fn abandoned_probes_are_not_a_pass() {
        let mut ev = healthy();
        set_port(
            &mut ev,
            9000,
            TcpOutcome::Unfinished(Unfinished::DeadlineReached),
        );
        let d = diagnose(&ev);
        assert_eq!(d.verdict, Verdict::Blocked);
        assert_eq!(d.causes[0].id, "run.incomplete");
        assert!(
            d.causes[0]
                .evidence
                .iter()
                .any(|e| e.ends_with(":9000: connect unfinished")),
            "{:?}",
            d.causes[0]
        );
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
        set_port(
            &mut ev,
            443,
            TcpOutcome::Unfinished(Unfinished::Interrupted),
        );
        set_port(
            &mut ev,
            9000,
            TcpOutcome::Unfinished(Unfinished::Interrupted),
        );
        for name in &mut ev.dns.names {
            name.a = QueryOutcome::Unfinished(Unfinished::Interrupted);
            name.aaaa = QueryOutcome::Unfinished(Unfinished::Interrupted);
        }
        for sample in &mut ev.clock.ntp {
            sample.outcome = NtpOutcome::Unfinished(Unfinished::Interrupted);
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
