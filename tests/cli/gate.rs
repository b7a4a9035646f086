//! `gate`: retry until ready or until the wait runs out, against loopback servers.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::loopback::LoopbackLab;
use crate::support::tls_server::TlsBroker;
use crate::support::*;

/// The loopback lab with 443 answering from the start; 9000 is the part that "comes up later".
fn lab() -> Option<LoopbackLab> {
    LoopbackLab::up(TlsBroker::genuine_without_9000)
}

fn gate(dns: &Dnsmasq, wait: &str, report: &std::path::Path) -> Run {
    gate_with(dns, wait, report, &[])
}

/// `gate` against the lab, with `extra` flags.
fn gate_with(dns: &Dnsmasq, wait: &str, report: &std::path::Path, extra: &[&str]) -> Run {
    let (profile, server, report) = (
        lab_profile(),
        dns.addr.to_string(),
        report.display().to_string(),
    );
    let mut args = vec![
        "gate",
        "--profile",
        &profile,
        "--dns-server",
        &server,
        "--wait",
        wait,
        "--interval",
        "300ms",
        "--report",
        &report,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_network_that_comes_up_passes_before_the_deadline() {
    let Some(lab) = lab() else {
        return;
    };
    let (dns, addr) = (&lab.dns, lab.addr);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("gate/report.json");
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let _listener = TcpListener::bind((addr, 9000)).unwrap();
        let _ = stopped.recv_timeout(Duration::from_secs(30));
    });
    let run = gate(dns, "20s", &report);
    let _ = stop.send(());
    late.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() >= 2, "{}", run.stdout);
    assert!(
        lines[0].contains("· blocked · egress.tcp_9000_blocked ·"),
        "{}",
        lines[0]
    );
    assert!(
        lines.last().unwrap().contains("· ready · none ·"),
        "{}",
        run.stdout
    );
    assert!(lines.last().unwrap().ends_with("exit 0"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}'));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(saved["verdict"], "ready");
}

#[test]
fn a_network_that_never_comes_up_blocks_at_the_deadline() {
    let Some(lab) = lab() else {
        return;
    };
    let dns = &lab.dns;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = gate(dns, "2s", &report);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(run.stdout.lines().count() >= 2, "{}", run.stdout);
    assert!(
        run.stdout.lines().last().unwrap().ends_with("exit 3"),
        "{}",
        run.stdout
    );
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
    let saved = std::fs::read_to_string(&report).unwrap();
    assert!(saved.contains("egress.tcp_9000_blocked"));
}

/// One flag, one meaning: `--output` writes the report for gate as it does for check, and a
/// format gate cannot honour is refused rather than ignored.
#[test]
fn gate_honours_output_and_refuses_other_formats() {
    let Some(lab) = lab() else {
        return;
    };
    let dns = &lab.dns;
    let dir = tempfile::tempdir().unwrap();
    let (report, output) = (dir.path().join("report.json"), dir.path().join("also.json"));
    let output_arg = output.display().to_string();
    let run = gate_with(dns, "1s", &report, &["--output", &output_arg]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let also: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert!(
        also["causes"]
            .to_string()
            .contains("egress.tcp_9000_blocked")
    );
    let refused = gate_with(dns, "1s", &report, &["--format", "json"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}
