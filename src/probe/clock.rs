//! The clock probe: which servers this VM is configured to ask, which daemon keeps its time,
//! what the kernel says, and what SNTP servers and HTTPS `Date` headers say the time is.
//!
//! Files are read under `--root` (chrony.conf, ntp.conf, timesyncd.conf, the daemons'
//! binaries); processes and the kernel only when `--root` is `/`, since another root is another
//! system. SNTP goes through rsntp to addresses our own resolver found, so a server name never
//! leaks to another resolver. Nothing is ever set: adjtimex is called with `modes = 0`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use rsntp::{AsyncSntpClient, ProtocolError, SynchronizationError};

use crate::evidence::{Daemon, DateOutcome, DateSample, KernelClock, NtpOutcome, NtpSample};
use crate::plan::NtpServerPlan;
use crate::probe::dns::Dns;
use crate::profile::Hostname;

/// Where each time daemon keeps its configuration and binary (RHEL, Amazon Linux, Debian).
const CONFIG_FILES: &[&str] = crate::vm::NTP_CONFIGS;
/// (daemon, binaries under root, its process name as /proc/*/comm shows it: 15 chars).
const DAEMONS: &[(&str, &[&str], &str)] = &[
    ("chronyd", crate::vm::CHRONYD, "chronyd"),
    ("ntpd", crate::vm::NTPD, "ntpd"),
    ("systemd-timesyncd", crate::vm::TIMESYNCD, "systemd-timesyn"),
];

/// The servers the VM's time daemons are configured with: `(server, file)`.
pub fn configured_servers(root: &Path) -> Vec<(String, String)> {
    let mut servers = Vec::new();
    for rel in CONFIG_FILES {
        let Ok(text) = super::rootfs::RootFs::new(root).read(rel, super::rootfs::CONFIG_CAP) else {
            continue;
        };
        let file = format!("/{rel}");
        for server in parse_config(&text) {
            if !servers.iter().any(|(s, _)| *s == server) {
                servers.push((server, file.clone()));
            }
        }
    }
    servers
}

/// `server X` / `pool X` lines (chrony, ntpd) and `NTP=` / `FallbackNTP=` (timesyncd).
pub fn parse_config(text: &str) -> Vec<String> {
    let mut servers = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("server" | "pool" | "peer") => servers.extend(words.next().map(str::to_string)),
            Some(first) => {
                if let Some(list) = first
                    .strip_prefix("NTP=")
                    .or_else(|| first.strip_prefix("FallbackNTP="))
                {
                    servers.extend(
                        std::iter::once(list)
                            .chain(words)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string),
                    );
                }
            }
            None => {}
        }
    }
    servers
}

/// The time daemons installed under `root`, and (root `/` only) whether they run.
pub fn daemons(root: &Path) -> Vec<Daemon> {
    let live = root == Path::new("/");
    let running = if live {
        super::process_names()
    } else {
        Vec::new()
    };
    DAEMONS
        .iter()
        .map(|(name, binaries, comm)| Daemon {
            name: (*name).into(),
            installed: binaries.iter().any(|b| root.join(b).exists()),
            running: live.then(|| running.iter().any(|c| c == comm)),
        })
        .collect()
}

/// The kernel's clock discipline state, read-only; only for this very system.
pub fn kernel(root: &Path) -> KernelClock {
    if root != Path::new("/") {
        return KernelClock::Skipped {
            reason: "--root is another system: its kernel is not this one".into(),
        };
    }
    match adjtimex_read() {
        Ok((state, status, maxerror, esterror)) => kernel_state(state, status, maxerror, esterror),
        Err(e) => KernelClock::Skipped {
            reason: format!("adjtimex failed: {e}"),
        },
    }
}

/// Interprets adjtimex's return value and fields (pure, tested on recorded values).
pub fn kernel_state(state: i32, status: i32, maxerror_us: i64, esterror_us: i64) -> KernelClock {
    const TIME_ERROR: i32 = 5;
    const STA_UNSYNC: i32 = 0x0040;
    KernelClock::Read {
        synchronised: state != TIME_ERROR && status & STA_UNSYNC == 0,
        maxerror_us,
        esterror_us,
    }
}

/// adjtimex(2) with `modes = 0`: reads, never adjusts; any user may call it.
#[allow(unsafe_code)]
fn adjtimex_read() -> io::Result<(i32, i32, i64, i64)> {
    // SAFETY: `timex` is plain old data for which all-zero is valid (modes = 0 asks for a
    // read), and the pointer is to a live, exclusively borrowed value for the whole call.
    // nix offers no wrapper for adjtimex.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok((state, tx.status, tx.maxerror, tx.esterror))
}

/// Resolves `server` through our resolver and asks it for the time.
pub async fn sntp(server: &NtpServerPlan, dns: &Dns, timeout: Duration) -> NtpSample {
    let (host, port) = crate::plan::split_ntp_server(&server.server);
    let mut sample = NtpSample {
        server: server.server.clone(),
        origin: server.origin,
        source: server.source.clone(),
        addr: None,
        outcome: NtpOutcome::Unresolvable,
    };
    let ip = match host.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => match Hostname::try_from(host) {
            Ok(name) => dns.resolve(&name).await.addresses().first().copied(),
            Err(_) => None,
        },
    };
    let Some(ip) = ip else {
        return sample;
    };
    let addr = SocketAddr::new(ip, port);
    sample.addr = Some(addr.to_string());
    let mut client = AsyncSntpClient::new();
    client.set_timeout(timeout);
    if addr.is_ipv6() {
        client.set_bind_address((std::net::Ipv6Addr::UNSPECIFIED, 0).into());
    }
    sample.outcome = match tokio::time::timeout(timeout, client.synchronize(addr)).await {
        Err(_) => NtpOutcome::TimedOut,
        Ok(Ok(result)) => {
            let rtt_s = result.round_trip_delay().as_secs_f64();
            // A reply stamped with our own receive time gives a negative round trip
            // (chronyd under a small fake offset does this): not a measurement.
            if rtt_s < 0.0 {
                NtpOutcome::Malformed {
                    detail: format!("negative round trip ({rtt_s:.3} s)"),
                }
            } else {
                NtpOutcome::Answered {
                    offset_s: result.clock_offset().as_secs_f64(),
                    rtt_s,
                    stratum: result.stratum(),
                    leap: format!("{:?}", result.leap_indicator()),
                }
            }
        }
        Ok(Err(e)) => classify(&e),
    };
    sample
}

fn classify(error: &SynchronizationError) -> NtpOutcome {
    match error {
        SynchronizationError::IOError(io) => match io.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => NtpOutcome::TimedOut,
            io::ErrorKind::ConnectionRefused => NtpOutcome::Refused,
            io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                NtpOutcome::Unreachable
            }
            _ => NtpOutcome::Malformed {
                detail: io.to_string(),
            },
        },
        SynchronizationError::ProtocolError(ProtocolError::KissODeath(code)) => {
            NtpOutcome::KissOfDeath {
                code: format!("{code:?}"),
            }
        }
        SynchronizationError::ProtocolError(ProtocolError::ServerNotSynchronized) => {
            NtpOutcome::Unsynchronised
        }
        SynchronizationError::ProtocolError(other) => NtpOutcome::Malformed {
            detail: other.to_string(),
        },
    }
}

/// Estimates the offset from an HTTPS `Date` header: `HEAD /` over TLS (any certificate: a
/// skewed clock or a proxy must not stop the measurement; the TLS check judges the chain).
pub async fn http_date(
    host: &str,
    addr: IpAddr,
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    sent_at: chrono::DateTime<chrono::Utc>,
    connect_rtt: Duration,
) -> DateSample {
    let outcome = match head_date(host, stream).await {
        Ok((date, received_at)) => {
            let rtt = (received_at - sent_at)
                .to_std()
                .unwrap_or_default()
                .max(connect_rtt);
            // The header has 1 s resolution: its true time is uniform in [Date, Date + 1).
            let server = date.timestamp() as f64 + 0.5;
            let local_mid = sent_at.timestamp_micros() as f64 / 1e6 + rtt.as_secs_f64() / 2.0;
            DateOutcome::Estimated {
                offset_s: server - local_mid,
                error_s: 0.5 + rtt.as_secs_f64() / 2.0,
            }
        }
        Err(detail) => DateOutcome::Failed { detail },
    };
    DateSample {
        host: host.to_string(),
        addr,
        outcome,
    }
}

/// Writes a one-shot HTTP/1.1 request (`Connection: close`): the only kind this tool sends,
/// for a `Date` header and for an echo page.
pub async fn send_request(
    stream: &mut (impl tokio::io::AsyncWrite + Unpin),
    method: &str,
    host: &str,
    path: &str,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: zpa-preflight/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())
}

/// The longest response header read for a `Date`.
const MAX_HEADER: usize = 16 * 1024;

async fn head_date(
    host: &str,
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), String> {
    use tokio::io::AsyncReadExt;
    send_request(&mut stream, "HEAD", host, "/").await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEADER {
            return Err("response header too long".into());
        }
    }
    let received_at = chrono::Utc::now();
    parse_date_header(&String::from_utf8_lossy(&head))
        .map(|date| (date, received_at))
        .ok_or_else(|| "no Date header in the response".into())
}

/// The `Date:` of an HTTP response head (IMF-fixdate, RFC 9110).
pub fn parse_date_header(head: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("date") {
            return None;
        }
        chrono::DateTime::parse_from_rfc2822(value.trim())
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_configs() {
        let chrony = "# Use public servers\npool 2.rhel.pool.ntp.org iburst\nserver 169.254.169.123 prefer iburst minpoll 4\nmakestep 1.0 3\n";
        assert_eq!(
            parse_config(chrony),
            ["2.rhel.pool.ntp.org", "169.254.169.123"]
        );
        let ntp = "driftfile /var/lib/ntp/drift\nserver 0.centos.pool.ntp.org iburst\nrestrict default nomodify\n";
        assert_eq!(parse_config(ntp), ["0.centos.pool.ntp.org"]);
        let timesyncd = "[Time]\nNTP=ntp1.corp.example ntp2.corp.example\n#FallbackNTP=ignored\nFallbackNTP=time.example\n";
        assert_eq!(
            parse_config(timesyncd),
            ["ntp1.corp.example", "ntp2.corp.example", "time.example"]
        );
    }

    #[test]
    fn configured_servers_under_a_root() {
        let root = repo_root("fixtures/roots/chrony-aws");
        let servers = configured_servers(&root);
        assert_eq!(
            servers,
            [(
                "169.254.169.123".to_string(),
                "/etc/chrony.conf".to_string()
            )]
        );
        let daemons = daemons(&root);
        let chrony = daemons.iter().find(|d| d.name == "chronyd").unwrap();
        assert!(chrony.installed);
        assert_eq!(chrony.running, None, "another root's processes are unknown");
    }

    #[test]
    fn ntpd_and_timesyncd_fixture_roots() {
        let servers = |case: &str| -> Vec<(String, String)> {
            configured_servers(&repo_root(&format!("fixtures/roots/{case}")))
        };
        let pair = |s: &str, f: &str| (s.to_string(), f.to_string());
        assert_eq!(
            servers("ntpd-centos"),
            [
                pair("0.centos.pool.ntp.org", "/etc/ntp.conf"),
                pair("1.centos.pool.ntp.org", "/etc/ntp.conf")
            ]
        );
        let timesyncd = "/etc/systemd/timesyncd.conf";
        assert_eq!(
            servers("timesyncd"),
            [
                pair("ntp1.corp.example", timesyncd),
                pair("ntp2.corp.example", timesyncd),
                pair("time.corp.example", timesyncd)
            ]
        );
    }

    fn repo_root(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    /// `5, 0x40, 16000000, 16000000` was recorded with adjtimex on this project's build machine
    /// (no time daemon: TIME_ERROR, STA_UNSYNC, both errors at the kernel's 16 s cap); `0,
    /// 0x2001` is what a chrony-disciplined kernel reports (TIME_OK, STA_PLL | STA_NANO).
    #[test]
    fn kernel_states() {
        assert_eq!(
            kernel_state(0, 0x2001, 12_500, 420),
            KernelClock::Read {
                synchronised: true,
                maxerror_us: 12_500,
                esterror_us: 420
            }
        );
        let unsynced = kernel_state(5, 0x0040, 16_000_000, 16_000_000);
        assert!(matches!(
            unsynced,
            KernelClock::Read {
                synchronised: false,
                ..
            }
        ));
        assert!(matches!(
            kernel_state(0, 0x0040, 1, 1),
            KernelClock::Read {
                synchronised: false,
                ..
            }
        ));
        assert!(matches!(
            kernel(Path::new("/mnt/image")),
            KernelClock::Skipped { .. }
        ));
    }

    #[test]
    fn date_headers() {
        let head = "HTTP/1.1 200 OK\r\nServer: x\r\ndate: Wed, 25 Nov 2026 14:02:11 GMT\r\n\r\n";
        assert_eq!(
            parse_date_header(head).unwrap().to_rfc3339(),
            "2026-11-25T14:02:11+00:00"
        );
        assert!(parse_date_header("HTTP/1.1 200 OK\r\nDate: yesterday\r\n\r\n").is_none());
    }
}
