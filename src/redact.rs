//! `bundle --redact`: the customer's own names and addresses become stable tokens that keep
//! what the diagnosis needs, so `explain` on a redacted bundle reaches the same verdict.
//!
//! Zscaler's names (the profile's) and addresses inside the Zen ranges are public facts and stay.
//! Every other address is replaced by the n-th address of a block of the same class: a
//! special-purpose one (private, loopback, CGN, …) by one in the same special range, a public
//! one by one in 192.88.99.0/24 (IPv4) or 2002::/16 (IPv6), blocks that are public, not
//! special-purpose and retired, so nothing real is named. The same address always gets the same
//! token. Other host names (nameservers, proxies, time servers, targets) become `host-N.redacted`.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::address;
use crate::evidence::Evidence;
use crate::profile::ZenRanges;

/// Where public addresses outside the Zen ranges are mapped to.
const PUBLIC_V4: &str = "192.88.99.0/24";
/// The IPv6 twin.
const PUBLIC_V6: &str = "2002::/16";

/// Consistent replacements for one bundle.
pub struct Redactor {
    zen: ZenRanges,
    keep_hosts: Vec<String>,
    addresses: HashMap<IpAddr, IpAddr>,
    used: HashMap<IpNet, u128>,
    hosts: HashMap<String, String>,
}

impl Redactor {
    /// A redactor that keeps `evidence`'s Zen addresses and profile names.
    pub fn new(evidence: &Evidence) -> Redactor {
        let keep_hosts = evidence
            .plan
            .names
            .iter()
            .filter(|n| n.role != crate::profile::Role::Target)
            .map(|n| n.host.to_string())
            .collect();
        Redactor {
            zen: evidence.plan.zen.clone(),
            keep_hosts,
            addresses: HashMap::new(),
            used: HashMap::new(),
            hosts: HashMap::new(),
        }
    }

    /// The token for `ip`.
    pub fn ip(&mut self, ip: IpAddr) -> IpAddr {
        if self.zen.contains(ip) {
            return ip;
        }
        if let Some(mapped) = self.addresses.get(&ip) {
            return *mapped;
        }
        let block = address::special_range(ip)
            .map(|(net, _)| net)
            .unwrap_or_else(|| {
                let public = if ip.is_ipv4() { PUBLIC_V4 } else { PUBLIC_V6 };
                public.parse().expect("valid")
            });
        // A one-address range (::1, ::) has nothing else of its class to offer.
        if block.prefix_len() == block.max_prefix_len() {
            return ip;
        }
        let base = match block.network() {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        let index = self.used.entry(block).or_insert(0);
        // The n-th address of the block, never the original itself.
        let mapped = loop {
            *index += 1;
            let candidate = match block {
                IpNet::V4(_) => IpAddr::from(std::net::Ipv4Addr::from((base + *index) as u32)),
                IpNet::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(base + *index)),
            };
            if candidate != ip {
                break candidate;
            }
        };
        self.addresses.insert(ip, mapped);
        mapped
    }

    /// The token for a host name that is not Zscaler's.
    pub fn host(&mut self, host: &str) -> String {
        if self.keep_hosts.iter().any(|k| k == host) {
            return host.to_string();
        }
        let next = self.hosts.len() + 1;
        self.hosts
            .entry(host.to_string())
            .or_insert_with(|| format!("host-{next}.redacted"))
            .clone()
    }

    /// `text` with every address (and every host name seen so far) replaced.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut token = String::new();
        let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        for c in text.chars().chain(std::iter::once('\0')) {
            if is_part(c) {
                token.push(c);
                continue;
            }
            out.push_str(&self.token(&token));
            token.clear();
            if c != '\0' {
                out.push(c);
            }
        }
        let hosts: Vec<(String, String)> = self
            .hosts
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        hosts
            .iter()
            .fold(out, |text, (from, to)| text.replace(from.as_str(), to))
    }

    /// One run of address-like characters: an address, `addr:port`, or something else.
    fn token(&mut self, token: &str) -> String {
        let trimmed = token.trim_end_matches(['.', ':']);
        let tail = &token[trimmed.len()..];
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return format!("{}{tail}", self.ip(ip));
        }
        if let Some((host, port)) = trimmed.rsplit_once(':')
            && let (Ok(ip), Ok(_)) = (host.parse::<std::net::Ipv4Addr>(), port.parse::<u16>())
        {
            return format!("{}:{port}{tail}", self.ip(IpAddr::V4(ip)));
        }
        token.to_string()
    }

    /// `evidence` with every customer address and name replaced; the plan's Zen ranges,
    /// catalogs and the profile's names untouched.
    pub fn evidence(&mut self, evidence: &Evidence) -> Evidence {
        // Names first, so that free text mentioning them is replaced too.
        for name in &evidence.plan.names {
            self.host(name.host.as_str());
        }
        if let Some(proxy) = &evidence.plan.proxies.connector {
            self.proxy_host(&proxy.addr);
        }
        if let Some(proxy) = &evidence.plan.proxies.system {
            self.proxy_host(&proxy.addr);
        }
        for server in &evidence.plan.ntp_servers {
            let (host, _) = crate::plan::split_ntp_server(&server.server);
            if host.parse::<IpAddr>().is_err() {
                self.host(&host);
            }
        }
        let mut value = serde_json::to_value(evidence).expect("evidence serialises");
        self.walk(&mut value, "");
        serde_json::from_value(value).expect("a redacted evidence keeps its shape")
    }

    fn proxy_host(&mut self, addr: &crate::plan::proxy::ProxyAddr) {
        if let crate::plan::proxy::ProxyHost::Name(host) = &addr.host {
            self.host(host);
        }
    }

    fn walk(&mut self, value: &mut Value, key: &str) {
        // A machine's name and ids say which VM it is, and nothing a diagnosis needs. Replaced
        // whole, never as text: a short host name ("api") would mangle every string holding it.
        if matches!(key, "hostname" | "machine_id" | "instance_id") {
            *value = Value::String("redacted".into());
            return;
        }
        // The yardsticks stay: Zen ranges, catalogs, and the profile's own data.
        if matches!(
            key,
            "zen" | "interceptors" | "broker_cas" | "log_patterns" | "ports" | "range"
        ) {
            return;
        }
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v, key)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(v, k);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::CONNECTOR_SOURCE;

    fn redactor() -> Redactor {
        Redactor {
            zen: crate::profile::feed::parse_feed(
                &format!(
                    r#"{{"Cloud Name": "c", "content": [{{"Source": "{CONNECTOR_SOURCE}", "IPs": ["165.225.0.0/17"]}}]}}"#
                ),
                CONNECTOR_SOURCE,
                "t",
                true,
            )
            .unwrap(),
            keep_hosts: vec!["co2br.prod.zpath.net".into()],
            addresses: HashMap::new(),
            used: HashMap::new(),
            hosts: HashMap::new(),
        }
    }

    #[test]
    fn classes_are_kept_and_tokens_are_stable() {
        let mut r = redactor();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            r.ip(ip("165.225.112.252")),
            ip("165.225.112.252"),
            "Zen stays"
        );
        let private = r.ip(ip("10.20.30.40"));
        assert_eq!(
            address::special_purpose(private),
            Some("private (RFC 1918)")
        );
        assert_ne!(private, ip("10.20.30.40"));
        assert_eq!(r.ip(ip("10.20.30.40")), private, "stable");
        let public = r.ip(ip("8.8.8.8"));
        assert!(address::special_purpose(public).is_none() && !r.zen.contains(public));
        assert_eq!(
            r.ip(ip("0.0.0.0")),
            ip("0.0.0.1"),
            "a sinkhole stays a sinkhole"
        );
    }

    #[test]
    fn text_is_scanned_for_addresses_and_known_hosts() {
        let mut r = redactor();
        r.host("proxy.corp.example");
        let out = r.text("nameserver 10.0.0.2:53 and proxy.corp.example via 203.0.113.9; co2br.prod.zpath.net → 165.225.1.1.");
        assert!(
            !out.contains("10.0.0.2") && !out.contains("proxy.corp.example"),
            "{out}"
        );
        assert!(
            out.contains("co2br.prod.zpath.net") && out.contains("165.225.1.1."),
            "{out}"
        );
        assert!(out.contains(":53 and host-1.redacted"), "{out}");
    }
}
