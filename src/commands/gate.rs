//! `gate`: the checks again and again until the VM is ready or the wait is over. One plain
//! line per attempt, never colour, the JSON report written to `--report` every time.

use std::io::Write;
use std::time::{Duration, Instant};

use super::output::{stdout_error, write_report};
use super::runtime::{interrupted_or, probe_once};
use crate::cli::GateArgs;
use crate::error::Error;
use crate::exit::Exit;

/// Runs `gate`.
pub fn run(args: &GateArgs) -> Result<Exit, Error> {
    let prepared = crate::config::prepare(&args.probe, &args.judge.ignore)?;
    // The default report directory (/var/log/zpa-preflight) does not exist on a fresh VM.
    if let Some(dir) = args.report.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let report = probe_once(&prepared, false)?;
        write_report(&args.report, &report)?;
        // --output means what it means for check: also write the report there.
        if let Some(path) = &args.judge.output {
            write_report(path, &report)?;
        }
        let exit = interrupted_or(Exit::from_verdict(report.verdict, args.judge.strict));
        let elapsed = started.elapsed();
        let next = args.interval.min(args.wait.saturating_sub(elapsed));
        let done = exit == Exit::Ready
            || matches!(exit, Exit::Interrupted(_))
            || elapsed + args.interval > args.wait;
        let tail = if done {
            format!("report {} · exit {}", args.report.display(), exit.code())
        } else {
            format!("next in {}", humantime::format_duration(round(next)))
        };
        writeln!(
            out,
            "zpa-preflight gate: attempt {attempt} · {} · {} · {} · {tail}",
            crate::render::human::verdict_word(report.verdict),
            report.top_cause().map_or("none", |c| c.id.as_str()),
            crate::evidence::secs(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        )
        .map_err(stdout_error)?;
        if done {
            return Ok(exit);
        }
        // A signal during the pause ends the gate at once, with the last report kept.
        if let Some((signal, name)) = pause(next) {
            writeln!(
                out,
                "zpa-preflight gate: interrupted ({name}) · report {} · exit {}",
                args.report.display(),
                Exit::Interrupted(signal).code()
            )
            .map_err(stdout_error)?;
            return Ok(Exit::Interrupted(signal));
        }
    }
}

/// Waits `span`, or until a signal arrives (returned).
fn pause(span: Duration) -> Option<(u8, &'static str)> {
    let resume = Instant::now() + span;
    while Instant::now() < resume {
        if let Some(signal) = crate::interrupt::received() {
            return Some(signal);
        }
        std::thread::sleep(Duration::from_millis(50).min(resume - Instant::now()));
    }
    None
}

/// Whole seconds (or milliseconds below one), for messages.
fn round(d: Duration) -> Duration {
    if d.as_secs() > 0 {
        Duration::from_secs(d.as_secs())
    } else {
        Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_shown_in_whole_seconds_or_milliseconds() {
        for (ms, shown) in [
            (15_400, "15s"),
            (999, "999ms"),
            (0, "0s"),
            (61_000, "1m 1s"),
        ] {
            let d = round(Duration::from_millis(ms));
            assert_eq!(humantime::format_duration(d).to_string(), shown, "{ms}");
        }
    }
}
