//! Certificates as people hand them over: whatever a support ticket or a proxy console gives,
//! the DER certificates in it, in order.
//!
//! What arrives, and where each shape comes from:
//! - DER, one certificate (`.cer`, `.der`): Windows' certificate export default ("DER encoded
//!   binary X.509"), and `openssl x509 -outform DER`;
//! - PKCS#7 (`.p7b`, `.p7c`), DER or PEM (`-----BEGIN PKCS7-----`): Windows' "Cryptographic
//!   Message Syntax Standard" export of a whole chain, proxy consoles' CA downloads, and
//!   `openssl crl2pkcs7 -nocrl`. It is a CMS `SignedData` (RFC 5652 §5.1) whose
//!   `certificates [0] IMPLICIT` field holds the chain; nothing is signed;
//! - PEM, with CRLF line ends (Windows), wrapped at 64 (OpenSSL) or 76 (MIME) columns, several
//!   blocks with other text, Latin-1 or UTF-16 (PowerShell's `>` redirection) between them;
//! - an `openssl s_client -showcerts` transcript pasted into a ticket: inside a Markdown code
//!   fence, with every line in backticks, or quoted with `> ` (e-mail, Markdown quotes).
//!
//! A file with none of these says in one line what it looked like. Pure: bytes in.

use x509_parser::asn1_rs::{Any, Class, FromBer, Oid, Tag, oid};

/// CMS `signedData` (RFC 5652): the content type of a PKCS#7 certificate bundle.
const SIGNED_DATA: Oid<'static> = oid!(1.2.840.113549.1.7.2);

/// The DER certificates in `bytes`, in the order given; an error says what the file looked
/// like instead.
pub fn certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        if let Some(certs) = pkcs7(bytes) {
            return non_empty(certs, "a PKCS#7 bundle with no certificate in it");
        }
        if let Ok((rest, _)) = x509_parser::parse_x509_certificate(bytes) {
            // The certificate alone: what follows it (trailing bytes) is not part of it.
            return Ok(vec![bytes[..bytes.len() - rest.len()].to_vec()]);
        }
    }
    let text = text_of(bytes);
    let mut certs = Vec::new();
    for block in pem_blocks(&normalized(&text)) {
        let der = ::pem::parse(block.as_bytes())
            .map_err(|e| format!("a PEM block does not decode: {e}"))?;
        match der.tag() {
            "PKCS7" | "CMS" => certs.extend(
                pkcs7(der.contents()).ok_or("a PKCS7 block holds no PKCS#7 certificate bundle")?,
            ),
            // OpenSSL's TRUSTED CERTIFICATE carries its trust settings after the certificate:
            // the first DER element is the certificate.
            _ => {
                let contents = der.into_contents();
                let first = match Any::from_ber(&contents) {
                    Ok((rest, _)) => contents[..contents.len() - rest.len()].to_vec(),
                    Err(_) => contents,
                };
                certs.push(first);
            }
        }
    }
    if certs.is_empty() {
        return Err(looks_like(bytes, &text));
    }
    Ok(certs)
}

fn non_empty(certs: Vec<Vec<u8>>, what: &str) -> Result<Vec<Vec<u8>>, String> {
    if certs.is_empty() {
        Err(format!("holds {what}"))
    } else {
        Ok(certs)
    }
}

/// The certificates of a PKCS#7 `SignedData`, or `None` when `der` is not one.
fn pkcs7(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
    let (_, info) = Any::from_ber(der).ok()?;
    if info.tag() != Tag::Sequence {
        return None;
    }
    let (rest, kind) = Oid::from_ber(info.data).ok()?;
    if kind != SIGNED_DATA {
        return None;
    }
    let (_, explicit) = Any::from_ber(rest).ok()?;
    let (_, signed) = Any::from_ber(explicit.data).ok()?;
    // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
    //                           certificates [0] IMPLICIT CertificateSet OPTIONAL, … }
    let mut fields = signed.data;
    for _ in 0..3 {
        let (rest, _) = Any::from_ber(fields).ok()?;
        fields = rest;
    }
    let mut certs = Vec::new();
    let Ok((_, set)) = Any::from_ber(fields) else {
        return Some(certs);
    };
    if set.class() != Class::ContextSpecific || set.tag() != Tag(0) {
        return Some(certs);
    }
    let mut inner = set.data;
    while !inner.is_empty() {
        let (rest, _) = Any::from_ber(inner).ok()?;
        certs.push(inner[..inner.len() - rest.len()].to_vec());
        inner = rest;
    }
    Some(certs)
}

/// The text of `bytes`: UTF-16 (with a byte-order mark, or with the NULs of ASCII in it)
/// decoded, anything else read as UTF-8 with the bytes that are not (Latin-1 junk) replaced.
fn text_of(bytes: &[u8]) -> String {
    let utf16 = |little: bool, body: &[u8]| {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|p| {
                if little {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xff, 0xfe, body @ ..] => return utf16(true, body),
        [0xfe, 0xff, body @ ..] => return utf16(false, body),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(256)];
    let nuls_at = |odd: bool| {
        head.iter()
            .skip(usize::from(odd))
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let half = head.len() / 4;
    if head.len() >= 8 && nuls_at(true) > half && nuls_at(false) == 0 {
        return utf16(true, bytes);
    }
    if head.len() >= 8 && nuls_at(false) > half && nuls_at(true) == 0 {
        return utf16(false, bytes);
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each line as a PEM reader wants it: no CR, no `> ` quoting, no backticks around it, no
/// indentation; Markdown fences dropped.
fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Old Mac line ends (CR alone) are line ends too.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for line in text.lines() {
        let mut line = line.trim();
        while let Some(rest) = line.strip_prefix('>') {
            line = rest.trim_start();
        }
        if line.starts_with("```") || line.starts_with("~~~") {
            continue;
        }
        let line = line.trim_matches('`').trim();
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The PEM blocks of `text` a certificate can be in, each from its BEGIN to its END line.
fn pem_blocks(text: &str) -> Vec<String> {
    const LABELS: &[&str] = &[
        "CERTIFICATE",
        "X509 CERTIFICATE",
        "TRUSTED CERTIFICATE",
        "PKCS7",
        "CMS",
    ];
    let mut blocks = Vec::new();
    let mut open: Option<(&str, String)> = None;
    for line in text.lines() {
        match &mut open {
            None => {
                if let Some(label) = line
                    .strip_prefix("-----BEGIN ")
                    .and_then(|l| l.strip_suffix("-----"))
                    .filter(|l| LABELS.contains(l))
                {
                    open = Some((label, format!("{line}\n")));
                }
            }
            Some((label, block)) => {
                block.push_str(line);
                block.push('\n');
                if line == format!("-----END {label}-----") {
                    blocks.push(std::mem::take(block));
                    open = None;
                }
            }
        }
    }
    blocks
}

/// One line on what a file that holds no certificate looked like.
fn looks_like(bytes: &[u8], text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    if text.trim().is_empty() {
        "is empty: no certificate".into()
    } else if lower.contains("private key-----") {
        "holds a private key, not a certificate (and a private key is never to be shared)".into()
    } else if lower.contains("certificate request-----") {
        "holds a certificate request (CSR), not a certificate".into()
    } else if lower.contains("<html") || lower.contains("<!doctype") {
        "is an HTML page (a login or block page?), not a certificate".into()
    } else if printable * 10 < text.chars().count() * 9 {
        format!(
            "is {} bytes of binary data that is neither a DER certificate nor PKCS#7",
            bytes.len()
        )
    } else {
        "holds no certificate: no PEM block (-----BEGIN CERTIFICATE-----), and it is neither \
         DER nor PKCS#7"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real certificate (the lab broker's), as DER.
    fn der() -> Vec<u8> {
        let pem = include_str!("../fixtures/chains/broker-genuine/chain.pem");
        ::pem::parse_many(pem).unwrap()[0].contents().to_vec()
    }

    fn pem_of(der: &[u8], width: usize, eol: &str) -> String {
        let body = ::pem::encode(&::pem::Pem::new("CERTIFICATE", der.to_vec()));
        let b64: String = body.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut out = format!("-----BEGIN CERTIFICATE-----{eol}");
        for chunk in b64.as_bytes().chunks(width) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push_str(eol);
        }
        out + "-----END CERTIFICATE-----" + eol
    }

    #[test]
    fn every_shape_people_hand_over() {
        let der = der();
        let pem = pem_of(&der, 64, "\n");
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(
                format!("junk\r\n{pem}")
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("DER", der.clone()),
            (
                "DER with trailing bytes",
                [der.as_slice(), b"\0\0junk"].concat(),
            ),
            ("PEM, CRLF", pem_of(&der, 64, "\r\n").into_bytes()),
            ("PEM, CR alone", pem_of(&der, 64, "\r").into_bytes()),
            ("PEM at 76 columns", pem_of(&der, 76, "\n").into_bytes()),
            (
                "Latin-1 junk between blocks",
                [
                    b"caf\xe9 \xa9 notes\n".as_slice(),
                    pem.as_bytes(),
                    b"\xff\xfe end\n",
                ]
                .concat(),
            ),
            ("UTF-16 with a BOM", utf16),
            (
                "a transcript in a Markdown fence",
                format!("see below\n```\nCONNECTED(00000003)\n{pem}---\n```\n").into_bytes(),
            ),
            (
                "every line in backticks",
                pem.lines()
                    .map(|l| format!("`{l}`\n"))
                    .collect::<String>()
                    .into_bytes(),
            ),
            (
                "quoted with > ",
                pem.lines()
                    .map(|l| format!("> > {l}\n"))
                    .collect::<String>()
                    .into_bytes(),
            ),
        ];
        for (what, bytes) in cases {
            let certs = certificates(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(certs, vec![der.clone()], "{what}");
        }
    }

    /// `openssl crl2pkcs7 -nocrl` of a leaf and its CA, DER and PEM (fixtures/README.md).
    #[test]
    fn pkcs7_bundles_give_their_whole_chain_in_order() {
        let chain = include_str!("../fixtures/chains/resigned-fortinet/chain.pem");
        let expected: Vec<Vec<u8>> = ::pem::parse_many(chain)
            .unwrap()
            .into_iter()
            .map(::pem::Pem::into_contents)
            .collect();
        let der = include_bytes!("../fixtures/chains/formats/chain.p7b");
        assert_eq!(certificates(der).unwrap(), expected);
        let pem = include_bytes!("../fixtures/chains/formats/chain.p7c");
        assert_eq!(certificates(pem).unwrap(), expected);
        let leaf = include_bytes!("../fixtures/chains/formats/leaf.cer");
        assert_eq!(certificates(leaf).unwrap(), expected[..1]);
    }

    #[test]
    fn what_a_file_without_a_certificate_looked_like() {
        for (bytes, says) in [
            (b"".as_slice(), "is empty"),
            (
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "private key",
            ),
            (b"<!DOCTYPE html><html>blocked</html>", "HTML page"),
            (
                b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0b\x0c",
                "binary data",
            ),
            (b"just some notes\n", "no PEM block"),
        ] {
            let error = certificates(bytes).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }
}
