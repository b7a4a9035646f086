//! The markdown report: what a customer pastes into a support ticket. Verdict first, the
//! check table, the ranked causes with their evidence and fix, and the `SUMMARY:` line.

use std::io::{self, Write};

use super::human::{summary_line, verdict_word};
use crate::diagnose::CheckStatus;
use crate::evidence::secs;
use crate::exit::Exit;
use crate::plan::Origin;
use crate::report::Report;

use super::{markdown_text, printable};

/// Writes the report as GitHub-flavoured markdown.
pub fn report(out: &mut dyn Write, report: &Report, exit: Exit) -> io::Result<()> {
    writeln!(
        out,
        "# zpa-preflight: {}\n",
        verdict_word(report.verdict).to_uppercase()
    )?;
    writeln!(
        out,
        "`{} {}` · profile `{}` · {} · {}\n",
        code(&report.tool.name),
        code(&report.tool.version),
        code(&report.profile),
        report.started_at.format("%Y-%m-%d %H:%M:%SZ"),
        secs(report.duration_ms)
    )?;
    writeln!(
        out,
        "Zen ranges: {}\n",
        markdown_text(&report.evidence.plan.zen.to_string())
    )?;
    writeln!(out, "| Check | Status | Summary |\n|---|---|---|")?;
    for check in &report.checks {
        let status = match check.status {
            CheckStatus::Pass => "✓ pass",
            CheckStatus::Warn => "! warn",
            CheckStatus::Fail => "✗ fail",
            CheckStatus::Skipped => "– skipped",
        };
        let summary = match (&check.reason, check.summary.is_empty()) {
            (Some(reason), true) => format!("skipped: {reason}"),
            (Some(reason), false) => format!("skipped: {reason} · {}", check.summary),
            (None, _) => check.summary.clone(),
        };
        writeln!(
            out,
            "| {} | {status} | {} |",
            markdown_text(&check.label),
            markdown_text(&summary)
        )?;
    }
    if !report.causes.is_empty() {
        writeln!(out, "\n## Ranked causes")?;
    }
    for cause in &report.causes {
        let severity = cause.severity.label();
        writeln!(
            out,
            "\n### {}. `{}` ({severity}, confidence {:.2}{})\n",
            cause.rank,
            code(&cause.id),
            cause.confidence,
            if cause.ignored {
                ", downgraded by --ignore"
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "**{}**\n\n{}\n",
            markdown_text(&cause.title),
            markdown_text(&cause.detail)
        )?;
        if !cause.evidence.is_empty() {
            writeln!(out, "| Evidence |\n|---|")?;
            for line in &cause.evidence {
                writeln!(out, "| `{}` |", code(line))?;
            }
        }
        writeln!(out, "\n**Fix:** {}", markdown_text(&cause.remedy))?;
    }
    numbers(out, report)?;
    coverage(out, report)?;
    writeln!(out, "\n```\n{}\n```", summary_line(report, exit))
}

/// The diagnosis's numbers ([`crate::diagnose::measures`]), as measured, never recounted here.
fn numbers(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let m = &report.measures;
    writeln!(out, "\n## Numbers\n")?;
    if !m.ports.is_empty() {
        writeln!(
            out,
            "| Port | Destinations | Connected | Blocked | Unknown |\n|---|---|---|---|---|"
        )?;
        for p in &m.ports {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                p.port, p.destinations, p.connected, p.blocked, p.unknown
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "DNS: {} names, {} resolved, {} failed, {} sinkholed, {} unfinished.",
        m.dns.names, m.dns.resolved, m.dns.failed, m.dns.sinkholed, m.dns.pending
    )?;
    match &m.clock {
        Some(c) => writeln!(
            out,
            "\nClock: offset {:+.3} s ± {:.3} s ({}: {}).",
            c.offset_s,
            c.error_s,
            c.method.label(),
            markdown_text(&c.source)
        ),
        None => writeln!(out, "\nClock: no estimate."),
    }
}

/// With `--coverage`: every range that did not connect, as a table a firewall team can act
/// on (the evidence as recorded; the diagnosis above says what it means).
fn coverage(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let plan = &report.evidence.plan;
    if !plan.coverage {
        return Ok(());
    }
    let sampled: Vec<_> = report
        .evidence
        .tcp
        .attempts
        .iter()
        .filter_map(|a| match &a.origin {
            Origin::RangeSample { range } => Some((range, a)),
            _ => None,
        })
        .collect();
    let failing: Vec<_> = sampled
        .iter()
        .filter(|(_, a)| !a.outcome.connected())
        .collect();
    writeln!(
        out,
        "\n## Zen range coverage\n\n{} of {} range probes connect ({}).\n",
        sampled.len() - failing.len(),
        sampled.len(),
        plan.zen
    )?;
    if failing.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| Region | Range | Address | Port | Outcome |\n|---|---|---|---|---|"
    )?;
    for (range, a) in failing {
        writeln!(
            out,
            "| {} | `{range}` | `{}` | {} | {} |",
            markdown_text(plan.zen.region(range).unwrap_or("—")),
            a.addr,
            a.port,
            markdown_text(&a.outcome.label())
        )?;
    }
    Ok(())
}

/// Text inside a code span (and a table cell): printable, one line, no backtick to close
/// the span early, pipes escaped for the table.
fn code(text: &str) -> String {
    printable(text)
        .replace('`', "'")
        .replace('|', "\\|")
        .replace('\n', " ")
}
