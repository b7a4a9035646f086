//! Certificate summaries: the few facts about a presented certificate that tell a genuine
//! chain from a re-signed one, extracted once so the evidence stays plain data.
//!
//! Pure: DER in, [`CertSummary`] out. Nothing a peer sends is trusted, so a certificate that
//! does not parse yields an error string for the evidence, never a panic.

use serde::{Deserialize, Serialize};

use crate::text::printable;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// The attributes of a distinguished name that interception products put their names in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Name {
    /// The whole name, RFC 4514 style.
    pub text: String,
    /// Common names.
    pub cn: Vec<String>,
    /// Organisations.
    pub o: Vec<String>,
    /// Organisational units.
    pub ou: Vec<String>,
    /// E-mail addresses (some products put theirs in the CA name).
    pub email: Vec<String>,
}

impl Name {
    /// Every attribute value, lower-cased, for case-insensitive matching.
    pub fn values_lowercase(&self) -> impl Iterator<Item = String> + '_ {
        self.cn
            .iter()
            .chain(&self.o)
            .chain(&self.ou)
            .chain(&self.email)
            .map(|v| v.to_lowercase())
    }
}

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertSummary {
    /// Subject.
    pub subject: Name,
    /// Issuer.
    pub issuer: Name,
    /// DNS and IP subject alternative names.
    pub sans: Vec<String>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// A CA certificate (basic constraints).
    pub is_ca: bool,
    /// Subject equals issuer: a root presented in the chain.
    pub self_signed: bool,
    /// Embedded Certificate Transparency timestamps: publicly trusted leaves carry them,
    /// proxy-minted ones almost never do.
    pub has_sct: bool,
    /// Key type and size, e.g. `RSA 2048`, `EC 256`.
    pub key: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// SHA-256 of the SubjectPublicKeyInfo, lower-case hex: the key, whatever certificate
    /// carries it. A re-issued CA (Zscaler's 2025 root re-uses the 2014 key) keeps it, so a
    /// CA is recognised by name and key, never by one certificate's fingerprint. Empty in
    /// reports written before it was recorded.
    #[serde(default)]
    pub spki_sha256: String,
    /// The subject key identifier, lower-case hex, when the certificate carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The authority key identifier: which key signed this certificate. It names the
    /// issuing CA's key even when the server does not send that CA (mitmproxy sends the leaf
    /// alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_key_id: Option<String>,
}

/// The server name a saved chain was presented for, when nobody says: the leaf's first
/// concrete name (a wildcard is not one: `*.prod.zpath.net` is judged as presented, for a name
/// it covers), else its first wildcard, else none (a chain of CAs only has no server).
pub fn presented_for(chain: &[CertSummary]) -> String {
    let Some(leaf) = chain.first().filter(|leaf| !leaf.is_ca) else {
        return String::new();
    };
    let names: Vec<&String> = leaf.sans.iter().chain(&leaf.subject.cn).collect();
    let concrete = names.iter().find(|n| {
        !n.starts_with("*.") && rustls::pki_types::ServerName::try_from(n.to_string()).is_ok()
    });
    concrete
        .or_else(|| names.iter().find(|n| n.starts_with("*.")))
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// Summarises one DER certificate.
pub fn summarize(der: &[u8]) -> Result<CertSummary, String> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the certificate", rest.len()));
    }
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(printable(dns).into_owned()),
                GeneralName::IPAddress(bytes) => ip_text(bytes),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let has_sct = cert
        .extensions()
        .iter()
        .any(|ext| ext.oid == oid_registry::OID_CT_LIST_SCT);
    let (mut key_id, mut authority_key_id) = (None, None);
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => key_id = Some(hex(id.0)),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority_key_id = aki.key_identifier.as_ref().map(|id| hex(id.0));
            }
            _ => {}
        }
    }
    let key = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(ec)) => format!("EC {}", ec.key_size()),
        Ok(other) => format!("other {}", other.key_size()),
        Err(_) => cert.public_key().algorithm.algorithm.to_id_string(),
    };
    Ok(CertSummary {
        subject: name(cert.subject()),
        issuer: name(cert.issuer()),
        sans,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        is_ca: cert.is_ca(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        has_sct,
        key,
        sha256: sha256_hex(der),
        spki_sha256: sha256_hex(cert.public_key().raw),
        key_id,
        authority_key_id,
    })
}

/// SHA-256 of `bytes`, lower-case hex: how certificates are fingerprinted in reports.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One certificate as PEM, for an operator to save and pin (`chain`, `--trust`).
pub fn pem(der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new("CERTIFICATE", der.to_vec()))
}

fn name(n: &X509Name) -> Name {
    let values = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue>| {
        it.filter_map(|attr| attr.as_str().ok().map(|v| printable(v).into_owned()))
            .collect()
    };
    Name {
        text: printable(&n.to_string()).into_owned(),
        cn: values(&mut n.iter_common_name()),
        o: values(&mut n.iter_organization()),
        ou: values(&mut n.iter_organizational_unit()),
        email: values(&mut n.iter_email()),
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(summarize(b"").is_err());
        assert!(summarize(&[0x30, 0x82, 0xff, 0xff, 0x01]).is_err());
        assert!(summarize(&[0u8; 4096]).is_err());
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_saved_chain_is_judged_for_its_leafs_first_concrete_name() {
        let cert = |is_ca: bool, sans: &[&str], cn: &[&str]| CertSummary {
            subject: Name {
                cn: cn.iter().map(|s| s.to_string()).collect(),
                ..Name::default()
            },
            issuer: Name::default(),
            sans: sans.iter().map(|s| s.to_string()).collect(),
            not_before: 0,
            not_after: 0,
            is_ca,
            self_signed: false,
            has_sct: false,
            key: String::new(),
            sha256: String::new(),
            spki_sha256: String::new(),
            key_id: None,
            authority_key_id: None,
        };
        let cases: &[(&[CertSummary], &str)] = &[
            (&[], ""),
            (&[cert(true, &[], &["Zscaler Root CA"])], ""),
            (
                &[cert(
                    false,
                    &["*.prod.zpath.net", "co2br.prod.zpath.net"],
                    &[],
                )],
                "co2br.prod.zpath.net",
            ),
            (
                &[cert(false, &["*.prod.zpath.net"], &[])],
                "*.prod.zpath.net",
            ),
            (
                &[cert(false, &[], &["not a name", "broker.example"])],
                "broker.example",
            ),
        ];
        for (chain, want) in cases {
            assert_eq!(presented_for(chain), *want, "{chain:?}");
        }
    }

    #[test]
    fn peer_text_is_printable() {
        assert_eq!(
            printable("Acme\u{1b}]0;x\u{7} CA \u{202e}"),
            "Acme\\u{1b}]0;x\\u{7} CA \\u{202e}"
        );
        assert_eq!(printable("Zscaler Root CA"), "Zscaler Root CA");
    }
}
