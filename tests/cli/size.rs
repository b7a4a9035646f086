//! `size`: the lesson's worked cases through the binary, in every format it offers.

use crate::support::*;

#[test]
fn the_lessons_cases_through_the_cli() {
    // 500 RDP users on one 2 vCPU / 4 GB connector is undersized and breaks N+1.
    let rdp = run(&[
        "size", "--users", "rdp=500", "--vm", "2x4", "--format", "json",
    ]);
    assert_eq!(rdp.code, 0, "{}", rdp.stderr);
    assert_eq!(rdp.json()["domains"][0]["connectors"], 5);
    assert_eq!(rdp.json()["domains"][0]["vm"], "2x4");
    // 1,500 Jira users: two or three 4 vCPU / 8 GB connectors with N+1, never one.
    let jira = run(&["size", "--users", "http=1500"]);
    assert_eq!(jira.code, 0, "{}", jira.stderr);
    assert!(
        jira.stdout
            .contains("http 1500 ÷ 1000 (of 1000–1500 per connector) = 1.50 connectors"),
        "{}",
        jira.stdout
    );
    assert!(
        jira.stdout.contains(
            "→ 2 needed (1–2 by the table's range) + 1 spare (N+1) = 3 connectors of 4x8"
        ),
        "{}",
        jira.stdout
    );
    // A 3,000-user cutover over four DCs: two or more per DC, one object per domain.
    let cutover = run(&[
        "size",
        "--users",
        "http=3000",
        "--domains",
        "4",
        "--format",
        "json",
    ]);
    let domains = cutover.json()["domains"].as_array().unwrap().clone();
    assert_eq!(domains.len(), 4);
    assert!(
        domains
            .iter()
            .all(|d| d["connectors"].as_u64().unwrap() >= 2)
    );
    let md = run(&[
        "size",
        "--users",
        "http=3000",
        "--domains",
        "4",
        "--format",
        "markdown",
    ]);
    assert!(md.stdout.contains("| 4 | 4x8 |"), "{}", md.stdout);
}

#[test]
fn this_vm_is_judged_from_its_proc_files() {
    let root = repo("fixtures/roots/vm-base").display().to_string();
    let run = run(&["size", "--users", "rdp=500", "--here", "--root", &root]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("This VM (2 vCPU"), "{}", run.stdout);
    assert!(run.stdout.contains("this VM is a 2x4"), "{}", run.stdout);
    assert!(run.stdout.contains("undersized alone"), "{}", run.stdout);
}

#[test]
fn bad_sizing_input_is_a_usage_error() {
    for args in [
        &["size", "--users", "ftp=3"][..],
        &["size", "--users", "http=10", "--vm", "16x64"],
        &["size", "--users", "http=10", "--domains", "0"],
        &["size", "--users", "http=10", "--format", "prometheus"],
    ] {
        let run = run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
}
