//! The numbers behind the diagnosis, computed once, here: per-port counts, the best clock
//! estimate with its source and bound, and the DNS counts. Every renderer (human, markdown,
//! Prometheus, the fleet summary) reads these and never judges the evidence again, so a
//! metric can never contradict a cause (the Prometheus output once exported the first NTP
//! offset while `clock.skewed` weighed the best one).

use serde::{Deserialize, Serialize};

use super::{AddrClass, Facts};

/// What the diagnosis measured (schema 1.5).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Measures {
    /// One per profile port, in the profile's order.
    pub ports: Vec<PortMeasure>,
    /// The best clock estimate, when any source gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockMeasure>,
    /// The names' answers.
    pub dns: DnsMeasure,
}

/// The real destinations of one port (answers for the profile's names, `--target`): the only
/// attempts that decide a verdict.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PortMeasure {
    /// The port.
    pub port: u16,
    /// Destinations planned.
    pub destinations: usize,
    /// Those that connected.
    pub connected: usize,
    /// Those dropped, reset or rejected.
    pub blocked: usize,
    /// Those that say nothing of the port: not run, unfinished, no route, denied locally.
    pub unknown: usize,
    /// `connected / (connected + blocked)`, when any was judged.
    pub reachable_ratio: Option<f64>,
}

/// The clock estimate the clock rules judge by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockMeasure {
    /// Reference time minus this VM's, seconds (positive: this clock is behind).
    pub offset_s: f64,
    /// Its bound, seconds (± this much).
    pub error_s: f64,
    /// How it was measured.
    pub method: ClockMethod,
    /// Where it came from (an SNTP server, an HTTPS `Date`, the connector's log, a leaf).
    pub source: String,
}

/// How a clock estimate was made, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockMethod {
    /// An SNTP answer (the closest server's).
    Sntp,
    /// An HTTPS `Date` header (htpdate's method).
    HttpsDate,
    /// The connector's own logged correction against the cloud.
    ConnectorLog,
    /// A leaf not yet valid for this clock (a lower bound).
    Certificate,
}

impl ClockMethod {
    /// Its name, as the JSON and the metrics spell it.
    pub fn label(self) -> &'static str {
        match self {
            ClockMethod::Sntp => "sntp",
            ClockMethod::HttpsDate => "https_date",
            ClockMethod::ConnectorLog => "connector_log",
            ClockMethod::Certificate => "certificate",
        }
    }
}

/// The profile's names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DnsMeasure {
    /// Names planned.
    pub names: usize,
    /// Names with at least one usable address.
    pub resolved: usize,
    /// Names whose queries finished without a usable address.
    pub failed: usize,
    /// Names answered with a special-purpose address (a sinkhole).
    pub sinkholed: usize,
    /// Names whose queries never finished (the deadline or a signal).
    pub pending: usize,
}

/// The measures of `facts`.
/// The names' counts. (The ports' and the clock's numbers come from the rules that weigh them,
/// `egress::measure` and `clock::estimate`, assembled by the diagnosis: this module is their
/// vocabulary, and imports no rule, so the rules can speak it without a circle.)
pub(super) fn dns(facts: &Facts) -> DnsMeasure {
    let mut m = DnsMeasure {
        names: facts.names.len(),
        ..DnsMeasure::default()
    };
    for name in &facts.names {
        let pending = name.resolution.is_none_or(|r| r.pending());
        if name.usable() {
            m.resolved += 1;
        } else if pending {
            m.pending += 1;
        } else {
            m.failed += 1;
        }
        if name
            .answers
            .iter()
            .any(|(_, class)| matches!(class, AddrClass::Sinkhole(_)))
        {
            m.sinkholed += 1;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::super::diagnose;
    use super::super::testing::*;
    use crate::evidence::{NtpOutcome, TcpOutcome};

    #[test]
    fn a_healthy_run_measures_every_port_and_name() {
        let d = diagnose(&healthy());
        let m = &d.measures;
        assert!(!m.ports.is_empty());
        for port in &m.ports {
            assert_eq!(port.reachable_ratio, Some(1.0), "{port:?}");
            assert_eq!(port.connected, port.destinations, "{port:?}");
        }
        assert_eq!(m.dns.resolved, m.dns.names);
        assert!(m.clock.is_some());
    }

    /// The clock measure is the estimate the rules judge by: the closest server, not the first.
    #[test]
    fn the_clock_measure_is_the_best_estimate_not_the_first_sample() {
        let mut ev = healthy();
        let mut far = ev.clock.ntp[0].clone();
        far.server = "far.example".into();
        far.outcome = NtpOutcome::Answered {
            offset_s: 30.0,
            rtt_s: 0.9,
            stratum: 2,
            leap: "none".into(),
        };
        ev.clock.ntp.insert(0, far);
        let d = diagnose(&ev);
        let clock = d.measures.clock.expect("an estimate");
        assert!(clock.offset_s.abs() < 1.0, "{clock:?}");
        assert!(!clock.source.contains("far.example"), "{clock:?}");
    }

    #[test]
    fn a_blocked_port_is_counted() {
        let mut ev = healthy();
        set_port(&mut ev, 9000, TcpOutcome::TimedOut { ms: 3000 });
        let d = diagnose(&ev);
        let p9000 = d.measures.ports.iter().find(|p| p.port == 9000).unwrap();
        assert_eq!(p9000.connected, 0);
        assert_eq!(p9000.blocked, p9000.destinations);
        assert_eq!(p9000.reachable_ratio, Some(0.0));
    }
}
