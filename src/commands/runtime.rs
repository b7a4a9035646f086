//! One run of the probes: the async runtime, the live display, the signals, the report.

use std::time::Instant;

use chrono::Utc;

use crate::config::Prepared;
use crate::error::Error;
use crate::exit::Exit;
use crate::report::Report;

/// Runs every probe once and judges the result; with `live`, a progress display on stderr.
pub fn probe_once(prepared: &Prepared, live: bool) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let started_at = Utc::now();
    let clock = Instant::now();
    let progress = std::sync::Arc::new(crate::probe::Progress::default());
    let display = live.then(|| crate::render::progress::start(&prepared.plan, progress.clone()));
    let stop = crate::interrupt::listen();
    let mut evidence = runtime.block_on(crate::probe::run(
        &prepared.plan,
        &prepared.anchors,
        &progress,
        stop,
    ));
    evidence.interrupted = crate::interrupt::received().map(|(_, name)| name.to_string());
    if let Some(display) = display {
        display.finish();
    }
    let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Do not wait for resolver background tasks: everything we need is in the evidence.
    runtime.shutdown_background();
    Ok(Report::new(evidence, started_at, duration_ms))
}

/// The exit a finished run earned, or the interruption's when a signal stopped it.
pub fn interrupted_or(exit: Exit) -> Exit {
    match crate::interrupt::received() {
        Some((signal, _)) => Exit::Interrupted(signal),
        None => exit,
    }
}
