//! TLS interception against real TLS servers on loopback: the lab's genuine broker chain, and
//! chains re-signed by CAs named like the catalog's products. The chains in
//! `fixtures/chains/` are made by `regenerate_chain_fixtures` below (run it with
//! `cargo test --test cli -- --ignored regenerate_chain_fixtures`).

use std::path::Path;

use rcgen::DnType;

use crate::support::loopback::LoopbackLab;
use crate::support::mint::{Minted, resigned};
use crate::support::tls_server::{BrokerMode, TlsBroker};
use crate::support::*;

/// One fixture: a directory, its CA's name, the host its leaf is for, and the product the
/// catalog should name for it (None: genuine, or an unnamed proxy). Every leaf carries the
/// subject and SANs of the real server it stands for, as re-signing products copy them
/// (../shared/DOMAIN.md §6): the lab broker's is Zscaler's published broker subject.
struct Case {
    dir: &'static str,
    ca: &'static [(DnType, &'static str)],
    leaf_cn: &'static str,
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
        product: None,
    },
    Case {
        dir: "broker-genuine",
        ca: &[
            (DnType::OrganizationName, "Zscaler"),
            (DnType::CommonName, "ZPA Lab Broker CA"),
        ],
        leaf_cn: "broker.zpa.test",
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
        product: Some("Fortinet FortiGate / FortiProxy"),
    },
    Case {
        dir: "resigned-paloalto",
        ca: &[
            (DnType::OrganizationName, "Palo Alto Networks"),
            (DnType::CommonName, "PAN-FW Forward Trust CA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Palo Alto Networks NGFW / Prisma Access"),
    },
    Case {
        dir: "resigned-zscaler-zia",
        ca: &[
            (DnType::CountryName, "US"),
            (DnType::StateOrProvinceName, "California"),
            (DnType::LocalityName, "San Jose"),
            (DnType::OrganizationName, "Zscaler Inc."),
            (DnType::OrganizationalUnitName, "Zscaler Inc."),
            (
                DnType::CommonName,
                "Zscaler Intermediate Root CA (zscaler.net) (t)",
            ),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Zscaler ZIA (SSL inspection)"),
    },
    Case {
        dir: "resigned-netskope",
        ca: &[
            (DnType::OrganizationName, "Netskope"),
            (DnType::CommonName, "ca.acme.goskope.com"),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Netskope"),
    },
    Case {
        dir: "resigned-cisco-umbrella",
        ca: &[
            (DnType::OrganizationName, "Cisco"),
            (DnType::CommonName, "Cisco Umbrella Primary SubCA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Cisco Umbrella SIG"),
    },
    Case {
        dir: "resigned-forcepoint",
        ca: &[
            (DnType::OrganizationName, "Forcepoint"),
            (DnType::CommonName, "Forcepoint Cloud CA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Forcepoint / Websense"),
    },
    Case {
        dir: "resigned-safemarch",
        ca: &[
            (DnType::OrganizationName, "Safemarch"),
            (DnType::CommonName, "Safemarch Inc CA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: Some("Safemarch (Zscaler documentation example)"),
    },
    Case {
        dir: "resigned-unnamed",
        ca: &[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Acme Corp"),
            (DnType::CommonName, "Acme Corp Egress Inspection CA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: None,
    },
    // The hardest case: an enterprise CA named like Zscaler's, added to the system store.
    Case {
        dir: "resigned-zscaler-named",
        ca: &[
            (DnType::OrganizationName, "Zscaler"),
            (DnType::CommonName, "Zscaler Egress Inspection CA"),
        ],
        leaf_cn: "broker.zpa.test",
        product: None,
    },
];

/// A chain re-signed by a CA named `dn`, for `leaf_cn` and api.zpa.test.
fn mint(dn: &[(DnType, &str)], leaf_cn: &str) -> Minted {
    resigned(dn, &[leaf_cn, "api.zpa.test"], Some(leaf_cn))
}

/// Writes `fixtures/chains/<case>/{ca.pem,chain.pem,key.pem}` for every case.
#[test]
#[ignore = "regenerates committed fixtures; run by hand"]
fn regenerate_chain_fixtures() {
    for case in CASES {
        let dir = repo("fixtures/chains").join(case.dir);
        std::fs::create_dir_all(&dir).unwrap();
        let minted = mint(case.ca, case.leaf_cn);
        std::fs::write(dir.join("ca.pem"), &minted.ca).unwrap();
        std::fs::write(dir.join("chain.pem"), minted.leaf + &minted.ca).unwrap();
        std::fs::write(dir.join("key.pem"), minted.key).unwrap();
    }
}

/// A loopback lab whose brokers present `chain`: dnsmasq answers the lab's names with a
/// fresh loopback address where a TLS broker listens on 443 and a TCP one on 9000.
fn tls_lab(mode: BrokerMode) -> Option<(Dnsmasq, TlsBroker)> {
    LoopbackLab::up(|addr| TlsBroker::start(addr, mode)).map(|lab| (lab.dns, lab.broker))
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
        tls["summary"].as_str().unwrap().contains(
            "accepted by its issuer's name (CN=ZPA Lab Broker CA, O=Zscaler), not pinned"
        ),
        "{tls}"
    );
}

#[test]
fn every_resigned_chain_is_intercepted_and_named() {
    // The Zscaler-named enterprise CA passes by name alone: only the system store (below) or
    // a declared anchor gives it away.
    for case in CASES
        .iter()
        .filter(|c| c.dir.starts_with("resigned-") && c.dir != "resigned-zscaler-named")
    {
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
            None => assert!(
                title.contains("an unnamed proxy (issuer "),
                "{}: {title}",
                case.dir
            ),
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
    let Some(lab) = LoopbackLab::with_control(TlsBroker::genuine, |at| {
        TlsBroker::start(at, chain("control-public"))
    }) else {
        return;
    };
    let dns = &lab.dns;
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

/// The hardest case: a proxy whose CA is named like Zscaler's and was added to the VM's
/// system store (how enterprises deploy their inspection CA). The leaf copies the broker's
/// subject; only the store gives it away.
#[test]
fn a_zscaler_named_ca_from_the_system_store_is_intercepted() {
    let Some((dns, _broker)) = tls_lab(chain("resigned-zscaler-named")) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let bundle = root.path().join("etc/pki/tls/certs/ca-bundle.crt");
    std::fs::create_dir_all(bundle.parent().unwrap()).unwrap();
    std::fs::copy(
        repo("fixtures/chains/resigned-zscaler-named/ca.pem"),
        &bundle,
    )
    .unwrap();
    let root = root.path().display().to_string();
    let run = check_via(dns.addr, &["--root", &root, "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    assert_eq!(run.top_cause(), "tls.intercepted");
    let evidence = run.json()["causes"][0]["evidence"].to_string();
    assert!(
        evidence.contains("trusted only by the system store"),
        "{evidence}"
    );
}

/// Writes `case`'s chain as an `openssl s_client -showcerts` transcript would hold it.
fn s_client_transcript(chain_pem: &str) -> String {
    let mut text = String::from("CONNECTED(00000003)\n---\nCertificate chain\n");
    for (i, block) in chain_pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .enumerate()
    {
        text.push_str(&format!(
            " {i} s:CN = something\n   i:CN = something else\n"
        ));
        text.push_str(block);
    }
    text.push_str("---\nServer certificate\nsubject=CN = broker.zpa.test\n---\nSSL handshake has read 1234 bytes\n");
    text
}

/// `explain --chain` gives the causes the live check gives for the same chain, from a PEM
/// bundle and from a real `openssl s_client -showcerts` transcript of the same server.
#[test]
fn explain_chain_agrees_with_the_live_check() {
    for dir in ["resigned-unnamed", "resigned-fortinet", "broker-genuine"] {
        let Some((dns, broker)) = tls_lab(chain(dir)) else {
            return;
        };
        let live = check_via(dns.addr, &["--format", "json"]);
        let live_tls: Vec<String> = live
            .cause_ids()
            .into_iter()
            .filter(|id| id.starts_with("tls."))
            .collect();
        let work = tempfile::tempdir().unwrap();
        let pem = work.path().join("chain.pem");
        std::fs::copy(repo("fixtures/chains").join(dir).join("chain.pem"), &pem).unwrap();
        // What a customer pastes: the real s_client, against the same server.
        let transcript = work.path().join("s_client.txt");
        let out = std::process::Command::new("openssl")
            .args(["s_client", "-showcerts", "-servername", "broker.zpa.test"])
            .arg("-connect")
            .arg(format!("{}:443", broker.addr()))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("BEGIN CERTIFICATE"), "{dir}: {text}");
        std::fs::write(&transcript, text).unwrap();
        for file in [&pem, &transcript] {
            let file = file.display().to_string();
            let saved = run(&["explain", "--chain", &file, "--format", "json"]);
            assert_eq!(saved.code, live.code, "{dir} {file}: {}", saved.stdout);
            let saved_tls: Vec<String> = saved
                .cause_ids()
                .into_iter()
                .filter(|id| id.starts_with("tls."))
                .collect();
            assert_eq!(saved_tls, live_tls, "{dir} {file}");
            assert_eq!(
                saved.json()["causes"][0]["title"],
                live.json()["causes"][0]["title"],
                "{dir} {file}"
            );
        }
    }
}

#[test]
fn explain_chain_reads_pem_and_transcripts_offline() {
    let work = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(repo("fixtures/chains/resigned-unnamed/chain.pem")).unwrap();
    let transcript = work.path().join("ticket.txt");
    std::fs::write(&transcript, s_client_transcript(&pem)).unwrap();
    let file = transcript.display().to_string();
    for format in ["human", "json", "markdown"] {
        let run = run(&["explain", "--chain", &file, "--format", format]);
        assert_eq!(run.code, 3, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("Acme Corp Egress Inspection CA"),
            "{format}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("issuing CA sha256 "), "{format}");
    }
    // Bad input: one line naming the file, exit 2.
    let empty = work.path().join("empty.txt");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let bad = run(&["explain", "--chain", &empty.display().to_string()]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("empty.txt"), "{}", bad.stderr);
    // --sni and --profile mean something only with --chain.
    let report = repo("fixtures/reports/v1.0-blocked-9000.json");
    let misuse = run(&["explain", &report.display().to_string(), "--sni", "x.test"]);
    assert_eq!(misuse.code, 2, "{}", misuse.stderr);
}

/// A declared anchor decides alone for a saved chain too.
#[test]
fn explain_chain_honours_a_declared_anchor() {
    let genuine = repo("fixtures/chains/broker-genuine/chain.pem");
    let anchor = format!(
        "broker={}",
        repo("fixtures/chains/broker-genuine/ca.pem").display()
    );
    let ok = run(&[
        "explain",
        "--chain",
        &genuine.display().to_string(),
        "--trust",
        &anchor,
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout.contains("accepted by the declared anchor"),
        "{}",
        ok.stdout
    );
    let named = repo("fixtures/chains/resigned-zscaler-named/chain.pem");
    let caught = run(&[
        "explain",
        "--chain",
        &named.display().to_string(),
        "--trust",
        &anchor,
        "--format",
        "json",
    ]);
    assert_eq!(caught.code, 3, "{}", caught.stdout);
    assert_eq!(caught.top_cause(), "tls.intercepted");
}

/// `chain` prints what a host presents, and `--format pem` is an anchor `--trust` accepts.
#[test]
fn chain_prints_and_pins() {
    let Some((dns, broker)) = tls_lab(chain("broker-genuine")) else {
        return;
    };
    let host = format!("{}:443", broker.addr());
    let human = run(&["chain", &host, "--sni", "broker.zpa.test"]);
    assert_eq!(human.code, 0, "{}{}", human.stdout, human.stderr);
    assert!(
        human.stdout.contains("#1 CA: CN=ZPA Lab Broker CA"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("BEGIN CERTIFICATE"),
        "{}",
        human.stdout
    );
    let pem = run(&[
        "chain",
        &host,
        "--sni",
        "broker.zpa.test",
        "--format",
        "pem",
    ]);
    assert_eq!(pem.code, 0, "{}", pem.stderr);
    assert_eq!(
        pem.stdout.matches("BEGIN CERTIFICATE").count(),
        1,
        "{}",
        pem.stdout
    );
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("broker-ca.pem");
    std::fs::write(&saved, &pem.stdout).unwrap();
    let trust = format!("broker={}", saved.display());
    let pinned = check_via(dns.addr, &["--trust", &trust]);
    assert_eq!(pinned.code, 0, "{}", pinned.stdout);
    assert!(
        pinned.stdout.contains("accepted by the declared anchor"),
        "{}",
        pinned.stdout
    );
    let json = run(&[
        "chain",
        &host,
        "--sni",
        "broker.zpa.test",
        "--format",
        "json",
    ]);
    assert_eq!(json.json()["certificates"].as_array().unwrap().len(), 2);
    // Nothing listening: no chain, exit 3, one line.
    let closed = format!("{}:444", broker.addr());
    let none = run(&["chain", &closed, "--timeout", "1s"]);
    assert_eq!(none.code, 3, "{}", none.stderr);
    assert_eq!(none.stderr.lines().count(), 1, "{}", none.stderr);
}

/// Every product of the catalog, re-signing with the CA it ships (fixtures/interceptors/
/// issuers.toml), is caught and ranked first; the ones with a default CA name are named.
#[test]
fn every_catalog_product_is_caught_when_it_copies_the_broker_subject() {
    #[derive(serde::Deserialize)]
    struct Table {
        row: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        product: String,
        dn: Vec<(String, String)>,
        #[serde(default = "yes")]
        named: bool,
    }
    fn yes() -> bool {
        true
    }
    let text = std::fs::read_to_string(repo("fixtures/interceptors/issuers.toml")).unwrap();
    let table: Table = toml::from_str(&text).unwrap();
    let catalog = std::fs::read_to_string(repo("checks/interceptors.toml")).unwrap();
    let products = catalog
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|l| l.trim_end_matches('"'));
    for product in products {
        assert!(
            table.row.iter().any(|r| r.product == product),
            "no issuer row for {product}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for row in &table.row {
        let dn: Vec<(DnType, &str)> = row
            .dn
            .iter()
            .map(|(kind, value)| {
                let kind = match kind.as_str() {
                    "C" => DnType::CountryName,
                    "ST" => DnType::StateOrProvinceName,
                    "L" => DnType::LocalityName,
                    "O" => DnType::OrganizationName,
                    "OU" => DnType::OrganizationalUnitName,
                    "CN" => DnType::CommonName,
                    // emailAddress, 1.2.840.113549.1.9.1
                    "E" => DnType::CustomDnType(vec![1, 2, 840, 113_549, 1, 9, 1]),
                    other => panic!("{}: unknown attribute {other}", row.product),
                };
                (kind, value.as_str())
            })
            .collect();
        let file = dir.path().join("chain.pem");
        let minted = mint(&dn, "broker.zpa.test");
        std::fs::write(&file, minted.leaf + &minted.ca).unwrap();
        let run = run(&[
            "explain",
            "--chain",
            &file.display().to_string(),
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 3, "{}: {}", row.product, run.stdout);
        let top = &run.json()["causes"][0];
        assert_eq!(top["id"], "tls.intercepted", "{}", row.product);
        assert_eq!(top["severity"], "blocking", "{}", row.product);
        let title = top["title"].as_str().unwrap();
        if row.named {
            assert!(
                title.ends_with(&format!("intercepted by {}", row.product)),
                "{}: {title}",
                row.product
            );
        } else {
            assert!(
                title.contains("an unnamed proxy (issuer "),
                "{}: {title}",
                row.product
            );
        }
    }
}
