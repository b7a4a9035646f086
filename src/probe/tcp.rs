//! The TCP probe: one connect, under a timeout, classified.
//!
//! Only the three-way handshake is performed; the socket is closed at once and no byte is sent,
//! so a probe is as light as a port scan of one port. The OS error is mapped to
//! [`TcpOutcome`] here and only here: a silent drop, a RST, an ICMP reject, a missing route and
//! a local policy denial are different causes with different fixes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::evidence::TcpOutcome;

/// Connects to `addr` and reports how it went.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> TcpOutcome {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, TcpStream::connect(addr)).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(Ok(_stream)) => TcpOutcome::Connected { ms },
        Ok(Err(e)) => classify(&e, ms),
        Err(_) => TcpOutcome::TimedOut {
            ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        },
    }
}

/// Maps a connect error to an outcome by errno, which is stabler than `ErrorKind` across
/// platforms and Rust versions for the cases that matter here.
fn classify(error: &std::io::Error, ms: u64) -> TcpOutcome {
    const ECONNREFUSED: i32 = 111;
    const EHOSTUNREACH: i32 = 113;
    const ENETUNREACH: i32 = 101;
    const EPERM: i32 = 1;
    const EACCES: i32 = 13;
    const ETIMEDOUT: i32 = 110;
    match error.raw_os_error() {
        Some(ECONNREFUSED) => TcpOutcome::Refused { ms },
        Some(EHOSTUNREACH) => TcpOutcome::HostUnreachable { ms },
        Some(ENETUNREACH) => TcpOutcome::NoRoute { ms },
        Some(EPERM | EACCES) => TcpOutcome::PermissionDenied {
            detail: error.to_string(),
        },
        // The kernel gave up on SYN retries before our timeout: still a silent drop.
        Some(ETIMEDOUT) => TcpOutcome::TimedOut { ms },
        _ => TcpOutcome::Other {
            detail: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Error;

    #[test]
    fn errno_classification() {
        let cases = [
            (111, "refused"),
            (113, "host_unreachable"),
            (101, "no_route"),
            (1, "permission_denied"),
            (13, "permission_denied"),
            (110, "timed_out"),
            (22, "other"),
        ];
        for (errno, kind) in cases {
            assert_eq!(
                classify(&Error::from_raw_os_error(errno), 5).kind(),
                kind,
                "errno {errno}"
            );
        }
    }

    #[tokio::test]
    async fn loopback_listener_and_closed_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let t = Duration::from_secs(2);
        assert!(connect(open, t).await.connected());
        assert_eq!(connect(closed, t).await.kind(), "refused");
    }
}
