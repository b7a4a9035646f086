//! Honest edges: a --root that is no directory, an SELinux mode that cannot be read, a name
//! lookup that never answers, hostile text on a terminal and in markdown, a reader that goes
//! away, TERM=dumb, and the size cap on the whole mix.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

#[test]
fn a_root_that_is_not_a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let missing = dir.path().join("missing").display().to_string();
    let file = file.display().to_string();
    for root in [missing.as_str(), file.as_str()] {
        for args in [
            vec!["check", "--dry-run", "--root", root],
            vec!["size", "--users", "http=10", "--here", "--root", root],
            vec!["feed", "update", "--from", "/dev/null", "--root", root],
        ] {
            let run = run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.contains(root), "{}", run.stderr);
        }
    }
}

#[test]
fn an_selinux_mode_that_cannot_be_read_is_unknown_never_disabled() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    for file in ["etc/os-release", "etc/passwd", "etc/resolv.conf"] {
        std::fs::copy(
            repo(&format!("fixtures/roots/vm-base/{file}")),
            r.join(file),
        )
        .unwrap();
    }
    // selinuxfs is there, but its enforce file is not a readable regular file.
    std::fs::create_dir_all(r.join("sys/fs/selinux/enforce")).unwrap();
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let run = run(&[
        "check",
        "--profile",
        &profile,
        "--root",
        r.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let selinux = run.check("selinux");
    assert_eq!(selinux["status"], "skipped", "{selinux}");
    let reason = selinux["reason"].as_str().unwrap();
    assert!(reason.starts_with("unknown"), "{reason}");
    assert!(!selinux.to_string().contains("disabled"), "{selinux}");
    assert_eq!(
        run.json()["evidence"]["host"]["selinux"]["kind"],
        "unknown",
        "{}",
        run.json()["evidence"]["host"]["selinux"]
    );
}

#[test]
fn chain_obeys_its_timeout_when_the_resolver_never_answers() {
    if !require(is_root(), "not root: network namespaces need it") {
        return;
    }
    let ns = Netns::new("slowdns");
    // `ip netns exec` binds /etc/netns/<name>/resolv.conf over /etc/resolv.conf: the system's
    // lookup asks a resolver inside the namespace that reads and never answers.
    let etc = std::path::PathBuf::from(format!("/etc/netns/{}", ns.name));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("resolv.conf"),
        "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n",
    )
    .unwrap();
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(etc);
    let up = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(up.success());
    let mut silent = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c"])
        .arg("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',53))\nprint('up',flush=True)\ntime.sleep(60)")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(silent.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let run = ns.run(&["chain", "slow.zpa.test", "--timeout", "1s"]);
    let _ = silent.kill();
    let _ = silent.wait();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("no DNS answer in time"),
        "{}",
        run.stderr
    );
    // The system's lookup would have waited 10 s (timeout:5 attempts:2).
    assert!(run.took < Duration::from_secs(6), "took {:?}", run.took);
}

#[test]
fn hostile_text_never_reaches_a_terminal_or_markdown_raw() {
    let dir = tempfile::tempdir().unwrap();
    // A saved report whose fields carry terminal escapes and markdown: evidence.interrupted,
    // the profile's name, a file name read under --root.
    let mut report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("fixtures/reports/scenarios/egress.json")).unwrap(),
    )
    .unwrap();
    report["profile"] = "lab\u{1b}]0;owned\u{7}\u{1b}[2J [x](http://evil) <img>".into();
    report["evidence"]["interrupted"] =
        "SIGINT\u{1b}[31m\r\nSUMMARY: ready [x](http://evil) <img>".into();
    report["evidence"]["files_read"] = serde_json::json!(["etc/\u{1b}[1mresolv.conf"]);
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, report.to_string()).unwrap();
    let path = path.display().to_string();
    for format in ["human", "markdown"] {
        let run = run(&["explain", &path, "--format", format, "--color", "never"]);
        assert!(
            !run.stdout.contains('\u{1b}'),
            "{format}: an escape reached the output"
        );
        assert!(!run.stdout.contains('\u{7}'), "{format}");
        assert!(!run.stdout.contains('\r'), "{format}");
        assert!(
            run.stdout.contains("\\u{1b}"),
            "{format}: shown escaped\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.lines().any(|l| l.starts_with("SUMMARY: ready")),
            "{format}: no forged line"
        );
        if format == "markdown" {
            // Prose (the cause's title) escapes markdown; code spans are inert as they are.
            let title = run
                .stdout
                .lines()
                .find(|l| l.starts_with("**The run was interrupted"))
                .unwrap_or_else(|| panic!("{}", run.stdout));
            assert!(
                !title.contains("[x](") && !title.contains("<img>"),
                "{title}"
            );
            assert!(title.contains("\\[x\\](http://evil) \\<img\\>"), "{title}");
        }
    }
}

#[test]
fn a_reader_that_goes_away_keeps_the_verdicts_exit_and_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("copy.json");
    let report = repo("fixtures/reports/scenarios/egress.json")
        .display()
        .to_string();
    let script = format!(
        "{} explain {report} --output {} --color never | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        bin(),
        saved.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        status.trim(),
        "3",
        "the verdict's exit code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(written["verdict"], "blocked");
}

#[test]
fn term_dumb_gets_no_colour() {
    if !require(have("script"), "script (util-linux) is not installed") {
        return;
    }
    let report = repo("fixtures/reports/scenarios/egress.json")
        .display()
        .to_string();
    let command = format!("{} explain {report}", bin());
    let shown = |term: &str| {
        let out = Command::new("script")
            .args(["-qc", &command, "/dev/null"])
            .env("TERM", term)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        shown("xterm-256color").contains("\u{1b}["),
        "a colour terminal gets colour"
    );
    assert!(!shown("dumb").contains("\u{1b}["), "TERM=dumb gets none");
}

#[test]
fn the_size_cap_is_on_the_whole_mix() {
    let run = run(&["size", "--users", "http=6000000,rdp=6000000"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("in all"), "{}", run.stderr);
}

/// Found by the hostile round, each fixed at its mechanism.
#[test]
fn the_second_hostile_round() {
    let dir = tempfile::tempdir().unwrap();
    let saved = repo("fixtures/reports/scenarios/egress.json")
        .display()
        .to_string();

    // `--output /dev/null` writes through; the device stays a device.
    let run1 = run(&["explain", &saved, "--output", "/dev/null"]);
    assert_eq!(run1.code, 3, "{}", run1.stderr);
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // An empty folder is no fleet.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run2 = run(&["explain", empty.to_str().unwrap()]);
    assert_eq!(run2.code, 2, "{}{}", run2.stdout, run2.stderr);
    assert!(run2.stderr.contains("holds no report"), "{}", run2.stderr);

    // An argument with a control character: one escaped line, exit 2.
    let run3 = run(&[
        "explain",
        "--chain",
        &saved,
        "--sni",
        "co2br.net\nFAKE LINE",
    ]);
    assert_eq!(run3.code, 2);
    assert_eq!(run3.stderr.lines().count(), 1, "{}", run3.stderr);
    assert!(run3.stderr.contains("control character"), "{}", run3.stderr);

    // Prometheus gets the printable report too.
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    report["profile"] = "lab\u{1b}[2J\u{202e}".into();
    let hostile = dir.path().join("hostile.json");
    std::fs::write(&hostile, report.to_string()).unwrap();
    let run4 = run(&[
        "explain",
        hostile.to_str().unwrap(),
        "--format",
        "prometheus",
    ]);
    assert!(
        !run4.stdout.contains('\u{1b}') && !run4.stdout.contains('\u{202e}'),
        "{}",
        run4.stdout
    );

    // `feed update` repairs a cache it cannot read, instead of failing on it.
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::write(cache.join("zpa.json"), "garbage").unwrap();
    let feed = repo("checks/feeds/zpa-private.json").display().to_string();
    let run5 = run(&[
        "feed",
        "update",
        "--from",
        &feed,
        "--cache",
        cache.to_str().unwrap(),
    ]);
    assert_eq!(run5.code, 0, "{}{}", run5.stdout, run5.stderr);
    assert!(
        std::fs::read_to_string(cache.join("zpa.json"))
            .unwrap()
            .contains("ranges")
    );
}

/// `bundle --output` writes the report as `check --output` does; `--format` is refused.
#[test]
fn bundle_honours_output_and_refuses_a_format() {
    let dir = tempfile::tempdir().unwrap();
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let root = repo("fixtures/roots/offline").display().to_string();
    let bundle = dir.path().join("b.tar.gz");
    let report = dir.path().join("r.json");
    let made = run(&[
        "bundle",
        "--profile",
        &profile,
        "--root",
        &root,
        "-o",
        bundle.to_str().unwrap(),
        "--output",
        report.to_str().unwrap(),
    ]);
    assert!(
        made.code == 3 || made.code == 0,
        "{}{}",
        made.stdout,
        made.stderr
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(written["verdict"].is_string());
    let refused = run(&[
        "bundle",
        "--profile",
        &profile,
        "--root",
        &root,
        "-o",
        bundle.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

/// The second hostile round's findings, each at its mechanism.
#[test]
fn the_third_hostile_round() {
    let dir = tempfile::tempdir().unwrap();
    let ready: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("fixtures/reports/scenarios/ready.json")).unwrap(),
    )
    .unwrap();
    let explain = |name: &str, report: &serde_json::Value, extra: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, report.to_string()).unwrap();
        let mut args = vec!["explain", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&args)
    };

    // One required name's lookup interrupted, the other answered: never ready.
    let mut one = ready.clone();
    one["evidence"]["dns"]["names"][1]["a"] = serde_json::json!({"kind": "interrupted"});
    one["evidence"]["dns"]["names"][1]["aaaa"] = serde_json::json!({"kind": "interrupted"});
    let run1 = explain("one-interrupted.json", &one, &[]);
    assert_eq!(run1.code, 3, "{}", run1.stdout);
    assert!(
        run1.stdout.contains("api.zpa.test: lookup unfinished"),
        "{}",
        run1.stdout
    );

    // Every broker handshake unfinished: the TLS check says so, and the run is not ready.
    let mut tls = ready.clone();
    for h in tls["evidence"]["tls"]["handshakes"].as_array_mut().unwrap() {
        h["result"] = serde_json::json!({"kind": "deadline_reached"});
    }
    let run2 = explain("tls-deadline.json", &tls, &[]);
    assert_eq!(run2.code, 3, "{}", run2.stdout);
    assert!(
        run2.stdout.contains("no handshake finished"),
        "{}",
        run2.stdout
    );

    // A control host cut off: a cause, a warning for an optional name (4 under --strict).
    let mut control = ready.clone();
    let mut h = control["evidence"]["tls"]["handshakes"][0].clone();
    h["sni"] = "dist.zpa.test".into();
    h["class"] = "control".into();
    h["origin"] = serde_json::json!({"kind": "name", "host": "dist.zpa.test", "role": "control"});
    h["result"] = serde_json::json!({"kind": "reset"});
    h["chain"] = serde_json::json!([]);
    h["verification"] = serde_json::Value::Null;
    control["evidence"]["tls"]["handshakes"]
        .as_array_mut()
        .unwrap()
        .push(h);
    control["evidence"]["plan"]["names"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "host": "dist.zpa.test", "role": "control", "ports": [443], "required": false,
            "source": "test"
        }));
    let run3 = explain(
        "control-cut.json",
        &control,
        &["--strict", "--format", "json"],
    );
    assert_eq!(run3.code, 4, "{}", run3.stdout);
    assert_eq!(run3.cause("tls.handshake_blocked")["severity"], "warning");

    // Zen ranges that cover everything are no plan to judge by.
    let mut everything = ready.clone();
    everything["evidence"]["plan"]["zen"]["ranges"] = serde_json::json!(["0.0.0.0/0", "::/0"]);
    let run4 = explain("catch-all.json", &everything, &[]);
    assert_eq!(run4.code, 2, "{}", run4.stdout);
    assert!(run4.stderr.contains("a catch-all"), "{}", run4.stderr);

    // `--output /dev/stdout` with stdout a file: the report reaches the file, and the
    // `/dev/stdout` symlink is never replaced.
    let out = dir.path().join("stdout.json");
    let saved = repo("fixtures/reports/scenarios/egress.json")
        .display()
        .to_string();
    let status = std::process::Command::new(bin())
        .args([
            "explain",
            &saved,
            "--output",
            "/dev/stdout",
            "--format",
            "json",
        ])
        .stdout(std::fs::File::create(&out).unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(
        std::fs::symlink_metadata("/dev/stdout")
            .unwrap()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.matches("\"schema_version\"").count(),
        2,
        "both copies in the file"
    );

    // A FIFO at the feed cache: `feed update` replaces it without waiting on it.
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    nix::unistd::mkfifo(
        &cache.join("zpa.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let feed = repo("checks/feeds/zpa-private.json").display().to_string();
    let run5 = run_within(
        std::time::Duration::from_secs(30),
        &[
            "feed",
            "update",
            "--from",
            &feed,
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    assert_eq!(run5.code, 0, "{}", run5.stderr);
    assert!(std::fs::metadata(cache.join("zpa.json")).unwrap().is_file());
}
