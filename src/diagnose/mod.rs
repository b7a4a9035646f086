//! Diagnosis: pure functions from [`Evidence`] to checks, ranked causes and a verdict.
//!
//! No clock, file, network or environment here: the same evidence always gives the same
//! diagnosis, which is what lets `explain` re-judge a customer's saved report offline and lets
//! every rule be tested with a few lines of evidence. Rules are listed once, in `RULES`, in
//! the order of the enrollment flow: a cause upstream (no resolver, no route) is ranked before
//! the causes it produces downstream, and the rules themselves avoid reporting a consequence as
//! a cause (a name that does not resolve is never also "443 blocked").

mod chain;
mod clock;
mod connector;
mod dns;
mod egress;
mod feed;
mod flavour;
mod gateway;
mod host;
mod key;
mod log;
pub mod measures;
mod middlebox;
mod proxy;
mod run;
mod tls;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::address;
use crate::evidence::{Evidence, NameResolution};
use crate::profile::NameSpec;

pub use crate::causes::Severity;
pub use chain::{ca_product, judgeable};

/// The status of a check that `causes` speak for: the worst severity among them.
fn status_of(causes: &[Cause]) -> CheckStatus {
    match causes.iter().map(|c| c.severity).min() {
        Some(Severity::Blocking) => CheckStatus::Fail,
        Some(Severity::Warning) => CheckStatus::Warn,
        _ => CheckStatus::Pass,
    }
}

/// One ranked, evidenced explanation of why the connector would stay Pending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cause {
    /// Stable dotted id, e.g. `egress.tcp_9000_blocked` (documented in the README).
    pub id: String,
    /// 1 for the most likely cause.
    pub rank: usize,
    /// How much it matters.
    pub severity: Severity,
    /// 0..1: how sure the evidence makes us.
    pub confidence: f64,
    /// One line.
    pub title: String,
    /// What was seen and what it means.
    pub detail: String,
    /// The observations that support it.
    pub evidence: Vec<String>,
    /// What to change.
    pub remedy: String,
    /// Set when `--ignore` downgraded it from blocking.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// Tie-break inside one rule (e.g. the port's position in the profile).
    #[serde(skip)]
    order: usize,
}

impl Cause {
    /// A cause of the catalogue's kind `id` ([`crate::causes`]): rules never spell an id.
    fn new(id: crate::causes::CauseId, severity: Severity, confidence: f64) -> Cause {
        Cause {
            id: id.into(),
            rank: 0,
            severity,
            confidence,
            title: String::new(),
            detail: String::new(),
            evidence: Vec::new(),
            remedy: String::new(),
            ignored: false,
            order: 0,
        }
    }

    fn title(mut self, text: impl Into<String>) -> Cause {
        self.title = text.into();
        self
    }

    fn detail(mut self, text: impl Into<String>) -> Cause {
        self.detail = text.into();
        self
    }

    fn evidence(mut self, lines: Vec<String>) -> Cause {
        self.evidence = lines;
        self
    }

    fn remedy(mut self, text: impl Into<String>) -> Cause {
        self.remedy = text.into();
        self
    }
}

/// The state of one check, as a user reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Works.
    Pass,
    /// Works partly, or works with a caveat.
    Warn,
    /// Does not work.
    Fail,
    /// Could not be run; `reason` says why.
    Skipped,
}

/// One line of the report's check list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Check {
    /// Stable id: `dns`, `tcp.443`, …
    pub id: String,
    /// Display label: `DNS`, `TCP 443`, …
    pub label: String,
    /// Pass, warn, fail or skipped.
    pub status: CheckStatus,
    /// One line with the numbers.
    pub summary: String,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing blocks enrollment.
    Ready,
    /// At least one blocking cause.
    Blocked,
    /// Only warnings.
    Warnings,
}

/// Checks, ranked causes and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// One per check, in display order.
    pub checks: Vec<Check>,
    /// Most likely first.
    pub causes: Vec<Cause>,
    /// The answer.
    pub verdict: Verdict,
    /// The numbers behind it, for every renderer.
    pub measures: measures::Measures,
}

/// A rule: evidence in, causes out.
type Rule = fn(&Facts) -> Vec<Cause>;

/// Every rule, in causal order (the order breaks ties between causes of one severity).
const RULES: &[Rule] = &[
    // No route explains an unreachable resolver too, so it goes first.
    egress::no_route,
    dns::no_resolver,
    egress::local_firewall,
    // A resolv.conf the connector cannot read explains its DNS failures.
    host::fitness,
    dns::unresolvable,
    dns::sinkhole,
    // A proxy the connector cannot use stops everything behind it.
    proxy::misconfigured,
    // A re-signed or cut-off TLS channel outranks what TCP says: a TCP pass must not hide it.
    // A handshake cut off is explained, when its follow-ups can, by the middlebox that did it,
    // lowest layer first: a path that loses full-size packets (the MTU) is below any filter,
    // a name filter is asked before a version filter (its follow-ups differ in the name
    // alone), and all of them before interception, which they would hide (no certificate
    // gets through to be judged) and before the ports, which connect.
    middlebox::named,
    tls::handshake_blocked,
    tls::intercepted,
    egress::port_blocked,
    // The audit: whole regions cut off on a port.
    egress::coverage::partial,
    // UDP: a rejection warns, silence only informs.
    egress::udp::unanswered,
    host::selinux,
    // Time: a clock behind fails the key exchange even when every path is open.
    clock::skewed,
    clock::ntp_blocked,
    key::provision_key,
    connector::not_running,
    clock::unsynchronised,
    tls::inspection_on_path,
    dns::outside_zen,
    feed::stale,
    flavour::no_private_apps,
    gateway::forwarding_off,
    run::interrupted,
    run::incomplete,
];

/// Judges `evidence`.
pub fn diagnose(evidence: &Evidence) -> Diagnosis {
    let facts = Facts::new(evidence);
    let mut causes: Vec<(usize, Cause)> = RULES
        .iter()
        .enumerate()
        .flat_map(|(index, rule)| rule(&facts).into_iter().map(move |c| (index, c)))
        .collect();
    log::merge(&facts, &mut causes, RULES.len());
    // One id, one cause: a second rule reaching the same conclusion adds its evidence.
    let mut merged: Vec<(usize, Cause)> = Vec::with_capacity(causes.len());
    for (rule, cause) in causes {
        match merged.iter_mut().find(|(_, c)| c.id == cause.id) {
            Some((_, first)) => first.evidence.extend(cause.evidence),
            None => merged.push((rule, cause)),
        }
    }
    let mut causes = merged;
    let mut checks = vec![dns::check(&facts)];
    checks.extend(egress::checks(&facts));
    checks.extend(egress::udp::checks(&facts));
    checks.push(tls::check(&facts));
    checks.push(clock::check(&facts));
    checks.extend(host::checks(&facts));
    checks.extend(gateway::check(&facts));
    // A saved chain judged offline: say why the other checks did not run.
    let handshakes = &evidence.tls.handshakes;
    if !handshakes.is_empty()
        && handshakes
            .iter()
            .all(|h| matches!(h.origin, crate::plan::Origin::SavedChain { .. }))
    {
        // The chain's own check keeps its reason (a chain left unjudged says why).
        for check in checks
            .iter_mut()
            .filter(|c| c.status == CheckStatus::Skipped && c.id != "tls")
        {
            check.reason = Some("not run: only a saved chain was judged".into());
        }
    }
    // Never "ready" about what was not judged: a rule of its own, last in causal order, read
    // from the checks once nothing else blocks.
    let ignored = |c: &Cause| evidence.plan.ignore.contains(&c.id);
    if !causes
        .iter()
        .any(|(_, c)| c.severity == Severity::Blocking && !ignored(c))
        && let Some(cause) = run::not_judged(&facts, &checks)
    {
        causes.push((RULES.len() + 1, cause));
    }
    for (_, cause) in &mut causes {
        if cause.severity == Severity::Blocking && ignored(cause) {
            cause.severity = Severity::Warning;
            cause.ignored = true;
        }
    }
    causes.sort_by(|(ra, a), (rb, b)| {
        (a.severity, *ra, a.order)
            .cmp(&(b.severity, *rb, b.order))
            .then(b.confidence.total_cmp(&a.confidence))
    });
    let mut causes: Vec<Cause> = causes.into_iter().map(|(_, c)| c).collect();
    for (i, cause) in causes.iter_mut().enumerate() {
        cause.rank = i + 1;
    }
    let verdict = if causes.iter().any(|c| c.severity == Severity::Blocking) {
        Verdict::Blocked
    } else if causes.iter().any(|c| c.severity == Severity::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ready
    };
    Diagnosis {
        measures: measures::Measures {
            ports: evidence
                .plan
                .ports
                .iter()
                .map(|p| egress::measure(&facts, p.port))
                .collect(),
            clock: clock::estimate(&facts),
            dns: measures::dns(&facts),
        },
        checks,
        causes,
        verdict,
    }
}

/// What an answer address means for this name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AddrClass {
    /// Inside the declared Zen ranges: trusted whatever its class.
    Zen,
    /// A special-purpose address a public name must not have.
    Sinkhole(&'static str),
    /// Public, outside the ranges, for a name whose answers should be inside them.
    OutsideZen,
    /// Public, for a name not expected inside the ranges (CDN-hosted control hosts).
    Public,
}

/// A planned name with its answers, classified once for every rule.
struct NameView<'a> {
    spec: &'a NameSpec,
    resolution: Option<&'a NameResolution>,
    answers: Vec<(IpAddr, AddrClass)>,
}

impl NameView<'_> {
    /// Whether it has an answer the connector could use.
    fn usable(&self) -> bool {
        self.answers
            .iter()
            .any(|(_, class)| !matches!(class, AddrClass::Sinkhole(_)))
    }
}

/// The evidence with the derived views every rule needs.
struct Facts<'a> {
    evidence: &'a Evidence,
    names: Vec<NameView<'a>>,
    /// One judgement per TLS handshake, in order: decided once, read by every TLS rule.
    tls: Vec<chain::Judgement<'a>>,
    /// The best clock estimate: found once, read by every clock rule and the measures.
    clock: Option<clock::Estimate>,
    /// Every address the names were answered with: what a connect speaks for when it was
    /// probed once, under a range it is also a sample of. Gathered once for every port rule.
    answered: std::collections::HashSet<IpAddr>,
}

impl<'a> Facts<'a> {
    /// The host checks' spec, when the host was inspected (the host, key and connector rules
    /// have nothing to say otherwise).
    fn host_spec(&self) -> Option<&'a crate::profile::HostSpec> {
        self.evidence
            .plan
            .host
            .as_ref()
            .filter(|_| self.evidence.host.checked)
    }

    fn new(evidence: &'a Evidence) -> Facts<'a> {
        let zen = &evidence.plan.zen;
        // Looked up by name, not searched: a fleet profile or a hostile report may hold
        // 100,000 names, and a search per name made the diagnosis quadratic (28 s).
        let resolutions: std::collections::HashMap<&str, &NameResolution> = evidence
            .dns
            .names
            .iter()
            .rev() // the first resolution of a name wins, as a search would find it
            .map(|r| (r.host.as_str(), r))
            .collect();
        let names: Vec<NameView> = evidence
            .plan
            .names
            .iter()
            .map(|spec| {
                let resolution = resolutions.get(spec.host.as_str()).copied();
                let answers = resolution
                    .map(|r| r.addresses())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|addr| {
                        let class = if zen.contains(addr) {
                            AddrClass::Zen
                        } else if let Some(label) = address::special_purpose(addr) {
                            AddrClass::Sinkhole(label)
                        } else if spec.role.expects_zen() {
                            AddrClass::OutsideZen
                        } else {
                            AddrClass::Public
                        };
                        (addr, class)
                    })
                    .collect();
                NameView {
                    spec,
                    resolution,
                    answers,
                }
            })
            .collect();
        let tls = chain::judge_all(&evidence.tls.handshakes, &evidence.plan);
        let answered = names
            .iter()
            .flat_map(|n| n.answers.iter().map(|(ip, _)| *ip))
            .collect();
        Facts {
            evidence,
            names,
            tls,
            answered,
            clock: clock::best(evidence),
        }
    }
}

/// `text` with its first letter upper-cased, for sentences that start with a value.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// "a, b, c" with at most `max` items and a count of the rest.
fn list<T: std::fmt::Display>(items: &[T], max: usize) -> String {
    let mut out: Vec<String> = items.iter().take(max).map(ToString::to_string).collect();
    if items.len() > max {
        out.push(format!("{} more", items.len() - max));
    }
    out.join(", ")
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn ignore_downgrades_a_blocking_cause() {
        let mut ev = healthy();
        set_port(&mut ev, 9000, timed_out());
        ev.plan.ignore = vec!["egress.tcp_9000_blocked".into()];
        let d = diagnose(&ev);
        assert_eq!(d.verdict, Verdict::Warnings);
        assert_eq!(d.causes[0].id, "egress.tcp_9000_blocked");
        assert_eq!(d.causes[0].severity, Severity::Warning);
        assert!(d.causes[0].ignored);
    }

    #[test]
    fn ranks_are_dense_and_blocking_comes_first() {
        let mut ev = healthy();
        answer(
            &mut ev,
            "co2br.prod.zpath.net",
            &["165.225.112.252", "8.8.4.4"],
        );
        set_port(&mut ev, 9000, timed_out());
        let d = diagnose(&ev);
        assert_eq!(d.causes.last().unwrap().id, "dns.outside_zen");
        let ids: Vec<(&str, usize)> = d.causes.iter().map(|c| (c.id.as_str(), c.rank)).collect();
        assert_eq!(ids[0], ("egress.tcp_9000_blocked", 1));
        assert!(ids.iter().enumerate().all(|(i, (_, rank))| *rank == i + 1));
    }
}
