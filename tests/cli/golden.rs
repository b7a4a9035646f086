//! Golden outputs, checkable on a laptop without root: saved scenario reports (one per cause
//! family, made by the lab) are explained in every format and compared byte for byte with the
//! expected files, so a change to any message shows up as a diff.
//!
//! - `BLESS=1 cargo test --test cli golden` rewrites the expected files
//!   (`fixtures/reports/scenarios/expected/`) and the README's pinned samples (run it twice
//!   after a regeneration: the README takes the expected files as they were); review the
//!   diff, then commit it.
//! - `cargo test --test cli -- --ignored regenerate_scenario_reports` (root, the lab's tools)
//!   remakes the reports themselves by running the lab tests that stage each scenario.
//! - The README's sample blocks marked `<!-- golden: NAME -->` must equal the expected file
//!   NAME, so the README shows what the tool really prints.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::support::*;

/// (format, extension of its expected file).
const FORMATS: &[(&str, &str)] = &[
    ("human", "txt"),
    ("markdown", "md"),
    ("prometheus", "prom"),
    ("json", "json"),
];

/// The scenarios and the family each stands for; every one must have its report.
const SCENARIOS: &[(&str, &str)] = &[
    ("ready", "a healthy lab"),
    ("egress", "TCP/9000 dropped"),
    ("dns", "a sinkhole answer"),
    ("tls", "a transparent squid re-signing with a corporate CA"),
    ("clock", "the VM three minutes behind"),
    ("host", "SELinux enforcing without the connector's module"),
    ("key", "the connector's log: HTTP 401 on the provision key"),
    ("gateway", "a Cloud Connector with IP forwarding off"),
    (
        "flavour",
        "a Branch Connector asked about a private application",
    ),
    ("run", "a run interrupted by Ctrl-C"),
    ("proxy", "the connector's proxy unreachable"),
    ("connector", "the connector's log: deleted in the portal"),
    ("feed", "a cached Zen feed 100 days old"),
    (
        "middlebox",
        "an SNI filter resetting the broker's ClientHello",
    ),
    ("pmtu", "a path-MTU black hole on the VM's link"),
    (
        "version",
        "a filter resetting the connector's ClientHello shape",
    ),
];

fn dir() -> PathBuf {
    repo("fixtures/reports/scenarios")
}

/// Volatile fields masked: the version and commit of the tool that made the report (they
/// change with every release, the judgement does not).
fn mask(text: &str, report: &serde_json::Value) -> String {
    let mut text = text.to_string();
    for (field, placeholder) in [("version", "<version>"), ("commit", "<commit>")] {
        if let Some(value) = report["tool"][field].as_str().filter(|v| !v.is_empty()) {
            text = text.replace(value, placeholder);
        }
    }
    text
}

fn expected_path(name: &str, ext: &str) -> PathBuf {
    dir().join("expected").join(format!("{name}.{ext}"))
}

/// The first line where `got` and `want` differ, for a readable failure.
fn first_difference(got: &str, want: &str) -> String {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}:\n  got:  {g}\n  want: {w}", i + 1);
        }
    }
    format!(
        "lengths differ: got {} lines, want {}",
        got.lines().count(),
        want.lines().count()
    )
}

#[test]
fn scenario_outputs_match_their_golden_files() {
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let mut problems = Vec::new();
    for (name, what) in SCENARIOS {
        let report_path = dir().join(format!("{name}.json"));
        let Ok(text) = std::fs::read_to_string(&report_path) else {
            problems.push(format!("{name} ({what}): no {}", report_path.display()));
            continue;
        };
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        let arg = report_path.display().to_string();
        for (format, ext) in FORMATS {
            let out = run(&["explain", &arg, "--format", format]);
            assert_ne!(out.code, 2, "{name} {format}: {}", out.stderr);
            let got = mask(&out.stdout, &report);
            let path = expected_path(name, ext);
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(want) if want == got => {}
                Ok(want) => problems.push(format!(
                    "{name} as {format} differs from {} ({}); BLESS=1 rewrites it",
                    path.display(),
                    first_difference(&got, &want)
                )),
                Err(_) => problems.push(format!("{name} as {format}: no {}", path.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The README's sample blocks are real outputs: each block after `<!-- golden: FILE -->` is
/// the expected file FILE, byte for byte (`BLESS=1` pastes them in).
#[test]
fn readme_samples_are_golden() {
    let path = repo("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut pinned = Vec::new();
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- golden: ") {
        let after = &rest[at + "<!-- golden: ".len()..];
        let name = &after[..after.find(" -->").unwrap()];
        let open = after.find("```").unwrap();
        let body_start = open + after[open..].find('\n').unwrap() + 1;
        let body_end = body_start + after[body_start..].find("```").unwrap();
        let want = std::fs::read_to_string(dir().join("expected").join(name))
            .unwrap_or_else(|_| panic!("README pins {name}, which does not exist"));
        if after[body_start..body_end] != want {
            pinned.push(name.to_string());
        }
        out.push_str(&rest[..at + "<!-- golden: ".len()]);
        out.push_str(&after[..body_start]);
        out.push_str(&want);
        rest = &after[body_end..];
    }
    out.push_str(rest);
    assert!(
        readme.contains("<!-- golden: "),
        "the README pins no sample"
    );
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, out).unwrap();
        return;
    }
    assert!(
        pinned.is_empty(),
        "README's samples {pinned:?} are not what the tool prints; BLESS=1 pastes them in"
    );
}

/// Remakes every scenario report from the lab (root and the lab's tools: dnsmasq, squid,
/// chrony, libfaketime), by running the lab tests that stage them.
#[test]
#[ignore = "remakes fixtures/reports/scenarios from the lab (root)"]
fn regenerate_scenario_reports() {
    KEEP_SCENARIOS.store(true, Ordering::SeqCst);
    crate::lab::lab_healthy();
    crate::lab::lab_9000_dropped();
    crate::lab::lab_dns_sinkhole();
    crate::lab::lab_transparent_squid_interception();
    crate::lab::lab_clock_3_min_behind();
    crate::lab::lab_selinux_enforcing_without_module();
    crate::lab::lab_cloud_connector_forwarding_and_egress_address();
    crate::lab::lab_branch_connector_does_not_serve_private_apps();
    crate::host::logs_are_triaged_with_line_numbers();
    crate::signals::a_signal_stops_the_run_and_keeps_the_partial_report();
    crate::proxy::an_unreachable_connector_proxy_is_misconfigured();
    crate::host::connector_clock_corrections_and_deleted_connectors();
    crate::feed::check_uses_the_cache_and_warns_when_it_is_stale();
    crate::lab::lab_sni_filter_that_resets();
    crate::lab::lab_path_mtu_black_hole();
    crate::lab::lab_tls_version_filter();
    KEEP_SCENARIOS.store(false, Ordering::SeqCst);
    for (name, what) in SCENARIOS {
        let path = dir().join(format!("{name}.json"));
        assert!(
            Path::new(&path).exists(),
            "{name} ({what}) was not made: is the lab missing a tool?"
        );
    }
}
