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
pub(crate) fn lab_healthy() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let run = check(&lab);
    run.keep_as("ready");
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    assert_eq!(run.json()["verdict"], "ready");
    assert_eq!(outcome_on(&run, 9000), "connected");
}

#[test]
pub(crate) fn lab_9000_dropped() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 9000 -j DROP");
    let run = check(&lab);
    run.keep_as("egress");
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
pub(crate) fn lab_dns_sinkhole() {
    let Some(lab) = Lab::up(Dns::Sinkhole) else {
        return;
    };
    let run = check(&lab);
    run.keep_as("dns");
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

/// The lab profile with a control host, the clock check asking the Zen host's chronyd, and
/// the host checks, for the scenarios that need them.
fn full_profile(dir: &std::path::Path) -> String {
    let extra = format!(
        "{CONTROL_HOST}\n[clock]\nbehind_blocking_s = 2.0\nahead_blocking_s = 60.0\nwarn_s = 1.0\nfallback_servers = [\"{ZEN}\"]\n\n\
         [host]\nmin_vcpus = 1\nmin_memory_mib = 1\nmin_free_disk_mib = 1\nsupported_os = []\nselinux_modules = [\"zpa\", \"zscaler\"]\nconnector_user = \"zscaler\"\n"
    );
    lab_profile_with(dir, &extra)
}

/// The control host's lab root, declared where Mozilla's roots would vouch for a real one.
fn control_trust() -> String {
    format!(
        "control={}",
        repo("fixtures/chains/control-public/ca.pem").display()
    )
}

fn check_full(lab: &Lab, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let profile = full_profile(dir.path());
    let trust = control_trust();
    let mut args = vec!["--trust", trust.as_str()];
    args.extend_from_slice(extra);
    let run = lab.check_with(&profile, &args);
    assert!(run.took.as_secs_f64() < 4.5, "took {:?}", run.took);
    run
}

/// The corporate CA of the transparent-squid scenario: a name no catalog knows.
const ACME_CA: &str = "/C=US/O=Acme Corp/CN=Acme Corp Egress Inspection CA";

fn lab_with_squid(subject: &str) -> Option<Lab> {
    if !require(
        have("squid") || std::path::Path::new("/usr/sbin/squid").exists(),
        "the lab needs squid-openssl",
    ) {
        return None;
    }
    let mut lab = Lab::up(Dns::Answering)?;
    lab.intercept_with_squid(subject);
    Some(lab)
}

/// The most common real proxy: a transparent squid re-signing every TCP/443 connection with
/// a corporate CA, the leaf's subject and SANs copied from the real broker. Blocked, and the
/// report names the issuer and its fingerprint in every format.
#[test]
pub(crate) fn lab_transparent_squid_interception() {
    let Some(lab) = lab_with_squid(ACME_CA) else {
        return;
    };
    let saved = lab.path("report.json").display().to_string();
    // With the control host, whose public-looking CA is declared where Mozilla's would be.
    let dir = tempfile::tempdir().unwrap();
    let profile = lab_profile_with(dir.path(), CONTROL_HOST);
    let trust = control_trust();
    let run = lab.check_with(&profile, &["--trust", &trust, "--output", &saved]);
    run.keep_as("tls");
    assert!(run.took.as_secs_f64() < 4.5, "took {:?}", run.took);
    assert_top(&run, "tls.intercepted", 3);
    let top = &run.json()["causes"][0];
    // squid copied the broker's subject: the leaf looks like Zscaler's, the issuer does not.
    let leaf = &run.json()["evidence"]["tls"]["handshakes"][0]["chain"][0];
    assert!(
        leaf["subject"]["text"]
            .as_str()
            .unwrap()
            .contains("O=Zscaler"),
        "{leaf}"
    );
    assert!(
        top["title"].as_str().unwrap().ends_with(
            "an unnamed proxy (issuer C=US, O=Acme Corp, CN=Acme Corp Egress Inspection CA)"
        ),
        "{}",
        top["title"]
    );
    let sha = lab.squid_ca_sha256();
    assert_eq!(sha.len(), 64, "{sha}");
    let json = top["evidence"].to_string();
    assert!(json.contains(&format!("issuing CA sha256 {sha}")), "{json}");
    // The one proxy also re-signs the control host: named once, not twice.
    assert!(
        json.contains("the same CA re-signs the control host"),
        "{json}"
    );
    assert!(
        !run.cause_ids()
            .contains(&"tls.inspection_on_path".to_string())
    );
    for format in ["human", "markdown"] {
        let shown =
            crate::support::run(&["explain", &saved, "--format", format, "--color", "never"]);
        assert_eq!(shown.code, 3, "{format}: {}", shown.stdout);
        assert!(shown.stdout.contains("tls.intercepted"), "{format}");
        assert!(
            shown.stdout.contains("Acme Corp Egress Inspection CA"),
            "{format}: {}",
            shown.stdout
        );
        assert!(shown.stdout.contains(&sha), "{format}: {}", shown.stdout);
    }
}

/// A squid whose admin put the product's name in its CA is named.
#[test]
fn lab_transparent_squid_named() {
    let Some(lab) = lab_with_squid("/O=Lab Egress/CN=Squid Bump CA") else {
        return;
    };
    let run = check(&lab);
    assert_top(&run, "tls.intercepted", 3);
    let title = run.top_title();
    assert!(title.ends_with("intercepted by Squid ssl-bump"), "{title}");
}

#[test]
fn lab_mitmproxy_interception() {
    let Some(program) = mitmdump() else {
        require(false, "the lab needs mitmproxy (pip install mitmproxy)");
        return;
    };
    let Some(mut lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.intercept_with_mitmproxy(&program);
    let run = check(&lab);
    assert_top(&run, "tls.intercepted", 3);
    let title = run.top_title();
    assert!(title.ends_with("intercepted by mitmproxy"), "{title}");
}

#[test]
fn lab_interception_and_9000_dropped() {
    let Some(lab) = lab_with_squid(ACME_CA) else {
        return;
    };
    lab.firewall("-p tcp --dport 9000 -j DROP");
    let run = check(&lab);
    assert_eq!(run.code, 3);
    assert_eq!(
        run.cause_ids()[..2],
        ["tls.intercepted", "egress.tcp_9000_blocked"]
    );
}

fn lab_with_ntp(offset: &str) -> Option<Lab> {
    if !require(
        have("chronyd") || std::path::Path::new("/usr/sbin/chronyd").exists(),
        "the lab needs chrony",
    ) || !require(
        std::path::Path::new("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1").exists(),
        "the lab needs libfaketime",
    ) {
        return None;
    }
    let mut lab = Lab::up(Dns::Answering)?;
    lab.start_ntp(offset);
    Some(lab)
}

#[test]
fn lab_clock_10_min_ahead() {
    // The VM ten minutes ahead: its time server, and the truth, ten minutes behind it.
    let Some(lab) = lab_with_ntp("-600s") else {
        return;
    };
    let run = check_full(&lab, &[]);
    assert_top(&run, "clock.skewed", 3);
    let title = run.top_title();
    assert!(title.contains("s ahead"), "{title}");
}

#[test]
pub(crate) fn lab_clock_3_min_behind() {
    let Some(lab) = lab_with_ntp("+180s") else {
        return;
    };
    let run = check_full(&lab, &[]);
    run.keep_as("clock");
    assert_top(&run, "clock.skewed", 3);
    let title = run.top_title();
    assert!(title.contains("s behind"), "{title}");
}

#[test]
fn lab_ntp_blocked_with_a_good_clock() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p udp --dport 123 -j DROP");
    let run = check_full(&lab, &[]);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    assert_eq!(run.cause_ids()[0], "ntp.blocked");
    assert_eq!(
        run.json()["evidence"]["clock"]["http_date"][0]["outcome"]["kind"],
        "estimated"
    );
}

#[test]
fn lab_ntp_blocked_with_a_bad_clock() {
    if !require(
        std::path::Path::new("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1").exists(),
        "the lab needs libfaketime",
    ) {
        return;
    }
    // The HTTPS host's Date ten minutes ahead: this VM ten minutes behind.
    let Some(lab) = Lab::up_with(Dns::Answering, Some("+600s")) else {
        return;
    };
    lab.firewall("-p udp --dport 123 -j DROP");
    let run = check_full(&lab, &[]);
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    assert_eq!(run.cause_ids()[..2], ["clock.skewed", "ntp.blocked"]);
}

#[test]
pub(crate) fn lab_selinux_enforcing_without_module() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.write_root("sys/fs/selinux/enforce", "1\n");
    lab.write_root(
        "etc/selinux/config",
        "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
    );
    lab.write_root("var/lib/selinux/targeted/active/modules/100/sshd/cil", "");
    let run = check_full(&lab, &["--strict"]);
    run.keep_as("host");
    assert_eq!(run.code, 4, "{}", run.json()["causes"]);
    assert_eq!(run.cause_ids()[0], "selinux.blocks_connector");
}

/// The audit: a firewall that allows one region of the feed and forgot another. One address
/// in every range is probed, and the report names exactly the region that is cut off.
#[test]
fn lab_coverage_names_the_region_a_firewall_forgot() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.route_targets("198.19.0.0/20");
    // The lab's own cenr-shaped feed: two "regions" of two ranges, and the broker itself.
    let feed = r#"{"lab.net": {
      "continent : EMEA": {"city : Lab West": [{"range": "198.19.1.0/24"}, {"range": "198.19.2.0/24"}]},
      "continent : Asia-Pacific": {"city : Lab East": [{"range": "198.19.3.0/24"}, {"range": "198.19.4.0/24"}]},
      "continent : Lab": {"city : Broker": [{"range": "198.18.0.2/32"}]}}}"#;
    let path = lab.path("cenr.json");
    std::fs::write(&path, feed).unwrap();
    lab.firewall("-p tcp -m iprange --dst-range 198.19.3.0-198.19.4.255 -j DROP");
    let cidrs = path.display().to_string();
    let run = lab.check_with(&lab_profile(), &["--coverage", "--cidrs", &cidrs]);
    assert!(run.took.as_secs_f64() < 4.5, "took {:?}", run.took);
    let partial = run.cause("egress.tcp_443_partial");
    let title = partial["title"].as_str().unwrap();
    assert_eq!(
        title,
        "TCP/443 is cut off to 2 of 5 Zen ranges: Asia-Pacific · Lab East"
    );
    assert!(partial["evidence"].to_string().contains("198.19.3.0/24"));
    assert!(!partial["evidence"].to_string().contains("Lab West"));
    // Every range is reported, none "not run".
    let sampled = run.json()["evidence"]["tcp"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["origin"]["kind"] == "range_sample")
        .count();
    assert_eq!(sampled, 10, "5 ranges × 2 ports");
    // The markdown report is a table a firewall team can act on.
    let saved = lab.path("coverage.json");
    std::fs::write(&saved, &run.stdout).unwrap();
    let md = crate::support::run(&[
        "explain",
        &saved.display().to_string(),
        "--format",
        "markdown",
    ]);
    assert!(md.stdout.contains("## Zen range coverage"), "{}", md.stdout);
    assert!(
        md.stdout
            .contains("| Asia-Pacific · Lab East | `198.19.3.0/24` | `198.19.3.1` | 443 |"),
        "{}",
        md.stdout
    );
}

/// Routes are judged per address family: an IPv4-only VM behind a firewall that drops every
/// TCP packet, auditing a feed of both families (as ZIA's are). The VM has no IPv6 route, which
/// is normal for it; the cause is the ports dropped, ranked first, never "no default route".
#[test]
fn lab_an_ipv4_only_vm_with_everything_dropped_is_blocked_by_its_ports() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.route_targets("198.19.0.0/20");
    // IPv6 ranges from Zscaler's own feeds: the vm has no IPv6 route, so no packet leaves it.
    let feed = r#"{"lab.net": {
      "continent : EMEA": {"city : Lab West": [{"range": "198.19.1.0/24"}, {"range": "2605:4300:a::/48"}]},
      "continent : Lab": {"city : Broker": [{"range": "198.18.0.2/32"}, {"range": "2605:4300:b::/48"}]}}}"#;
    let path = lab.path("cenr-both.json");
    std::fs::write(&path, feed).unwrap();
    lab.firewall("-p tcp -j DROP");
    let cidrs = path.display().to_string();
    let run = lab.check_with(&lab_profile(), &["--coverage", "--cidrs", &cidrs]);
    assert_eq!(
        run.code,
        3,
        "{}\n{}",
        run.json()["causes"],
        run.json()["evidence"]["tcp"]
    );
    assert_eq!(
        run.top_cause(),
        "egress.tcp_443_blocked",
        "{}",
        run.json()["causes"]
    );
    let v6_unrouted = run.json()["evidence"]["tcp"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["addr"].as_str().unwrap().contains(':') && a["outcome"]["kind"] == "no_route")
        .count();
    assert!(
        v6_unrouted > 0,
        "the IPv6 ranges were probed and had no route"
    );
    if let Some(route) = run.json()["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "egress.no_route")
    {
        assert_eq!(route["severity"], "info", "{route}");
    }
}

/// The Cloud and Branch Connector path: a ZIA edge name, TCP and UDP 443. A datagram that is
/// answered passes; a dropped one is only "no answer" (UDP cannot prove a block, never a
/// verdict); an ICMP rejection is a warning.
#[test]
fn lab_udp_443_answered_dropped_and_rejected() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = lab_profile_with(
        dir.path(),
        "[[names]]\nhost = \"gateway.zpa.test\"\nrole = \"edge\"\nports = [443]\n\n[udp]\nports = [443]\nsource = \"lab\"\n",
    );
    let udp_check = |run: &Run| run.check("udp.443");
    let answered = lab.check(&profile);
    assert_eq!(answered.code, 0, "{}", answered.json()["causes"]);
    assert_eq!(udp_check(&answered)["status"], "pass");

    lab.firewall("-p udp --dport 443 -j DROP");
    let dropped = lab.check(&profile);
    assert_eq!(dropped.code, 0, "{}", dropped.json()["causes"]);
    assert!(
        udp_check(&dropped)["summary"]
            .as_str()
            .unwrap()
            .contains("UDP cannot prove a block"),
        "{}",
        udp_check(&dropped)
    );
    assert!(
        dropped
            .cause_ids()
            .contains(&"egress.udp_443_unanswered".to_string())
    );

    lab.flush_firewall();
    lab.firewall("-p udp --dport 443 -j REJECT");
    let rejected = lab.check_with(&profile, &["--strict"]);
    assert_eq!(rejected.code, 4, "{}", rejected.json()["causes"]);
    assert_eq!(rejected.top_cause(), "egress.udp_443_rejected");
}

/// A Branch Connector asked about a private application says plainly that it does not serve
/// them, and where to look instead.
#[test]
pub(crate) fn lab_branch_connector_does_not_serve_private_apps() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(lab_profile()).unwrap().replace(
        "checked = \"2026-11-25\"",
        "checked = \"2026-11-25\"\nprivate_apps = false",
    );
    let profile = dir.path().join("branch-lab.toml");
    std::fs::write(&profile, text).unwrap();
    let run = lab.check_with(&profile.display().to_string(), &["--target", ZEN]);
    run.keep_as("flavour");
    let ids = run.cause_ids();
    assert!(
        ids.contains(&"flavour.no_private_apps".to_string()),
        "{ids:?}"
    );
    let cause = run.cause("flavour.no_private_apps");
    assert!(cause["remedy"].as_str().unwrap().contains("App Connector"));
}

/// A Cloud Connector's own duties: IP forwarding read under the root, the egress address from
/// an echo page, and the route table it cannot see, said so.
#[test]
pub(crate) fn lab_cloud_connector_forwarding_and_egress_address() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let profile = lab_profile_with(
        dir.path(),
        "[gateway]\nforwarding = true\necho = \"gateway.zpa.test\"\necho_path = \"/ip\"\nsource = \"lab\"\n",
    );
    let gateway = |run: &Run| run.check("gateway");
    lab.write_root("proc/sys/net/ipv4/ip_forward", "1\n");
    let on = lab.check(&profile);
    assert_eq!(on.code, 0, "{}", on.json()["causes"]);
    let summary = gateway(&on)["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("IPv4 on"), "{summary}");
    assert!(
        summary.contains("egress seen as 198.18.0.1 by gateway.zpa.test"),
        "{summary}"
    );
    assert!(summary.contains("route table: cannot tell"), "{summary}");
    lab.write_root("proc/sys/net/ipv4/ip_forward", "0\n");
    let off = lab.check_with(&profile, &["--strict"]);
    off.keep_as("gateway");
    assert_eq!(off.code, 4, "{}", off.json()["causes"]);
    assert_eq!(off.top_cause(), "gateway.forwarding_off");
}

/// The follow-ups of the handshake `sni` cut off, as `change → result kind`.
fn follow_ups(run: &Run, sni: &str) -> Vec<(String, String)> {
    run.json()["evidence"]["tls"]["handshakes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["sni"] == sni)
        .flat_map(|h| h["follow_ups"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            (
                f["change"].as_str().unwrap().to_string(),
                f["result"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The middlebox the follow-ups named ranks first, blocking, while the enrollment name
/// (api.zpa.test) still completes: judged by what the connector needs, not by the count.
fn assert_named(run: &Run, id: &str, through: &[&str]) {
    assert_top(run, id, 3);
    assert_eq!(run.json()["causes"][0]["severity"], "blocking");
    let kinds = follow_ups(run, "broker.zpa.test");
    assert_eq!(kinds.len(), 5, "five follow-ups: {kinds:?}");
    for (change, kind) in &kinds {
        let expected = if through.contains(&change.as_str()) {
            "completed"
        } else {
            "not completed"
        };
        assert_eq!(
            kind == "completed",
            expected == "completed",
            "{change} {kind}, expected {expected}: {kinds:?}"
        );
    }
    assert!(
        run.json()["causes"][0]["evidence"]
            .to_string()
            .contains("follow-ups on the same address"),
        "{}",
        run.json()["causes"][0]
    );
    assert!(
        follow_ups(run, "api.zpa.test").is_empty(),
        "api.zpa.test completed"
    );
}

/// An SNI filter that resets every ClientHello naming the broker (a string match in the
/// kernel, as a next-generation firewall's URL filter would): another name and no name get
/// through.
#[test]
pub(crate) fn lab_sni_filter_that_resets() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall(
        "-p tcp --dport 443 -m string --algo bm --string broker.zpa.test -j REJECT --reject-with tcp-reset",
    );
    let run = check(&lab);
    run.keep_as("middlebox");
    assert_named(&run, "tls.sni_filtered", &["other_name", "no_name"]);
    assert!(
        run.stdout.contains("*.prod.zpath.net"),
        "the fix names the domains"
    );
}

/// The same filter dropping silently.
#[test]
fn lab_sni_filter_that_drops() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall("-p tcp --dport 443 -m string --algo bm --string broker.zpa.test -j DROP");
    let run = check(&lab);
    assert_named(&run, "tls.sni_filtered", &["other_name", "no_name"]);
}

/// A real path-MTU black hole: shown real first (a default handshake stalls, one with a small
/// MSS completes), then named, with the MTU that worked.
#[test]
pub(crate) fn lab_path_mtu_black_hole() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    if !require(have("ethtool"), "the MTU lab needs ethtool") {
        return;
    }
    lab.pmtu_blackhole();
    assert!(
        !lab.python_handshake(0),
        "a default handshake must stall for the lab to be real"
    );
    assert!(
        lab.python_handshake(536),
        "a 536-byte MSS handshake must complete"
    );
    let run = check(&lab);
    run.keep_as("pmtu");
    // Both names stall here (the path loses every full-size segment): the broker's follow-ups
    // name the hole.
    assert_top(&run, "egress.pmtu_blackhole", 3);
    let kinds = follow_ups(&run, "broker.zpa.test");
    assert!(
        kinds
            .iter()
            .any(|(c, k)| c == "small_segments" && k == "completed"),
        "{kinds:?}"
    );
    // Another name changes nothing on such a path. (TLS 1.2 alone may get through: a server
    // that writes each handshake message on its own sends segments below the MTU.)
    assert!(
        kinds
            .iter()
            .all(|(c, k)| !(c == "other_name" || c == "no_name") || k != "completed"),
        "{kinds:?}"
    );
    assert!(run.stdout.contains("MTU of 576"), "{}", run.stdout);
}

/// A filter on the ClientHello's shape: it resets any ClientHello offering TLS 1.3 and 1.2
/// together (the supported_versions extension as rustls sends it by default, 1.3 then 1.2);
/// one offering a single version gets through.
#[test]
pub(crate) fn lab_tls_version_filter() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    lab.firewall(
        "-p tcp --dport 443 -m string --algo bm --hex-string |002b00050403040303| -j REJECT --reject-with tcp-reset",
    );
    let run = check(&lab);
    run.keep_as("version");
    assert_top(&run, "tls.version_filtered", 3);
    let kinds = follow_ups(&run, "broker.zpa.test");
    assert!(
        kinds
            .iter()
            .any(|(c, k)| c.starts_with("tls1") && k == "completed"),
        "{kinds:?}"
    );
}

/// A healthy path asks no follow-up at all.
#[test]
fn lab_a_healthy_path_makes_no_follow_up() {
    let Some(lab) = Lab::up(Dns::Answering) else {
        return;
    };
    let run = check(&lab);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for h in run.json()["evidence"]["tls"]["handshakes"]
        .as_array()
        .unwrap()
    {
        assert!(h.get("follow_ups").is_none(), "{h}");
    }
}
