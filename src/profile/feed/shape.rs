//! Telling Zscaler's feed shapes apart by their bodies, and reading each one.
//!
//! Every shape here is one Zscaler serves (../shared/DOMAIN.md §1.3 and §6, checked against
//! copies people publish). A body that is none of them is refused with one line saying what
//! it looked like and what was missing, never with a bare "missing field".

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::{FeedKind, parse_net};

/// Why a body was refused, and the offending value when there is one (so that the caller can
/// name its line in the text).
pub(super) struct FeedError {
    pub message: String,
    pub value: Option<String>,
}

/// What a body held: its kind, its cloud, and every range with its region when it has one.
pub(super) struct Parsed {
    pub kind: FeedKind,
    pub cloud: String,
    pub entries: Vec<(IpNet, Option<String>)>,
}

fn error(message: impl Into<String>) -> FeedError {
    FeedError {
        message: message.into(),
        value: None,
    }
}

/// A JSON body: ZPA, cenr, future, hubs or ca.
pub(super) fn json(value: &Value, source: &str) -> Result<Parsed, FeedError> {
    let Value::Object(object) = value else {
        return Err(error(
            "not a Zscaler feed: a JSON array or value where every feed is a JSON object",
        ));
    };
    if let Some(content) = object.get("content") {
        return zpa(object, content, source);
    }
    if let Some(prefixes) = object.get("hubPrefixes") {
        let kind = match object.get("type").and_then(Value::as_str) {
            Some("required") => FeedKind::HubsRequired,
            Some("recommended") => FeedKind::HubsRecommended,
            Some(other) => {
                return Err(error(format!(
                    "looks like a ZIA hubs feed (\"hubPrefixes\"), but its \"type\" is \"{other}\", \
                     not \"required\" or \"recommended\""
                )));
            }
            None => {
                return Err(error(
                    "looks like a ZIA hubs feed (\"hubPrefixes\"), but has no \"type\" saying \
                     required or recommended",
                ));
            }
        };
        return list(object, prefixes, kind, "hubPrefixes");
    }
    if let Some(prefixes) = object.get("prefixes") {
        return list(object, prefixes, FeedKind::Future, "prefixes");
    }
    if let Some(ranges) = object.get("ranges") {
        return list(object, ranges, FeedKind::Ca, "ranges");
    }
    let clouds: Vec<(&String, &Map<String, Value>)> = object
        .iter()
        .filter_map(|(key, value)| Some((key, value.as_object()?)))
        .filter(|(_, value)| value.keys().any(|k| k.starts_with("continent : ")))
        .collect();
    if !clouds.is_empty() {
        return cenr(object, &clouds);
    }
    let keys: Vec<&str> = object.keys().take(6).map(String::as_str).collect();
    Err(error(format!(
        "not a Zscaler feed: a JSON object with keys [{}], but none of \"content\" (ZPA), \
         \"prefixes\" (future), \"hubPrefixes\" (hubs), \"ranges\" (ca) or a cloud key holding \
         \"continent : …\" (cenr)",
        keys.join(", ")
    )))
}

fn cloud_name(object: &Map<String, Value>, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("unknown cloud")
        .to_string()
}

/// One range string of a feed, or a line saying where it was.
fn net(value: &Value, what: impl Fn() -> String) -> Result<IpNet, FeedError> {
    let text = value
        .as_str()
        .ok_or_else(|| error(format!("{}: not a string", what())))?;
    parse_net(text).map_err(|e| FeedError {
        message: format!("{}: {e}", what()),
        value: Some(text.to_string()),
    })
}

fn zpa(object: &Map<String, Value>, content: &Value, source: &str) -> Result<Parsed, FeedError> {
    let rows = content.as_array().ok_or_else(|| {
        error("looks like a ZPA feed (\"content\"), but \"content\" is not a list of rows")
    })?;
    let mut entries = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row_source = row.get("Source").and_then(Value::as_str).ok_or_else(|| {
            error(format!(
                "looks like a ZPA feed, but row {} has no \"Source\"",
                i + 1
            ))
        })?;
        let ips = row.get("IPs").and_then(Value::as_array).ok_or_else(|| {
            error(format!(
                "looks like a ZPA feed, but row {} ({row_source}) has no \"IPs\" list",
                i + 1
            ))
        })?;
        if row_source != source {
            continue;
        }
        // The feed has no regions; its rows are what a firewall team reads it by.
        let label = match row.get("Domains").and_then(Value::as_str) {
            Some(domains) => format!("row {} ({domains})", i + 1),
            None => format!("row {}", i + 1),
        };
        for (j, ip) in ips.iter().enumerate() {
            let net = net(ip, || {
                format!("ZPA feed, row {} \"IPs\" entry {}", i + 1, j + 1)
            })?;
            entries.push((net, Some(label.clone())));
        }
    }
    Ok(Parsed {
        kind: FeedKind::Zpa,
        cloud: cloud_name(object, "Cloud Name"),
        entries,
    })
}

fn list(
    object: &Map<String, Value>,
    items: &Value,
    kind: FeedKind,
    field: &str,
) -> Result<Parsed, FeedError> {
    let items = items.as_array().ok_or_else(|| {
        error(format!(
            "looks like a {} feed, but \"{field}\" is not a list",
            kind.label()
        ))
    })?;
    let entries = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            net(item, || {
                format!("{} feed, \"{field}\" entry {}", kind.label(), i + 1)
            })
            .map(|n| (n, None))
        })
        .collect::<Result<_, _>>()?;
    Ok(Parsed {
        kind,
        cloud: cloud_name(object, "cloudName"),
        entries,
    })
}

fn cenr(
    object: &Map<String, Value>,
    clouds: &[(&String, &Map<String, Value>)],
) -> Result<Parsed, FeedError> {
    let mut entries = Vec::new();
    for (_, continents) in clouds {
        for (continent, cities) in continents.iter() {
            let continent = continent.strip_prefix("continent : ").unwrap_or(continent);
            let cities = cities.as_object().ok_or_else(|| {
                error(format!(
                    "looks like a ZIA cenr feed, but continent \"{continent}\" is not an object of cities"
                ))
            })?;
            for (city, nodes) in cities {
                let city = city.strip_prefix("city : ").unwrap_or(city);
                let nodes = nodes.as_array().ok_or_else(|| {
                    error(format!(
                        "looks like a ZIA cenr feed, but city \"{city}\" is not a list of ranges"
                    ))
                })?;
                for (i, node) in nodes.iter().enumerate() {
                    let range = node.get("range").ok_or_else(|| {
                        error(format!(
                            "looks like a ZIA cenr feed, but entry {} of \"{city}\" has no \"range\"",
                            i + 1
                        ))
                    })?;
                    // Some copies carry placeholder rows with an empty range.
                    if range.as_str() == Some("") {
                        continue;
                    }
                    let net = net(range, || format!("ZIA cenr feed, {city} entry {}", i + 1))?;
                    entries.push((net, Some(format!("{continent} · {city}"))));
                }
            }
        }
    }
    if let Some(svpn) = object.get("svpnIPs").and_then(Value::as_array) {
        for (i, item) in svpn.iter().enumerate() {
            let net = net(item, || {
                format!("ZIA cenr feed, \"svpnIPs\" entry {}", i + 1)
            })?;
            entries.push((net, Some("service VPN (svpnIPs)".into())));
        }
    }
    let cloud = clouds
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Parsed {
        kind: FeedKind::Cenr,
        cloud,
        entries,
    })
}

/// A plaintext list: one CIDR or address a line; `#` starts a comment.
pub(super) fn plain(text: &str) -> Result<Parsed, FeedError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let net = parse_net(line).map_err(|e| {
            error(format!(
                "line {}: a plain-text feed holds one CIDR or address a line: {e}",
                i + 1
            ))
        })?;
        entries.push((net, None));
    }
    Ok(Parsed {
        kind: FeedKind::Plain,
        cloud: "unknown cloud (a plain list)".into(),
        entries,
    })
}
