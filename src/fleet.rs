//! The fleet summary: many saved reports (one per connector VM) judged again and counted, so
//! that "which hosts are blocked, and by what" is one screen. Pure: reports in, summary out.

use serde::Serialize;

use crate::diagnose::{Severity, Verdict};
use crate::report::Report;

/// One host of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetHost {
    /// Its name: the host name its report records, else the report's file name without
    /// `.json` (with the file name too when two reports record the same host name).
    pub name: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its top non-info cause, if any.
    pub top: Option<String>,
    /// Its clock offset, seconds, as its diagnosis estimated it.
    pub clock_offset_s: Option<f64>,
    /// Per port, the share of destinations that connect (the diagnosis's numbers).
    pub ports: Vec<(u16, Option<f64>)>,
}

/// One cause across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetCause {
    /// The cause id.
    pub id: String,
    /// The hosts where it is found (blocking or warning).
    pub hosts: Vec<String>,
}

/// The summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fleet {
    /// Hosts per verdict: ready, warnings, blocked.
    pub ready: usize,
    /// Hosts with warnings only.
    pub warnings: usize,
    /// Hosts with a blocking cause.
    pub blocked: usize,
    /// Causes, the most widespread first.
    pub causes: Vec<FleetCause>,
    /// Every host, blocked first.
    pub hosts: Vec<FleetHost>,
}

impl Fleet {
    /// The overall verdict: blocked if any host is.
    pub fn verdict(&self) -> Verdict {
        if self.blocked > 0 {
            Verdict::Blocked
        } else if self.warnings > 0 {
            Verdict::Warnings
        } else {
            Verdict::Ready
        }
    }
}

/// Counts `reports` (file name, report), already re-judged. A host is named by the host name
/// its report records (schema 1.8), else by its file; two reports of one host name (a cloned
/// VM) keep their file names beside it.
pub fn summarize(reports: &[(String, Report)]) -> Fleet {
    // How many reports record each host name, counted once.
    let mut recorded: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (_, report) in reports {
        if let Some(host) = &report.evidence.machine.hostname {
            *recorded.entry(host.as_str()).or_default() += 1;
        }
    }
    let named: Vec<(String, &Report)> = reports
        .iter()
        .map(|(file, report)| {
            let name = match report.evidence.machine.hostname.as_deref() {
                Some(host) if recorded[host] > 1 => format!("{host} ({file})"),
                Some(host) => host.to_string(),
                None => file.clone(),
            };
            (name, report)
        })
        .collect();
    let mut causes: Vec<FleetCause> = Vec::new();
    let mut hosts = Vec::new();
    for (name, report) in &named {
        for cause in report
            .causes
            .iter()
            .filter(|c| c.severity != Severity::Info)
        {
            match causes.iter_mut().find(|c| c.id == cause.id) {
                Some(entry) => entry.hosts.push(name.clone()),
                None => causes.push(FleetCause {
                    id: cause.id.clone(),
                    hosts: vec![name.clone()],
                }),
            }
        }
        hosts.push(FleetHost {
            name: name.clone(),
            verdict: report.verdict,
            top: report.top_cause().map(|c| c.id.clone()),
            clock_offset_s: report.measures.clock.as_ref().map(|c| c.offset_s),
            ports: report
                .measures
                .ports
                .iter()
                .map(|p| (p.port, p.reachable_ratio))
                .collect(),
        });
    }
    causes.sort_by(|a, b| b.hosts.len().cmp(&a.hosts.len()).then(a.id.cmp(&b.id)));
    let rank = |v: Verdict| match v {
        Verdict::Blocked => 0,
        Verdict::Warnings => 1,
        Verdict::Ready => 2,
    };
    hosts.sort_by(|a, b| (rank(a.verdict), &a.name).cmp(&(rank(b.verdict), &b.name)));
    let count = |v| reports.iter().filter(|(_, r)| r.verdict == v).count();
    Fleet {
        ready: count(Verdict::Ready),
        warnings: count(Verdict::Warnings),
        blocked: count(Verdict::Blocked),
        causes,
        hosts,
    }
}
