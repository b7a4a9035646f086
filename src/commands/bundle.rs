//! `bundle`: one run, packed with the configuration and logs support needs; one line out.

use super::output::{print, write_report};
use super::runtime::{interrupted_or, probe_once};
use crate::cli::BundleArgs;
use crate::error::Error;
use crate::exit::Exit;

/// Runs `bundle`.
pub fn run(args: &BundleArgs) -> Result<Exit, Error> {
    let prepared = crate::config::prepare(&args.probe, &args.judge.ignore)?;
    let report = probe_once(&prepared, false)?;
    let written = crate::bundle::write(
        &args.out,
        &report,
        &args.probe.root,
        args.log_lines,
        args.redact,
    )
    .map_err(|source| Error::Write {
        path: args.out.display().to_string(),
        source,
    })?;
    // --output means what it means for check: the JSON report, there too.
    if let Some(path) = &args.judge.output {
        write_report(path, &report)?;
    }
    let exit = interrupted_or(Exit::from_verdict(report.verdict, args.judge.strict));
    print(|out| {
        writeln!(
            out,
            "wrote {} ({} files, no provision key) · {} · exit {}",
            args.out.display(),
            written.len(),
            crate::render::human::verdict_word(report.verdict),
            exit.code()
        )
    })?;
    Ok(exit)
}
