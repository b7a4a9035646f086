//! `check`: probe once, judge, show; or, with `--dry-run`, show the plan and contact nothing.

use std::io::IsTerminal;

use super::output::{emit, painter, print};
use super::runtime::{interrupted_or, probe_once};
use crate::cli::{CheckArgs, ReportFormat};
use crate::error::Error;
use crate::exit::Exit;
use crate::render;

/// Runs `check`.
pub fn run(args: &CheckArgs) -> Result<Exit, Error> {
    let prepared = crate::config::prepare(&args.probe, &args.judge.ignore)?;
    if args.dry_run {
        let plan = &prepared.plan;
        let (resolver, _) = crate::probe::dns::configuration(&plan.resolver);
        // Markdown and Prometheus were refused before anything was read (cli::validate).
        print(|out| match args.show.format {
            ReportFormat::Json => render::json::dry_run(out, plan, &resolver),
            _ => render::human::dry_run(
                out,
                &render::printable_value(plan),
                &resolver,
                painter(&args.show),
            ),
        })?;
        return Ok(Exit::Ready);
    }
    // On a terminal only: piped output and automation get nothing but the report.
    // The live display moves the cursor: never on a terminal that cannot (TERM=dumb).
    let live = args.show.format == ReportFormat::Human
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    emit(&probe_once(&prepared, live)?, &args.judge, &args.show).map(interrupted_or)
}
