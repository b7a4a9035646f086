//! Explicit proxies: where the connector (its own proxy file) and the system's tools
//! (`HTTPS_PROXY`) send HTTPS, and an HTTP CONNECT tunnel through them.
//!
//! The connector reads `/opt/zscaler/var/proxy` (`host:port`) and bypasses what
//! `/opt/zscaler/var/proxy-bypass` lists; package tools follow `HTTPS_PROXY`/`NO_PROXY` from the
//! environment or `/etc/environment`. Credentials in any of these are noted, never kept: the
//! plan and the report only say that there were some. CONNECT names the destination by IP
//! literal, so a proxy never resolves a name through some other resolver.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest CONNECT response header read before giving up on a peer.
const MAX_RESPONSE: usize = 8 * 1024;

/// One configured proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proxy {
    /// `host:port`, credentials removed.
    pub addr: String,
    /// Where it was configured.
    pub source: String,
    /// Whether the configuration carried credentials (which are never reported).
    pub credentials: bool,
    /// Destinations that go direct: IPs, CIDRs, domains, `.suffix` / `*.suffix`.
    pub bypass: Vec<String>,
}

impl Proxy {
    /// Whether `host`/`addr` skip the proxy.
    pub fn bypasses(&self, host: &str, addr: IpAddr) -> bool {
        self.bypass.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            if entry == "*" {
                return true;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                return net.contains(&addr);
            }
            if let Ok(ip) = entry.parse::<IpAddr>() {
                return ip == addr;
            }
            let suffix = entry.trim_start_matches('*').trim_start_matches('.');
            !suffix.is_empty() && (host == suffix || host.ends_with(&format!(".{suffix}")))
        })
    }
}

/// The proxies in force, as read from the inspected system.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Proxies {
    /// The connector's own (`/opt/zscaler/var/proxy`): used for the broker channel.
    pub connector: Option<Proxy>,
    /// The system's (`HTTPS_PROXY`): what package tools use for the control hosts.
    pub system: Option<Proxy>,
}

/// The proxy-related variables of the environment `check` runs in.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `HTTPS_PROXY` or `https_proxy`.
    pub https_proxy: Option<String>,
    /// `NO_PROXY` or `no_proxy`.
    pub no_proxy: Option<String>,
}

impl Environment {
    /// This process's environment (lower-case names win, as curl does).
    pub fn current() -> Environment {
        let var = |lower: &str, upper: &str| {
            std::env::var(lower)
                .or_else(|_| std::env::var(upper))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        Environment {
            https_proxy: var("https_proxy", "HTTPS_PROXY"),
            no_proxy: var("no_proxy", "NO_PROXY"),
        }
    }
}

/// Reads the proxy configuration under `root`. `env` counts only when `root` is `/`: another
/// root is another system, whose environment is its `/etc/environment`.
pub fn configuration(root: &Path, env: &Environment) -> Proxies {
    let fs = super::rootfs::RootFs::new(root);
    let read = |rel: &str| fs.read(rel, super::rootfs::CONFIG_CAP).ok();
    let connector = read("opt/zscaler/var/proxy").and_then(|text| {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let bypass = read("opt/zscaler/var/proxy-bypass")
            .map(|t| split_list(&t))
            .unwrap_or_default();
        parse_proxy(line, "/opt/zscaler/var/proxy", bypass)
    });
    let etc_environment = read("etc/environment")
        .map(|t| parse_environment(&t))
        .unwrap_or_default();
    let system = if root == Path::new("/") && env.https_proxy.is_some() {
        let bypass = env.no_proxy.as_deref().map(split_list).unwrap_or_default();
        parse_proxy(
            env.https_proxy.as_deref().unwrap_or_default(),
            "HTTPS_PROXY (environment)",
            bypass,
        )
    } else {
        etc_environment.https_proxy.as_deref().and_then(|value| {
            let bypass = etc_environment
                .no_proxy
                .as_deref()
                .map(split_list)
                .unwrap_or_default();
            parse_proxy(value, "/etc/environment", bypass)
        })
    };
    Proxies { connector, system }
}

/// `http://user:pass@host:port/`, `host:port` or `[v6]:port`, without the credentials.
fn parse_proxy(value: &str, source: &str, bypass: Vec<String>) -> Option<Proxy> {
    let value = value.trim().trim_matches('"').trim_matches('\'');
    let without_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
    let authority = without_scheme.split('/').next()?;
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((_, host_port)) => (true, host_port),
        None => (false, authority),
    };
    if host_port.is_empty() {
        return None;
    }
    let addr = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !host_port.ends_with(']')
    {
        host_port.to_string()
    } else {
        // No port: HTTP proxies default to 80 (curl's rule), 1080 is SOCKS and not supported.
        format!("{host_port}:80")
    };
    Some(Proxy {
        addr,
        source: source.into(),
        credentials,
        bypass,
    })
}

fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn parse_environment(text: &str) -> Environment {
    let mut env = Environment::default();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("export ");
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches('"')
            .trim_matches('\'')
            .to_string();
        match key.trim() {
            "https_proxy" | "HTTPS_PROXY" => env.https_proxy = env.https_proxy.or(Some(value)),
            "no_proxy" | "NO_PROXY" => env.no_proxy = env.no_proxy.or(Some(value)),
            _ => {}
        }
    }
    env
}

/// How a CONNECT went, when it did not open a tunnel.
#[derive(Debug)]
pub enum ConnectError {
    /// The proxy itself could not be reached.
    Unreachable(String),
    /// It answered, but not with 2xx.
    Refused(String),
}

/// Opens a CONNECT tunnel to `target` through the proxy at `proxy`.
pub async fn tunnel(proxy: SocketAddr, target: SocketAddr) -> Result<TcpStream, ConnectError> {
    let mut stream = TcpStream::connect(proxy)
        .await
        .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    // Read byte by byte up to the blank line: anything after it is the tunnel's.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_RESPONSE {
            return Err(ConnectError::Refused("response header too long".into()));
        }
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| ConnectError::Refused(format!("closed before answering ({e})")))?;
        head.push(byte);
    }
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    match status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
    {
        Some(200..=299) => Ok(stream),
        _ => Err(ConnectError::Refused(
            status_line.chars().take(120).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_dropped_and_noted() {
        let p = parse_proxy("http://alice:s3cret@proxy.corp:3128/", "env", vec![]).unwrap();
        assert_eq!(p.addr, "proxy.corp:3128");
        assert!(p.credentials);
        assert!(!format!("{p:?}").contains("s3cret"));
        let p = parse_proxy("10.0.0.5:8080", "file", vec![]).unwrap();
        assert_eq!((p.addr.as_str(), p.credentials), ("10.0.0.5:8080", false));
        assert_eq!(
            parse_proxy("proxy.corp", "f", vec![]).unwrap().addr,
            "proxy.corp:80"
        );
        assert!(parse_proxy("", "f", vec![]).is_none());
    }

    #[test]
    fn bypass_rules() {
        let p = Proxy {
            addr: "p:1".into(),
            source: "s".into(),
            credentials: false,
            bypass: split_list(
                "10.0.0.0/8, 192.0.2.7\n.zpath.net *.private.zscaler.com corp.example",
            ),
        };
        let ip = |s: &str| s.parse().unwrap();
        assert!(p.bypasses("x", ip("10.1.2.3")));
        assert!(p.bypasses("x", ip("192.0.2.7")));
        assert!(p.bypasses("co2br.prod.zpath.net", ip("8.8.8.8")));
        assert!(p.bypasses("yum.private.zscaler.com", ip("8.8.8.8")));
        assert!(p.bypasses("corp.example", ip("8.8.8.8")));
        assert!(!p.bypasses("notcorp.example", ip("8.8.8.8")));
        assert!(!p.bypasses("zscaler.com", ip("8.8.8.8")));
    }

    #[test]
    fn etc_environment_is_read_under_another_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join("opt/zscaler/var")).unwrap();
        std::fs::write(
            root.path().join("etc/environment"),
            "PATH=/usr/bin\nhttps_proxy=\"http://u:p@198.51.100.3:3128\"\nNO_PROXY=localhost\n",
        )
        .unwrap();
        std::fs::write(
            root.path().join("opt/zscaler/var/proxy"),
            "198.51.100.4:8080\n",
        )
        .unwrap();
        std::fs::write(
            root.path().join("opt/zscaler/var/proxy-bypass"),
            "*.prod.zpath.net\n",
        )
        .unwrap();
        let env = Environment {
            https_proxy: Some("http://ignored:1".into()),
            no_proxy: None,
        };
        let proxies = configuration(root.path(), &env);
        let system = proxies.system.unwrap();
        assert_eq!(
            (system.addr.as_str(), system.credentials),
            ("198.51.100.3:3128", true)
        );
        assert_eq!(system.bypass, ["localhost"]);
        let connector = proxies.connector.unwrap();
        assert_eq!(connector.addr, "198.51.100.4:8080");
        assert_eq!(connector.bypass, ["*.prod.zpath.net"]);
    }
}
