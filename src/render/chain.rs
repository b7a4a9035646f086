//! `chain`: the certificates a TLS host presented, as an operator reads and saves them.
//!
//! The point is pinning: on a path known to be free of inspection, the CA a broker presents
//! is saved (`--format pem`) and declared with `--trust broker=FILE`, after which only that
//! anchor decides. So the human form shows what identifies each certificate (names, key and
//! fingerprints) next to its PEM, and the PEM form holds only what an anchor file needs.

use std::io::{self, Write};

use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::evidence::{HandshakeResult, TlsHandshake, Trust};
use crate::x509::{self, CertSummary};

/// One certificate for `--format json`.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    summary: &'a CertSummary,
    pem: String,
}

/// The presented chain, for `--format json`.
#[derive(Serialize)]
struct Document<'a> {
    host: String,
    sni: &'a str,
    result: &'a HandshakeResult,
    mozilla: Option<&'a Trust>,
    certificates: Vec<Entry<'a>>,
}

/// Summary and PEM of each certificate, then how to pin.
pub fn human(out: &mut dyn Write, h: &TlsHandshake, ders: &[CertificateDer<'_>]) -> io::Result<()> {
    writeln!(
        out,
        "{} [{}]:{} presented {} certificate{}{}:",
        h.sni,
        h.addr,
        h.port,
        ders.len(),
        if ders.len() == 1 { "" } else { "s" },
        match &h.result {
            HandshakeResult::Completed { protocol, .. } => format!(" ({protocol})"),
            _ => String::new(),
        }
    )?;
    for (i, (cert, der)) in h.chain.iter().zip(ders).enumerate() {
        let role = if i == 0 { "leaf" } else { "CA" };
        let Some(cert) = cert.parsed() else {
            writeln!(out, "\n#{i} {role}: does not parse ({} bytes)", der.len())?;
            continue;
        };
        writeln!(out, "\n#{i} {role}: {}", cert.subject.text)?;
        writeln!(out, "   issuer:     {}", cert.issuer.text)?;
        writeln!(
            out,
            "   valid:      {} → {}",
            date(cert.not_before),
            date(cert.not_after)
        )?;
        if !cert.sans.is_empty() {
            writeln!(out, "   names:      {}", cert.sans.join(", "))?;
        }
        writeln!(
            out,
            "   key:        {} (sha256 {})",
            cert.key, cert.spki_sha256
        )?;
        if let Some(id) = &cert.key_id {
            writeln!(out, "   key id:     {id}")?;
        }
        writeln!(out, "   sha256:     {}", cert.sha256)?;
        write!(out, "{}", x509::pem(der))?;
    }
    if let Some(v) = &h.verification {
        writeln!(out, "\nMozilla's roots: {}", trust(&v.mozilla))?;
    }
    if ders.len() > 1 {
        writeln!(
            out,
            "\nTo pin the CA (on a path without SSL inspection only):\n  \
             zpa-preflight chain {} --format pem > broker-ca.pem\n  \
             zpa-preflight check --trust broker=broker-ca.pem",
            h.sni
        )?;
    } else {
        writeln!(
            out,
            "\nThe server sent no CA certificate, so there is nothing here to pin."
        )?;
    }
    Ok(())
}

/// The PEM of the CA certificates sent (not the leaf): an anchor file for `--trust`.
pub fn pem(out: &mut dyn Write, ders: &[CertificateDer<'_>]) -> io::Result<()> {
    for der in ders.iter().skip(1) {
        write!(out, "{}", x509::pem(der))?;
    }
    Ok(())
}

/// Every certificate's summary and PEM.
pub fn json(out: &mut dyn Write, h: &TlsHandshake, ders: &[CertificateDer<'_>]) -> io::Result<()> {
    let doc = Document {
        host: format!("{}:{}", h.addr, h.port),
        sni: &h.sni,
        result: &h.result,
        mozilla: h.verification.as_ref().map(|v| &v.mozilla),
        certificates: h
            .chain
            .iter()
            .zip(ders)
            .filter_map(|(cert, der)| {
                Some(Entry {
                    summary: cert.parsed()?,
                    pem: x509::pem(der),
                })
            })
            .collect(),
    };
    super::json::document(out, "chain", &doc)
}

fn trust(t: &Trust) -> String {
    match t {
        Trust::Verified => "trusted".into(),
        Trust::Untrusted { reason } => format!("not trusted ({reason})"),
        Trust::NotChecked => "not checked".into(),
    }
}

fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |d| d.format("%Y-%m-%d").to_string())
}
