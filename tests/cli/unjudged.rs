//! Never "ready" about what was not judged: a chain whose server name does not parse, a file
//! of CA certificates, a run or a report where every deciding check was skipped. Each is a
//! verdict (the product named, or `run.not_judged`) or one line and exit 2, never exit 0.

use rcgen::DnType;

use crate::support::*;

/// A CA named `ca_dn`, and a leaf it signs for `sans` with the broker subject a re-signing
/// proxy copies. Returns (the CA's PEM, the leaf then the CA).
fn resigned(ca_dn: &[(DnType, &str)], sans: &[&str], leaf_cn: Option<&str>) -> (String, String) {
    let minted = crate::support::mint::resigned(ca_dn, sans, leaf_cn);
    (minted.ca.clone(), minted.leaf + &minted.ca)
}

const FORTINET: &[(DnType, &str)] = &[
    (DnType::OrganizationName, "Fortinet"),
    (DnType::CommonName, "FortiGate CA"),
];
const ACME: &[(DnType, &str)] = &[
    (DnType::OrganizationName, "Acme Corp"),
    (DnType::CommonName, "Acme Egress Inspection CA"),
];

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_wildcard_leaf_re_signed_by_a_known_proxy_is_intercepted_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (_, chain) = resigned(FORTINET, &["*.prod.zpath.net"], Some("*.prod.zpath.net"));
    let file = write(&dir, "wildcard.pem", &chain);
    let run = run(&["explain", "--chain", &file, "--format", "json"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.top_cause(), "tls.intercepted");
    assert!(run.top_title().contains("Fortinet"), "{}", run.top_title());
}

#[test]
fn a_server_name_that_is_not_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, chain) = resigned(FORTINET, &["co2br.prod.zpath.net"], None);
    let file = write(&dir, "chain.pem", &chain);
    for sni in [
        "",
        " co2br.prod.zpath.net",
        "co2br.prod.zpath.net:443",
        "co2br\u{1b}[2J",
        "*.prod.zpath.net",
    ] {
        let run = run(&["explain", "--chain", &file, "--sni", sni]);
        assert_eq!(run.code, 2, "{sni:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("is not a server name")
                || run.stderr.contains("holds a control character"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains('\u{1b}'),
            "the escape is not printed raw: {:?}",
            run.stderr
        );
    }
    let chain_cmd = run(&["chain", "127.0.0.1:1", "--sni", "a b"]);
    assert_eq!(chain_cmd.code, 2, "{}", chain_cmd.stderr);
}

#[test]
fn a_file_of_ca_certificates_is_judged_by_its_cas() {
    let dir = tempfile::tempdir().unwrap();
    // A product named by its CA's organisation alone: no CN at all.
    let (fortinet_ca, _) = resigned(
        &[
            (DnType::OrganizationName, "Fortinet"),
            (DnType::OrganizationalUnitName, "Certificate Authority"),
        ],
        &["x.test"],
        None,
    );
    let file = write(&dir, "proxy-ca.pem", &fortinet_ca);
    let named = run(&["explain", "--chain", &file, "--format", "json"]);
    assert_eq!(named.code, 3, "{}{}", named.stdout, named.stderr);
    assert_eq!(named.top_cause(), "tls.intercepted");
    assert!(
        named.top_title().contains("Fortinet"),
        "{}",
        named.top_title()
    );

    // An unknown CA: what it is, and what to pass instead.
    let (acme_ca, _) = resigned(ACME, &["x.test"], None);
    let file = write(&dir, "acme-ca.pem", &acme_ca);
    let run = run(&["explain", "--chain", &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    for says in [
        "acme-ca.pem",
        "holds only CA certificates",
        "Acme Egress Inspection CA",
        "--trust",
        "leaf first",
    ] {
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
}

#[test]
fn a_chain_with_nothing_to_judge_it_by_is_not_ready_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // A leaf that names no server, and an anchor declared: nothing to verify it against.
    let (ca, chain) = resigned(ACME, &[], None);
    let file = write(&dir, "nameless.pem", &chain);
    let anchor = format!("broker={}", write(&dir, "anchor.pem", &ca));
    let run = run(&[
        "explain", "--chain", &file, "--trust", &anchor, "--format", "json",
    ]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.top_cause(), "run.not_judged");
    assert_eq!(run.json()["verdict"], "blocked");
    let tls = run.check("tls");
    assert_eq!(tls["status"], "skipped");
    assert!(
        tls["reason"].as_str().unwrap().contains("not judged"),
        "{tls}"
    );

    // The saved report of that run, explained again: the same answer.
    let saved = write(&dir, "report.json", &run.stdout);
    let again = crate::support::run(&["explain", &saved]);
    assert_eq!(again.code, 3, "{}", again.stdout);
    assert!(again.stdout.contains("run.not_judged"), "{}", again.stdout);
    assert!(!again.stdout.contains("READY"), "{}", again.stdout);
}

#[test]
fn a_check_with_nothing_to_probe_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    // Valid, and with nothing in it to probe: no names, and no range sampled.
    let profile = write(
        &dir,
        "empty.toml",
        "name = \"empty\"\ndescription = \"nothing to check\"\nchecked = \"2026-12-01\"\n\
         names = []\n\n[timeouts]\nprobe = \"1s\"\noverall = \"2s\"\n\n\
         [limits]\nmax_published = 4\nmax_sampled_ranges = 0\n\n\
         [zen]\nranges = [\"198.18.0.0/15\"]\ncomplete = true\n\n\
         [[ports]]\nport = 443\nrequired = true\npurpose = \"x\"\nsource = \"y\"\n",
    );
    let run = check_json(
        std::path::Path::new(&profile),
        &repo("fixtures/roots/offline"),
        &[],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.top_cause(), "run.not_judged");
    assert!(
        run.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "skipped")
    );
}
