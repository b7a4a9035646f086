//! `check` against the loopback lab: dnsmasq answering the lab's names, brokers listening
//! on per-test loopback addresses at the real ports 443 and 9000.

use crate::support::loopback::LoopbackLab;
use crate::support::tls_server::TlsBroker;
use crate::support::*;

fn check(dns: &Dnsmasq, extra: &[&str]) -> Run {
    check_via(dns.addr, extra)
}

#[test]
fn healthy_lab_is_ready() {
    let Some(lab) = LoopbackLab::up(TlsBroker::genuine) else {
        return;
    };
    let run = lab.check(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.summary()
            .starts_with("SUMMARY: ready · none · 4 passed"),
        "{}",
        run.summary()
    );
    assert!(run.summary().ends_with("exit 0"));
    assert!(run.stdout.contains("2/2 names resolve"), "{}", run.stdout);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "NO_COLOR output has escapes"
    );
}

#[test]
fn port_9000_closed_is_ranked_first_with_443_as_counter_evidence() {
    let Some(lab) = LoopbackLab::up(TlsBroker::genuine_without_9000) else {
        return;
    };
    let run = lab.check(&["--format", "json"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(
        report["schema_version"],
        zpa_preflight::report::SCHEMA_VERSION
    );
    assert_eq!(report["tool"]["name"], "zpa-preflight");
    assert_eq!(report["profile"], "lab");
    assert_eq!(report["verdict"], "blocked");
    assert!(report["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(report["duration_ms"].is_u64());
    let top = &report["causes"][0];
    assert_eq!(top["id"], "egress.tcp_9000_blocked");
    assert_eq!(top["rank"], 1);
    assert_eq!(top["severity"], "blocking");
    assert!(top["confidence"].as_f64().unwrap() >= 0.9);
    let evidence: Vec<&str> = top["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let dest = format!("{}:9000 refused", lab.addr);
    assert!(
        evidence.iter().any(|l| l.starts_with(&dest)),
        "{evidence:?}"
    );
    assert!(
        evidence.iter().any(|l| l.contains(":443 connected")),
        "{evidence:?}"
    );
    assert_eq!(
        report["causes"].as_array().unwrap().len(),
        1,
        "{}",
        report["causes"]
    );
    let statuses: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("dns", "pass"),
            ("tcp.443", "pass"),
            ("tcp.9000", "fail"),
            ("tls", "pass"),
            ("clock", "skipped"),
            ("host", "skipped")
        ]
    );
    let attempts = report["evidence"]["tcp"]["attempts"].as_array().unwrap();
    assert!(
        attempts
            .iter()
            .any(|a| a["port"] == 9000 && a["outcome"]["kind"] == "refused")
    );
}

#[test]
fn nxdomain_is_unresolvable_and_not_also_port_blocked() {
    if !require(have_dnsmasq(), "dnsmasq is not installed") {
        return;
    }
    let dns = Dnsmasq::start(std::net::Ipv4Addr::LOCALHOST, 0, &[]);
    let run = check(&dns, &["--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    assert_eq!(run.top_cause(), "dns.unresolvable");
    assert_eq!(
        report["causes"].as_array().unwrap().len(),
        1,
        "{}",
        report["causes"]
    );
    assert_eq!(
        report["evidence"]["dns"]["names"][0]["a"]["kind"],
        "nx_domain"
    );
    let tcp = &report["checks"][1];
    assert_eq!(tcp["status"], "skipped");
    assert_eq!(tcp["reason"], "no broker address (DNS failed)");
}

#[test]
fn sinkhole_answer_is_named_and_not_connected_to() {
    if !require(have_dnsmasq(), "dnsmasq is not installed") {
        return;
    }
    let dns = Dnsmasq::start(
        std::net::Ipv4Addr::LOCALHOST,
        0,
        &[Answer::Sinkhole("zpa.test", "0.0.0.0")],
    );
    let run = check(&dns, &[]);
    run.assert_blocked_by("dns.sinkhole");
    assert!(
        run.stdout
            .contains("broker.zpa.test → 0.0.0.0 (unspecified"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("egress.tcp_"), "{}", run.stdout);
}

#[test]
fn silent_resolver_gives_no_resolver_within_the_deadline() {
    let silent = SilentResolver::new();
    let run = check_via(silent.addr(), &["--timeout", "1s"]);
    run.assert_blocked_by("dns.no_resolver");
    assert!(silent.received_anything(), "the resolver was never asked");
    // Whatever the resolver does, the run ends by the lab profile's overall deadline (4 s);
    // how close to one probe timeout it gets is the blackhole benchmark's business.
    assert!(run.took.as_secs_f64() < 4.5, "took {:?}", run.took);
}

#[test]
fn resolv_conf_under_root_is_what_gets_asked() {
    if !require(have_dnsmasq(), "dnsmasq is not installed")
        || !require(is_root(), "dnsmasq on port 53 and brokers on 443 need root")
    {
        return;
    }
    let addr = fresh_loopback();
    let dns = Dnsmasq::start(
        addr,
        53,
        &[
            Answer::A("broker.zpa.test", addr),
            Answer::A("api.zpa.test", addr),
        ],
    );
    let _brokers = TlsBroker::genuine(addr);
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/resolv.conf"),
        format!("nameserver {addr}\n"),
    )
    .unwrap();
    let profile = lab_profile();
    let root_arg = root.path().display().to_string();
    let run = run(&[
        "check",
        "--profile",
        &profile,
        "--root",
        &root_arg,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let resolver = &run.json()["evidence"]["dns"]["resolver"];
    assert_eq!(resolver["kind"], "configured");
    assert_eq!(resolver["nameservers"][0], format!("{addr}:53"));
    drop(dns);
}

#[test]
fn no_nameserver_in_resolv_conf() {
    let run = check_root("no-nameserver", &[]);
    run.assert_blocked_by("dns.no_resolver");
    assert!(run.stdout.contains("names no nameserver"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("skipped: no broker address (DNS failed)"),
        "{}",
        run.stdout
    );
}

#[test]
fn target_and_strict_and_ignore() {
    if !require(is_root(), "binding 127.77.x.y:443 needs root") {
        return;
    }
    let addr = fresh_loopback();
    // A target gets the TLS check too: the lab's genuine broker answers on 443.
    let _brokers = crate::support::tls_server::TlsBroker::genuine_without_9000(addr);
    let target = addr.to_string();
    let profile = lab_profile();
    let base = ["check", "--profile", &profile, "--target", &target];
    let blocked = run(&base);
    assert_eq!(blocked.code, 3, "{}", blocked.stdout);
    assert!(
        blocked.summary().contains("egress.tcp_9000_blocked"),
        "{}",
        blocked.stdout
    );
    assert!(
        blocked.stdout.contains("skipped: no names to resolve"),
        "{}",
        blocked.stdout
    );

    let mut ignored = base.to_vec();
    ignored.extend(["--ignore", "egress.tcp_9000_blocked"]);
    let warned = run(&ignored);
    assert_eq!(warned.code, 0, "{}", warned.stdout);
    assert!(
        warned.summary().starts_with("SUMMARY: warnings"),
        "{}",
        warned.summary()
    );
    assert!(warned.stdout.contains("downgraded by --ignore"));

    ignored.push("--strict");
    assert_eq!(run(&ignored).code, 4);
}

#[test]
fn dry_run_lists_destinations_and_contacts_nothing() {
    let silent = SilentResolver::new();
    let server = silent.addr().to_string();
    let run = run(&["check", "--dry-run", "--dns-server", &server]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("co2br.prod.zpath.net"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("then TCP 443, 9000 to every answer"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("13.127.26.17"), "{}", run.stdout);
    assert!(run.stdout.contains(&server), "{}", run.stdout);
    assert!(!silent.received_anything(), "dry run sent a DNS query");

    if !require(is_root(), "binding 127.77.x.y:443 needs root") {
        return;
    }
    let addr = fresh_loopback();
    let listeners = [443, 9000].map(|p| {
        let l = std::net::TcpListener::bind((addr, p)).unwrap();
        l.set_nonblocking(true).unwrap();
        l
    });
    let target = addr.to_string();
    let json = crate::support::run(&[
        "check",
        "--dry-run",
        "--target",
        &target,
        "--format",
        "json",
    ]);
    assert_eq!(
        json.json()["plan"]["fixed_targets"][0]["addr"],
        target.as_str()
    );
    assert_eq!(
        json.json()["plan"]["fixed_ports"],
        serde_json::json!([443, 9000])
    );
    for l in &listeners {
        assert!(
            l.accept().is_err(),
            "dry run connected to {:?}",
            l.local_addr()
        );
    }
}

#[test]
fn colour_follows_the_flag() {
    assert!(!check_root("no-nameserver", &[]).stdout.contains('\u{1b}'));
    let always = check_root("no-nameserver", &["--color", "always"]);
    assert!(always.stdout.contains('\u{1b}'));
}

#[test]
fn servfail_and_refused_are_classified_and_unresolvable() {
    use hickory_resolver::proto::op::ResponseCode;
    for (code, kind) in [
        (ResponseCode::ServFail, "serv_fail"),
        (ResponseCode::Refused, "refused"),
    ] {
        let dns = ScriptedDns::start(Reply::Code(code));
        let run = check_via(dns.addr, &["--format", "json"]);
        assert_eq!(run.code, 3, "{kind}: {}", run.stdout);
        assert_eq!(run.top_cause(), "dns.unresolvable", "{kind}");
        assert_eq!(run.json()["evidence"]["dns"]["names"][0]["a"]["kind"], kind);
    }
}

#[test]
fn a_garbage_answering_resolver_is_a_finding_not_a_crash() {
    let dns = ScriptedDns::start(Reply::Garbage);
    let run = check_via(dns.addr, &["--format", "json"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let kind = run.json()["evidence"]["dns"]["names"][0]["a"]["kind"].clone();
    assert!(kind == "timed_out" || kind == "malformed", "{kind}");
    assert!(run.top_cause().starts_with("dns."), "{}", run.top_cause());
}

#[test]
fn cname_chains_are_recorded() {
    if !require(have_dnsmasq(), "dnsmasq is not installed") {
        return;
    }
    let addr = fresh_loopback();
    let dns = Dnsmasq::start(
        std::net::Ipv4Addr::LOCALHOST,
        0,
        &[
            Answer::Cname("broker.zpa.test", "dc1.broker.zpa.test"),
            Answer::A("dc1.broker.zpa.test", addr),
        ],
    );
    let run = check(&dns, &["--format", "json"]);
    let a = &run.json()["evidence"]["dns"]["names"][0]["a"];
    assert_eq!(a["kind"], "answered", "{a}");
    assert_eq!(a["cname_chain"], serde_json::json!(["dc1.broker.zpa.test"]));
    assert_eq!(a["addresses"], serde_json::json!([addr.to_string()]));
}

/// `--dry-run` prints the schedule the run follows (the same pure function decides both):
/// a `--target` gets its connects and, on 443, the handshake under the broker's name.
#[test]
fn dry_run_prints_the_schedule() {
    let json = run(&[
        "check",
        "--dry-run",
        "--target",
        "198.18.0.9",
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let steps = json.json()["schedule"].as_array().unwrap().clone();
    let has = |kind: &str, port: u64| {
        steps.iter().any(|s| {
            s["step"] == kind && s["addr"] == "198.18.0.9" && s["port"].as_u64() == Some(port)
        })
    };
    assert!(has("connect", 443) && has("connect", 9000), "{steps:?}");
    assert!(
        has("handshake", 443) && !has("handshake", 9000),
        "{steps:?}"
    );
    let human = run(&["check", "--dry-run", "--target", "198.18.0.9"]);
    assert!(
        human.stdout.contains(
            "TCP 443, TLS 443 (SNI co2br.prod.zpath.net), TCP 9000 · --target 198.18.0.9"
        ),
        "{}",
        human.stdout
    );
    let each = run(&["check", "--dry-run", "--format", "json"]);
    let answers = each.json()["each_answer"].as_array().unwrap().clone();
    let dates: usize = answers
        .iter()
        .map(|a| {
            a["actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["action"] == "date")
                .count()
        })
        .sum();
    assert_eq!(dates, 1, "one HTTPS Date per run: {answers:?}");
}
