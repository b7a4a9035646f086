//! Certificates as people hand them over, made with `openssl` from a re-signed chain: DER,
//! PKCS#7 (DER and PEM), PEM with CRLF or 76 columns, UTF-16, a transcript in a Markdown fence,
//! in backticks or quoted. `explain --chain` reaches the same verdict from each, and `--trust`
//! takes a Windows export as an anchor.

use std::process::Command;

use crate::support::*;

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn explain_chain_reads_every_shape_a_ticket_brings() {
    if !require(have("openssl"), "openssl is not installed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let chain = repo("fixtures/chains/resigned-fortinet/chain.pem")
        .display()
        .to_string();
    let pem = std::fs::read_to_string(&chain).unwrap();
    openssl(&[
        "x509",
        "-in",
        &chain,
        "-outform",
        "DER",
        "-out",
        &d("leaf.cer"),
    ]);
    openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        &chain,
        "-outform",
        "DER",
        "-out",
        &d("chain.p7b"),
    ]);
    openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        &chain,
        "-out",
        &d("chain.p7c"),
    ]);
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(d(name), bytes).unwrap();
    write("crlf.pem", pem.replace('\n', "\r\n").into_bytes());
    let rewrapped: String = pem
        .split("-----")
        .collect::<Vec<_>>()
        .chunks(4)
        .flat_map(|c| {
            if c.len() < 3 {
                return Vec::new();
            }
            let b64: String = c[2].split_whitespace().collect();
            let lines: Vec<String> = b64
                .as_bytes()
                .chunks(76)
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            vec![format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )]
        })
        .collect();
    write("wrapped76.pem", rewrapped.into_bytes());
    write(
        "utf16.txt",
        [0xff, 0xfe]
            .into_iter()
            .chain(
                format!("Ticket 4711\r\n{pem}")
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect(),
    );
    let transcript = format!(
        "CONNECTED(00000003)\ndepth=1 O = Fortinet, CN = FortiGate CA\n---\nCertificate chain\n{pem}---\nSSL handshake has read 1800 bytes\n"
    );
    write(
        "fenced.md",
        format!("Customer says:\n\n```\n{transcript}```\n").into_bytes(),
    );
    write(
        "ticks.md",
        transcript
            .lines()
            .map(|l| format!("`{l}`\n"))
            .collect::<String>()
            .into_bytes(),
    );
    write(
        "quoted.eml",
        transcript
            .lines()
            .map(|l| format!("> {l}\n"))
            .collect::<String>()
            .into_bytes(),
    );
    write(
        "latin1.txt",
        [
            b"Zertifikat f\xfcr den Proxy \xa9\n".as_slice(),
            pem.as_bytes(),
            b"Gr\xfc\xdfe\n",
        ]
        .concat(),
    );
    for name in [
        "leaf.cer",
        "chain.p7b",
        "chain.p7c",
        "crlf.pem",
        "wrapped76.pem",
        "utf16.txt",
        "fenced.md",
        "ticks.md",
        "quoted.eml",
        "latin1.txt",
    ] {
        let run = run(&["explain", "--chain", &d(name), "--format", "json"]);
        assert_eq!(run.code, 3, "{name}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.top_cause(), "tls.intercepted", "{name}");
        assert!(
            run.top_title().contains("Fortinet"),
            "{name}: {}",
            run.top_title()
        );
    }

    // A Windows export of the genuine broker CA is an anchor like its PEM.
    let ca = repo("fixtures/chains/broker-genuine/ca.pem")
        .display()
        .to_string();
    openssl(&[
        "x509",
        "-in",
        &ca,
        "-outform",
        "DER",
        "-out",
        &d("broker-ca.cer"),
    ]);
    openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        &ca,
        "-outform",
        "DER",
        "-out",
        &d("broker-ca.p7b"),
    ]);
    let genuine = repo("fixtures/chains/broker-genuine/chain.pem")
        .display()
        .to_string();
    for anchor in ["broker-ca.cer", "broker-ca.p7b"] {
        let trust = format!("broker={}", d(anchor));
        let run = run(&["explain", "--chain", &genuine, "--trust", &trust]);
        assert_eq!(run.code, 0, "{anchor}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("accepted by the declared anchor"),
            "{anchor}: {}",
            run.stdout
        );
    }

    // Nothing that is a certificate: one line saying what it was.
    write(
        "key.pem",
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
            .to_vec(),
    );
    let run = run(&["explain", "--chain", &d("key.pem")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("key.pem") && run.stderr.contains("private key"),
        "{}",
        run.stderr
    );
}
