//! Explicit proxies, as the plan's vocabulary: where the connector (its own proxy file) and
//! the system's tools (`HTTPS_PROXY`) send HTTPS.
//!
//! The connector reads `/opt/zscaler/var/proxy` (`host:port`) and bypasses what
//! `/opt/zscaler/var/proxy-bypass` lists; package tools follow `HTTPS_PROXY`/`NO_PROXY` from the
//! environment or `/etc/environment`. Credentials in any of these are noted, never kept: the
//! plan and the report only say that there were some. The values are parsed here, once, into a
//! typed address; reading them from the VM is [`crate::probe::system`]'s job, tunnelling
//! through them [`crate::probe::proxy`]'s.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A proxy's host: an address, or a name the run resolves (once, under the deadline).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProxyHost {
    /// An IP literal.
    Ip(IpAddr),
    /// A name, as configured (checked when it is resolved).
    Name(String),
}

/// `host:port`, parsed once. In JSON it stays the `"host:port"` string reports have always had.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(into = "String", try_from = "String")]
pub struct ProxyAddr {
    /// Where.
    pub host: ProxyHost,
    /// Which port (80 when none is given: curl's rule for HTTP proxies).
    pub port: u16,
}

impl ProxyAddr {
    /// The socket address, when the host is an IP literal.
    pub fn socket(&self) -> Option<SocketAddr> {
        match self.host {
            ProxyHost::Ip(ip) => Some(SocketAddr::new(ip, self.port)),
            ProxyHost::Name(_) => None,
        }
    }
}

impl fmt::Display for ProxyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            ProxyHost::Ip(ip) => write!(f, "{}", SocketAddr::new(*ip, self.port)),
            ProxyHost::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

impl FromStr for ProxyAddr {
    type Err = String;

    /// `host:port`, `[v6]:port`, `v4`, `[v6]` or `host` (port 80). Lenient on purpose: a
    /// redacted report's `host-1:3128` must read back, and a proxy configured with a port that
    /// is no number (`proxy.corp:http`) is kept as a name that will not resolve, so the run
    /// reports it (`proxy.misconfigured`) instead of dropping it.
    fn from_str(s: &str) -> Result<ProxyAddr, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("an empty proxy address".into());
        }
        if let Ok(socket) = s.parse::<SocketAddr>() {
            return Ok(ProxyAddr {
                host: ProxyHost::Ip(socket.ip()),
                port: socket.port(),
            });
        }
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(ProxyAddr {
                host: ProxyHost::Ip(ip),
                port: 80,
            });
        }
        match s
            .rsplit_once(':')
            .filter(|(host, _)| !host.is_empty() && !host.contains(':'))
            .and_then(|(host, port)| Some((host, port.parse().ok()?)))
        {
            Some((host, port)) => Ok(ProxyAddr {
                host: ProxyHost::Name(host.to_string()),
                port,
            }),
            None => Ok(ProxyAddr {
                host: ProxyHost::Name(s.to_string()),
                port: 80,
            }),
        }
    }
}

impl TryFrom<String> for ProxyAddr {
    type Error = String;
    fn try_from(s: String) -> Result<ProxyAddr, String> {
        s.parse()
    }
}

impl From<ProxyAddr> for String {
    fn from(addr: ProxyAddr) -> String {
        addr.to_string()
    }
}

/// One configured proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proxy {
    /// `host:port`, credentials removed.
    pub addr: ProxyAddr,
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

    /// `host:port (where it was configured)`, as every output names a proxy.
    pub fn label(&self) -> String {
        format!("{} ({})", self.addr, self.source)
    }
}

/// The proxies in force, as read from the inspected system.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proxies {
    /// The connector's own (`/opt/zscaler/var/proxy`): used for the broker channel.
    pub connector: Option<Proxy>,
    /// The system's (`HTTPS_PROXY`): what package tools use for the control hosts.
    pub system: Option<Proxy>,
}

/// The proxy variables of an environment (the process's, or `/etc/environment`'s).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `HTTPS_PROXY` or `https_proxy`.
    pub https_proxy: Option<String>,
    /// `NO_PROXY` or `no_proxy`.
    pub no_proxy: Option<String>,
}

/// `http://user:pass@host:port/`, `host:port` or `[v6]:port`, without the credentials.
pub fn parse_proxy(value: &str, source: &str, bypass: Vec<String>) -> Option<Proxy> {
    let value = value.trim().trim_matches('"').trim_matches('\'');
    let without_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
    // The credentials run to the last '@': a password may hold '/' (`bob:pa/ss@proxy`), so
    // the host is cut at the first '/' after it, never before.
    let (credentials, after) = match without_scheme.rsplit_once('@') {
        Some((_, after)) => (true, after),
        None => (false, without_scheme),
    };
    let host_port = after.split('/').next()?;
    Some(Proxy {
        addr: host_port.parse().ok()?,
        source: source.into(),
        credentials,
        bypass,
    })
}

/// A comma- or space-separated list (`NO_PROXY`, the bypass file), comments dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The proxy variables of an `/etc/environment`-style file.
pub fn parse_environment(text: &str) -> Environment {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_dropped_and_noted() {
        let p = parse_proxy("http://alice:s3cret@proxy.corp:3128/", "env", vec![]).unwrap();
        assert_eq!(p.addr.to_string(), "proxy.corp:3128");
        assert!(p.credentials);
        assert!(!format!("{p:?}").contains("s3cret"));
        let p = parse_proxy("http://bob:pa/ss@proxy.corp:3128", "env", vec![]).unwrap();
        assert_eq!(p.addr.to_string(), "proxy.corp:3128");
        let p = parse_proxy("10.0.0.5:8080", "file", vec![]).unwrap();
        assert_eq!(p.addr.socket(), Some("10.0.0.5:8080".parse().unwrap()));
        assert!(!p.credentials);
        assert_eq!(
            parse_proxy("proxy.corp", "f", vec![])
                .unwrap()
                .addr
                .to_string(),
            "proxy.corp:80"
        );
        assert!(parse_proxy("", "f", vec![]).is_none());
    }

    /// address text → (host, port), and back to the same text.
    #[test]
    fn addresses_are_parsed_once() {
        let ip = |s: &str| ProxyHost::Ip(s.parse().unwrap());
        let name = |s: &str| ProxyHost::Name(s.into());
        let cases = [
            ("192.0.2.8:3128", ip("192.0.2.8"), 3128, "192.0.2.8:3128"),
            (
                "[2001:db8::1]:8080",
                ip("2001:db8::1"),
                8080,
                "[2001:db8::1]:8080",
            ),
            ("[2001:db8::1]", ip("2001:db8::1"), 80, "[2001:db8::1]:80"),
            (
                "proxy.corp:3128",
                name("proxy.corp"),
                3128,
                "proxy.corp:3128",
            ),
            ("host-1:3128", name("host-1"), 3128, "host-1:3128"),
            ("proxy.corp", name("proxy.corp"), 80, "proxy.corp:80"),
        ];
        for (text, host, port, shown) in cases {
            let addr: ProxyAddr = text.parse().unwrap();
            assert_eq!((&addr.host, addr.port), (&host, port), "{text}");
            assert_eq!(addr.to_string(), shown);
            let json = serde_json::to_string(&addr).unwrap();
            assert_eq!(serde_json::from_str::<ProxyAddr>(&json).unwrap(), addr);
        }
        // A port that is no number keeps the proxy, as a name that will not resolve (as before
        // addresses were typed): dropping it would hide a misconfiguration.
        let odd: ProxyAddr = "proxy.corp:http".parse().unwrap();
        assert_eq!(odd.host, ProxyHost::Name("proxy.corp:http".into()));
        assert_eq!(odd.to_string(), "proxy.corp:http:80");
        assert!("".parse::<ProxyAddr>().is_err());
    }

    #[test]
    fn bypass_rules() {
        let p = Proxy {
            addr: "p:1".parse().unwrap(),
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
}
