//! `explain`: a saved report (or the one inside a bundle) judged again offline; several, or a
//! folder of them, summarised as a fleet; or, with `--chain`, a saved certificate chain.

use std::path::{Path, PathBuf};

use super::output::{emit, print};
use crate::cli::{ExplainArgs, FLEET_FORMATS, ReportFormat};
use crate::error::{Error, InputError};
use crate::exit::Exit;
use crate::render;
use crate::report::Report;

/// Runs `explain`.
pub fn run(args: &ExplainArgs) -> Result<Exit, Error> {
    if let Some(file) = &args.chain {
        let report = super::explain_chain::judge(file, args)?;
        return emit(&report, &args.judge, &args.show);
    }
    if let [single] = args.reports.as_slice()
        && !single.is_dir()
    {
        let report = load(single)?.rejudge(&args.judge.ignore);
        return emit(&report, &args.judge, &args.show);
    }
    // A folder is a fleet: refused in a report-only format before any report is read.
    if matches!(
        args.show.format,
        ReportFormat::Markdown | ReportFormat::Prometheus
    ) {
        return Err(Error::Usage(FLEET_FORMATS.into()));
    }
    let mut reports = Vec::new();
    for path in fleet_paths(&args.reports)? {
        // A file name is anybody's text: printable before it reaches the summary.
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let mut report = load(&path)?.rejudge(&args.judge.ignore);
        // The host name a report records is anybody's text too.
        report.evidence.machine.hostname = report
            .evidence
            .machine
            .hostname
            .map(|h| render::printable(&h).into_owned());
        reports.push((render::printable(&name).into_owned(), report));
    }
    let fleet = crate::fleet::summarize(&reports);
    print(|out| match args.show.format {
        ReportFormat::Json => render::fleet::json(out, &fleet),
        _ => render::fleet::human(out, &fleet),
    })?;
    Ok(Exit::from_verdict(fleet.verdict(), args.judge.strict))
}

/// Every report given, folders expanded to their reports (`*.json`) and bundles (`*.gz`),
/// in name order.
fn fleet_paths(given: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut paths = Vec::new();
    for path in given {
        if !path.is_dir() {
            paths.push(path.clone());
            continue;
        }
        let mut found: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| InputError::Read {
                file: path.display().to_string(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "gz"))
            .collect();
        found.sort();
        // An empty folder is no fleet: "0 connectors, none blocked" would be a pass.
        if found.is_empty() {
            return Err(InputError::invalid(
                path.display().to_string(),
                "holds no report (*.json) or bundle (*.gz): nothing to explain",
            )
            .into());
        }
        paths.extend(found);
    }
    Ok(paths)
}

/// A saved report, or the report inside a support bundle.
fn load(path: &Path) -> Result<Report, Error> {
    Ok(crate::bundle::load_any(path)?)
}
