//! node_exporter textfile metrics, so an existing monitoring stack can alert when a
//! connector's egress drifts between deployments (`--format prometheus --output
//! /var/lib/node_exporter/textfile/zpa_preflight.prom`).

use std::io::{self, Write};

use crate::diagnose::{CheckStatus, Verdict};
use crate::report::Report;

/// Writes the report as Prometheus exposition text.
pub fn report(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let profile = escape(&report.profile);
    metric(
        out,
        "zpa_preflight_verdict",
        "The verdict: 0 ready, 1 warnings, 2 blocked.",
    )?;
    let verdict = match report.verdict {
        Verdict::Ready => 0,
        Verdict::Warnings => 1,
        Verdict::Blocked => 2,
    };
    writeln!(
        out,
        "zpa_preflight_verdict{{profile=\"{profile}\"}} {verdict}"
    )?;
    metric(
        out,
        "zpa_preflight_check_status",
        "Per check: 0 pass, 1 warn, 2 fail, -1 skipped.",
    )?;
    for check in &report.checks {
        let value = match check.status {
            CheckStatus::Pass => 0,
            CheckStatus::Warn => 1,
            CheckStatus::Fail => 2,
            CheckStatus::Skipped => -1,
        };
        writeln!(
            out,
            "zpa_preflight_check_status{{profile=\"{profile}\",check=\"{}\"}} {value}",
            escape(&check.id)
        )?;
    }
    metric(
        out,
        "zpa_preflight_port_reachable_ratio",
        "Share of the real destinations (answers for the profile's names, --target) that accept the port.",
    )?;
    for port in &report.measures.ports {
        let Some(ratio) = port.reachable_ratio else {
            continue;
        };
        writeln!(
            out,
            "zpa_preflight_port_reachable_ratio{{profile=\"{profile}\",port=\"{}\"}} {ratio}",
            port.port
        )?;
    }
    if let Some(clock) = &report.measures.clock {
        metric(
            out,
            "zpa_preflight_clock_offset_seconds",
            "The diagnosis's best clock estimate: reference time minus this VM's time (positive: this clock is behind).",
        )?;
        writeln!(
            out,
            "zpa_preflight_clock_offset_seconds{{profile=\"{profile}\",method=\"{}\"}} {}",
            clock.method.label(),
            clock.offset_s
        )?;
        metric(
            out,
            "zpa_preflight_clock_offset_bound_seconds",
            "The estimate's bound (± this much).",
        )?;
        writeln!(
            out,
            "zpa_preflight_clock_offset_bound_seconds{{profile=\"{profile}\"}} {}",
            clock.error_s
        )?;
    }
    let dns = &report.measures.dns;
    metric(
        out,
        "zpa_preflight_dns_names",
        "The profile's names, by how their queries ended.",
    )?;
    for (state, count) in [
        ("resolved", dns.resolved),
        ("failed", dns.failed),
        ("sinkholed", dns.sinkholed),
        ("pending", dns.pending),
    ] {
        writeln!(
            out,
            "zpa_preflight_dns_names{{profile=\"{profile}\",state=\"{state}\"}} {count}"
        )?;
    }
    metric(
        out,
        "zpa_preflight_cause",
        "1 for every cause found, by id and severity.",
    )?;
    for cause in &report.causes {
        writeln!(
            out,
            "zpa_preflight_cause{{profile=\"{profile}\",id=\"{}\",severity=\"{}\"}} 1",
            escape(&cause.id),
            cause.severity.label()
        )?;
    }
    metric(
        out,
        "zpa_preflight_last_run_timestamp_seconds",
        "When the checks ran.",
    )?;
    writeln!(
        out,
        "zpa_preflight_last_run_timestamp_seconds{{profile=\"{profile}\"}} {}",
        report.started_at.timestamp()
    )
}

fn metric(out: &mut dyn Write, name: &str, help: &str) -> io::Result<()> {
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge")
}

/// A label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
