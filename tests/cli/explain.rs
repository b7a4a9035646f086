//! `explain`: the support engineer's path, offline, from a saved report.

use crate::support::*;

fn fixture() -> String {
    repo("fixtures/reports/v1.0-blocked-9000.json")
        .display()
        .to_string()
}

#[test]
fn a_saved_report_gets_the_same_diagnosis_offline() {
    let run = run(&["explain", &fixture()]);
    run.assert_blocked_by("egress.tcp_9000_blocked");
    let json = crate::support::run(&["explain", &fixture(), "--format", "json"]);
    assert_eq!(json.top_cause(), "egress.tcp_9000_blocked");
}

#[test]
fn explain_honours_ignore_and_strict() {
    let ignored = run(&["explain", &fixture(), "--ignore", "egress.tcp_9000_blocked"]);
    assert_eq!(ignored.code, 0, "{}", ignored.stdout);
    let strict = run(&[
        "explain",
        &fixture(),
        "--ignore",
        "egress.tcp_9000_blocked",
        "--strict",
    ]);
    assert_eq!(strict.code, 4);
}

#[test]
fn check_output_round_trips_through_explain() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json").display().to_string();
    let checked = check_root("no-nameserver", &["--output", &saved]);
    assert_eq!(checked.code, 3);
    let explained = run(&["explain", &saved]);
    assert_eq!(explained.code, 3);
    assert_eq!(explained.summary(), checked.summary());
}

/// Reports of a later minor version (new fields) and of 1.0 (fields added since missing)
/// both load; another major version is refused with a clear message.
#[test]
fn schema_versions() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["schema_version"] = "1.9".into();
    doc["a_field_from_the_future"] = serde_json::json!({"x": 1});
    doc["evidence"]["tcp"]["attempts"][0]["future_detail"] = "y".into();
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, doc.to_string()).unwrap();
    assert_eq!(run(&["explain", newer.to_str().unwrap()]).code, 3);

    doc["schema_version"] = "2.0".into();
    let major = dir.path().join("major.json");
    std::fs::write(&major, doc.to_string()).unwrap();
    let refused = run(&["explain", major.to_str().unwrap()]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("major.json: schema_version 2.0"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
}

#[test]
fn malformed_reports_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "garbage.json",
            "{\n  \"schema_version\": \"1.0\",\n  oops\n}",
            "line 3",
        ),
        ("empty.json", "", "line 1"),
        (
            "shape.json",
            "{\"schema_version\": \"1.0\", \"tool\": 5}",
            "invalid type",
        ),
        (
            "version.json",
            "{\"schema_version\": \"one\"}",
            "not MAJOR.MINOR",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let run = run(&["explain", path.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(name) && run.stderr.contains(expected),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let missing = run(&["explain", "/nonexistent/report.json"]);
    assert_eq!(missing.code, 2);
}

#[test]
fn markdown_is_a_ticket_ready_report() {
    let run = run(&["explain", &fixture(), "--format", "markdown"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stdout.starts_with("# zpa-preflight: BLOCKED\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| TCP 9000 | ✗ fail |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("### 1. `egress.tcp_9000_blocked` (blocking"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("**Fix:** Allow egress TCP/9000"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("SUMMARY: blocked · egress.tcp_9000_blocked")
    );
}

#[test]
fn many_reports_give_a_fleet_summary() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = std::fs::read_to_string(fixture()).unwrap();
    std::fs::write(dir.path().join("ac-1.json"), &blocked).unwrap();
    std::fs::write(dir.path().join("ac-2.json"), &blocked).unwrap();
    let offline = check_root("no-nameserver", &["--format", "json"]);
    std::fs::write(dir.path().join("ac-3.json"), &offline.stdout).unwrap();
    let folder = dir.path().display().to_string();
    let run = run(&["explain", &folder]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("3 connector(s): 3 blocked"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("egress.tcp_9000_blocked"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 host(s): ac-1, ac-2"),
        "{}",
        run.stdout
    );
    let json = crate::support::run(&["explain", &folder, "--format", "json"]);
    assert_eq!(json.json()["blocked"], 3);
    assert_eq!(
        json.json()["causes"][0]["hosts"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn prometheus_textfile_metrics() {
    let run = run(&["explain", &fixture(), "--format", "prometheus"]);
    assert_eq!(run.code, 3);
    for line in [
        "# TYPE zpa_preflight_verdict gauge",
        "zpa_preflight_verdict{profile=\"loopback-lab\"} 2",
        "zpa_preflight_check_status{profile=\"loopback-lab\",check=\"tcp.9000\"} 2",
        "zpa_preflight_port_reachable_ratio{profile=\"loopback-lab\",port=\"443\"} 1",
        "zpa_preflight_port_reachable_ratio{profile=\"loopback-lab\",port=\"9000\"} 0",
        "zpa_preflight_cause{profile=\"loopback-lab\",id=\"egress.tcp_9000_blocked\",severity=\"blocking\"} 1",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "missing {line}:\n{}",
            run.stdout
        );
    }
}

/// Every object of `value` that is a struct gains a field a newer version might add. Maps are
/// data, not structs: those keyed by ranges are told by their keys, the log's per-pattern
/// `counts` (keyed by pattern ids) by name.
fn with_future_fields(value: &mut serde_json::Value) -> usize {
    future_fields(value, "")
}

fn future_fields(value: &mut serde_json::Value, name: &str) -> usize {
    let snake = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    match value {
        serde_json::Value::Object(map) => {
            let mut added = map.iter_mut().map(|(k, v)| future_fields(v, k)).sum();
            if name != "counts" && !map.is_empty() && map.keys().all(|k| snake(k)) {
                map.insert(
                    "zz_added_by_a_newer_minor".into(),
                    serde_json::json!({"x": [1]}),
                );
                added += 1;
            }
            added
        }
        serde_json::Value::Array(items) => items.iter_mut().map(|v| future_fields(v, name)).sum(),
        _ => 0,
    }
}

/// The version promise: a report of a newer minor, with a field added in every section and a
/// log cause this version does not know, loads and is judged the same.
#[test]
fn a_newer_minor_with_unknown_fields_and_cause_ids_loads() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in ["egress", "key", "middlebox", "clock", "host"] {
        let path = repo(&format!("fixtures/reports/scenarios/{scenario}.json"));
        let original = run(&["explain", path.to_str().unwrap(), "--format", "json"]);
        let mut report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        report["schema_version"] = "1.99".into();
        let added = with_future_fields(&mut report);
        assert!(added > 20, "{scenario}: {added} sections");
        if let Some(patterns) = report["evidence"]["plan"]["log_patterns"].as_array_mut() {
            patterns[0]["cause"] = "future.cause_from_a_newer_catalogue".into();
        }
        let newer = dir.path().join(format!("{scenario}-1.99.json"));
        std::fs::write(&newer, report.to_string()).unwrap();
        let judged = run(&["explain", newer.to_str().unwrap(), "--format", "json"]);
        assert_eq!(judged.code, original.code, "{scenario}: {}", judged.stderr);
        assert_eq!(judged.top_cause(), original.top_cause(), "{scenario}");
    }
    // A value a newer minor added to an enum says so.
    let mut report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("fixtures/reports/scenarios/egress.json")).unwrap(),
    )
    .unwrap();
    report["schema_version"] = "1.99".into();
    report["evidence"]["tcp"]["attempts"][0]["outcome"]["kind"] = "teleported".into();
    let newer = dir.path().join("variant.json");
    std::fs::write(&newer, report.to_string()).unwrap();
    let refused = run(&["explain", newer.to_str().unwrap()]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("newer than this tool's"),
        "{}",
        refused.stderr
    );
}

/// A report says which machine it inspected, and the fleet summary names hosts by it (the file
/// name beside it when two reports name one host); --redact replaces it.
#[test]
fn the_fleet_names_hosts_by_the_machine_their_reports_inspected() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/cloud/data")).unwrap();
    std::fs::write(root.path().join("etc/hostname"), "connector-eu-1\n").unwrap();
    std::fs::write(
        root.path().join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join("var/lib/cloud/data/instance-id"),
        "i-0abc123\n",
    )
    .unwrap();
    std::fs::copy(
        repo("fixtures/roots/vm-base/etc/os-release"),
        root.path().join("etc/os-release"),
    )
    .unwrap();
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let one = run(&[
        "check",
        "--profile",
        &profile,
        "--root",
        root.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let machine = one.json()["evidence"]["machine"].clone();
    assert_eq!(machine["hostname"], "connector-eu-1", "{machine}");
    assert_eq!(machine["instance_id"], "i-0abc123");
    let fleet = dir.path().join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    std::fs::write(fleet.join("a.json"), &one.stdout).unwrap();
    std::fs::write(fleet.join("b.json"), &one.stdout).unwrap();
    std::fs::copy(
        repo("fixtures/reports/scenarios/egress.json"),
        fleet.join("old.json"),
    )
    .unwrap();
    let summary = run(&["explain", fleet.to_str().unwrap(), "--format", "json"]);
    let names: Vec<String> = summary.json()["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"connector-eu-1 (a)".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"connector-eu-1 (b)".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"old".to_string()),
        "a report without a machine keeps its file name: {names:?}"
    );
    // --redact replaces the machine's name and ids.
    let bundle = dir.path().join("b.tar.gz");
    let made = run(&[
        "bundle",
        "--profile",
        &profile,
        "--root",
        root.path().to_str().unwrap(),
        "-o",
        bundle.to_str().unwrap(),
        "--redact",
    ]);
    assert!(made.code == 0 || made.code == 3, "{}", made.stderr);
    let explained = run(&["explain", bundle.to_str().unwrap(), "--format", "json"]);
    let text = explained.stdout;
    assert!(
        !text.contains("connector-eu-1") && !text.contains("i-0abc123"),
        "{text}"
    );
}

/// The paths a report names come back from `explain` as they were written, a relative
/// `--root` included (a review found them turned into absolute paths).
#[test]
fn a_reports_paths_survive_explain() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("r.json");
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let made = run(&[
        "check",
        "--profile",
        &profile,
        "--root",
        "fixtures/roots/offline",
        "--log",
        "relative/connector.log",
        "--output",
        saved.to_str().unwrap(),
    ]);
    assert_ne!(made.code, 2, "{}", made.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let explained = run(&["explain", saved.to_str().unwrap(), "--format", "json"]);
    let again = explained.json();
    for pointer in [
        "/evidence/plan/resolver",
        "/evidence/plan/logs",
        "/evidence/plan/system_trust",
    ] {
        assert_eq!(
            written.pointer(pointer),
            again.pointer(pointer),
            "{pointer}"
        );
    }
    assert_eq!(
        written.pointer("/evidence/plan/logs/0").unwrap(),
        "relative/connector.log"
    );
}

/// An outcome this version cannot read is named as one, with what may be wrong with it, not
/// as serde's "did not match any variant".
#[test]
fn an_unreadable_outcome_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("fixtures/reports/scenarios/egress.json")).unwrap();
    for outcome in [
        serde_json::json!({"kind": "quantum"}),
        serde_json::json!({"kind": "timed_out"}),
    ] {
        let mut report: serde_json::Value = serde_json::from_str(&text).unwrap();
        report["evidence"]["tcp"]["attempts"][0]["outcome"] = outcome.clone();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, report.to_string()).unwrap();
        let refused = run(&["explain", path.to_str().unwrap()]);
        assert_eq!(refused.code, 2, "{outcome}");
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("not a TcpOutcome this version reads"),
            "{}",
            refused.stderr
        );
    }
}
