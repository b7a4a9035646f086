//! `feed update` and `feed show`: Zscaler's published ranges, fetched, validated and cached.
//!
//! A feed is only ever replaced by a better one: the new body must parse as the kind asked
//! for, name the cloud asked for, hold only public networks (no catch-all, no
//! special-purpose range) and not differ from the cached copy by more than half its entries
//! (Zscaler announces new ranges 90 days ahead; a list that halves overnight is a broken or
//! forged download) unless `--force` says so. It is then written atomically (a temporary
//! file renamed over the old one), so a failed update leaves the cache as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::profile::CONNECTOR_SOURCE;
use crate::profile::feed::{self, FeedKind, ZenRanges};

/// Where the cache lives unless `--cache` says otherwise.
pub const DEFAULT_CACHE: &str = "/var/cache/zpa-preflight";

/// Largest feed body accepted (the cenr feed is about 300 KB pretty-printed).
const MAX_BODY: u64 = 16 << 20;

use crate::error::FeedUpdateError;

/// One cached feed: the validated ranges, where and when they were fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cached {
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// The URL or file it came from.
    pub source: String,
    /// The ranges.
    pub feed: ZenRanges,
}

impl Cached {
    /// Its age in whole days at `now`.
    pub fn age_days(&self, now: DateTime<Utc>) -> i64 {
        (now - self.fetched_at).num_days()
    }
}

/// The cloud a kind of feed is for unless `--cloud` says otherwise.
pub fn default_cloud(kind: FeedKind) -> &'static str {
    match kind {
        FeedKind::Zpa => "private.zscaler.com",
        _ => "zscaler.net",
    }
}

/// Zscaler's URL for a kind of feed of `cloud` (DOMAIN.md §1.3).
pub fn url(kind: FeedKind, cloud: &str) -> String {
    let path = match kind {
        FeedKind::Zpa => "zpa/json",
        FeedKind::Cenr => "cenr/json",
        FeedKind::Future => "future/json",
        FeedKind::HubsRequired => "hubs/cidr/json/required",
        FeedKind::HubsRecommended => "hubs/cidr/json/recommended",
        FeedKind::Ca => "ca/json",
        FeedKind::Plain => "zpa/plaintext",
    };
    format!("https://config.zscaler.com/api/{cloud}/{path}")
}

/// The cache file of a kind of feed.
pub fn cache_file(cache: &Path, kind: FeedKind) -> PathBuf {
    let name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "feed".into());
    cache.join(format!("{name}.json"))
}

/// Reads the cached feed of `kind`; `Ok(None)` when there is none.
pub fn read_cache(cache: &Path, kind: FeedKind) -> Result<Option<Cached>, FeedUpdateError> {
    let path = cache_file(cache, kind);
    let error = |source| FeedUpdateError::Cache {
        path: path.display().to_string(),
        source,
    };
    if std::fs::symlink_metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    // Bounded, regular files only: a FIFO planted at the cache must not hang `check` (and a
    // cloud-init boot behind it).
    let text = crate::files::read_text(&path, crate::files::Kind::FeedCache).map_err(|e| {
        error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            match e {
                crate::error::InputError::Invalid { message, .. } => message,
                other => other.to_string(),
            },
        ))
    })?;
    let cached: Cached = serde_json::from_str(&text)
        .map_err(|e| error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    // The cache is a file anyone with the rights may have written: held to what a feed is.
    feed::plausible(&cached.feed.ranges)
        .map_err(|m| error(std::io::Error::new(std::io::ErrorKind::InvalidData, m)))?;
    Ok(Some(cached))
}

/// The Zen ranges a run uses: `cidrs` (`--cidrs`), else the cached copies of the profile's
/// published feeds (with their age), merged, else `None`: the profile's own. A cache that
/// cannot be read is no reason to stop a check: it is handed to `unusable` (to say so) and
/// the rest is used.
pub fn zen_in_use(
    profile: &crate::profile::Profile,
    cidrs: Option<&Path>,
    cache: &Path,
    mut unusable: impl FnMut(FeedUpdateError),
) -> Result<Option<ZenRanges>, crate::error::InputError> {
    if let Some(path) = cidrs {
        return crate::profile::load_feed(path, CONNECTOR_SOURCE).map(Some);
    }
    if !profile.zen_from_builtin_feed() {
        return Ok(None);
    }
    // Every cached kind the profile takes, merged: a Cloud Connector's brokers are in the
    // ZPA feed, its service edges in the cenr one.
    let mut merged: Option<ZenRanges> = None;
    for &kind in &profile.cached_feeds {
        let cached = match read_cache(cache, kind) {
            Ok(Some(cached)) => cached,
            Ok(None) => continue,
            Err(e) => {
                unusable(e);
                continue;
            }
        };
        let mut zen = cached.feed.clone();
        zen.source = format!(
            "{} (cached from {})",
            cache_file(cache, kind).display(),
            cached.source
        );
        zen.fetched_at = Some(cached.fetched_at);
        zen.age_days = Some(cached.age_days(Utc::now()));
        merged = Some(match merged {
            None => zen,
            Some(first) => merge(first, zen),
        });
    }
    Ok(merged)
}

/// Two feeds as one: every range once, both sources named; the oldest copy decides how stale
/// the whole is.
fn merge(mut first: ZenRanges, next: ZenRanges) -> ZenRanges {
    first.ranges.extend(next.ranges);
    first.ranges.sort();
    first.ranges.dedup();
    first.regions.extend(next.regions);
    first.cloud = format!("{} + {}", first.cloud, next.cloud);
    first.source = format!("{} + {}", first.source, next.source);
    if next.age_days > first.age_days {
        first.age_days = next.age_days;
        first.fetched_at = next.fetched_at;
    }
    first
}

/// The system's proxy for a download this tool makes itself, read once: as configured
/// (credentials included, in memory only; `user:pw@host:port` without a scheme, as
/// /etc/environment often has it, is an HTTP proxy like any other) for the client, and
/// parsed without the credentials for every message.
pub fn system_proxy(root: &Path) -> Option<ProxyUse> {
    let env = crate::probe::system::environment();
    let (raw, _, source) = crate::probe::system::system_proxy(root, &env)?;
    let shown = crate::plan::proxy::parse_proxy(&raw, &source, Vec::new())?;
    let raw = raw.trim();
    Some(ProxyUse {
        url: if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        },
        shown: format!("{} ({})", shown.addr, shown.source),
        credentials: shown.credentials,
    })
}

/// A body, and where it came from.
pub struct Body {
    /// Its text.
    pub text: String,
    /// A URL or a path.
    pub source: String,
}

/// Downloads `url` over HTTPS (rustls), trusting Mozilla's roots, or only `ca` when given
/// (a private mirror or a lab with its own CA), through `proxy` when the system has one.
/// The proxy a download goes through.
pub struct ProxyUse {
    /// The URL as configured, credentials included: given to the HTTP client only.
    pub url: String,
    /// How messages name it: address and source, never the credentials.
    pub shown: String,
    /// Whether the configuration carried credentials.
    pub credentials: bool,
}

/// Fetches `url` over HTTPS (through `proxy`, authenticating to it when it carries
/// credentials), at most [`MAX_BODY`] bytes.
pub fn download(
    url: &str,
    proxy: Option<&ProxyUse>,
    ca: &[rustls::pki_types::CertificateDer<'static>],
    timeout: Duration,
) -> Result<Body, FeedUpdateError> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let fail = |message: String| FeedUpdateError::Fetch {
        url: url.to_string(),
        message,
    };
    let roots = if ca.is_empty() {
        RootCerts::WebPki
    } else {
        let certs: Vec<Certificate<'static>> = ca
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        RootCerts::new_with_certs(&certs)
    };
    let client_proxy = match proxy {
        Some(p) => Some(ureq::Proxy::new(&p.url).map_err(|e| {
            fail(format!(
                "proxy {}: {}",
                p.shown,
                crate::secrets::Secrets::default().scrub(&e.to_string())
            ))
        })?),
        None => None,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .proxy(client_proxy)
        .timeout_global(Some(timeout))
        .https_only(true)
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| match (&e, proxy) {
        // The proxy wants credentials: say which proxy, and whether it was given any. (ureq
        // reports a refused CONNECT as text: "proxy server responded 407/…".)
        (ureq::Error::StatusCode(407), Some(p)) | (ureq::Error::ConnectProxyFailed(_), Some(p))
            if e.to_string().contains("407") =>
        {
            fail(format!(
                "the proxy {} asks for credentials (HTTP 407 Proxy Authentication Required): {}",
                p.shown,
                if p.credentials {
                    "it refused the user and password HTTPS_PROXY carries"
                } else {
                    "HTTPS_PROXY carries none (give them as http://user:password@host:port)"
                }
            ))
        }
        _ => fail(crate::secrets::Secrets::default().scrub(&e.to_string())),
    })?;
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| fail(e.to_string()))?;
    Ok(Body {
        text,
        source: url.to_string(),
    })
}

/// What an update did.
#[derive(Debug)]
pub struct Updated {
    /// The file written.
    pub path: PathBuf,
    /// The new feed.
    pub cached: Cached,
    /// Entries in the previous copy, if any.
    pub previous: Option<usize>,
}

/// Validates `body` as a feed of `kind` for `cloud` and writes it to the cache.
pub fn update(
    body: &Body,
    kind: FeedKind,
    cloud: &str,
    cache: &Path,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Updated, FeedUpdateError> {
    let invalid = |message: String| FeedUpdateError::Invalid {
        source_name: body.source.clone(),
        message,
    };
    let parsed = feed::parse_feed(&body.text, CONNECTOR_SOURCE, &body.source, true)
        .map_err(|e| invalid(e.message))?;
    // Plain lists carry no kind of their own: one asked for as ZPA plaintext is one.
    let same_kind =
        parsed.kind == kind || (parsed.kind == FeedKind::Plain && kind == FeedKind::Zpa);
    if !same_kind {
        return Err(invalid(format!(
            "is a {} feed, not the {} feed asked for",
            parsed.kind.label(),
            kind.label()
        )));
    }
    if parsed.kind != FeedKind::Plain && !parsed.cloud.split(", ").any(|c| c == cloud) {
        return Err(invalid(format!(
            "is for the cloud {}, not {cloud}",
            parsed.cloud
        )));
    }
    public_only(&parsed.ranges).map_err(invalid)?;
    // A cache that cannot be read (garbage, a FIFO, a forged catch-all) is what an update
    // repairs: it is replaced, and there is nothing to compare the new feed with.
    let previous = read_cache(cache, kind).ok().flatten();
    if let Some(old) = &previous
        && !force
    {
        let changed = changed_share(&old.feed.ranges, &parsed.ranges);
        if changed > 0.5 {
            return Err(invalid(format!(
                "changes {:.0} % of the {} cached entries (more than half): refused without --force",
                changed * 100.0,
                old.feed.ranges.len()
            )));
        }
    }
    let cached = Cached {
        fetched_at: now,
        source: body.source.clone(),
        feed: ZenRanges {
            cloud: if parsed.kind == FeedKind::Plain {
                cloud.to_string()
            } else {
                parsed.cloud.clone()
            },
            kind,
            ..parsed
        },
    };
    let path = cache_file(cache, kind);
    write_atomically(&path, &cached)?;
    Ok(Updated {
        path,
        previous: previous.map(|p| p.feed.ranges.len()),
        cached,
    })
}

/// Every range a public network: a feed with a catch-all or a special-purpose range is
/// broken or forged, and would make a sinkhole look like Zscaler.
fn public_only(ranges: &[IpNet]) -> Result<(), String> {
    for net in ranges {
        if let Some(label) = crate::address::overlaps_special(net) {
            return Err(format!(
                "holds {net}, a {label} range, not a public network"
            ));
        }
    }
    Ok(())
}

/// The share of entries that differ between two lists: (removed + added) / the larger size.
fn changed_share(old: &[IpNet], new: &[IpNet]) -> f64 {
    let old_set: std::collections::HashSet<&IpNet> = old.iter().collect();
    let new_set: std::collections::HashSet<&IpNet> = new.iter().collect();
    let removed = old_set.difference(&new_set).count();
    let added = new_set.difference(&old_set).count();
    let larger = old_set.len().max(new_set.len()).max(1);
    (removed + added) as f64 / larger as f64
}

/// Writes `value` as JSON to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, value: &Cached) -> Result<(), FeedUpdateError> {
    let error = |source| FeedUpdateError::Cache {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    crate::files::replace_atomic(path, 0o644, |out| {
        serde_json::to_writer_pretty(out, value).map_err(std::io::Error::other)
    })
    .map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body {
            text: text.into(),
            source: "test".into(),
        }
    }

    const GOOD: &str = r#"{"cloudName": "zscaler.net", "prefixes": ["165.225.0.0/17", "147.161.128.0/17", "185.46.212.0/23", "104.129.192.0/20"]}"#;

    #[test]
    fn updates_are_validated_and_the_cache_survives_failures() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let kind = FeedKind::Future;
        let first = update(&body(GOOD), kind, "zscaler.net", dir.path(), false, now).unwrap();
        assert_eq!(first.cached.feed.ranges.len(), 4);
        let before = std::fs::read_to_string(&first.path).unwrap();
        let cases = [
            (
                r#"{"cloudName": "zscaler.net", "prefixes": ["165.225.0.0/17", "10.0.0.0/8"]}"#,
                "private (RFC 1918)",
            ),
            (
                r#"{"cloudName": "zscaler.net", "prefixes": ["0.0.0.0/0"]}"#,
                "broader than /8",
            ),
            (
                r#"{"cloudName": "zscloud.net", "prefixes": ["165.225.0.0/17"]}"#,
                "not zscaler.net",
            ),
            (
                r#"{"cloudName": "zscaler.net", "prefixes": ["165.225.0.0/17", "8.8.8.0/24"]}"#,
                "more than half",
            ),
            (
                r#"{"cloudName": "zscaler.net", "hubPrefixes": ["165.225.0.0/17"], "type": "required"}"#,
                "not the ZIA future feed",
            ),
            (
                r#"{"cloudName": "zscaler.net", "prefixes": ["165.225.0.0/17""#,
                "not JSON",
            ),
        ];
        for (text, expected) in cases {
            let err = update(&body(text), kind, "zscaler.net", dir.path(), false, now)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert_eq!(
                std::fs::read_to_string(&first.path).unwrap(),
                before,
                "{text}"
            );
        }
        // --force takes a big change.
        let halved =
            r#"{"cloudName": "zscaler.net", "prefixes": ["165.225.0.0/17", "8.8.8.0/24"]}"#;
        assert!(update(&body(halved), kind, "zscaler.net", dir.path(), true, now).is_ok());
        let cached = read_cache(dir.path(), kind).unwrap().unwrap();
        assert_eq!(cached.feed.ranges.len(), 2);
        assert_eq!(cached.age_days(now + chrono::Duration::days(91)), 91);
    }
}
