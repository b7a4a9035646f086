//! Benchmark: the diagnosis is linear in the names a report holds.
//!
//! A hostile or fleet-sized report may list 100,000 names; a search per name once made the
//! diagnosis quadratic (28 s for 100 k names). This takes `fixtures/reports/v1.0-blocked-9000.json`,
//! repeats its first name N times under distinct hosts (plan and DNS evidence alike), and times
//! what `explain` does: parse the report, then judge it again. Linear means the time per name
//! stays flat as N grows. Run: `cargo bench --bench diagnose` (`DIAGNOSE_SIZES=1000,10000`).
//! No network.

use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::var("DIAGNOSE_SIZES")
        .unwrap_or_else(|_| "10000,50000,100000,200000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("DIAGNOSE_SIZES: numbers"))
        .collect();
    let base: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/reports/v1.0-blocked-9000.json"),
        )
        .expect("the fixture report"),
    )
    .expect("the fixture report is JSON");
    println!("| Names | Parse | Diagnose | Per name |");
    println!("|---|---|---|---|");
    for n in sizes {
        let text = report_with(&base, n);
        let started = Instant::now();
        let report = zpa_preflight::report::parse(&text).expect("a valid report");
        let parsed = started.elapsed();
        let started = Instant::now();
        let judged = report.rejudge(&[]);
        let diagnosed = started.elapsed();
        assert!(!judged.causes.is_empty());
        println!(
            "| {n} | {} | {} | {:.2} µs |",
            ms(parsed),
            ms(diagnosed),
            diagnosed.as_secs_f64() * 1e6 / n as f64
        );
    }
}

/// The fixture report with its first name repeated `n` times under distinct hosts.
fn report_with(base: &serde_json::Value, n: usize) -> String {
    let mut report = base.clone();
    let evidence = &mut report["evidence"];
    let (spec, resolution) = (
        evidence["plan"]["names"][0].clone(),
        evidence["dns"]["names"][0].clone(),
    );
    let (mut specs, mut resolutions) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let host = format!("h{i}.prod.zpath.net");
        let (mut s, mut r) = (spec.clone(), resolution.clone());
        s["host"] = host.clone().into();
        r["host"] = host.into();
        specs.push(s);
        resolutions.push(r);
    }
    evidence["plan"]["names"] = specs.into();
    evidence["dns"]["names"] = resolutions.into();
    report.to_string()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}
