//! The human report: checks, the verdict, ranked causes with evidence and fix, and one
//! `SUMMARY:` line at the end that a log grep or a ticket can quote.

use std::io::{self, Write};

use super::Painter;
use crate::diagnose::{CheckStatus, Severity, Verdict};
use crate::evidence::{ResolverState, secs};
use crate::exit::Exit;
use crate::plan::{Origin, Plan};
use crate::report::Report;

/// Text width the prose is wrapped to (evidence lines are kept whole: they get copied).
const WIDTH: usize = 100;

/// Writes the report.
pub fn report(out: &mut dyn Write, report: &Report, exit: Exit, paint: Painter) -> io::Result<()> {
    writeln!(
        out,
        "{} · profile {} · {} · {}",
        paint.bold(&format!("{} {}", report.tool.name, report.tool.version)),
        report.profile,
        report.started_at.format("%Y-%m-%d %H:%M:%SZ"),
        secs(report.duration_ms)
    )?;
    writeln!(
        out,
        "{}",
        paint.dim(&format!("Zen: {}", report.evidence.plan.zen))
    )?;
    writeln!(out)?;
    let label_width = report
        .checks
        .iter()
        .map(|c| c.label.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let (mark, text) = match check.status {
            CheckStatus::Pass => (paint.good("✓"), check.summary.clone()),
            CheckStatus::Warn => (paint.warn("!"), check.summary.clone()),
            CheckStatus::Fail => (paint.bad("✗"), check.summary.clone()),
            CheckStatus::Skipped => {
                let reason = check.reason.as_deref().unwrap_or("not run");
                let text = if check.summary.is_empty() {
                    format!("skipped: {reason}")
                } else {
                    format!("skipped: {reason} · {}", check.summary)
                };
                (paint.dim("–"), paint.dim(&text))
            }
        };
        writeln!(out, "  {:label_width$}  {mark}  {text}", check.label)?;
    }
    writeln!(out)?;

    let blocking = count(report, Severity::Blocking);
    let warnings = count(report, Severity::Warning);
    let headline = match report.verdict {
        Verdict::Ready => paint.good("READY"),
        Verdict::Blocked => paint.bad("BLOCKED"),
        Verdict::Warnings => paint.warn("WARNINGS"),
    };
    writeln!(
        out,
        "{headline} — {}, {}",
        plural(blocking, "blocking cause"),
        plural(warnings, "warning")
    )?;

    for cause in &report.causes {
        writeln!(out)?;
        let label = cause.severity.label();
        let severity = match cause.severity {
            Severity::Blocking => paint.bad(label),
            Severity::Warning => paint.warn(label),
            Severity::Info => paint.dim(label),
        };
        let ignored = if cause.ignored {
            ", downgraded by --ignore"
        } else {
            ""
        };
        writeln!(
            out,
            "{:>2}. {}  ({severity}, confidence {:.2}{ignored})",
            cause.rank,
            paint.bold(&cause.id),
            cause.confidence
        )?;
        write_wrapped(out, "    ", "    ", &cause.title)?;
        write_wrapped(out, "    ", "    ", &cause.detail)?;
        for (i, line) in cause.evidence.iter().enumerate() {
            let lead = if i == 0 {
                "    evidence: "
            } else {
                "              "
            };
            writeln!(out, "{lead}{line}")?;
        }
        write_wrapped(out, "    fix:      ", "              ", &cause.remedy)?;
    }
    writeln!(out)?;

    writeln!(out, "{}", summary_line(report, exit))
}

/// The one line a log grep or a ticket quotes: verdict, top cause, counts, exit code.
pub fn summary_line(report: &Report, exit: Exit) -> String {
    let tally = |status| report.checks.iter().filter(|c| c.status == status).count();
    format!(
        "SUMMARY: {} · {} · {} passed, {}, {} failed, {} skipped · exit {}",
        verdict_word(report.verdict),
        report.top_cause().map_or("none", |c| c.id.as_str()),
        tally(CheckStatus::Pass),
        plural(tally(CheckStatus::Warn), "warning"),
        tally(CheckStatus::Fail),
        tally(CheckStatus::Skipped),
        exit.code()
    )
}

/// The verdict as the `SUMMARY:` line spells it.
pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ready => "ready",
        Verdict::Blocked => "blocked",
        Verdict::Warnings => "warnings",
    }
}

/// Writes what a run would contact, for `--dry-run`.
pub fn dry_run(
    out: &mut dyn Write,
    plan: &Plan,
    resolver: &ResolverState,
    paint: Painter,
) -> io::Result<()> {
    writeln!(
        out,
        "{} · profile {} · dry run: nothing is contacted",
        paint.bold(&format!(
            "{} {}",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION")
        )),
        plan.profile
    )?;
    writeln!(out)?;
    let resolver_line = match resolver {
        ResolverState::Configured {
            source,
            nameservers,
            ..
        } => format!("to {} (from {source})", nameservers.join(", ")),
        ResolverState::NoNameserver { path } => {
            format!("nowhere: {path} names no nameserver")
        }
        ResolverState::Unreadable { path, error } => format!("nowhere: {path}: {error}"),
    };
    writeln!(
        out,
        "DNS: A and AAAA for {} name(s), UDP/TCP 53 {resolver_line}",
        plan.names.len()
    )?;
    let host_width = plan
        .names
        .iter()
        .map(|n| n.host.as_str().len())
        .max()
        .unwrap_or(0);
    for name in &plan.names {
        let then = if name.ports.is_empty() {
            "no connect".to_string()
        } else {
            format!("then TCP {} to every answer", join_ports(&name.ports))
        };
        writeln!(
            out,
            "  {:host_width$}  {:10}  {then}",
            name.host.as_str(),
            name.role.to_string()
        )?;
    }
    for (whose, proxy) in [
        ("connector (broker channel)", &plan.proxies.connector),
        ("system (control hosts)", &plan.proxies.system),
    ] {
        if let Some(proxy) = proxy {
            writeln!(
                out,
                "TLS via the {whose} proxy {} (from {}){}; CONNECT by IP literal",
                proxy.addr,
                proxy.source,
                if proxy.bypass.is_empty() {
                    String::new()
                } else {
                    format!(", except {}", proxy.bypass.join(", "))
                }
            )?;
        }
    }
    if !plan.tls.ports.is_empty() {
        writeln!(
            out,
            "TLS handshake (no application data) on port(s) {} of every answer",
            join_ports(&plan.tls.ports)
        )?;
    }
    if !plan.udp.ports.is_empty() {
        writeln!(
            out,
            "UDP: one QUIC-shaped datagram on port(s) {} of every answer",
            join_ports(&plan.udp.ports)
        )?;
    }
    if let Some(echo) = plan
        .gateway
        .as_ref()
        .and_then(|g| Some((g.echo.as_ref()?, &g.echo_path)))
    {
        writeln!(
            out,
            "Echo: GET https://{}{} (TCP/443): the address this VM is seen with",
            echo.0, echo.1
        )?;
    }
    if !plan.ntp_servers.is_empty() {
        writeln!(out, "NTP (UDP/123, one SNTP request each):")?;
        for server in &plan.ntp_servers {
            writeln!(
                out,
                "  {:39}  {:?} · {}",
                server.server, server.origin, server.source
            )?;
        }
    }
    if plan.clock.is_some()
        && plan
            .names
            .iter()
            .any(|n| n.role == crate::profile::Role::Control)
    {
        writeln!(
            out,
            "HTTPS HEAD / to the first control host answer, for its Date header (clock estimate)"
        )?;
    }
    if !plan.fixed_targets.is_empty() {
        writeln!(
            out,
            "TCP {} to {} fixed address(es):",
            join_ports(&plan.fixed_ports),
            plan.fixed_targets.len()
        )?;
        for target in &plan.fixed_targets {
            let why = match &target.origin {
                Origin::Published => "published broker address".to_string(),
                Origin::RangeSample { range } => format!("sample of {range}"),
                Origin::User { spec } => format!("--target {spec}"),
                Origin::SavedChain { file } => format!("saved chain {file}"),
                Origin::Name { host, .. } => host.to_string(),
            };
            writeln!(out, "  {:39}  {why}", target.addr.to_string())?;
        }
    }
    writeln!(
        out,
        "Timeouts: {} per probe, {} overall · {} · Zen: {}",
        secs(plan.timeouts.probe_ms),
        secs(plan.timeouts.overall_ms),
        match plan.limits.max_in_flight {
            Some(cap) => format!("at most {cap} in flight (the profile's cap)"),
            None => "as many in flight as the open-file limit allows".into(),
        },
        plan.zen
    )
}

fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(report: &Report, severity: Severity) -> usize {
    report
        .causes
        .iter()
        .filter(|c| c.severity == severity)
        .count()
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn write_wrapped(out: &mut dyn Write, first: &str, rest: &str, text: &str) -> io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(rest);
    for line in textwrap::wrap(text, options) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
