//! Connector log triage: each known line becomes evidence for a cause. When the probes found
//! that cause too, the line joins its evidence and raises its confidence (a log that says
//! interception and a chain that shows Forcepoint are one cause, not two); otherwise the line
//! alone raises the cause its pattern names.

use super::{Cause, Facts, Severity};
use crate::profile::LogPattern;

/// Log lines quoted per cause, at most.
const QUOTED: usize = 3;
/// How much a corroborating log line adds to a probe's confidence.
const CORROBORATION: f64 = 0.05;

/// Adds the log findings to `causes` (as `(rule index, cause)`, `rule` for new ones).
pub(super) fn merge(facts: &Facts, causes: &mut Vec<(usize, Cause)>, rule: usize) {
    let plan = &facts.evidence.plan;
    for log in &facts.evidence.host.logs {
        for finding in &log.findings {
            let Some(pattern) = plan.log_patterns.iter().find(|p| p.id == finding.pattern) else {
                continue;
            };
            // A measurement belongs to the rule that weighs it (the clock's estimate).
            if pattern.measures.is_some() {
                continue;
            }
            // A cause a newer version's catalogue named, in a report it wrote: not this
            // version's to judge.
            let Ok(id) = pattern.cause.parse::<crate::causes::CauseId>() else {
                continue;
            };
            let line = format!("{}:{}: {}", log.path, finding.line, finding.excerpt);
            match causes
                .iter_mut()
                .find(|(_, c)| c.id == pattern.cause.as_str())
            {
                Some((_, cause)) => {
                    let quoted = cause
                        .evidence
                        .iter()
                        .filter(|e| e.starts_with(&log.path))
                        .count();
                    if quoted < QUOTED {
                        cause.evidence.push(line);
                        cause.confidence = (cause.confidence + CORROBORATION).min(0.99);
                    }
                }
                None => causes.push((rule, from_log(pattern, id, &line, &finding.excerpt, facts))),
            }
        }
    }
}

fn from_log(
    pattern: &LogPattern,
    id: crate::causes::CauseId,
    line: &str,
    excerpt: &str,
    facts: &Facts,
) -> Cause {
    let severity: Severity = pattern.severity;
    let mut title = pattern.title.clone();
    // The connector's interception line carries the issuer DN: name the product from it.
    if pattern.cause == crate::causes::TLS_INTERCEPTED.id().as_str() {
        let lower = excerpt.to_lowercase();
        if let Some(product) = facts
            .evidence
            .plan
            .interceptors
            .iter()
            .find(|p| p.patterns.iter().any(|m| lower.contains(m.as_str())))
        {
            title = format!(
                "TLS to the brokers is intercepted by {} (from the connector's log)",
                product.name
            );
        }
    }
    Cause::new(id, severity, 0.8)
        .title(title)
        .detail(format!(
            "The connector's own log says so (pattern {}); the live checks did not see it, or could not run.",
            pattern.id
        ))
        .evidence(vec![line.to_string()])
        .remedy(pattern.remedy.clone())
}

/// The connector's own clock correction, `Local time - 737.427447s = cloud_time`, as an offset
/// in this tool's convention (positive: this VM's clock is behind). `None` for any other text.
pub(super) fn clock_correction(excerpt: &str) -> Option<f64> {
    let rest = &excerpt[excerpt.find("Local time")? + "Local time".len()..];
    let (value, _) = rest.split_once("= cloud_time")?;
    let value = value.trim().trim_end_matches('s').trim();
    let (sign, number) = match value.split_at_checked(1)? {
        ("-", n) => (1.0, n),
        ("+", n) => (-1.0, n),
        _ => return None,
    };
    let seconds: f64 = number.trim().parse().ok()?;
    // local - x = cloud: the VM is ahead by x, an offset of -x.
    seconds.is_finite().then(|| -sign * seconds)
}

#[cfg(test)]
mod tests {
    use super::clock_correction;

    #[test]
    fn clock_corrections_parse() {
        let cases = [
            (
                "Nov 27 connector: Connector- Time synchronized, Local time - 737.427447s = cloud_time",
                Some(-737.427447),
            ),
            ("Local time + 3.5s = cloud_time", Some(3.5)),
            ("Local time - 0.012s = cloud_time", Some(-0.012)),
            ("Local time - NaNs = cloud_time", None),
            ("Local time - inf s = cloud_time", None),
            ("Local time 12s = cloud_time", None),
            ("= cloud_time", None),
            ("Local time - ", None),
        ];
        for (line, offset) in cases {
            assert_eq!(clock_correction(line), offset, "{line}");
        }
    }
}
