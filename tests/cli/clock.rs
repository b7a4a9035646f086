//! The clock check against a scripted SNTP responder and an HTTPS host with a skewed `Date`,
//! both on loopback, behind a healthy lab (so the clock is the only thing wrong).

use std::path::Path;

use crate::support::loopback::LoopbackLab;
use crate::support::sntp::{Sntp, SntpServer};
use crate::support::tls_server::{BrokerMode, TlsBroker};
use crate::support::*;

/// The lab profile with a clock check and a control host (`dist.zpa.test`, for `Date`).
fn clock_profile(dir: &Path) -> String {
    let clock = "[clock]\nbehind_blocking_s = 2.0\nahead_blocking_s = 60.0\nwarn_s = 1.0\n";
    lab_profile_with(dir, &format!("{CONTROL_HOST}\n{clock}"))
}

/// A healthy lab whose control host serves a `Date` `date_offset` seconds off; the SNTP
/// responder answers as `ntp` says. Returns the run.
fn run_clock(ntp: Sntp, date_offset: f64, extra: &[&str]) -> Option<Run> {
    let control_dir = repo("fixtures/chains/control-public");
    let lab = LoopbackLab::with_control(TlsBroker::genuine, |at| {
        TlsBroker::dated(
            at,
            BrokerMode::chain(&control_dir.join("chain.pem"), &control_dir.join("key.pem")),
            date_offset,
        )
    })?;
    let dns = &lab.dns;
    let sntp = SntpServer::start(ntp);
    let dir = tempfile::tempdir().unwrap();
    let profile = clock_profile(dir.path());
    let (server, ntp_server) = (dns.addr.to_string(), sntp.addr.to_string());
    let trust = format!("control={}", control_dir.join("ca.pem").display());
    // A fixture root: this machine's own daemons and kernel are not the test's business.
    let root = repo("fixtures/roots/chrony-aws").display().to_string();
    let mut args = vec![
        "check",
        "--profile",
        &profile,
        "--dns-server",
        &server,
        "--ntp-server",
        &ntp_server,
        "--trust",
        &trust,
        "--root",
        &root,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    Some(run(&args))
}

fn top(run: &Run) -> (String, String) {
    let cause = &run.json()["causes"][0];
    (
        cause["id"].as_str().unwrap_or("none").to_string(),
        cause["title"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn a_right_clock_passes() {
    let Some(run) = run_clock(Sntp::Offset(0.0), 0.0, &[]) else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    let sample = &run.json()["evidence"]["clock"]["ntp"][0];
    assert_eq!(sample["outcome"]["kind"], "answered", "{sample}");
    assert!(
        sample["outcome"]["offset_s"].as_f64().unwrap().abs() < 0.5,
        "{sample}"
    );
}

#[test]
fn ten_minutes_behind_blocks_with_its_numbers() {
    let Some(run) = run_clock(Sntp::Offset(600.0), 600.0, &[]) else {
        return;
    };
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    let (id, title) = top(&run);
    assert_eq!(id, "clock.skewed");
    assert!(
        title.starts_with("This VM's clock is 600.0 s behind")
            || title.starts_with("This VM's clock is 599.9 s behind"),
        "{title}"
    );
    let evidence = run.json()["causes"][0]["evidence"].to_string();
    assert!(evidence.contains("from SNTP 127.0.0.1:"), "{evidence}");
}

#[test]
fn ten_minutes_ahead_blocks() {
    let Some(run) = run_clock(Sntp::Offset(-600.0), -600.0, &[]) else {
        return;
    };
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    let (id, title) = top(&run);
    assert_eq!(id, "clock.skewed");
    assert!(title.contains("s ahead"), "{title}");
}

#[test]
fn kiss_of_death_malformed_and_silence_are_ntp_findings() {
    for (what, mode, kind) in [
        ("kiss-o'-death", Sntp::KissOfDeath, "kiss_of_death"),
        ("malformed packet", Sntp::Malformed, "malformed"),
        ("silence", Sntp::Silent, "timed_out"),
    ] {
        let Some(run) = run_clock(mode, 0.0, &["--strict", "--timeout", "1s"]) else {
            return;
        };
        assert_eq!(run.code, 4, "{what}: {}", run.json()["causes"]);
        let (id, _) = top(&run);
        assert_eq!(id, "ntp.blocked", "{what}");
        assert_eq!(
            run.json()["evidence"]["clock"]["ntp"][0]["outcome"]["kind"],
            kind,
            "{what}"
        );
    }
}

#[test]
fn ntp_blocked_with_a_good_clock_warns_and_with_a_bad_one_blocks() {
    let Some(good) = run_clock(Sntp::Silent, 0.0, &["--timeout", "1s"]) else {
        return;
    };
    assert_eq!(good.code, 0, "{}", good.json()["causes"]);
    let (id, title) = top(&good);
    assert_eq!(
        (id.as_str(), title.as_str()),
        ("ntp.blocked", "No NTP server answers: UDP/123 is blocked")
    );
    let date = &good.json()["evidence"]["clock"]["http_date"][0]["outcome"];
    assert_eq!(date["kind"], "estimated", "{date}");
    assert!(date["offset_s"].as_f64().unwrap().abs() < 1.5, "{date}");

    let Some(bad) = run_clock(Sntp::Silent, -600.0, &["--timeout", "1s"]) else {
        return;
    };
    assert_eq!(bad.code, 3, "{}", bad.json()["causes"]);
    let ids: Vec<String> = bad.json()["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["clock.skewed", "ntp.blocked"]);
    assert!(
        bad.json()["causes"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("HTTPS Date header of dist.zpa.test")
    );
}
