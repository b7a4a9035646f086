//! A forwarding connector's own duties: IP forwarding on (read under `--root`), and the
//! address the world sees its requests arrive from (an echo page over HTTPS).
//!
//! The workload route table that should point at the connector lives in the cloud's control
//! plane, not on the VM: nothing here can see it, and the check says "cannot tell".

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::dns::Dns;
use super::tls;
use crate::evidence::{EchoOutcome, EchoSample};
use crate::plan::{Origin, TrustClass};
use crate::profile::{Hostname, Role};

/// The most of an echo page read.
const MAX_PAGE: usize = 64 * 1024;

/// `net.ipv4.ip_forward` and `net.ipv6.conf.all.forwarding` under `root`.
pub fn forwarding(root: &Path) -> (Option<bool>, Option<bool>) {
    let flag = |rel: &str| {
        let text = crate::probe::host::read_bounded(root, rel, 64)?;
        match text.trim() {
            "0" => Some(false),
            "" => None,
            _ => Some(true),
        }
    };
    (flag(crate::vm::IPV4_FORWARD), flag(crate::vm::IPV6_FORWARD))
}

/// Asks `host` for `path` over HTTPS and reads the first address on the page.
pub async fn echo(
    host: &Hostname,
    path: &str,
    dns: &Dns,
    timeout: Duration,
    verifiers: &tls::Verifiers,
    via: Option<tls::Via>,
) -> EchoSample {
    let sample = |addr, outcome| EchoSample {
        host: host.to_string(),
        addr,
        outcome,
    };
    let Some(addr) = dns.resolve(host).await.addresses().first().copied() else {
        return sample(
            None,
            EchoOutcome::Failed {
                detail: format!("{host} does not resolve"),
            },
        );
    };
    let target = tls::Target {
        addr,
        port: 443,
        sni: host.to_string(),
        origin: Origin::Name {
            host: host.clone(),
            role: Role::Control,
        },
        class: TrustClass::Control,
        via,
    };
    let page = async {
        let mut stream = tls::open_any(&target, timeout, verifiers).await?;
        super::clock::send_request(&mut stream, "GET", host.as_str(), path).await?;
        let mut body = Vec::new();
        let mut buf = [0u8; 4096];
        while body.len() < MAX_PAGE {
            match stream.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                // A server that closes without close_notify still said what it had to say.
                Err(_) if !body.is_empty() => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok::<_, String>(String::from_utf8_lossy(&body).into_owned())
    };
    let outcome = match tokio::time::timeout(timeout, page).await {
        Err(_) => EchoOutcome::Failed {
            detail: format!("no answer in {} ms", timeout.as_millis()),
        },
        Ok(Err(detail)) => EchoOutcome::Failed { detail },
        Ok(Ok(page)) => {
            let body = page
                .split_once("\r\n\r\n")
                .map_or(page.as_str(), |(_, b)| b);
            match first_address(body) {
                Some(address) => EchoOutcome::Seen { address },
                None => EchoOutcome::NoAddress {
                    detail: body.chars().take(120).collect(),
                },
            }
        }
    };
    sample(Some(addr), outcome)
}

/// The first IPv4 or IPv6 address in `text` (an echo page's prose or JSON).
pub fn first_address(text: &str) -> Option<IpAddr> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .filter(|token| token.len() >= 7)
        .find_map(|token| token.trim_matches(|c| c == '.' || c == ':').parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_echo_pages() {
        let cases = [
            (
                "Your request is arriving at this server from the IP address 198.18.0.1",
                Some("198.18.0.1"),
            ),
            ("{\"ip\": \"2001:db8::5\"}", Some("2001:db8::5")),
            (
                "version 1.2.3 then 165.225.112.252.",
                Some("165.225.112.252"),
            ),
            ("no address here", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                first_address(text),
                expected.map(|a| a.parse().unwrap()),
                "{text}"
            );
        }
    }
}
