//! The live progress display: on a terminal, one line per probe family that counts up while
//! the probes run, erased before the report is printed. Never used when output is piped.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::plan::Plan;
use crate::probe::Progress;

/// How often the lines are redrawn.
const TICK: Duration = Duration::from_millis(100);

/// A running display; `finish` erases it.
pub struct Display {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

/// Starts drawing `progress` against what `plan` will do.
pub fn start(plan: &Plan, progress: Arc<Progress>) -> Display {
    let names = plan.names.len();
    let servers = plan.ntp_servers.len();
    let (tls, clock) = (!plan.tls.ports.is_empty(), plan.clock.is_some());
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut err = std::io::stderr().lock();
        let mut drawn = 0;
        loop {
            let mut lines = vec![
                format!(
                    "  DNS      {}/{names} names",
                    progress.names.load(Ordering::Relaxed)
                ),
                format!(
                    "  TCP      {} connects",
                    progress.connects.load(Ordering::Relaxed)
                ),
            ];
            if tls {
                let done = progress.handshakes.load(Ordering::Relaxed);
                lines.push(format!("  TLS      {done} handshakes"));
            }
            if clock {
                let done = progress.time_servers.load(Ordering::Relaxed);
                lines.push(format!("  Clock    {done}/{servers} time servers"));
            }
            erase(&mut err, drawn);
            for line in &lines {
                let _ = writeln!(err, "{line} …");
            }
            drawn = lines.len();
            let _ = err.flush();
            if stopped.load(Ordering::Relaxed) {
                return drawn;
            }
            std::thread::sleep(TICK);
        }
    });
    Display { stop, thread }
}

impl Display {
    /// Stops drawing and erases the lines.
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let drawn = self.thread.join().unwrap_or(0);
        let mut err = std::io::stderr().lock();
        erase(&mut err, drawn);
        let _ = err.flush();
    }
}

/// Moves up over `lines` lines and clears them.
fn erase(out: &mut impl Write, lines: usize) {
    for _ in 0..lines {
        let _ = write!(out, "\x1b[1A\x1b[2K");
    }
}
