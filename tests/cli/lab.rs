//! Every Pending scenario the lab can stage without TLS or clocks, one test each, named after
//! it. The lab itself (namespaces, dnsmasq, brokers, firewall) is `support::netlab`.

use crate::support::netlab::{Dns, Lab, ZEN};
use crate::support::*;

/// Runs the lab profile in the vm; whatever the fault, a run ends by the profile's 4 s deadline.
fn check(lab: &Lab) -> Run {
    let run = lab.check(&lab_profile());
    assert!(run.took.as_secs_f64() < 4.5, "took {:?}", run.took);
    run
}

/// The kind of the first attempt on `port` in the report.
fn outcome_on(run: &Run, port: u16) -> String {
    run.json()["evidence"]["tcp"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["port"] == port)
        .map(|a| a["outcome"]["kind"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

fn assert_top(run: &Run, id: &str, code: i32) {
    assert_eq!(run.top_cause(), id, "{}", run.json()["causes"]);
    assert_eq!(run.code, code, "{}", run.stdout);
}

#[test]
fn lab_healthy() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let run = check(&lab);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    assert_eq!(run.json()["verdict"], "ready");
    assert_eq!(outcome_on(&run, 9000), "connected");
}

#[test]
fn lab_9000_dropped() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 9000 -j DROP");
    let run = check(&lab);
    assert_top(&run, "egress.tcp_9000_blocked", 3);
    assert_eq!(outcome_on(&run, 9000), "timed_out");
    assert_eq!(outcome_on(&run, 443), "connected");
    let detail = run.json()["causes"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("silently dropped"), "{detail}");
}

#[test]
fn lab_9000_rejected() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 9000 -j REJECT --reject-with tcp-reset");
    let run = check(&lab);
    assert_top(&run, "egress.tcp_9000_blocked", 3);
    assert_eq!(outcome_on(&run, 9000), "refused");
}

#[test]
fn lab_9000_icmp_prohibited() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 9000 -j REJECT --reject-with icmp-host-prohibited");
    let run = check(&lab);
    assert_top(&run, "egress.tcp_9000_blocked", 3);
    assert_eq!(outcome_on(&run, 9000), "host_unreachable");
}

#[test]
fn lab_443_and_9000_dropped() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 443 -j DROP")
        .firewall("-p tcp --dport 9000 -j DROP");
    let run = check(&lab);
    assert_top(&run, "egress.tcp_443_blocked", 3);
    assert_eq!(run.json()["causes"][1]["id"], "egress.tcp_9000_blocked");
}

#[test]
fn lab_no_route() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.unplug();
    let run = check(&lab);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["checks"][0]["status"], "fail");
    assert_eq!(
        report["causes"][0]["id"], "egress.no_route",
        "{}",
        report["causes"]
    );
    assert_eq!(
        report["causes"][0]["evidence"][0],
        format!("nameserver {ZEN}:53: no route")
    );
    assert_eq!(
        report["causes"][1]["id"], "dns.no_resolver",
        "{}",
        report["causes"]
    );
}

#[test]
fn lab_dns_nxdomain() {
    let Some(lab) = Lab::up(Dns::NxDomain) else {
        return;
    };
    let run = check(&lab);
    assert_top(&run, "dns.unresolvable", 3);
}

#[test]
fn lab_dns_sinkhole() {
    let Some(lab) = Lab::up(Dns::Sinkhole) else {
        return;
    };
    let run = check(&lab);
    assert_top(&run, "dns.sinkhole", 3);
}

#[test]
fn lab_dns_silent() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p udp --dport 53 -j DROP")
        .firewall("-p tcp --dport 53 -j DROP");
    let run = check(&lab);
    assert_top(&run, "dns.no_resolver", 3);
    let a = &run.json()["evidence"]["dns"]["names"][0]["a"];
    assert_eq!(a["kind"], "timed_out", "{a}");
}

#[test]
fn lab_everything_dropped() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.default_route_via_zen();
    lab.firewall("-j DROP");
    let run = check(&lab);
    assert_top(&run, "dns.no_resolver", 3);
    let report = run.json();
    assert_eq!(
        report["checks"][1]["reason"],
        "no broker address (DNS failed)"
    );
}
