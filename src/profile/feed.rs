//! The Zen address ranges, read in the shapes Zscaler publishes at config.zscaler.com.
//!
//! Keeping Zscaler's own shapes (not a format of ours) means an admin can download any current
//! feed (ZPA, ZIA cenr, future, hubs, ca, or a plaintext list) and pass it with `--cidrs FILE`
//! unchanged. This module only parses and validates; it never fetches anything.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod shape;

/// Zscaler's notice period for new ranges: a cached feed older than this may miss some.
pub const STALE_AFTER_DAYS: i64 = 90;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ZenRanges {
    /// The feed's `Cloud Name`, e.g. `private.zscaler.com`.
    pub cloud: String,
    /// Where the ranges were read: `built-in:…` or a file path.
    pub source: String,
    /// True when this is the whole published feed; false for the documented subset the tool ships.
    /// A partial list cannot tell a hijacked answer from a range it does not know.
    pub complete: bool,
    /// The networks, single addresses as /32 or /128.
    #[schemars(with = "Vec<String>")]
    pub ranges: Vec<IpNet>,
    /// Which of Zscaler's feeds they come from (reports before 1.4: the ZPA one).
    #[serde(default)]
    pub kind: FeedKind,
    /// When the cached copy these came from was fetched (`feed update`); none for a file or
    /// the built-in list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its age in days when the run was planned, for `feed.stale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// Where each range is, when the feed says (cenr: "EMEA · Amsterdam II"): how a user
    /// reads "which region is blocked".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub regions: BTreeMap<IpNet, String>,
}

/// The feeds Zscaler publishes, as told apart by their bodies.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// ZPA: `{"Cloud Name", "content": [{"Source", "IPs", …}]}` (`/api/<cloud>/zpa/json`).
    #[default]
    Zpa,
    /// ZIA cloud enforcement node ranges: `{"<cloud>": {"continent : …": {"city : …":
    /// [{"range", …}]}}, "svpnIPs": […]}` (`/api/<cloud>/cenr/json`).
    Cenr,
    /// ZIA ranges to be brought into service: `{"cloudName", "prefixes"}` (`/future/json`).
    Future,
    /// ZIA hub ranges every firewall must allow: `{"cloudName", "type": "required",
    /// "hubPrefixes"}`.
    #[value(alias = "hubs")]
    HubsRequired,
    /// ZIA hub ranges recommended: the same with `"type": "recommended"`.
    HubsRecommended,
    /// `{"ranges": […]}` (`/ca/json`).
    Ca,
    /// One CIDR or address a line, `#` comments (the plaintext feeds and EDL files). Not a
    /// `feed update --kind`: no profile reads a "plain" cache, and a plain list asked for as
    /// `--kind zpa` (Zscaler's ZPA plaintext feed) is cached as the ZPA feed it is.
    #[value(skip)]
    Plain,
}

impl FeedKind {
    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            FeedKind::Zpa => "ZPA",
            FeedKind::Cenr => "ZIA cenr",
            FeedKind::Future => "ZIA future",
            FeedKind::HubsRequired => "ZIA hubs (required)",
            FeedKind::HubsRecommended => "ZIA hubs (recommended)",
            FeedKind::Ca => "ZIA ca",
            FeedKind::Plain => "plain-text",
        }
    }
}

impl ZenRanges {
    /// Whether `addr` lies inside one of the ranges.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.ranges.iter().any(|net| net.contains(&addr))
    }

    /// The region a range is in, when the feed says.
    pub fn region(&self, net: &IpNet) -> Option<&str> {
        self.regions.get(net).map(String::as_str)
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

/// Parses a feed in any shape Zscaler serves, told apart by its body (never by a file name:
/// copies circulate renamed). For the ZPA shape, only the rows whose `Source` is `source`
/// are kept; every other shape lists only service-edge ranges.
///
/// `origin` names the feed in the result (a path, or `built-in:…`); it is not read.
pub fn parse_feed(
    text: &str,
    source: &str,
    origin: &str,
    complete: bool,
) -> Result<ZenRanges, FeedError> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let parsed = if body.starts_with('{') || body.starts_with('[') {
        let value: Value = serde_json::from_str(body).map_err(|e| FeedError {
            message: format!(
                "line {}, column {}: not JSON: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
        })?;
        shape::json(&value, source).map_err(|e| located(body, e))?
    } else {
        shape::plain(body).map_err(|e| FeedError { message: e.message })?
    };
    let mut ranges: Vec<IpNet> = parsed.entries.iter().map(|(net, _)| *net).collect();
    if ranges.is_empty() {
        return Err(FeedError {
            message: match parsed.kind {
                FeedKind::Zpa => format!(
                    "a ZPA feed, but no address in any row whose \"Source\" is \"{source}\""
                ),
                kind => format!("a {} feed without a single range", kind.label()),
            },
        });
    }
    let regions: BTreeMap<IpNet, String> = parsed
        .entries
        .into_iter()
        .filter_map(|(net, region)| Some((net, region?)))
        .collect();
    ranges.sort();
    ranges.dedup();
    plausible(&ranges).map_err(|message| FeedError { message })?;
    Ok(ZenRanges {
        cloud: parsed.cloud,
        source: origin.to_string(),
        complete,
        ranges,
        kind: parsed.kind,
        fetched_at: None,
        age_days: None,
        regions,
    })
}

/// The most ranges a feed may hold: Zscaler's largest (ZIA's cloud enforcement nodes) holds
/// about 1,000; twenty times that is room to grow, and far from what would exhaust a run.
pub const MAX_RANGES: usize = 20_000;

/// The most of the IPv4 space a feed's ranges may cover: all of Zscaler's together cover a
/// few hundredths of a percent; one percent is a catch-all, not a feed.
const MAX_V4_SHARE: f64 = 0.01;

/// The most of the IPv6 space: a /16's worth (Zscaler's are /32 and longer).
const MAX_V6_ADDRESSES: u128 = 1 << 112;

/// Whether `ranges` (sorted) could be a Zscaler feed: not too many, and not a catch-all.
/// Every feed goes through this, downloaded, given with `--cidrs` or read from the cache, so
/// a forged one can neither make any address look like Zscaler's nor exhaust a run. Linear
/// after the sort.
pub fn plausible(ranges: &[IpNet]) -> Result<(), String> {
    if ranges.len() > MAX_RANGES {
        return Err(format!(
            "holds {} ranges, more than any Zscaler feed (about 1,000; at most {MAX_RANGES} are read)",
            ranges.len()
        ));
    }
    // The union of each family, merged in address order.
    let (mut v4, mut v6): (u128, u128) = (0, 0);
    let mut last: Option<(bool, u128, u128)> = None;
    let mut spans: Vec<(bool, u128, u128)> = ranges
        .iter()
        .map(|net| match net {
            IpNet::V4(n) => (
                true,
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            IpNet::V6(n) => (false, u128::from(n.network()), u128::from(n.broadcast())),
        })
        .collect();
    spans.sort_unstable();
    let mut add = |(is_v4, start, end): (bool, u128, u128)| {
        // Saturating: `::/0` spans every address, one more than a u128 holds.
        let size = (end - start).saturating_add(1);
        if is_v4 {
            v4 = v4.saturating_add(size);
        } else {
            v6 = v6.saturating_add(size);
        }
    };
    for span in spans {
        last = match last {
            Some((fam, start, end)) if fam == span.0 && span.1 <= end.saturating_add(1) => {
                Some((fam, start, end.max(span.2)))
            }
            Some(done) => {
                add(done);
                Some(span)
            }
            None => Some(span),
        };
    }
    if let Some(done) = last {
        add(done);
    }
    let v4_share = v4 as f64 / 2f64.powi(32);
    if v4_share > MAX_V4_SHARE {
        return Err(format!(
            "its ranges cover {:.1} % of the IPv4 address space: a catch-all, not a Zscaler feed \
             (all of Zscaler's ranges cover a few hundredths of a percent)",
            v4_share * 100.0
        ));
    }
    if v6 > MAX_V6_ADDRESSES {
        return Err(
            "its IPv6 ranges cover more than a /16: a catch-all, not a Zscaler feed".to_string(),
        );
    }
    Ok(())
}

/// A shape error, prefixed with the line of its offending value when the text holds it.
fn located(body: &str, e: shape::FeedError) -> FeedError {
    let line = e.value.and_then(|value| {
        let quoted = serde_json::to_string(&value).ok()?;
        let at = body.find(&quoted)?;
        Some(body[..at].matches('\n').count() + 1)
    });
    FeedError {
        message: match line {
            Some(line) => format!("line {line}: {}", e.message),
            None => e.message,
        },
    }
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
            "{} ranges ({} feed) for {} from {}{}",
            self.ranges.len(),
            self.kind.label(),
            self.cloud,
            self.source,
            if self.complete {
                ""
            } else {
                " (documented subset)"
            }
        )?;
        match self.age_days {
            Some(days) => write!(f, ", fetched {days} days ago"),
            None => Ok(()),
        }
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
        assert!(
            err.starts_with("line 3: ZPA feed, row 1 \"IPs\" entry 1:"),
            "{err}"
        );
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

    /// The issue-20 catch-all: /8s and /16s that together cover every public IPv4 address,
    /// each narrow enough on its own; and a feed of a million ranges.
    #[test]
    fn refuses_a_catch_all_and_a_feed_too_large_to_be_one() {
        let mut lines = Vec::new();
        for a in 11..=223u32 {
            if [100, 127, 169, 172, 192, 198, 203].contains(&a) {
                for b in 0..=255u32 {
                    lines.push(format!("{a}.{b}.0.0/16"));
                }
            } else {
                lines.push(format!("{a}.0.0.0/8"));
            }
        }
        let err = parse_feed(&lines.join("\n"), "s", "f", true)
            .unwrap_err()
            .message;
        assert!(
            err.contains("of the IPv4 address space: a catch-all"),
            "{err}"
        );

        let many: String = (0..1_000_000u32)
            .map(|i| format!("{}.{}.{}.0/24\n", 11 + i / 65536, (i / 256) % 256, i % 256))
            .collect();
        let err = parse_feed(&many, "s", "f", true).unwrap_err().message;
        assert!(
            err.contains("1000000 ranges, more than any Zscaler feed"),
            "{err}"
        );

        let err = parse_feed("2000::/16\n2001::/16\n", "s", "f", true)
            .unwrap_err()
            .message;
        assert!(err.contains("more than a /16"), "{err}");
        // Found by the hostile round: the whole IPv6 space overflowed the count (a panic in
        // a debug build, a catch-all let through in a release one). A cache is where it can
        // come from: `plausible` is what reading the cache calls.
        let everything: Vec<IpNet> = vec!["::/0".parse().unwrap(), "0.0.0.0/0".parse().unwrap()];
        assert!(plausible(&everything).is_err());
        assert!(
            plausible(&everything[..1])
                .unwrap_err()
                .contains("more than a /16")
        );

        // The built-in feed, a real one, passes.
        let builtin = include_str!("../../checks/feeds/zpa-private.json");
        assert!(parse_feed(builtin, crate::profile::CONNECTOR_SOURCE, "f", true).is_ok());
    }

    #[test]
    fn not_json_is_a_positioned_error() {
        let err = parse_feed("{ nope", "s", "f", true).unwrap_err().message;
        assert!(err.starts_with("line 1, column"), "{err}");
    }

    /// A small sample of each shape Zscaler serves, as people download them.
    #[test]
    fn every_published_shape_is_read() {
        let cenr = r#"{"zscaler.net": {
            "continent : EMEA": {"city : Amsterdam II": [
                {"range": "185.46.212.0/23", "vpn": "", "gre": "", "ext": "", "hostname": "",
                 "latitude": "52", "longitude": "4"}]},
            "continent : Asia-Pacific": {"city : Mumbai II": [
                {"range": "2a03:eec0:1411::/48", "vpn": "", "gre": "", "ext": "", "hostname": "",
                 "latitude": "19", "longitude": "72"},
                {"range": "", "vpn": "", "gre": "", "ext": "", "hostname": "", "latitude": "", "longitude": ""}]}},
            "svpnIPs": ["165.225.0.1"]}"#;
        let future = r#"{"cloudName": "zscaler.net", "prefixes": ["147.161.128.0/17"]}"#;
        // Named "recommended" on disk, but the body says required: the body wins.
        let hubs = r#"{"cloudName": "zscloud.net", "type": "required", "hubPrefixes": ["165.225.80.0/22", "2a03:eec0::/32"]}"#;
        let ca = r#"{"cloudName": "zscaler.net", "ranges": ["104.129.192.0/20"]}"#;
        let plain = "# ZPA plaintext\n3.7.7.75/32\n104.129.192.0/20  # comment\n\n2605:4300::/32\n52.4.154.137\n";
        let cases: &[(&str, FeedKind, &str, usize)] = &[
            (FEED, FeedKind::Zpa, "private.zscaler.com", 4),
            (cenr, FeedKind::Cenr, "zscaler.net", 3),
            (future, FeedKind::Future, "zscaler.net", 1),
            (hubs, FeedKind::HubsRequired, "zscloud.net", 2),
            (ca, FeedKind::Ca, "zscaler.net", 1),
            (plain, FeedKind::Plain, "unknown cloud (a plain list)", 4),
        ];
        for (text, kind, cloud, count) in cases {
            let zen = parse_feed(text, CONNECTOR_SOURCE, "f", true)
                .unwrap_or_else(|e| panic!("{kind:?}: {}", e.message));
            assert_eq!(
                (zen.kind, zen.cloud.as_str(), zen.ranges.len()),
                (*kind, *cloud, *count)
            );
        }
        let zen = parse_feed(cenr, CONNECTOR_SOURCE, "f", true).unwrap();
        let amsterdam: IpNet = "185.46.212.0/23".parse().unwrap();
        assert_eq!(zen.region(&amsterdam), Some("EMEA · Amsterdam II"));
        let mumbai: IpNet = "2a03:eec0:1411::/48".parse().unwrap();
        assert_eq!(zen.region(&mumbai), Some("Asia-Pacific · Mumbai II"));
    }

    /// Anything else: one line naming the shape it looked like and what was missing.
    #[test]
    fn other_bodies_say_what_they_looked_like() {
        let cases = [
            (
                r#"{"foo": 1, "bar": []}"#,
                "not a Zscaler feed: a JSON object with keys [bar, foo]",
            ),
            (
                r#"{"cloudName": "x", "hubPrefixes": ["1.2.3.0/24"]}"#,
                "no \"type\"",
            ),
            (
                r#"{"x.net": {"continent : EMEA": {"city : A": [{"vpn": ""}]}}}"#,
                "entry 1 of \"A\" has no \"range\"",
            ),
            (
                r#"{"Cloud Name": "x", "content": [{"Source": "s"}]}"#,
                "row 1 (s) has no \"IPs\" list",
            ),
            (
                r#"{"cloudName": "x", "prefixes": ["0.0.0.0/0"]}"#,
                "broader than /8",
            ),
            ("[1, 2]", "JSON array"),
            ("3.7.7.75/32\nnot-an-address\n", "line 2:"),
            (
                r#"{"cloudName": "x", "prefixes": []}"#,
                "without a single range",
            ),
        ];
        for (text, expected) in cases {
            let message = parse_feed(text, CONNECTOR_SOURCE, "f", true)
                .unwrap_err()
                .message;
            assert!(message.contains(expected), "{text}: {message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
