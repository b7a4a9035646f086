//! The default profile names Zscaler's real hosts, so it only ever runs inside a fresh
//! network namespace with no route out: nothing can leave the machine.

use crate::support::*;

#[test]
fn default_profile_offline_gives_an_honest_verdict_fast() {
    if !require(
        is_root() && have("ip"),
        "network namespaces need root and iproute2",
    ) {
        return;
    }
    let ns = Netns::new("offline");
    let root = repo("fixtures/roots/offline").display().to_string();
    let run = ns.run(&["check", "--root", &root, "--format", "json"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "blocked");
    assert_eq!(report["profile"], "app-connector");
    assert_eq!(run.top_cause(), "egress.no_route");
    let ids: Vec<&str> = report["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"dns.no_resolver"), "{ids:?}");
    assert!(
        !ids.iter().any(|id| id.starts_with("egress.tcp_")),
        "{ids:?}"
    );
    assert_eq!(report["checks"][0]["status"], "fail");
    assert_eq!(report["checks"][1]["status"], "skipped");
    // Within the profile's overall deadline (8 s); "no route" answers at once in practice.
    assert!(run.took.as_secs() < 8, "took {:?}", run.took);

    let human = ns.run(&["check", "--root", &root]);
    human.assert_blocked_by("egress.no_route");
}
