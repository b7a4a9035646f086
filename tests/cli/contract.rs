//! The JSON report is a contract with automation and support tooling. These types are
//! declared here, apart from the crate's own, from the README's description: if the report
//! changes shape, this test fails until the README (and `schema_version`) are updated too.

use serde::Deserialize;

use crate::support::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Report {
    schema_version: String,
    tool: Tool,
    profile: String,
    started_at: String,
    duration_ms: u64,
    verdict: Verdict,
    checks: Vec<Check>,
    causes: Vec<Cause>,
    measures: Measures,
    evidence: Evidence,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Measures {
    ports: Vec<PortMeasure>,
    #[serde(default)]
    clock: Option<ClockMeasure>,
    dns: DnsMeasure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PortMeasure {
    port: u16,
    destinations: usize,
    connected: usize,
    blocked: usize,
    unknown: usize,
    reachable_ratio: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ClockMeasure {
    offset_s: f64,
    error_s: f64,
    method: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DnsMeasure {
    names: usize,
    resolved: usize,
    failed: usize,
    sinkholed: usize,
    pending: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Ready,
    Blocked,
    Warnings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Check {
    id: String,
    label: String,
    status: Status,
    summary: String,
    reason: Option<String>,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Cause {
    id: String,
    rank: usize,
    severity: Severity,
    confidence: f64,
    title: String,
    detail: String,
    evidence: Vec<String>,
    remedy: String,
    #[serde(default)]
    ignored: bool,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum Severity {
    Blocking,
    Warning,
    Info,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Evidence {
    plan: serde_json::Value,
    dns: Dns,
    tcp: Tcp,
    tls: Tls,
    clock: Clock,
    host: Host,
    #[serde(default)]
    files_read: Vec<String>,
    #[serde(default)]
    machine: Option<Machine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Machine {
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    machine_id: Option<String>,
    #[serde(default)]
    instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Host {
    checked: bool,
    selinux: Tagged,
    os: Option<serde_json::Value>,
    arch: Option<String>,
    vcpus: Option<u32>,
    memory_mib: Option<u64>,
    free_disk_mib: Option<u64>,
    auto_updates: Vec<String>,
    connector_user: Option<(u32, u32)>,
    access: Vec<serde_json::Value>,
    key: Tagged,
    connector: serde_json::Value,
    logs: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Clock {
    daemons: Vec<serde_json::Value>,
    kernel: Tagged,
    ntp: Vec<Ntp>,
    http_date: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Ntp {
    server: String,
    origin: String,
    source: String,
    addr: Option<String>,
    outcome: Tagged,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Tls {
    system_store: Tagged,
    handshakes: Vec<Handshake>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Handshake {
    addr: std::net::IpAddr,
    port: u16,
    sni: String,
    origin: Tagged,
    class: String,
    result: Tagged,
    chain: Vec<Tagged>,
    verification: Option<serde_json::Value>,
    local_time: i64,
    #[serde(default)]
    via_proxy: Option<String>,
    #[serde(default)]
    follow_ups: Vec<FollowUp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FollowUp {
    change: String,
    result: Tagged,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Dns {
    resolver: serde_json::Value,
    names: Vec<Name>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Name {
    host: String,
    a: Tagged,
    aaaa: Tagged,
    elapsed_ms: u64,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Tagged {
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Tcp {
    attempts: Vec<Attempt>,
    in_flight: usize,
    deadline_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Attempt {
    addr: std::net::IpAddr,
    port: u16,
    origin: Tagged,
    outcome: Tagged,
}

const DNS_KINDS: &[&str] = &[
    "answered",
    "no_records",
    "nx_domain",
    "serv_fail",
    "refused",
    "error_code",
    "timed_out",
    "unreachable",
    "malformed",
    "not_run",
    "deadline_reached",
    "interrupted",
];
const TCP_KINDS: &[&str] = &[
    "connected",
    "refused",
    "timed_out",
    "host_unreachable",
    "no_route",
    "permission_denied",
    "other",
    "not_run",
    "deadline_reached",
    "interrupted",
];

fn assert_contract(json: &str) -> Report {
    let report: Report = serde_json::from_str(json).expect("the report matches the contract");
    assert!(report.schema_version.starts_with("1."));
    assert!(chrono_like(&report.started_at), "{}", report.started_at);
    for (i, cause) in report.causes.iter().enumerate() {
        assert_eq!(cause.rank, i + 1);
        assert!((0.0..=1.0).contains(&cause.confidence));
        assert!(cause.id.contains('.'));
    }
    for name in &report.evidence.dns.names {
        for q in [&name.a, &name.aaaa] {
            assert!(DNS_KINDS.contains(&q.kind.as_str()), "{}", q.kind);
        }
    }
    for attempt in &report.evidence.tcp.attempts {
        assert!(
            TCP_KINDS.contains(&attempt.outcome.kind.as_str()),
            "{}",
            attempt.outcome.kind
        );
    }
    report
}

fn chrono_like(stamp: &str) -> bool {
    stamp.len() >= 20 && stamp.as_bytes()[10] == b'T' && stamp.ends_with('Z')
}

#[test]
fn reports_follow_the_documented_contract() {
    let offline = check_root("no-nameserver", &["--format", "json"]);
    let report = assert_contract(&offline.stdout);
    assert_eq!(report.verdict, Verdict::Blocked);
    assert_eq!(report.checks[1].status, Status::Skipped);
    assert!(report.checks[1].reason.is_some());
    assert_eq!(report.causes[0].severity, Severity::Blocking);

    let fixture = repo("fixtures/reports/v1.0-blocked-9000.json");
    let explained = run(&["explain", fixture.to_str().unwrap(), "--format", "json"]);
    let report = assert_contract(&explained.stdout);
    assert_eq!(report.causes[0].id, "egress.tcp_9000_blocked");
}
