//! How many probes may be in flight at once: as many as this process may open files.
//!
//! A dropped SYN is only ever answered by the probe timeout, so a blackholed network costs one
//! timeout per *wave* of probes. A fixed cap of 64 made a 2,000-probe audit 32 waves long and
//! left most of it "not run" at the deadline (issue 12's measurements). The real limit is the
//! number of sockets the process may hold: the soft `RLIMIT_NOFILE`, which is raised here to
//! the hard limit (an unprivileged process may do so; it changes nothing outside this
//! process), less a margin for the resolver, the trust stores and the files the host checks
//! read. A profile may still set a lower cap (`[limits] max_in_flight`).

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors kept back from the probes: stdio, the resolver's sockets, the runtime's own,
/// the trust store and log files the host checks open.
const MARGIN: u64 = 64;

/// The fewest probes in flight, whatever the limits say.
const FLOOR: usize = 8;

/// How many probes may run at once, and why that many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Probes in flight at once.
    pub in_flight: usize,
    /// The soft open-file limit it was derived from, after raising it.
    pub open_files: u64,
}

/// Raises the soft open-file limit to the hard one and sizes the probes from it, capped by
/// `cap` when the profile sets one.
pub fn size(cap: Option<usize>) -> Capacity {
    let open_files = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(_) => soft,
        },
        Ok((soft, _)) => soft,
        // Unknowable: assume the common default.
        Err(_) => 1024,
    };
    Capacity {
        in_flight: from_limit(open_files, cap),
        open_files,
    }
}

/// The probes a limit of `open_files` descriptors allows, capped by `cap`.
fn from_limit(open_files: u64, cap: Option<usize>) -> usize {
    let allowed = usize::try_from(open_files.saturating_sub(MARGIN)).unwrap_or(usize::MAX);
    // tokio's semaphore holds at most usize::MAX >> 3 permits.
    let allowed = allowed.clamp(FLOOR, usize::MAX >> 3);
    cap.map_or(allowed, |cap| cap.clamp(1, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_from_the_open_file_limit() {
        let cases = [
            (1024, None, 960),
            (1024, Some(64), 64),
            (1024, Some(100_000), 960),
            (20_000, None, 19_936),
            (40, None, FLOOR),
            (u64::MAX, None, usize::MAX >> 3),
            (1024, Some(0), 1),
        ];
        for (limit, cap, expected) in cases {
            assert_eq!(from_limit(limit, cap), expected, "{limit} {cap:?}");
        }
    }

    #[test]
    fn raising_never_lowers() {
        let (before, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let capacity = size(None);
        assert!(capacity.open_files >= before);
        assert!(capacity.in_flight >= FLOOR);
    }
}
