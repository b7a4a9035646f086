//! JSON output: the report document itself, and the dry-run plan.

use std::io::{self, Write};

use serde::Serialize;

use crate::evidence::ResolverState;
use crate::plan::Plan;
use crate::plan::schedule::{Action, Step, preview};
use crate::report::Report;

/// Every JSON document the tool prints but the report (which carries its own
/// `schema_version`): the same version, and what kind of document it is, then its fields. A
/// consumer can tell a `causes` list from a fleet summary, and an old shape from a new one.
#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema_version: &'static str,
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes `body` as the `kind` document: `schema_version`, `kind`, then its own fields.
pub fn document<T: Serialize>(out: &mut dyn Write, kind: &'static str, body: &T) -> io::Result<()> {
    let doc = Document {
        schema_version: crate::report::SCHEMA_VERSION,
        kind,
        body,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

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
    /// The schedule's first steps, as the run would take them.
    schedule: Vec<Step>,
    /// What every answer of each name would get.
    each_answer: Vec<EachAnswer>,
    /// What a handshake TCP reaches but something cuts off gets: one follow-up per change.
    follow_ups_when_cut_off: &'static [crate::plan::schedule::Change],
}

#[derive(Serialize)]
struct EachAnswer {
    host: String,
    actions: Vec<Action>,
}

/// Writes the dry-run plan.
pub fn dry_run(out: &mut dyn Write, plan: &Plan, resolver: &ResolverState) -> io::Result<()> {
    let (schedule, each) = preview(plan);
    let dry = DryRun {
        dry_run: true,
        resolver,
        plan,
        schedule,
        each_answer: plan
            .names
            .iter()
            .zip(each)
            .map(|(name, actions)| EachAnswer {
                host: name.host.to_string(),
                actions,
            })
            .collect(),
        follow_ups_when_cut_off: if plan.tls.ports.is_empty() {
            &[]
        } else {
            &crate::plan::schedule::Change::ALL
        },
    };
    document(out, "dry_run", &dry)
}
