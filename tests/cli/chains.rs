//! TLS interception against real TLS servers on loopback: the lab's genuine broker chain, and
//! chains re-signed by CAs named like the catalog's products. The chains in
//! `fixtures/chains/` are made by `regenerate_chain_fixtures` below (run it with
//! `cargo test --test cli -- --ignored regenerate_chain_fixtures`).

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::support::tls_server::{BrokerMode, TlsBroker};
use crate::support::*;

/// One fixture: a directory, its CA's name, the leaf's organisation, and the product the
/// catalog should name for it (None: genuine, or an unnamed proxy).
struct Case {
    dir: &'static str,
    ca: &'static [(DnType, &'static str)],
    leaf_cn: &'static str,
    leaf_o: &'static str,
    product: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        dir: "control-public",
        ca: &[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Lab Public Trust"),
            (DnType::CommonName, "Lab Public Root R1"),
        ],
        leaf_cn: "dist.zpa.test",
        leaf_o: "Zscaler",
        product: None,
    },
    Case {
        dir: "broker-genuine",
        ca: &[
            (DnType::OrganizationName, "Zscaler"),
            (DnType::CommonName, "ZPA Lab Broker CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: None,
    },
    Case {
        dir: "resigned-fortinet",
        ca: &[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Fortinet"),
            (DnType::OrganizationalUnitName, "Certificate Authority"),
            (DnType::CommonName, "FortiGate CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Fortinet FortiGate / FortiProxy"),
    },
    Case {
        dir: "resigned-paloalto",
        ca: &[
            (DnType::OrganizationName, "Palo Alto Networks"),
            (DnType::CommonName, "PAN-FW Forward Trust CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Palo Alto Networks NGFW / Prisma Access"),
    },
    Case {
        dir: "resigned-zscaler-zia",
        ca: &[
            (DnType::OrganizationName, "Zscaler Inc."),
            (
                DnType::CommonName,
                "Zscaler Intermediate Root CA (zscaler.net) (t)",
            ),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Zscaler ZIA (SSL inspection)"),
    },
    Case {
        dir: "resigned-netskope",
        ca: &[
            (DnType::OrganizationName, "Netskope"),
            (DnType::CommonName, "ca.acme.goskope.com"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Netskope"),
    },
    Case {
        dir: "resigned-cisco-umbrella",
        ca: &[
            (DnType::OrganizationName, "Cisco"),
            (DnType::CommonName, "Cisco Umbrella Primary SubCA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Cisco Umbrella SIG"),
    },
    Case {
        dir: "resigned-forcepoint",
        ca: &[
            (DnType::OrganizationName, "Forcepoint"),
            (DnType::CommonName, "Forcepoint Cloud CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Zscaler",
        product: Some("Forcepoint / Websense"),
    },
    Case {
        dir: "resigned-safemarch",
        ca: &[
            (DnType::OrganizationName, "Safemarch"),
            (DnType::CommonName, "Safemarch Inc CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Safemarch",
        product: Some("Safemarch (Zscaler documentation example)"),
    },
    Case {
        dir: "resigned-unnamed",
        ca: &[
            (DnType::OrganizationName, "Example Corp"),
            (DnType::CommonName, "Corp Inspection CA"),
        ],
        leaf_cn: "broker.zpa.test",
        leaf_o: "Example Corp",
        product: None,
    },
];

/// Writes `fixtures/chains/<case>/{ca.pem,chain.pem,key.pem}` for every case.
#[test]
#[ignore = "regenerates committed fixtures; run by hand"]
fn regenerate_chain_fixtures() {
    for case in CASES {
        let dir = repo("fixtures/chains").join(case.dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        for (kind, value) in case.ca {
            ca_params.distinguished_name.push(kind.clone(), *value);
        }
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut leaf_params =
            CertificateParams::new(vec![case.leaf_cn.to_string(), "api.zpa.test".to_string()])
                .unwrap();
        for (kind, value) in [
            (DnType::CountryName, "US"),
            (DnType::StateOrProvinceName, "California"),
            (DnType::LocalityName, "San Jose"),
            (DnType::OrganizationName, case.leaf_o),
            (DnType::OrganizationalUnitName, "Emerging Technologies"),
            (DnType::CommonName, case.leaf_cn),
        ] {
            leaf_params.distinguished_name.push(kind, value);
        }
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("chain.pem"), format!("{}{}", leaf.pem(), ca.pem())).unwrap();
        std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();
    }
}

/// A loopback lab whose brokers present `chain`: dnsmasq answers the lab's names with a
/// fresh loopback address where a TLS broker listens on 443 and a TCP one on 9000.
fn tls_lab(mode: BrokerMode) -> Option<(Dnsmasq, TlsBroker)> {
    if !require(have_dnsmasq(), "dnsmasq is not installed")
        || !require(is_root(), "brokers on 127.77.x.y:443 need root")
    {
        return None;
    }
    let addr = fresh_loopback();
    let broker = TlsBroker::start(addr, mode);
    let dns = Dnsmasq::start(
        std::net::Ipv4Addr::LOCALHOST,
        0,
        &[
            Answer::A("broker.zpa.test", addr),
            Answer::A("api.zpa.test", addr),
        ],
    );
    Some((dns, broker))
}

fn chain(dir: &str) -> BrokerMode {
    let base = repo("fixtures/chains").join(dir);
    BrokerMode::chain(&base.join("chain.pem"), &base.join("key.pem"))
}

#[test]
fn genuine_broker_chain_passes() {
    let Some((dns, _broker)) = tls_lab(chain("broker-genuine")) else {
        return;
    };
    let run = check_via(dns.addr, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    let tls = &run.json()["checks"][3];
    assert_eq!(tls["id"], "tls");
    assert_eq!(tls["status"], "pass", "{tls}");
    assert!(
        tls["summary"]
            .as_str()
            .unwrap()
            .contains("identity O=Zscaler"),
        "{tls}"
    );
}

#[test]
fn every_resigned_chain_is_intercepted_and_named() {
    for case in CASES.iter().filter(|c| c.dir.starts_with("resigned-")) {
        let Some((dns, _broker)) = tls_lab(chain(case.dir)) else {
            return;
        };
        let run = check_via(dns.addr, &["--format", "json"]);
        assert_eq!(run.code, 3, "{}: {}", case.dir, run.json()["causes"]);
        let top = &run.json()["causes"][0];
        assert_eq!(top["id"], "tls.intercepted", "{}", case.dir);
        let title = top["title"].as_str().unwrap();
        match case.product {
            Some(product) => assert!(
                title.ends_with(&format!("intercepted by {product}")),
                "{}: {title}",
                case.dir
            ),
            None => assert!(title.ends_with("an unnamed proxy"), "{}: {title}", case.dir),
        }
        let evidence = top["evidence"].to_string();
        let ca_subject = case.ca.last().unwrap().1;
        assert!(evidence.contains(ca_subject), "{}: {evidence}", case.dir);
        assert!(
            evidence.contains("issuing CA sha256"),
            "{}: {evidence}",
            case.dir
        );
    }
}

#[test]
fn a_declared_anchor_catches_a_proxy_that_copies_the_subject() {
    let Some((dns, _broker)) = tls_lab(chain("resigned-unnamed")) else {
        return;
    };
    let anchor = repo("fixtures/chains/broker-genuine/ca.pem");
    let trust = format!("broker={}", anchor.display());
    let run = check_via(dns.addr, &["--trust", &trust, "--format", "json"]);
    assert_eq!(run.top_cause(), "tls.intercepted");
    assert_eq!(run.json()["causes"][0]["confidence"], 0.95);
    assert_eq!(
        run.json()["evidence"]["plan"]["trust"][0]["class"],
        "broker"
    );
}

#[test]
fn a_declared_anchor_accepts_its_own_chain() {
    let Some((dns, _broker)) = tls_lab(chain("broker-genuine")) else {
        return;
    };
    let anchor = repo("fixtures/chains/broker-genuine/ca.pem");
    let trust = format!("broker={}", anchor.display());
    let run = check_via(dns.addr, &["--trust", &trust]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("accepted by the declared anchor"),
        "{}",
        run.stdout
    );
}

#[test]
fn hostile_servers_get_a_finding_not_a_crash_or_a_hang() {
    for (what, mode) in [
        ("garbage certificate bytes", BrokerMode::Garbage),
        ("a chain of 200 certificates", BrokerMode::LongChain(200)),
        ("a 1 MiB certificate", BrokerMode::HugeCert(1 << 20)),
        ("silence after the ClientHello", BrokerMode::Silent),
        ("a close mid-handshake", BrokerMode::CloseAfterHello),
    ] {
        let Some((dns, _broker)) = tls_lab(mode) else {
            return;
        };
        let run = check_via(dns.addr, &["--format", "json"]);
        assert_eq!(run.code, 3, "{what}: {}{}", run.stdout, run.stderr);
        let top = run.top_cause();
        assert!(top.starts_with("tls."), "{what}: {top}");
        // The lab profile's overall deadline is 4 s.
        assert!(run.took.as_secs_f64() < 4.5, "{what}: took {:?}", run.took);
    }
}

#[test]
fn malformed_trust_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for spec in [
        empty.display().to_string(),
        "broker=/nonexistent/ca.pem".to_string(),
    ] {
        let run = run(&["check", "--dry-run", "--trust", &spec]);
        assert_eq!(run.code, 2, "{spec}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

/// The lab profile plus a control host, `dist.zpa.test`.
fn profile_with_control_host(dir: &Path) -> String {
    lab_profile_with(dir, CONTROL_HOST)
}

#[test]
fn a_public_ca_control_host_passes_and_its_interception_warns() {
    if !require(have_dnsmasq(), "dnsmasq is not installed")
        || !require(is_root(), "brokers on 127.77.x.y:443 need root")
    {
        return;
    }
    let (broker_addr, control_addr) = (fresh_loopback(), fresh_loopback());
    let _broker = TlsBroker::genuine(broker_addr);
    let _control = TlsBroker::start(control_addr, chain("control-public"));
    let dns = Dnsmasq::start(
        std::net::Ipv4Addr::LOCALHOST,
        0,
        &[
            Answer::A("broker.zpa.test", broker_addr),
            Answer::A("api.zpa.test", broker_addr),
            Answer::A("dist.zpa.test", control_addr),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with_control_host(dir.path());
    let server = dns.addr.to_string();
    let base = ["check", "--profile", &profile, "--dns-server", &server];

    // The lab's "public" root stands in for Mozilla's: declared, the control host is genuine.
    let trust = format!(
        "control={}",
        repo("fixtures/chains/control-public/ca.pem").display()
    );
    let mut trusted = base.to_vec();
    trusted.extend(["--trust", &trust]);
    let genuine = run(&trusted);
    assert_eq!(genuine.code, 0, "{}", genuine.stdout);
    assert!(
        genuine.stdout.contains("control hosts: 1/1 genuine"),
        "{}",
        genuine.stdout
    );

    // Not declared: a chain no public root vouches for, seen on a control host only.
    let mut strict = base.to_vec();
    strict.extend(["--strict", "--format", "json"]);
    let inspected = run(&strict);
    assert_eq!(inspected.code, 4, "{}", inspected.json()["causes"]);
    assert_eq!(inspected.top_cause(), "tls.inspection_on_path");
}
