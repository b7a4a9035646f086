//! Ctrl-C, SIGTERM and SIGHUP stop the probes and keep what was seen: the partial report is
//! printed, its verdict never "ready", and the exit is 128 + the signal's number.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A check against a resolver that never answers, with a long probe timeout: it would take
/// ten seconds; `signal` arrives after half a second.
fn interrupted_by(signal: &str) -> (i32, String, Duration) {
    let silent = SilentResolver::new();
    let (profile, server) = (lab_profile(), silent.addr().to_string());
    let started = Instant::now();
    let child = Command::new(bin())
        .args([
            "check",
            "--profile",
            &profile,
            "--dns-server",
            &server,
            "--timeout",
            "5s",
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        started.elapsed(),
    )
}

#[test]
pub(crate) fn a_signal_stops_the_run_and_keeps_the_partial_report() {
    for (signal, name, code) in [
        ("TERM", "SIGTERM", 143),
        ("INT", "SIGINT", 130),
        ("HUP", "SIGHUP", 129),
    ] {
        let (exit, stdout, took) = interrupted_by(signal);
        if signal == "INT" {
            keep_scenario("run", &stdout);
        }
        assert_eq!(exit, code, "{name}: {stdout}");
        assert!(took < Duration::from_secs(4), "{name}: took {took:?}");
        let report: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{name}: the partial report is not JSON ({e}): {stdout}"));
        assert_eq!(report["evidence"]["interrupted"], name);
        assert_ne!(report["verdict"], "ready", "{name}");
        assert!(
            report["causes"].to_string().contains("run.interrupted"),
            "{name}: {}",
            report["causes"]
        );
        // The queries the signal cut short say so, not "deadline reached".
        let kinds: Vec<&str> = report["evidence"]["dns"]["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["a"]["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"interrupted"), "{name}: {kinds:?}");
        assert!(!kinds.contains(&"deadline_reached"), "{name}: {kinds:?}");
    }
}
