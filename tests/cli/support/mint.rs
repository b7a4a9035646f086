//! Re-signed chains as interception products make them: a CA named like the product, and a
//! leaf that copies the broker's subject Zscaler documents (C, ST, L, O, OU; the CN is the
//! name asked for), signed by that CA. One minting for the chain fixtures and the tests that
//! judge chains.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A minted chain: the CA's PEM, the leaf's PEM and the leaf's key.
pub struct Minted {
    /// The CA, PEM.
    pub ca: String,
    /// The leaf, PEM.
    pub leaf: String,
    /// The leaf's private key, PEM.
    pub key: String,
}

/// Mints a CA named `ca_dn` and a leaf for `sans` (none: a leaf that names nothing) with the
/// broker's subject, its CN `leaf_cn` when given (a re-signed leaf may carry none).
pub fn resigned(ca_dn: &[(DnType, &str)], sans: &[&str], leaf_cn: Option<&str>) -> Minted {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    for (kind, value) in ca_dn {
        ca_params.distinguished_name.push(kind.clone(), *value);
    }
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf_params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    leaf_params.distinguished_name = rcgen::DistinguishedName::new();
    for (kind, value) in [
        (DnType::CountryName, "US"),
        (DnType::StateOrProvinceName, "California"),
        (DnType::LocalityName, "San Jose"),
        (DnType::OrganizationName, "Zscaler"),
        (DnType::OrganizationalUnitName, "Emerging Technologies"),
    ] {
        leaf_params.distinguished_name.push(kind, value);
    }
    if let Some(cn) = leaf_cn {
        leaf_params.distinguished_name.push(DnType::CommonName, cn);
    }
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Minted {
        ca: ca.pem(),
        leaf: leaf.pem(),
        key: leaf_key.serialize_pem(),
    }
}
