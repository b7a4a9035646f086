//! An SNTP responder on loopback with a scripted clock: a chosen offset, a kiss-o'-death, a
//! malformed packet, or silence. chronyd (the lab's real server) cannot send the last three.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP era (1900) to the Unix epoch.
const NTP_UNIX_DELTA: f64 = 2_208_988_800.0;

/// How the responder answers.
#[derive(Clone, Copy)]
pub enum Sntp {
    /// A stratum-2 answer whose clock is `offset` seconds ahead of ours.
    Offset(f64),
    /// A kiss-o'-death (stratum 0, code RATE).
    KissOfDeath,
    /// 20 bytes of nothing in particular.
    Malformed,
    /// Never answers.
    Silent,
}

/// The running responder, stopped on drop.
pub struct SntpServer {
    /// Its address.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SntpServer {
    /// Starts one on 127.0.0.1.
    pub fn start(mode: Sntp) -> SntpServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if n < 48 {
                    continue;
                }
                let reply = match mode {
                    Sntp::Silent => continue,
                    Sntp::Malformed => vec![0x1c; 20],
                    Sntp::KissOfDeath => packet(&buf[40..48], 0.0, 0, *b"RATE"),
                    Sntp::Offset(offset) => packet(&buf[40..48], offset, 2, *b"LOCL"),
                };
                let _ = socket.send_to(&reply, peer);
            }
        });
        SntpServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SntpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An NTPv4 server reply (RFC 5905 §7.3) echoing the client's transmit time as its origin.
fn packet(client_transmit: &[u8], offset: f64, stratum: u8, refid: [u8; 4]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + offset;
    let stamp = ntp_timestamp(now);
    let mut p = vec![0u8; 48];
    p[0] = (4 << 3) | 4; // LI 0, version 4, mode 4 (server)
    p[1] = stratum;
    p[2] = 4; // poll
    p[3] = 0xec; // precision
    p[12..16].copy_from_slice(&refid);
    p[16..24].copy_from_slice(&stamp); // reference
    p[24..32].copy_from_slice(client_transmit); // origin
    p[32..40].copy_from_slice(&stamp); // receive
    p[40..48].copy_from_slice(&stamp); // transmit
    p
}

fn ntp_timestamp(unix: f64) -> [u8; 8] {
    let ntp = unix + NTP_UNIX_DELTA;
    let secs = ntp.trunc() as u32;
    let frac = (ntp.fract() * 4_294_967_296.0) as u32;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&secs.to_be_bytes());
    out[4..].copy_from_slice(&frac.to_be_bytes());
    out
}
