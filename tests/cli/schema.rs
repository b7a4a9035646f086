//! The report's published JSON Schema (`zpa-preflight schema`, generated from the types): it
//! is pinned by a golden file, so a change to the wire shows up as a diff, and every saved
//! scenario report, every `--format json` golden output and a fresh `check` report validate
//! against it, as does a newer minor's report with fields this version does not know.

use crate::support::*;

/// The schema as this binary prints it, compiled by an independent validator (boon, draft
/// 2020-12).
fn compiled() -> (boon::Schemas, boon::SchemaIndex, serde_json::Value) {
    let out = run(&["schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("urn:report", schema.clone()).unwrap();
    let index = compiler.compile("urn:report", &mut schemas).unwrap();
    (schemas, index, schema)
}

fn violations(
    schemas: &boon::Schemas,
    index: boon::SchemaIndex,
    doc: &serde_json::Value,
) -> String {
    match schemas.validate(doc, index) {
        Ok(()) => String::new(),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn the_published_schema_is_golden() {
    let (_, _, schema) = compiled();
    let got = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = repo("fixtures/reports/scenarios/expected/report.schema.json");
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        want == got,
        "{} differs from `zpa-preflight schema`; BLESS=1 rewrites it",
        path.display()
    );
    assert!(schema["title"].as_str().unwrap().contains("schema 1."));
}

#[test]
fn every_report_validates_against_the_schema() {
    let (schemas, index, _) = compiled();
    let mut checked = 0;
    let mut problems = Vec::new();
    let scenarios = repo("fixtures/reports/scenarios");
    let expected = scenarios.join("expected");
    for dir in [&scenarios, &expected] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name == "report.schema.json" {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let found = violations(&schemas, index, &doc);
            if !found.is_empty() {
                problems.push(format!("{}: {found}", path.display()));
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} reports");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    // A fresh report from this binary, and a newer minor's with unknown fields everywhere.
    let fresh = check_json(
        &repo("fixtures/profiles/host-only.toml"),
        &repo("fixtures/roots/offline"),
        &[],
    );
    let mut doc: serde_json::Value = serde_json::from_str(&fresh.stdout).unwrap();
    assert_eq!(violations(&schemas, index, &doc), "");
    doc["schema_version"] = "1.99".into();
    doc["a_field_from_1_99"] = serde_json::json!({"x": 1});
    doc["evidence"]["a_field_from_1_99"] = true.into();
    assert_eq!(violations(&schemas, index, &doc), "");
    // The schema is no rubber stamp: a wrong type, or a variant this version does not know
    // deep in the evidence, is a violation.
    let mut wrong = doc.clone();
    wrong["verdict"] = 7.into();
    assert!(violations(&schemas, index, &wrong).contains("verdict"));
    let egress = std::fs::read_to_string(scenarios.join("egress.json")).unwrap();
    let mut deep: serde_json::Value = serde_json::from_str(&egress).unwrap();
    deep["evidence"]["tcp"]["attempts"][0]["outcome"]["kind"] = "teleported".into();
    assert!(violations(&schemas, index, &deep).contains("/evidence/tcp/attempts/0/outcome"));
}
