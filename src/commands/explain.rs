//! `explain`: a saved report (or the one inside a bundle) judged again offline; several, or a
//! folder of them, summarised as a fleet; or, with `--chain`, a saved certificate chain.

use std::path::Path;

use super::output::{emit, print};
use crate::cli::{ExplainArgs, FLEET_FORMATS, ReportFormat};
use crate::error::Error;
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
    for path in crate::bundle::reports_in(&args.reports)? {
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

/// A saved report, or the report inside a support bundle.
fn load(path: &Path) -> Result<Report, Error> {
    Ok(crate::bundle::load_any(path)?)
}
