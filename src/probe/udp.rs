//! The UDP probe: one QUIC-shaped datagram, and whether anything answers.
//!
//! Branch and Cloud Connectors tunnel to ZIA over DTLS on UDP/443 and fall back to TLS over
//! TCP/443, so a firewall that drops UDP/443 costs throughput, not connectivity. UDP has no
//! handshake to fail, so the probe sends a datagram a server on UDP/443 answers: a QUIC
//! Initial of 1,200 bytes (servers discard shorter ones, RFC 9000 §14.1) carrying a reserved
//! version of the form 0x?a?a?a?a, which any QUIC server must answer with a Version
//! Negotiation packet (RFC 9000 §6 and §15). No payload, no handshake state, nothing
//! encrypted: the lightest datagram that has a defined answer. Silence is reported as such
//! and never as a block on its own.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::evidence::UdpOutcome;

/// A reserved "greasing" version (RFC 9000 §15): always triggers Version Negotiation.
const GREASE_VERSION: [u8; 4] = [0x1a, 0x2a, 0x3a, 0x4a];

/// The smallest Initial datagram a QUIC server must not discard.
const INITIAL_SIZE: usize = 1200;

/// The datagram: long header, Initial type, the reserved version, fixed connection IDs.
pub fn datagram() -> Vec<u8> {
    let mut packet = Vec::with_capacity(INITIAL_SIZE);
    packet.push(0xc0); // long header, fixed bit, type Initial
    packet.extend_from_slice(&GREASE_VERSION);
    packet.push(8);
    packet.extend_from_slice(b"zpa-pref"); // destination connection ID
    packet.push(8);
    packet.extend_from_slice(b"light-ok"); // source connection ID
    packet.resize(INITIAL_SIZE, 0);
    packet
}

/// Sends the datagram to `addr:port` and waits up to `timeout` for any answer.
pub async fn probe(addr: IpAddr, port: u16, timeout: Duration) -> UdpOutcome {
    let started = Instant::now();
    let elapsed = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let local: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = match UdpSocket::bind(local).await {
        Ok(socket) => socket,
        Err(e) => return classify(&e, elapsed()),
    };
    // Connected: the kernel then reports an ICMP port unreachable as ECONNREFUSED.
    if let Err(e) = socket.connect((addr, port)).await {
        return classify(&e, elapsed());
    }
    if let Err(e) = socket.send(&datagram()).await {
        return classify(&e, elapsed());
    }
    let mut buf = [0u8; 1500];
    match tokio::time::timeout(timeout, socket.recv(&mut buf)).await {
        Ok(Ok(bytes)) => UdpOutcome::Answered {
            ms: elapsed(),
            bytes,
        },
        Ok(Err(e)) => classify(&e, elapsed()),
        Err(_) => UdpOutcome::NoAnswer {
            ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        },
    }
}

fn classify(error: &std::io::Error, ms: u64) -> UdpOutcome {
    const ECONNREFUSED: i32 = 111;
    const EHOSTUNREACH: i32 = 113;
    const ENETUNREACH: i32 = 101;
    match error.raw_os_error() {
        Some(ECONNREFUSED) => UdpOutcome::Refused { ms },
        Some(EHOSTUNREACH | ENETUNREACH) => UdpOutcome::Unreachable {
            detail: error.to_string(),
        },
        _ => UdpOutcome::Other {
            detail: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_datagram_is_a_quic_initial_with_a_reserved_version() {
        let d = datagram();
        assert_eq!(d.len(), 1200);
        assert_eq!(d[0] & 0xc0, 0xc0, "long header with the fixed bit");
        assert_eq!(&d[1..5], &GREASE_VERSION);
        assert!(d[1..5].iter().all(|b| b & 0x0f == 0x0a), "0x?a?a?a?a");
    }

    #[tokio::test]
    async fn answered_refused_and_silent() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let echo = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n.min(16)], from).unwrap();
        });
        let t = Duration::from_millis(500);
        let local = IpAddr::from([127, 0, 0, 1]);
        assert!(matches!(
            probe(local, port, t).await,
            UdpOutcome::Answered { bytes: 16, .. }
        ));
        echo.join().unwrap();
        // Nothing bound there now: the kernel answers with ICMP port unreachable.
        assert!(matches!(
            probe(local, port, t).await,
            UdpOutcome::Refused { .. }
        ));
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        assert!(matches!(
            probe(local, port, Duration::from_millis(100)).await,
            UdpOutcome::NoAnswer { .. }
        ));
    }
}
