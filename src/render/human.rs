//! The human report: checks, the verdict, ranked causes with evidence and fix, and one
//! `SUMMARY:` line at the end that a log grep or a ticket can quote.

use std::io::{self, Write};

use super::Painter;
use crate::diagnose::{CheckStatus, Severity, Verdict};
use crate::evidence::{ResolverState, secs};
use crate::exit::Exit;
use crate::plan::schedule::{Action, Step, preview};
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
            // Wrapped like the prose, continuation lines indented one step further so each
            // observation still reads as one; a fingerprint or path is never split.
            let options = textwrap::Options::new(WIDTH)
                .initial_indent(lead)
                .subsequent_indent("                ")
                .break_words(false);
            for part in textwrap::wrap(line, options) {
                writeln!(out, "{part}")?;
            }
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
    // Everything below is the schedule the run would follow, not a description of it.
    let (start, each) = preview(plan);
    for (name, actions) in plan.names.iter().zip(&each) {
        writeln!(
            out,
            "  {:host_width$}  {:10}  {}",
            name.host.as_str(),
            name.role.to_string(),
            each_answer(actions)
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
    // One line per fixed address: its steps, in the schedule's order.
    // Looked up, not searched: an audit of a large feed has one address per range.
    let mut fixed: Vec<(std::net::IpAddr, String, Vec<String>)> = Vec::new();
    let mut index: std::collections::HashMap<std::net::IpAddr, usize> =
        std::collections::HashMap::new();
    let mut on = |addr: std::net::IpAddr, origin: &Origin, what: String| match index.get(&addr) {
        Some(&at) => fixed[at].2.push(what),
        None => {
            index.insert(addr, fixed.len());
            fixed.push((addr, origin_label(origin), vec![what]));
        }
    };
    let mut ntp = Vec::new();
    for step in &start {
        match step {
            Step::Connect {
                addr, port, origin, ..
            } => on(*addr, origin, format!("TCP {port}")),
            Step::Datagram { addr, port, origin } => on(*addr, origin, format!("UDP {port}")),
            Step::Handshake { tls } => on(
                tls.addr,
                &tls.origin,
                format!(
                    "TLS {} (SNI {}){}",
                    tls.port,
                    tls.sni,
                    via_label(tls.via.as_ref())
                ),
            ),
            Step::Sntp { server } => ntp.push(format!(
                "  {:39}  {:?} · {}",
                server.server, server.origin, server.source
            )),
            Step::DebugPort { addr } => writeln!(
                out,
                "Connector debug interface: TCP {addr} on this VM (counted only if the connector runs)"
            )?,
            Step::Echo { host, path, via } => writeln!(
                out,
                "Echo: GET https://{host}{path} (TCP/443){}: the address this VM is seen with",
                via_label(via.as_ref())
            )?,
            // Follow-ups exist only after a failure; a dry run has none.
            Step::Resolve { .. } | Step::Date { .. } | Step::FollowUp { .. } => {}
        }
    }
    if !ntp.is_empty() {
        writeln!(
            out,
            "NTP (UDP/123, one SNTP request each):\n{}",
            ntp.join("\n")
        )?;
    }
    if !fixed.is_empty() {
        writeln!(
            out,
            "{} fixed address(es), probed while DNS is asked:",
            fixed.len()
        )?;
        for (addr, origin, parts) in &fixed {
            writeln!(
                out,
                "  {:39}  {} · {origin}",
                addr.to_string(),
                parts.join(", ")
            )?;
        }
    }
    if !plan.tls.ports.is_empty() {
        let changes: Vec<String> = crate::plan::schedule::Change::ALL
            .iter()
            .map(|c| c.label())
            .collect();
        writeln!(
            out,
            "A handshake TCP reaches but something cuts off is followed up, once per name, on \
             the same address and port: {}.",
            changes.join(", ")
        )?;
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

/// What every answer of a name gets, from the schedule's actions.
fn each_answer(actions: &[Action]) -> String {
    let (mut tcp, mut udp) = (Vec::new(), Vec::new());
    for action in actions {
        if let Action::Connect { port, datagram } = action {
            tcp.push(*port);
            if *datagram {
                udp.push(*port);
            }
        }
    }
    if tcp.is_empty() {
        return "no connect".into();
    }
    let mut parts = vec![format!("then TCP {} to every answer", join_ports(&tcp))];
    if !udp.is_empty() {
        parts.push(format!("UDP {} datagram", join_ports(&udp)));
    }
    for action in actions {
        match action {
            Action::Handshake(tls) => parts.push(format!(
                "TLS {} ({} chain){}",
                tls.port,
                format!("{:?}", tls.class).to_lowercase(),
                via_label(tls.via.as_ref())
            )),
            Action::Date(tls) => parts.push(format!(
                "HTTPS Date on {} (the clock's fallback, first answer)",
                tls.port
            )),
            Action::Connect { .. } => {}
        }
    }
    parts.join(" · ")
}

fn via_label(via: Option<&crate::plan::proxy::Proxy>) -> String {
    via.map(|p| format!(" via proxy {}", p.addr))
        .unwrap_or_default()
}

fn origin_label(origin: &Origin) -> String {
    match origin {
        Origin::Published => "published broker address".to_string(),
        Origin::RangeSample { range } => format!("sample of {range}"),
        Origin::User { spec } => format!("--target {spec}"),
        Origin::SavedChain { file } => format!("saved chain {file}"),
        Origin::Name { host, .. } => host.to_string(),
    }
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
