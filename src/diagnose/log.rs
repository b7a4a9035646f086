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
            let line = format!("{}:{}: {}", log.path, finding.line, finding.excerpt);
            match causes.iter_mut().find(|(_, c)| c.id == pattern.cause) {
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
                None => causes.push((rule, from_log(pattern, &line, &finding.excerpt, facts))),
            }
        }
    }
}

fn from_log(pattern: &LogPattern, line: &str, excerpt: &str, facts: &Facts) -> Cause {
    let severity = match pattern.severity.as_str() {
        "blocking" => Severity::Blocking,
        "warning" => Severity::Warning,
        _ => Severity::Info,
    };
    let mut title = pattern.title.clone();
    // The connector's interception line carries the issuer DN: name the product from it.
    if pattern.cause == "tls.intercepted" {
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
    Cause::new(pattern.cause.clone(), severity, 0.8)
        .title(title)
        .detail(format!(
            "The connector's own log says so (pattern {}); the live checks did not see it, or could not run.",
            pattern.id
        ))
        .evidence(vec![line.to_string()])
        .remedy(pattern.remedy.clone())
}
