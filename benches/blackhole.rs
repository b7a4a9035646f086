//! Benchmark: how long a fully blackholed network takes to reach a verdict.
//!
//! The promise is about one probe timeout, not one timeout per target: every DNS query and
//! every connect runs concurrently. The lab (tests/cli/support/netlab.rs) drops everything
//! the vm sends, DNS included; the profile has 2 names (A and AAAA each) and 8 published
//! addresses on 2 ports, 20 probes in all, with a 1 s probe timeout. Sequentially that would
//! take 20 s. Run with `cargo bench --bench blackhole` (root, iproute2, dnsmasq, iptables).

#[path = "../tests/cli/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::Duration;

use support::netlab::{Dns, Lab};

const RUNS: usize = 5;
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const PROBES: usize = 2 * 2 + 8 * 2;

fn main() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        eprintln!("blackhole bench skipped: it needs the lab's prerequisites");
        return;
    };
    lab.default_route_via_zen();
    lab.firewall("-j DROP");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("blackhole.toml");
    let published: Vec<String> = (1..=8).map(|i| format!("\"198.18.1.{i}/32\"")).collect();
    let text = std::fs::read_to_string(support::lab_profile())
        .unwrap()
        .replace(
            "probe = \"1s\"",
            &format!("probe = \"{}ms\"", PROBE_TIMEOUT.as_millis()),
        )
        .replace("overall = \"4s\"", "overall = \"10s\"")
        .replace("max_published = 4", "max_published = 8")
        .replace(
            "ranges = [\"127.77.0.0/16\", \"198.18.0.0/15\"]",
            &format!("ranges = [{}, \"198.18.0.0/15\"]", published.join(", ")),
        );
    std::fs::write(&profile, text).unwrap();
    let profile = profile.display().to_string();

    let mut times = Vec::new();
    for _ in 0..RUNS {
        let run = lab.check(&profile);
        let report = run.json();
        assert_eq!(report["verdict"], "blocked", "{}", report["causes"]);
        let probes = report["evidence"]["tcp"]["attempts"]
            .as_array()
            .unwrap()
            .len()
            + 2 * report["evidence"]["dns"]["names"].as_array().unwrap().len();
        assert_eq!(
            probes, PROBES,
            "the profile did not plan what the bench measures"
        );
        times.push(run.took);
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "blackhole: {PROBES} probes, {} ms probe timeout, {RUNS} runs: min {:.2} s, median {:.2} s, max {:.2} s",
        PROBE_TIMEOUT.as_millis(),
        times[0].as_secs_f64(),
        median.as_secs_f64(),
        times[RUNS - 1].as_secs_f64()
    );
    println!(
        "  = {:.2} probe timeouts to a verdict (sequential probing: {PROBES} timeouts, {} s)",
        median.as_secs_f64() / PROBE_TIMEOUT.as_secs_f64(),
        PROBES as u64 * PROBE_TIMEOUT.as_secs()
    );
}
