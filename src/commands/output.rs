//! What every command that shows a report shares: the report on stdout in the format asked
//! for, the JSON copy written atomically, colour when a terminal wants it.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::cli::{JudgeArgs, ReportFormat, ShowArgs};
use crate::error::Error;
use crate::exit::Exit;
use crate::render::{self, Painter};
use crate::report::Report;

/// Prints `report` as `show` asks, writes `--output`, and returns the verdict's exit.
pub fn emit(report: &Report, judge: &JudgeArgs, show: &ShowArgs) -> Result<Exit, Error> {
    // A report that cannot be saved is still shown: the run is not lost, and the exit says
    // the tool failed (one line on stderr, from main).
    let saved = match &judge.output {
        Some(path) => write_report(path, report),
        None => Ok(()),
    };
    let exit = Exit::from_verdict(report.verdict, judge.strict);
    // Buffered: stdout is line-buffered, and a report of thousands of probes is tens of
    // thousands of lines (one write each, measured at 40 ms for 2,000 probes).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match show.format {
        // Text for people gets every field made printable first: a saved report, a profile
        // or a file name under --root is anybody's text. JSON escapes on its own.
        ReportFormat::Human => render::human::report(
            &mut out,
            &render::printable_value(report),
            exit,
            painter(show),
        ),
        ReportFormat::Json => render::json::report(&mut out, report),
        ReportFormat::Markdown => {
            render::markdown::report(&mut out, &render::printable_value(report), exit)
        }
        ReportFormat::Prometheus => {
            render::prometheus::report(&mut out, &render::printable_value(report))
        }
    }
    .and_then(|()| out.flush());
    // A reader that went away (`check | head`) does not change the answer: the verdict's code
    // stands, and --output was written in full before stdout.
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.map_err(stdout_error)?,
    }
    saved.map(|()| exit)
}

/// Writes the JSON report to `path`: atomic, so a full disk or a failed attempt never leaves
/// a truncated report or empties a good one; owner-only, since a report names the site's
/// hosts and addresses.
pub fn write_report(path: &Path, report: &Report) -> Result<(), Error> {
    crate::files::write_atomic(path, 0o600, |out| render::json::report(out, report)).map_err(
        |source| Error::Write {
            path: path.display().to_string(),
            source,
        },
    )
}

/// Colour as `--color`, `NO_COLOR` and the terminal say.
pub fn painter(show: &ShowArgs) -> Painter {
    let no_color = std::env::var_os("NO_COLOR");
    Painter::new(show.color.enabled(
        std::io::stdout().is_terminal(),
        no_color.as_deref(),
        std::env::var_os("TERM").as_deref(),
    ))
}

/// A failed write to standard output.
pub fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}

/// Writes what `print` prints to standard output, locked.
pub fn print(print: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    print(&mut out).map_err(stdout_error)
}
