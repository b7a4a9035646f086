//! The cause catalogue as users meet it: `causes`, `--ignore`, the README's table, and every id
//! a rule or a log pattern can raise.

use crate::support::*;

#[test]
fn the_readme_table_is_the_catalogue() {
    let table = run(&["causes", "--format", "markdown"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    assert!(
        readme.contains(&table.stdout),
        "README.md's cause table differs from `zpa-preflight causes --format markdown`; paste \
         its output into the README:\n{}",
        table.stdout
    );
}

#[test]
fn causes_lists_every_id_in_each_format() {
    let human = run(&["causes"]);
    assert_eq!(human.code, 0);
    let json = run(&["causes", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["kind"], "causes");
    assert!(doc["schema_version"].is_string());
    let kinds: Vec<serde_json::Value> = doc["causes"].as_array().unwrap().clone();
    assert!(kinds.len() >= 40, "{}", kinds.len());
    for kind in &kinds {
        let id = kind["id"].as_str().unwrap();
        assert!(
            human.stdout.contains(id),
            "{id} missing from the human list"
        );
        assert!(
            kind["family"].is_string() && kind["severity"].is_string(),
            "{kind}"
        );
    }
    let refused = run(&["causes", "--format", "prometheus"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(refused.stderr.contains("prometheus"), "{}", refused.stderr);
}

#[test]
fn a_mistyped_ignore_is_a_usage_error_naming_the_nearest_id() {
    let out = run(&["check", "--dry-run", "--ignore", "egress.tcp_9000_blockd"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("did you mean 'egress.tcp_9000_blocked'"),
        "{}",
        out.stderr
    );
    let report = repo("fixtures/reports/v1.0-blocked-9000.json");
    let report = report.display().to_string();
    let out = run(&["explain", &report, "--ignore", "tls.intercept"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("'tls.intercepted'"), "{}", out.stderr);
    // A real id is accepted, whatever its port.
    let ok = run(&["explain", &report, "--ignore", "egress.tcp_9000_blocked"]);
    assert_ne!(ok.code, 2, "{}", ok.stderr);
}

#[test]
fn unsupported_formats_are_refused_not_replaced() {
    let profile = lab_profile();
    let dry = ["check", "--profile", &profile, "--dry-run", "--format"];
    for (args, what) in [
        ([&dry[..], &["markdown"]].concat(), "dry-run as markdown"),
        (
            [&dry[..], &["prometheus"]].concat(),
            "dry-run as prometheus",
        ),
        (
            vec!["size", "--users", "jira=100", "--format", "prometheus"],
            "size as prometheus",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{what}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.is_empty(), "{what}: printed {}", out.stdout);
    }
}
