//! Clock rules: is this VM's clock close enough to the truth for the key exchange, and is
//! anything keeping it so.
//!
//! The best estimate wins: SNTP (smallest round trip), else an HTTPS `Date` (±0.5 s plus half
//! the round trip), else a leaf certificate that is not yet valid (a lower bound). Every
//! threshold is the profile's, and an estimate only crosses one when its error bound does too.

use super::measures::ClockMethod;
use super::{Cause, Check, CheckStatus, Facts, Severity, capitalise, status_of};
use crate::evidence::{
    ChainCert, DateOutcome, Evidence, KernelClock, NtpOutcome, NtpSample, Unfinished,
};
use crate::plan::NtpOrigin;
use crate::profile::{ClockSpec, Measure};

/// An offset with where it came from. Positive: this VM's clock is behind.
pub(super) struct Estimate {
    offset_s: f64,
    error_s: f64,
    method: ClockMethod,
    source: String,
    confidence: f64,
}

impl Estimate {
    /// How far behind the clock is at least (negative: ahead at least).
    fn behind_at_least(&self) -> f64 {
        self.offset_s - self.error_s
    }

    fn ahead_at_least(&self) -> f64 {
        -self.offset_s - self.error_s
    }

    fn describe(&self) -> String {
        format!(
            "offset {:+.3} s ± {:.3} s from {}",
            self.offset_s, self.error_s, self.source
        )
    }
}

fn origin_label(sample: &NtpSample) -> String {
    let why = match sample.origin {
        NtpOrigin::Configured => format!("configured in {}", sample.source),
        NtpOrigin::Cloud => "the cloud's time service".into(),
        NtpOrigin::Fallback => "the profile's fallback".into(),
        NtpOrigin::User => "--ntp-server".into(),
    };
    format!("SNTP {} ({why})", sample.server)
}

/// The estimate the clock rules judge by, for [`super::measures`].
pub(super) fn estimate(facts: &Facts) -> Option<super::measures::ClockMeasure> {
    facts.clock.as_ref().map(|e| super::measures::ClockMeasure {
        offset_s: e.offset_s,
        error_s: e.error_s,
        method: e.method,
        source: e.source.clone(),
    })
}

/// The best estimate `evidence` holds: found once per diagnosis ([`Facts`]), read by every
/// clock rule and by the measures.
pub(super) fn best(evidence: &Evidence) -> Option<Estimate> {
    let clock = &evidence.clock;
    let ntp = clock
        .ntp
        .iter()
        .filter_map(|s| match s.outcome {
            NtpOutcome::Answered {
                offset_s, rtt_s, ..
            } => Some((s, offset_s, rtt_s)),
            _ => None,
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(s, offset_s, rtt_s)| Estimate {
            offset_s,
            error_s: rtt_s / 2.0,
            method: ClockMethod::Sntp,
            source: origin_label(s),
            confidence: 0.95,
        });
    let date = || {
        clock
            .http_date
            .iter()
            .filter_map(|d| match d.outcome {
                DateOutcome::Estimated { offset_s, error_s } => Some((d, offset_s, error_s)),
                DateOutcome::Failed { .. } | DateOutcome::Unfinished(_) => None,
            })
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(d, offset_s, error_s)| Estimate {
                offset_s,
                error_s,
                method: ClockMethod::HttpsDate,
                source: format!("the HTTPS Date header of {} ({})", d.host, d.addr),
                confidence: 0.8,
            })
    };
    let certificate = || {
        evidence.tls.handshakes.iter().find_map(|h| {
            let leaf = h.chain.first().and_then(ChainCert::parsed)?;
            (h.local_time > 0 && leaf.not_before > h.local_time).then(|| Estimate {
                // A lower bound: the clock is behind by at least this much.
                offset_s: (leaf.not_before - h.local_time) as f64,
                error_s: 0.0,
                method: ClockMethod::Certificate,
                source: format!("the validity of the leaf from {} (a lower bound)", h.sni),
                confidence: 0.7,
            })
        })
    };
    ntp.or_else(date)
        .or_else(|| connector_log(evidence))
        .or_else(certificate)
}

/// The connector's own correction against the cloud's clock, the latest one logged: measured
/// by the connector at the time of the line, not now, so it ranks below live measurements.
fn connector_log(evidence: &Evidence) -> Option<Estimate> {
    let plan = &evidence.plan;
    let measures_clock = |id: &str| {
        plan.log_patterns
            .iter()
            .any(|p| p.id == id && p.measures == Some(Measure::ClockOffset))
    };
    evidence
        .host
        .logs
        .iter()
        .flat_map(|log| log.findings.iter().map(move |f| (log, f)))
        .filter(|(_, f)| measures_clock(&f.pattern))
        .filter_map(|(log, f)| {
            let offset_s = super::log::clock_correction(&f.excerpt)?;
            Some(Estimate {
                offset_s,
                error_s: 0.5,
                method: ClockMethod::ConnectorLog,
                source: format!(
                    "the connector's own correction in {}:{} (\"{}\")",
                    log.path, f.line, f.excerpt
                ),
                confidence: 0.75,
            })
        })
        .next_back()
}

fn spec<'a>(facts: &'a Facts) -> Option<&'a ClockSpec> {
    facts.evidence.plan.clock.as_ref()
}

/// `clock.skewed`: the offset is beyond the profile's thresholds.
pub(super) fn skewed(facts: &Facts) -> Vec<Cause> {
    let (Some(spec), Some(est)) = (spec(facts), &facts.clock) else {
        return Vec::new();
    };
    let behind = est.behind_at_least();
    let ahead = est.ahead_at_least();
    let (severity, direction) = if behind > spec.behind_blocking_s {
        (Severity::Blocking, "behind")
    } else if ahead > spec.ahead_blocking_s {
        (Severity::Blocking, "ahead")
    } else if behind > spec.warn_s {
        (Severity::Warning, "behind")
    } else if ahead > spec.warn_s {
        (Severity::Warning, "ahead")
    } else {
        return Vec::new();
    };
    let why = if direction == "behind" {
        format!(
            "A clock behind fails enrollment at once: the certificate issued in exchange for the \
             provision key is \"not yet valid\" for it (threshold {} s).",
            spec.behind_blocking_s
        )
    } else {
        format!(
            "A clock ahead fails the connector's certificate checks later (threshold {} s).",
            spec.ahead_blocking_s
        )
    };
    vec![
        Cause::new(crate::causes::CLOCK_SKEWED.id(), severity, est.confidence)
            .title(format!(
                "This VM's clock is {:.1} s {direction}",
                est.offset_s.abs()
            ))
            .detail(format!("{} {why}", capitalise(&est.describe())))
            .evidence(vec![est.describe()])
            .remedy(
                "Step the clock and keep it synchronised: run chronyd with a reachable server \
                 (`chronyc makestep`, then `chronyc tracking`), and allow UDP/123 to it; on AWS \
                 use 169.254.169.123.",
            ),
    ]
}

/// `ntp.blocked`: no time server gave a usable answer.
pub(super) fn ntp_blocked(facts: &Facts) -> Vec<Cause> {
    let Some(spec) = spec(facts) else {
        return Vec::new();
    };
    let samples = &facts.evidence.clock.ntp;
    // An interrupted query might still have been answered: nothing can be concluded.
    if samples.is_empty()
        || samples.iter().any(|s| {
            matches!(
                s.outcome,
                NtpOutcome::Answered { .. } | NtpOutcome::Unfinished(Unfinished::Interrupted)
            )
        })
    {
        return Vec::new();
    }
    let silent = samples.iter().all(|s| {
        matches!(
            s.outcome,
            NtpOutcome::TimedOut
                | NtpOutcome::Refused
                | NtpOutcome::Unreachable
                | NtpOutcome::Unfinished(Unfinished::DeadlineReached)
        )
    });
    let estimate = &facts.clock;
    let clock_off = estimate.as_ref().is_some_and(|e| {
        e.behind_at_least() > spec.behind_blocking_s || e.ahead_at_least() > spec.ahead_blocking_s
    });
    let judged = match &estimate {
        Some(e) if clock_off => format!("and the clock is off: {}", e.describe()),
        Some(e) => format!("but the clock looks right: {}", e.describe()),
        None => "and no other source could tell whether the clock is right".into(),
    };
    let evidence = samples
        .iter()
        .take(5)
        .map(|s| {
            let outcome = match &s.outcome {
                NtpOutcome::TimedOut => "no answer (UDP/123 dropped)".to_string(),
                NtpOutcome::Refused => "port unreachable".into(),
                NtpOutcome::Unreachable => "no route".into(),
                NtpOutcome::KissOfDeath { code } => format!("kiss-o'-death {code}"),
                NtpOutcome::Unsynchronised => "server not synchronised".into(),
                NtpOutcome::Malformed { detail } => format!("unusable answer: {detail}"),
                NtpOutcome::Unresolvable => "name does not resolve".into(),
                NtpOutcome::Unfinished(why) => why.label().into(),
                NtpOutcome::Answered { .. } => unreachable!("filtered"),
            };
            format!("{}: {outcome}", origin_label(s))
        })
        .collect();
    vec![
        Cause::new(
            crate::causes::NTP_BLOCKED.id(),
            if clock_off {
                Severity::Blocking
            } else {
                Severity::Warning
            },
            if silent { 0.9 } else { 0.7 },
        )
        .title(if silent {
            "No NTP server answers: UDP/123 is blocked"
        } else {
            "No NTP server gives a usable time"
        })
        .detail(format!(
            "None of the {} time servers asked gave a usable answer, {judged}. Without NTP the \
             clock drifts until enrollment fails.",
            samples.len()
        ))
        .evidence(evidence)
        .remedy(
            "Allow UDP/123 egress to the configured time servers (or the cloud's: \
             169.254.169.123 on AWS), or point chrony at a server the network allows.",
        ),
    ]
}

/// `clock.unsynchronised`: nothing keeps the clock right.
pub(super) fn unsynchronised(facts: &Facts) -> Vec<Cause> {
    if spec(facts).is_none() {
        return Vec::new();
    }
    let clock = &facts.evidence.clock;
    let mut evidence = Vec::new();
    if let KernelClock::Read {
        synchronised: false,
        maxerror_us,
        ..
    } = clock.kernel
    {
        evidence.push(format!(
            "the kernel reports the clock unsynchronised (STA_UNSYNC; max error {:.1} s)",
            maxerror_us as f64 / 1e6
        ));
    }
    let installed: Vec<_> = clock.daemons.iter().filter(|d| d.installed).collect();
    if !clock.daemons.is_empty() && installed.is_empty() {
        evidence.push("no time daemon is installed (chronyd, ntpd, systemd-timesyncd)".into());
    } else if !installed.is_empty() && installed.iter().all(|d| d.running == Some(false)) {
        let names: Vec<&str> = installed.iter().map(|d| d.name.as_str()).collect();
        evidence.push(format!("{} installed but not running", names.join(", ")));
    }
    if evidence.is_empty() {
        return Vec::new();
    }
    vec![
        Cause::new(
            crate::causes::CLOCK_UNSYNCHRONISED.id(),
            Severity::Warning,
            0.8,
        )
        .title("Nothing keeps this VM's clock synchronised")
        .detail(
            "No time daemon disciplines the clock, so it drifts; the key exchange fails once \
                 it is off by a few seconds.",
        )
        .evidence(evidence)
        .remedy(
            "`systemctl enable --now chronyd`, then `chronyc tracking` should show a reference.",
        ),
    ]
}

/// The clock line of the check list.
pub(super) fn check(facts: &Facts) -> Check {
    let mut check = Check {
        id: "clock".into(),
        label: "Clock".into(),
        status: CheckStatus::Skipped,
        summary: String::new(),
        reason: None,
    };
    if spec(facts).is_none() {
        check.reason = Some("this profile has no clock check".into());
        return check;
    }
    let mut parts = Vec::new();
    match &facts.clock {
        Some(est) => parts.push(est.describe()),
        None => {
            let clock = &facts.evidence.clock;
            parts.push(format!(
                "no time source answered: 0/{} NTP servers, {} HTTPS Date",
                clock.ntp.len(),
                if clock.http_date.is_empty() {
                    "no"
                } else {
                    "no usable"
                }
            ));
            check.reason = Some("no time source answered (NTP, HTTPS Date)".into());
        }
    }
    let running: Vec<&str> = facts
        .evidence
        .clock
        .daemons
        .iter()
        .filter(|d| d.running == Some(true))
        .map(|d| d.name.as_str())
        .collect();
    if !running.is_empty() {
        parts.push(format!("{} running", running.join(", ")));
    }
    if let KernelClock::Read { synchronised, .. } = facts.evidence.clock.kernel {
        parts.push(format!(
            "kernel {}",
            if synchronised {
                "synchronised"
            } else {
                "unsynchronised"
            }
        ));
    }
    check.summary = parts.join(" · ");
    let causes = [skewed(facts), ntp_blocked(facts), unsynchronised(facts)].concat();
    if check.reason.is_none() || !causes.is_empty() {
        check.status = status_of(&causes);
        check.reason = None;
    }
    check
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Severity, diagnose};
    use crate::evidence::{DateOutcome, DateSample, Evidence, KernelClock, NtpOutcome};

    fn answered(offset_s: f64) -> NtpOutcome {
        NtpOutcome::Answered {
            offset_s,
            rtt_s: 0.01,
            stratum: 2,
            leap: "NoWarning".into(),
        }
    }

    fn date(ev: &mut Evidence, offset_s: f64) {
        ev.clock.http_date.push(DateSample {
            host: "dist.private.zscaler.com".into(),
            addr: "8.8.8.8".parse().unwrap(),
            outcome: DateOutcome::Estimated {
                offset_s,
                error_s: 0.55,
            },
        });
    }

    /// (what the clock does, the cause ranked first, its severity)
    #[test]
    fn table() {
        type Fault = fn(&mut Evidence);
        let cases: &[(&str, Fault, &str, Severity)] = &[
            (
                "10 min behind",
                |ev| set_ntp(ev, answered(600.0)),
                "clock.skewed",
                Severity::Blocking,
            ),
            (
                "3 min ahead",
                |ev| set_ntp(ev, answered(-180.0)),
                "clock.skewed",
                Severity::Blocking,
            ),
            (
                "1.5 s behind",
                |ev| set_ntp(ev, answered(1.5)),
                "clock.skewed",
                Severity::Warning,
            ),
            (
                "30 s ahead",
                |ev| set_ntp(ev, answered(-30.0)),
                "clock.skewed",
                Severity::Warning,
            ),
            (
                "NTP blocked, Date says fine",
                |ev| {
                    set_ntp(ev, NtpOutcome::TimedOut);
                    date(ev, 0.2);
                },
                "ntp.blocked",
                Severity::Warning,
            ),
            (
                "NTP blocked and the clock 10 min behind",
                |ev| {
                    set_ntp(ev, NtpOutcome::TimedOut);
                    date(ev, 600.0);
                },
                "clock.skewed",
                Severity::Blocking,
            ),
            (
                "kiss-o'-death only",
                |ev| {
                    set_ntp(
                        ev,
                        NtpOutcome::KissOfDeath {
                            code: "RateExceeded".into(),
                        },
                    )
                },
                "ntp.blocked",
                Severity::Warning,
            ),
            (
                "kernel unsynchronised",
                |ev| {
                    ev.clock.kernel = KernelClock::Read {
                        synchronised: false,
                        maxerror_us: 16_000_000,
                        esterror_us: 16_000_000,
                    }
                },
                "clock.unsynchronised",
                Severity::Warning,
            ),
            (
                "chronyd installed, not running",
                |ev| ev.clock.daemons[0].running = Some(false),
                "clock.unsynchronised",
                Severity::Warning,
            ),
        ];
        for (what, fault, id, severity) in cases {
            assert_top(what, *fault, id, *severity);
        }
    }

    #[test]
    fn behind_and_blocked_reports_both_with_numbers() {
        let mut ev = healthy();
        set_ntp(&mut ev, NtpOutcome::TimedOut);
        date(&mut ev, -600.0);
        let d = diagnose(&ev);
        let ids: Vec<&str> = d.causes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["clock.skewed", "ntp.blocked"]);
        assert!(
            d.causes[0].title.contains("600.0 s ahead"),
            "{}",
            d.causes[0].title
        );
        assert!(
            d.causes[0].detail.contains("HTTPS Date header"),
            "{}",
            d.causes[0].detail
        );
        assert_eq!(d.causes[1].severity, Severity::Blocking);
    }

    #[test]
    fn an_error_bound_keeps_a_borderline_estimate_quiet() {
        let mut ev = healthy();
        set_ntp(&mut ev, NtpOutcome::TimedOut);
        date(&mut ev, 1.4);
        let d = diagnose(&ev);
        assert_eq!(
            d.causes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["ntp.blocked"]
        );
    }

    #[test]
    fn a_not_yet_valid_leaf_bounds_a_clock_that_cannot_be_measured() {
        let mut ev = healthy();
        ev.clock.ntp.clear();
        for h in &mut ev.tls.handshakes {
            h.local_time = 1_700_000_000 - 300;
        }
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "clock.skewed");
        assert!(
            d.causes[0].title.contains("300.0 s behind"),
            "{}",
            d.causes[0].title
        );
    }

    /// The connector's own correction is clock evidence with its size, below live ones.
    #[test]
    fn the_connectors_own_correction_is_an_estimate() {
        use crate::evidence::{LogFile, LogFinding};
        let log = |excerpt: &str| LogFile {
            path: "/var/log/messages".into(),
            error: None,
            findings: vec![LogFinding {
                pattern: "clock_corrected".into(),
                line: 7,
                excerpt: excerpt.into(),
            }],
            counts: Default::default(),
        };
        let mut ev = healthy();
        ev.clock.ntp.clear();
        ev.host.logs = vec![log(
            "Connector- Time synchronized, Local time - 737.427447s = cloud_time",
        )];
        let d = diagnose(&ev);
        let skew = d.causes.iter().find(|c| c.id == "clock.skewed").unwrap();
        assert_eq!(skew.severity, Severity::Blocking);
        assert_eq!(skew.title, "This VM's clock is 737.4 s ahead");
        assert!(
            skew.evidence[0].contains("/var/log/messages:7"),
            "{:?}",
            skew.evidence
        );
        // A small correction is no finding, and never a cause of its own.
        ev.host.logs = vec![log("Local time - 0.012783s = cloud_time")];
        assert!(
            !ids(&ev).iter().any(|id| id == "clock.skewed"),
            "{:?}",
            ids(&ev)
        );
        // A live measurement outranks it.
        ev.clock.ntp.push(ntp_sample(answered(0.01)));
        ev.host.logs = vec![log("Local time - 737.4s = cloud_time")];
        assert!(
            !ids(&ev).iter().any(|id| id == "clock.skewed"),
            "{:?}",
            ids(&ev)
        );
    }
}
