//! Brings one lab scenario up so that a person can run the tool against it by hand, then
//! tears it down: the same namespaces, servers and firewall rules the `lab_*` tests use
//! (tests/cli/support/netlab.rs). Root, iproute2, dnsmasq, iptables and python3 are needed;
//! squid-openssl, chrony, libfaketime and mitmproxy for the scenarios that use them.
//!
//! ```text
//! cargo build && cargo run --example lab -- 9000-dropped
//! ```

#[path = "../tests/cli/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::io::BufRead;

use support::netlab::{Dns, Lab};

/// The scenarios, each one line of what it stages.
const SCENARIOS: &[(&str, &str)] = &[
    ("healthy", "everything works"),
    ("9000-dropped", "TCP/9000 silently dropped on the path"),
    ("9000-rejected", "TCP/9000 rejected with a reset"),
    ("443-9000-dropped", "TCP/443 and TCP/9000 dropped"),
    ("no-route", "the vm's only link down"),
    ("dns-nxdomain", "every name NXDOMAIN"),
    ("dns-sinkhole", "every zpa.test name answered 0.0.0.0"),
    ("dns-silent", "DNS dropped"),
    ("squid", "transparent squid ssl_bump on TCP/443"),
    ("mitmproxy", "mitmproxy re-signing TCP/443"),
    (
        "ntp-ahead",
        "chronyd on the Zen host 10 minutes behind (the vm looks ahead)",
    ),
];

fn main() {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    let Some(lab) = stage(&scenario) else {
        eprintln!("usage: cargo run --example lab -- <scenario>\n");
        for (name, what) in SCENARIOS {
            eprintln!("  {name:18} {what}");
        }
        std::process::exit(2);
    };
    let profile = support::lab_profile();
    println!("lab up: {scenario}. In another shell, as root:\n");
    println!("  {}", lab.command_line(&profile));
    if scenario == "ntp-ahead" {
        println!(
            "  (add --profile with a [clock] table and --ntp-server 198.18.0.2 to see the clock)"
        );
    }
    println!("\nPress Enter to tear the lab down.");
    let _ = std::io::stdin().lock().lines().next();
}

fn stage(scenario: &str) -> Option<Lab> {
    let dns = match scenario {
        "dns-nxdomain" => Dns::NxDomain,
        "dns-sinkhole" => Dns::Sinkhole,
        name if SCENARIOS.iter().any(|(n, _)| *n == name) => Dns::Answering,
        _ => return None,
    };
    let mut lab = Lab::up(dns)?;
    match scenario {
        "9000-dropped" => {
            lab.firewall("-p tcp --dport 9000 -j DROP");
        }
        "9000-rejected" => {
            lab.firewall("-p tcp --dport 9000 -j REJECT --reject-with tcp-reset");
        }
        "443-9000-dropped" => {
            lab.firewall("-p tcp --dport 443 -j DROP")
                .firewall("-p tcp --dport 9000 -j DROP");
        }
        "no-route" => lab.unplug(),
        "dns-silent" => {
            lab.firewall("-p udp --dport 53 -j DROP")
                .firewall("-p tcp --dport 53 -j DROP");
        }
        "squid" => lab.intercept_with_squid("/C=US/O=Acme Corp/CN=Acme Corp Egress Inspection CA"),
        "mitmproxy" => lab.intercept_with_mitmproxy(&support::mitmdump()?),
        "ntp-ahead" => lab.start_ntp("-600s"),
        _ => {}
    }
    Some(lab)
}
