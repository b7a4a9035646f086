//! The Zen address ranges, read in the JSON shape Zscaler publishes at config.zscaler.com.
//!
//! Keeping Zscaler's own shape (not a format of ours) means an admin can download the current
//! feed and pass it with `--cidrs FILE` unchanged. This module only parses and validates; it
//! never fetches anything.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The `Source` of the feed rows that list where connectors may connect (DOMAIN.md §1.3).
pub const CONNECTOR_SOURCE: &str = "Connector, Private Service Edge, Zscaler Client Connector";

/// Shortest IPv4 prefix a feed may declare: anything wider would make every answer "in Zen"
/// and hide a sinkhole or a hijack (the same rule hove-io/m365-edl applies before publishing).
const MIN_V4_PREFIX: u8 = 8;
/// Shortest IPv6 prefix a feed may declare, for the same reason.
const MIN_V6_PREFIX: u8 = 16;

/// A parse or validation failure in a feed, with the position when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FeedError {
    /// One-line description, already prefixed with `line N, column M:` when known.
    pub message: String,
}

/// The Zen ranges selected from a feed, with where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZenRanges {
    /// The feed's `Cloud Name`, e.g. `private.zscaler.com`.
    pub cloud: String,
    /// Where the ranges were read: `built-in:…` or a file path.
    pub source: String,
    /// True when this is the whole published feed; false for the documented subset the tool ships.
    /// A partial list cannot tell a hijacked answer from a range it does not know.
    pub complete: bool,
    /// The networks, single addresses as /32 or /128.
    pub ranges: Vec<IpNet>,
}

impl ZenRanges {
    /// Whether `addr` lies inside one of the ranges.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.ranges.iter().any(|net| net.contains(&addr))
    }
}

#[derive(Deserialize)]
struct FeedFile {
    #[serde(rename = "Cloud Name")]
    cloud_name: String,
    content: Vec<FeedRow>,
}

#[derive(Deserialize)]
struct FeedRow {
    #[serde(rename = "Source")]
    source: String,
    #[serde(rename = "IPs")]
    ips: Vec<FeedNet>,
}

/// One `IPs` entry: a CIDR, or a bare address that the feed means as a single host.
#[derive(Debug, Clone, Copy)]
struct FeedNet(IpNet);

impl<'de> Deserialize<'de> for FeedNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_net(&text)
            .map(FeedNet)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses a CIDR or a bare address (as a host route) and refuses over-broad networks.
pub fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let net = match IpNet::from_str(text) {
        Ok(net) => net,
        Err(_) => match IpAddr::from_str(text) {
            Ok(addr) => IpNet::from(addr),
            Err(_) => return Err(format!("'{text}' is neither an IP address nor a CIDR")),
        },
    };
    let min = match net {
        IpNet::V4(_) => MIN_V4_PREFIX,
        IpNet::V6(_) => MIN_V6_PREFIX,
    };
    if net.prefix_len() < min {
        return Err(format!(
            "'{text}' is broader than /{min}: it would make every address count as Zscaler's"
        ));
    }
    Ok(net.trunc())
}

/// Parses a feed's JSON text and keeps the rows whose `Source` is `source`.
///
/// `origin` names the feed in the result (a path, or `built-in:…`); it is not read.
pub fn parse_feed(
    text: &str,
    source: &str,
    origin: &str,
    complete: bool,
) -> Result<ZenRanges, FeedError> {
    let file: FeedFile = serde_json::from_str(text).map_err(|e| FeedError {
        message: format!(
            "line {}, column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ),
    })?;
    let mut ranges: Vec<IpNet> = file
        .content
        .iter()
        .filter(|row| row.source == source)
        .flat_map(|row| row.ips.iter().map(|n| n.0))
        .collect();
    if ranges.is_empty() {
        return Err(FeedError {
            message: format!("no address in any row whose \"Source\" is \"{source}\""),
        });
    }
    ranges.sort();
    ranges.dedup();
    Ok(ZenRanges {
        cloud: file.cloud_name,
        source: origin.to_string(),
        complete,
        ranges,
    })
}

/// serde_json appends " at line N column M" to its messages; we print the position first.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |cut| &message[..cut])
}

impl fmt::Display for ZenRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ranges for {} from {}{}",
            self.ranges.len(),
            self.cloud,
            self.source,
            if self.complete {
                ""
            } else {
                " (documented subset)"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = r#"{
      "Cloud Name": "private.zscaler.com",
      "content": [
        {"Source": "Connector, Private Service Edge, Zscaler Client Connector",
         "Domains": "*.prod.zpath.net", "IP Protocol": "TCP/UDP", "Port": 443,
         "IPs": ["3.7.7.75/32", "104.129.192.0/20", "52.4.154.137", "2605:4300::/32"]},
        {"Source": "Browser Access", "Domains": "*.zpa-auth.net", "Port": 443, "IPs": ["8.8.8.0/24"]}
      ]
    }"#;

    #[test]
    fn keeps_only_connector_rows_and_widens_bare_addresses() {
        let zen = parse_feed(FEED, CONNECTOR_SOURCE, "test", true).unwrap();
        assert_eq!(zen.cloud, "private.zscaler.com");
        assert_eq!(zen.ranges.len(), 4);
        assert!(zen.contains("104.129.200.1".parse().unwrap()));
        assert!(zen.contains("52.4.154.137".parse().unwrap()));
        assert!(!zen.contains("8.8.8.8".parse().unwrap()));
        assert!(zen.contains("2605:4300::1".parse().unwrap()));
    }

    #[test]
    fn a_bad_address_names_its_line() {
        let text = "{\"Cloud Name\": \"x\",\n \"content\": [{\"Source\": \"s\",\n \"IPs\": [\"10.0.0.300\"]}]}";
        let err = parse_feed(text, "s", "f", true).unwrap_err().message;
        assert!(err.starts_with("line 3,"), "{err}");
        assert!(err.contains("10.0.0.300"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn refuses_overbroad_ranges_and_empty_selections() {
        let text = r#"{"Cloud Name": "x", "content": [{"Source": "s", "IPs": ["0.0.0.0/0"]}]}"#;
        assert!(
            parse_feed(text, "s", "f", true)
                .unwrap_err()
                .message
                .contains("broader than /8")
        );
        let err = parse_feed(FEED, "Nope", "f", true).unwrap_err().message;
        assert!(err.contains("no address"), "{err}");
    }

    #[test]
    fn not_json_is_a_positioned_error() {
        let err = parse_feed("{ nope", "s", "f", true).unwrap_err().message;
        assert!(err.starts_with("line 1, column"), "{err}");
    }
}
