//! `feed show`: the Zen ranges in use, where they come from, and how they spread by region.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::profile::feed::ZenRanges;

/// Source, age, counts per address family and per region.
pub fn human(out: &mut dyn Write, zen: &ZenRanges) -> io::Result<()> {
    writeln!(out, "{zen}")?;
    if let (Some(at), Some(days)) = (zen.fetched_at, zen.age_days) {
        writeln!(
            out,
            "fetched {} ({days} days ago{})",
            at.format("%Y-%m-%d %H:%M:%SZ"),
            if days > crate::profile::feed::STALE_AFTER_DAYS {
                ": older than Zscaler's 90-day notice period, run `zpa-preflight feed update`"
            } else {
                ""
            }
        )?;
    }
    let v4 = zen.ranges.iter().filter(|n| n.addr().is_ipv4()).count();
    writeln!(out, "IPv4 {v4} · IPv6 {}", zen.ranges.len() - v4)?;
    if zen.regions.is_empty() {
        return Ok(());
    }
    let mut per_region: BTreeMap<&str, usize> = BTreeMap::new();
    for region in zen.regions.values() {
        *per_region.entry(region).or_default() += 1;
    }
    writeln!(out, "\nper region ({}):", per_region.len())?;
    for (region, count) in per_region {
        writeln!(out, "  {region:48} {count:>4}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Entry<'a> {
    range: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
}

#[derive(Serialize)]
struct Document<'a> {
    source: &'a str,
    kind: crate::profile::feed::FeedKind,
    cloud: &'a str,
    complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    fetched_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_days: Option<i64>,
    ranges: Vec<Entry<'a>>,
}

/// Every range with its region.
pub fn json(out: &mut dyn Write, zen: &ZenRanges) -> io::Result<()> {
    let doc = Document {
        source: &zen.source,
        kind: zen.kind,
        cloud: &zen.cloud,
        complete: zen.complete,
        fetched_at: zen.fetched_at,
        age_days: zen.age_days,
        ranges: zen
            .ranges
            .iter()
            .map(|net| Entry {
                range: net.to_string(),
                region: zen.region(net),
            })
            .collect(),
    };
    super::json::document(out, "feed", &doc)
}
