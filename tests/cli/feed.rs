//! Zscaler's feeds in every shape it serves: read by `check --cidrs`, fetched over HTTPS from
//! a loopback stand-in for config.zscaler.com by `feed update`, cached, shown, and aged.

use std::collections::HashMap;
use std::path::Path;

use crate::support::feed_server::FeedServer;
use crate::support::*;

/// Small copies of each shape, with real public Zscaler ranges (never contacted: parsed only).
const ZPA: &str = r#"{"Cloud Name": "private.zscaler.com", "content": [
  {"Source": "Connector, Private Service Edge, Zscaler Client Connector",
   "Domains": "*.prod.zpath.net", "IP Protocol": "TCP/UDP", "Port": 443,
   "IPs": ["3.7.7.75/32", "104.129.192.0/20", "52.4.154.137", "165.225.0.0/17"], "Date Added": "2024-01-01"},
  {"Source": "Browser Access", "Domains": "*.zpa-auth.net", "IP Protocol": "TCP", "Port": 443,
   "IPs": ["34.216.108.5/32"], "Date Added": "2024-01-01"}]}"#;
const CENR: &str = r#"{"zscaler.net": {
  "continent : EMEA": {"city : Amsterdam II": [{"range": "185.46.212.0/23", "vpn": "", "gre": "", "ext": "", "hostname": "", "latitude": "52", "longitude": "4"}],
                       "city : Frankfurt IV": [{"range": "165.225.72.0/22", "vpn": "", "gre": "", "ext": "", "hostname": "", "latitude": "50", "longitude": "8"}]},
  "continent : Asia-Pacific": {"city : Mumbai II": [{"range": "165.225.104.0/24", "vpn": "", "gre": "", "ext": "", "hostname": "", "latitude": "19", "longitude": "72"},
                                                    {"range": "2a03:eec0:1411::/48", "vpn": "", "gre": "", "ext": "", "hostname": "", "latitude": "19", "longitude": "72"}]}},
  "svpnIPs": ["165.225.120.2"]}"#;
const FUTURE: &str =
    r#"{"cloudName": "zscaler.net", "prefixes": ["147.161.128.0/17", "136.226.0.0/16"]}"#;
const HUBS: &str = r#"{"cloudName": "zscaler.net", "type": "required", "hubPrefixes": ["165.225.80.0/22", "2a03:eec0::/32"]}"#;
const CA: &str = r#"{"cloudName": "zscaler.net", "ranges": ["104.129.192.0/20"]}"#;
const PLAIN: &str = "# ZPA plaintext\n3.7.7.75/32\n104.129.192.0/20\n2605:4300::/32\n";

#[test]
fn check_reads_every_shape_zscaler_serves() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, kind) in [
        ("zpa.json", ZPA, "ZPA feed"),
        ("cenr.json", CENR, "ZIA cenr feed"),
        ("future.json", FUTURE, "ZIA future feed"),
        // Saved under the other hub list's name: the body decides.
        ("hubs-recommended.json", HUBS, "ZIA hubs (required) feed"),
        ("zpa.txt", PLAIN, "plain-text feed"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.display().to_string();
        let run = run(&["check", "--dry-run", "--cidrs", &path]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout.contains(kind), "{name}: {}", run.stdout);
    }
    let odd = dir.path().join("odd.json");
    std::fs::write(&odd, r#"{"cloud": "x", "list": []}"#).unwrap();
    let run = run(&["check", "--dry-run", "--cidrs", &odd.display().to_string()]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("odd.json: not a Zscaler feed"),
        "{}",
        run.stderr
    );
}

/// `feed update` against a loopback HTTPS server with a lab CA.
struct Updater {
    server: FeedServer,
    ca: tempfile::NamedTempFile,
    cache: tempfile::TempDir,
    root: tempfile::TempDir,
}

impl Updater {
    fn new(bodies: &[(&str, &str)]) -> Updater {
        let server = FeedServer::start(
            bodies
                .iter()
                .map(|(p, b)| (p.to_string(), b.to_string()))
                .collect::<HashMap<_, _>>(),
        );
        let ca = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca.path(), &server.ca_pem).unwrap();
        Updater {
            server,
            ca,
            cache: tempfile::tempdir().unwrap(),
            // No /etc/environment: no proxy.
            root: tempfile::tempdir().unwrap(),
        }
    }

    fn update(&self, kind: &str, path: &str, extra: &[&str]) -> Run {
        let url = self.server.url(path);
        let ca = self.ca.path().display().to_string();
        let cache = self.cache.path().display().to_string();
        let root = self.root.path().display().to_string();
        let mut args = vec![
            "feed", "update", "--kind", kind, "--from", &url, "--ca", &ca, "--cache", &cache,
            "--root", &root,
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn cached(&self, kind: &str) -> Option<String> {
        std::fs::read_to_string(self.cache.path().join(format!("{kind}.json"))).ok()
    }
}

#[test]
fn feed_update_validates_before_it_replaces_the_cache() {
    let halved = r#"{"cloudName": "zscaler.net", "prefixes": ["147.161.128.0/17", "8.8.8.0/24", "9.9.9.0/24"]}"#;
    let up = Updater::new(&[
        ("/api/private.zscaler.com/zpa/json", ZPA),
        ("/api/zscaler.net/cenr/json", CENR),
        ("/api/zscaler.net/future/json", FUTURE),
        ("/api/zscaler.net/hubs/cidr/json/required", HUBS),
        ("/api/zscaler.net/ca/json", CA),
        ("/truncated", &CENR[..CENR.len() / 2]),
        (
            "/catch-all",
            r#"{"cloudName": "zscaler.net", "prefixes": ["0.0.0.0/0"]}"#,
        ),
        (
            "/private",
            r#"{"cloudName": "zscaler.net", "prefixes": ["147.161.128.0/17", "10.0.0.0/8"]}"#,
        ),
        (
            "/foreign",
            r#"{"cloudName": "zscloud.net", "prefixes": ["147.161.128.0/17"]}"#,
        ),
        ("/halved", halved),
    ]);
    for (kind, path, ranges) in [
        ("zpa", "/api/private.zscaler.com/zpa/json", 4),
        ("cenr", "/api/zscaler.net/cenr/json", 5),
        ("future", "/api/zscaler.net/future/json", 2),
        ("hubs", "/api/zscaler.net/hubs/cidr/json/required", 2),
        ("ca", "/api/zscaler.net/ca/json", 1),
    ] {
        let run = up.update(kind, path, &[]);
        assert_eq!(run.code, 0, "{kind}: {}", run.stderr);
        assert!(
            run.stdout.contains(&format!(": {ranges} ranges")),
            "{kind}: {}",
            run.stdout
        );
    }
    assert!(up.cached("hubs_required").is_some());
    let before = up.cached("future").unwrap();
    for (path, kind, expected) in [
        ("/truncated", "cenr", "not JSON"),
        ("/catch-all", "future", "broader than /8"),
        ("/private", "future", "not a public network"),
        ("/foreign", "future", "not zscaler.net"),
        ("/halved", "future", "more than half"),
        ("/missing", "future", "404"),
    ] {
        let cenr_before = up.cached("cenr").unwrap();
        let run = up.update(kind, path, &[]);
        assert_eq!(run.code, 2, "{path}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{path}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{path}: {}", run.stderr);
        assert!(run.stderr.contains("the cache is unchanged"), "{path}");
        assert_eq!(up.cached("future").unwrap(), before, "{path}");
        assert_eq!(up.cached("cenr").unwrap(), cenr_before, "{path}");
    }
    // Forced, the halved list is taken.
    let forced = up.update("future", "/halved", &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(forced.stdout.contains("(was 2)"), "{}", forced.stdout);
    // A feed host whose CA is not trusted is refused, the cache untouched.
    let cache = up.cache.path().display().to_string();
    let untrusted = run(&[
        "feed",
        "update",
        "--kind",
        "cenr",
        "--from",
        &up.server.url("/api/zscaler.net/cenr/json"),
        "--cache",
        &cache,
        "--timeout",
        "5s",
    ]);
    assert_eq!(untrusted.code, 2, "{}", untrusted.stderr);
}

#[test]
fn feed_show_names_the_source_age_and_regions() {
    let up = Updater::new(&[("/api/zscaler.net/cenr/json", CENR)]);
    assert_eq!(up.update("cenr", "/api/zscaler.net/cenr/json", &[]).code, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cenr.json");
    std::fs::write(&file, CENR).unwrap();
    let file = file.display().to_string();
    let human = run(&["feed", "show", "--cidrs", &file]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("5 ranges (ZIA cenr feed) for zscaler.net"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("Asia-Pacific · Mumbai II"),
        "{}",
        human.stdout
    );
    let json = run(&["feed", "show", "--cidrs", &file, "--format", "json"]);
    let ranges = json.json()["ranges"].as_array().unwrap().clone();
    assert_eq!(ranges.len(), 5);
    assert!(
        ranges
            .iter()
            .any(|r| r["range"] == "185.46.212.0/23" && r["region"] == "EMEA · Amsterdam II"),
        "{ranges:?}"
    );
}

/// A cached ZPA feed replaces the built-in subset, says where it came from, and warns once
/// it is older than Zscaler's 90-day notice period.
#[test]
pub(crate) fn check_uses_the_cache_and_warns_when_it_is_stale() {
    let up = Updater::new(&[("/api/private.zscaler.com/zpa/json", ZPA)]);
    assert_eq!(
        up.update("zpa", "/api/private.zscaler.com/zpa/json", &[])
            .code,
        0
    );
    let cache = up.cache.path().display().to_string();
    let dry = run(&["check", "--dry-run", "--cache", &cache]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("cached from https://127.0.0.1:"),
        "{}",
        dry.stdout
    );

    // Age the cached copy by 100 days.
    let path = up.cache.path().join("zpa.json");
    let mut cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let old = chrono::Utc::now() - chrono::Duration::days(100);
    cached["fetched_at"] = serde_json::Value::String(old.to_rfc3339());
    std::fs::write(&path, cached.to_string()).unwrap();
    // Only loopback is contacted: one --target address, one --ntp-server, a root with no
    // resolver needed (no name is resolved).
    let root = up.root.path().display().to_string();
    let run = run(&[
        "check",
        "--cache",
        &cache,
        "--root",
        &root,
        "--target",
        "127.0.0.1",
        "--ntp-server",
        "127.0.0.1:9",
        "--timeout",
        "500ms",
        "--format",
        "json",
    ]);
    run.keep_as("feed");
    let ids = run.cause_ids();
    assert!(ids.contains(&"feed.stale".to_string()), "{ids:?}");
    let stale = run.cause("feed.stale");
    assert_eq!(stale["title"], "The cached Zen feed is 100 days old");
    let _ = Path::new(&cache);
}

/// `feed update` through a proxy that demands credentials (a real mitmproxy with
/// `--proxyauth`, tunnelling without interception): the credentials of `https_proxy` are
/// used, never printed, and a proxy that refuses says why.
#[test]
fn feed_update_authenticates_to_the_system_proxy() {
    let Some(mitmdump) = mitmdump() else {
        require(
            false,
            "mitmproxy is not installed (target/lab-venv or ZPT_MITMDUMP)",
        );
        return;
    };
    let up = Updater::new(&[("/api/private.zscaler.com/zpa/json", ZPA)]);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let confdir = tempfile::tempdir().unwrap();
    let mut proxy = std::process::Command::new(&mitmdump)
        .args([
            &format!("--set=confdir={}", confdir.path().display()),
            "--listen-host=127.0.0.1",
            &format!("--listen-port={port}"),
            "--proxyauth=feeduser:PROXYPASS-31",
            "--ignore-hosts=.*",
            "-q",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 20, "mitmdump never listened");
        if let Ok(Some(status)) = proxy.try_wait() {
            panic!("mitmdump exited: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _proxy = Kill(proxy);
    let etc = up.root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let with = |userinfo: &str| {
        std::fs::write(
            etc.join("environment"),
            format!("https_proxy=\"http://{userinfo}127.0.0.1:{port}\"\n"),
        )
        .unwrap();
        up.update("zpa", "/api/private.zscaler.com/zpa/json", &[])
    };
    let ok = with("feeduser:PROXYPASS-31@");
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(up.cached("zpa").is_some());
    // Without a scheme, as /etc/environment often has it: the credentials still go.
    std::fs::write(
        etc.join("environment"),
        format!("https_proxy=feeduser:PROXYPASS-31@127.0.0.1:{port}\n"),
    )
    .unwrap();
    let bare = up.update("zpa", "/api/private.zscaler.com/zpa/json", &["--force"]);
    assert_eq!(bare.code, 0, "{}{}", bare.stdout, bare.stderr);
    for (userinfo, says) in [
        ("", "carries none"),
        ("feeduser:wrong-PROXYPASS@", "refused the user and password"),
    ] {
        let refused = with(userinfo);
        assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
        assert!(refused.stderr.contains("407"), "{}", refused.stderr);
        assert!(refused.stderr.contains(says), "{}", refused.stderr);
        assert!(!refused.stderr.contains("PROXYPASS"), "{}", refused.stderr);
    }
    assert!(!ok.stdout.contains("PROXYPASS") && !ok.stderr.contains("PROXYPASS"));
}

/// A "feed" that is a catch-all, or too large to be one, is refused wherever a feed enters:
/// `--cidrs`, `feed update --from`, and the cache.
#[test]
fn a_catch_all_or_oversized_feed_is_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let catch_all: String = (11..=99u32).map(|a| format!("{a}.0.0.0/8\n")).collect();
    let huge: String = (0..30_000u32)
        .map(|i| format!("{}.{}.{}.0/24\n", 11 + i / 65536, (i / 256) % 256, i % 256))
        .collect();
    let cache = dir.path().join("cache");
    for (name, text, says) in [
        ("catch-all.txt", catch_all, "a catch-all"),
        ("huge.txt", huge, "more than any Zscaler feed"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.display().to_string();
        for args in [
            vec!["check", "--dry-run", "--cidrs", &path],
            vec![
                "feed",
                "update",
                "--from",
                &path,
                "--cache",
                cache.to_str().unwrap(),
            ],
        ] {
            let run = run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.contains(says), "{}", run.stderr);
        }
    }
    assert!(!cache.join("zpa.json").exists(), "nothing cached");
    // A forged cache is held to the same rule: set aside, said so, never used.
    std::fs::create_dir_all(&cache).unwrap();
    let ranges: Vec<String> = (11..=99u32).map(|a| format!("\"{a}.0.0.0/8\"")).collect();
    std::fs::write(
        cache.join("zpa.json"),
        format!(
            r#"{{"fetched_at": "2026-11-30T00:00:00Z", "source": "forged", "feed": {{"cloud": "private.zscaler.com", "source": "forged", "complete": true, "ranges": [{}], "kind": "zpa"}}}}"#,
            ranges.join(",")
        ),
    )
    .unwrap();
    let show = run(&["feed", "show", "--cache", cache.to_str().unwrap()]);
    assert!(
        show.stderr.contains("a catch-all"),
        "{}{}",
        show.stdout,
        show.stderr
    );
}
