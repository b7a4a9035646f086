//! Ctrl-C, SIGTERM (systemd stopping a gate) and SIGHUP: stop probing, keep what was seen.
//!
//! The signals are listened to on a thread of their own for the life of the process, so that
//! one arriving between two gate attempts is not lost. The first one stops the probes (every
//! probe runs within [`crate::probe::Stop`]) and the partial report is still written and
//! printed, its verdict never "ready", with the exit code 128 + the signal's number; a
//! second Ctrl-C exits at once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use tokio::sync::watch;

/// The first signal received, 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

static STOP: OnceLock<watch::Receiver<bool>> = OnceLock::new();

/// Starts listening (once), and returns what turns true on the first signal.
pub fn listen() -> watch::Receiver<bool> {
    STOP.get_or_init(|| {
        let (tx, rx) = watch::channel(false);
        let started = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(wait(tx));
            });
        // Without the thread the run simply cannot be interrupted gracefully; it still runs.
        drop(started);
        rx
    })
    .clone()
}

async fn wait(tx: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let first = tokio::select! {
        _ = int.recv() => 2,
        _ = term.recv() => 15,
        _ = hup.recv() => 1,
    };
    RECEIVED.store(first, Ordering::SeqCst);
    let _ = tx.send(true);
    // A second Ctrl-C means now.
    int.recv().await;
    std::process::exit(130);
}

/// The signal that interrupted the run, if one did: (number, name).
pub fn received() -> Option<(u8, &'static str)> {
    match RECEIVED.load(Ordering::SeqCst) {
        2 => Some((2, "SIGINT")),
        15 => Some((15, "SIGTERM")),
        1 => Some((1, "SIGHUP")),
        _ => None,
    }
}
