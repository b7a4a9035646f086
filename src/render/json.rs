//! JSON output: the report document itself, and the dry-run plan.

use std::io::{self, Write};

use serde::Serialize;

use crate::evidence::ResolverState;
use crate::plan::Plan;
use crate::report::Report;

/// Writes the report, pretty-printed, with a final newline.
pub fn report(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// What `check --dry-run --format json` prints: the plan and where DNS questions would go.
#[derive(Serialize)]
struct DryRun<'a> {
    dry_run: bool,
    resolver: &'a ResolverState,
    plan: &'a Plan,
}

/// Writes the dry-run plan.
pub fn dry_run(out: &mut dyn Write, plan: &Plan, resolver: &ResolverState) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &DryRun {
            dry_run: true,
            resolver,
            plan,
        },
    )?;
    writeln!(out)
}
