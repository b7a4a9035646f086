//! Who signed a presented chain, and what that makes it: the one judgement every TLS rule,
//! the check line and `explain --chain` share.
//!
//! Re-signing proxies copy the original leaf's subject and SANs into the certificate they
//! mint (squid's `generate-host-certificates` with `stare`, mitmproxy, FortiGate, Netskope,
//! and ZIA, whose generated leaf "contains the same fields as the original … except for the
//! issuer DN": ../shared/DOMAIN.md §3.1 and §6). So nothing a leaf says about itself is
//! evidence; only its issuers are: the leaf's issuer and every CA above it.
//!
//! A broker chain is judged in this order, first decision wins:
//! 1. a declared anchor (`--trust broker=`, `[tls] anchors`) decides alone;
//! 2. a confirmed broker CA (`checks/broker-cas.toml`, name and key) makes it genuine;
//! 3. a catalogued inspection CA (name or key) makes it intercepted, and names the product;
//! 4. a CA that also signs a control host's chain is a proxy re-signing everything;
//! 5. a chain only the system store trusts was vouched for by an enterprise CA someone added;
//! 6. a chain whose every CA names Zscaler is accepted, and said to be "not pinned";
//! 7. anything else is intercepted by an unnamed proxy, shown by its issuer and fingerprint.
//!
//! Control hosts are public: an anchor, or Mozilla's roots, or nothing.

use crate::evidence::{ChainCert, ChainVerification, HandshakeResult, TlsHandshake, Trust};
use crate::plan::{Plan, TrustClass};
use crate::profile::{Interceptor, KnownCa};
use crate::x509::{CertSummary, Name};

/// The CA that signed a leaf, as far as the chain shows it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Signer<'a> {
    /// The leaf's issuer name.
    pub name: &'a Name,
    /// The issuing CA's own certificate, when the server sent it.
    pub cert: Option<&'a CertSummary>,
    /// The leaf's authority key identifier: the signing key, even when its CA is not sent.
    pub key_id: Option<&'a str>,
}

impl<'a> Signer<'a> {
    /// The signer of `chain[0]`; `None` for an empty chain.
    pub fn of(chain: &[&'a CertSummary]) -> Option<Signer<'a>> {
        let leaf = chain.first()?;
        let key_id = leaf.authority_key_id.as_deref();
        let cert = chain.iter().skip(1).copied().find(|ca| {
            ca.subject.text == leaf.issuer.text
                && match (key_id, ca.key_id.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        Some(Signer {
            name: &leaf.issuer,
            cert,
            key_id,
        })
    }

    /// The key's SHA-256, when the CA's certificate was sent.
    fn spki(&self) -> Option<&'a str> {
        self.cert
            .map(|c| c.spki_sha256.as_str())
            .filter(|k| !k.is_empty())
    }

    /// The same CA: the same name, and the same key wherever both sides show it.
    pub fn same(&self, other: &Signer) -> bool {
        if self.name.text != other.name.text {
            return false;
        }
        if let (Some(a), Some(b)) = (self.spki(), other.spki()) {
            return a == b;
        }
        match (self.key_id, other.key_id) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    /// What a support engineer quotes to identify it: the CA certificate's SHA-256 and its
    /// key's, or, when only the leaf was sent, the signing key's identifier.
    pub fn fingerprint(&self) -> String {
        match (self.cert, self.key_id) {
            (Some(ca), _) if !ca.spki_sha256.is_empty() => {
                format!("sha256 {} (key sha256 {})", ca.sha256, ca.spki_sha256)
            }
            (Some(ca), _) => format!("sha256 {}", ca.sha256),
            (None, Some(id)) => format!("not sent; its key id {id}"),
            (None, None) => "not sent, and the leaf names no key id".into(),
        }
    }
}

/// Why a chain counts as genuine.
#[derive(Debug, Clone, Copy)]
pub(super) enum Basis<'a> {
    /// It chains to an anchor declared for its class.
    Anchor(&'a str),
    /// It is signed by a confirmed broker CA, matched by name and key.
    KnownCa(&'a KnownCa),
    /// Every CA in it names Zscaler; nothing pins it.
    IssuerName(&'a Name),
    /// It chains to Mozilla's roots (control hosts).
    Mozilla,
}

impl std::fmt::Display for Basis<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Basis::Anchor(path) => write!(f, "the declared anchor {path}"),
            Basis::KnownCa(ca) => write!(f, "the confirmed broker CA {} (name and key)", ca.cn),
            Basis::IssuerName(name) => {
                write!(f, "its issuer's name ({}), not pinned", name.text)
            }
            Basis::Mozilla => f.write_str("Mozilla's roots"),
        }
    }
}

/// A catalogued product, and what in the chain matched it.
pub(super) type Product<'a> = (&'a Interceptor, String);

/// What a handshake's chain means.
#[derive(Debug, Clone)]
pub(super) enum Judgement<'a> {
    /// Genuine, and why.
    Genuine(Basis<'a>),
    /// Re-signed.
    Intercepted {
        /// The product, when the catalog names it, and what matched.
        product: Option<Product<'a>>,
        /// Why it is not genuine.
        why: String,
        /// How sure.
        confidence: f64,
        /// Who signed it.
        signer: Option<Signer<'a>>,
    },
    /// The handshake never showed a usable chain: reset, silence, alert, garbage.
    Blocked(String),
    /// Nothing to judge (the TCP connect failed, or the run ended first).
    Nothing,
    /// A chain was presented but what would decide it could not be checked (no server name
    /// to verify it against a declared anchor or a public root): an answer, never a pass.
    Unjudged(String),
}

impl Judgement<'_> {
    /// Whether it is re-signed.
    pub fn intercepted(&self) -> bool {
        matches!(self, Judgement::Intercepted { .. })
    }
}

/// Judges every handshake of a run, in order. Pure: the same evidence, the same judgements.
pub(super) fn judge_all<'a>(handshakes: &'a [TlsHandshake], plan: &'a Plan) -> Vec<Judgement<'a>> {
    let chains: Vec<Vec<&CertSummary>> = handshakes
        .iter()
        .map(|h| h.chain.iter().filter_map(ChainCert::parsed).collect())
        .collect();
    // Who signs the control hosts' chains, for rule 4.
    let control: Vec<(&str, Signer)> = handshakes
        .iter()
        .zip(&chains)
        .filter(|(h, _)| h.class == TrustClass::Control)
        .filter_map(|(h, chain)| Some((h.sni.as_str(), Signer::of(chain)?)))
        .collect();
    handshakes
        .iter()
        .zip(&chains)
        .map(|(h, chain)| judge(h, chain, plan, &control))
        .collect()
}

fn judge<'a>(
    h: &'a TlsHandshake,
    chain: &[&'a CertSummary],
    plan: &'a Plan,
    control: &[(&str, Signer<'a>)],
) -> Judgement<'a> {
    // A handshake the deadline or a signal cut short is unknown, whatever chain a report
    // holds for it (a live run records none).
    if matches!(h.result, HandshakeResult::Unfinished(_)) {
        return Judgement::Nothing;
    }
    if let Some(ChainCert::Unparsable { error, len, .. }) =
        h.chain.iter().find(|c| c.parsed().is_none())
    {
        return Judgement::Blocked(format!(
            "the server sent a certificate that does not parse ({len} bytes: {error})"
        ));
    }
    let Some(signer) = Signer::of(chain) else {
        return match &h.result {
            HandshakeResult::Reset => {
                Judgement::Blocked("reset right after the ClientHello".into())
            }
            HandshakeResult::Closed => Judgement::Blocked("closed during the handshake".into()),
            HandshakeResult::TimedOut { ms } => Judgement::Blocked(format!(
                "no answer to the ClientHello in {}",
                crate::evidence::secs(*ms)
            )),
            HandshakeResult::Alert { alert } => Judgement::Blocked(format!("TLS alert {alert}")),
            HandshakeResult::Failed { detail } => Judgement::Blocked(detail.clone()),
            // The TCP, proxy and run rules speak for these.
            HandshakeResult::Completed { .. }
            | HandshakeResult::ConnectFailed { .. }
            | HandshakeResult::ProxyUnreachable { .. }
            | HandshakeResult::ProxyRefused { .. }
            | HandshakeResult::Unfinished(_) => Judgement::Nothing,
        };
    };
    // A chain with no name to verify it against (a saved chain whose leaf names nothing, a
    // file of CA certificates) is judged as presented, by its issuers: every rule below but
    // the anchors, the public roots and the system store speaks without a verification.
    static UNVERIFIED: ChainVerification = ChainVerification {
        mozilla: Trust::NotChecked,
        system: Trust::NotChecked,
        anchor: None,
    };
    let (verification, verified) = match &h.verification {
        Some(v) => (v, true),
        None => (&UNVERIFIED, false),
    };
    let product = product(chain, &plan.interceptors);
    let intercepted =
        |product: Option<Product<'a>>, why: String, confidence: f64| Judgement::Intercepted {
            product,
            why,
            confidence,
            signer: Some(signer),
        };
    // 1. A declared anchor decides alone.
    if plan.has_anchors(h.class) && !verified {
        return Judgement::Unjudged(
            "the chain names no server to verify it against the declared anchor: give it with --sni"
                .into(),
        );
    }
    if plan.has_anchors(h.class) {
        return match &verification.anchor {
            Some(path) => Judgement::Genuine(Basis::Anchor(path)),
            None => intercepted(
                product,
                "it does not chain to the anchor declared for it".into(),
                0.95,
            ),
        };
    }
    if h.class == TrustClass::Control && !verified {
        return Judgement::Unjudged(
            "a control host's chain is judged by Mozilla's roots, which need its server name: give it with --sni"
                .into(),
        );
    }
    if h.class == TrustClass::Control {
        if verification.mozilla == Trust::Verified {
            return Judgement::Genuine(Basis::Mozilla);
        }
        let why = if verification.system == Trust::Verified {
            "it is trusted only by the system store, where an enterprise CA was added"
        } else {
            "it is trusted by neither Mozilla's roots nor the system store"
        };
        return intercepted(product, why.into(), 0.9);
    }
    // 2. A confirmed broker CA: name and key.
    if let Some(known) = plan.broker_cas.iter().find(|ca| signed_by(chain, ca)) {
        return Judgement::Genuine(Basis::KnownCa(known));
    }
    // 3. A catalogued inspection CA.
    if product.is_some() {
        return intercepted(product, "its issuer is a known inspection CA".into(), 0.9);
    }
    // 4. One CA for the brokers and the control hosts: a proxy re-signing everything.
    let shared: Vec<&str> = control
        .iter()
        .filter(|(_, other)| other.same(&signer))
        .map(|(sni, _)| *sni)
        .collect();
    if !shared.is_empty() {
        return intercepted(
            None,
            format!(
                "the same CA also signs the chain of the control host {}",
                shared.join(", ")
            ),
            0.9,
        );
    }
    // 5. Vouched for by the system store alone: an enterprise CA that was added.
    if verification.system == Trust::Verified && verification.mozilla != Trust::Verified {
        return intercepted(
            None,
            "it is trusted only by the system store, where an enterprise CA was added".into(),
            0.9,
        );
    }
    let leaf = chain[0];
    if leaf.self_signed {
        return intercepted(
            None,
            "the leaf signs itself: no CA vouches for it".into(),
            0.85,
        );
    }
    // 6. Every issuer names Zscaler (and none is ZIA's: rule 3 took those).
    let identity = plan.tls.broker_identity.to_lowercase();
    let names_zscaler = |name: &Name| {
        !identity.is_empty()
            && name
                .o
                .iter()
                .chain(&name.cn)
                .any(|v| v.to_lowercase().contains(&identity))
    };
    let mut issuers = std::iter::once(&leaf.issuer).chain(
        chain
            .iter()
            .skip(1)
            .flat_map(|ca| [&ca.subject, &ca.issuer]),
    );
    if issuers.all(names_zscaler) {
        // Accepted by a name alone, the leaf must at least be for the server asked: a chain
        // whose CAs say "Zscaler" but whose leaf names another host, or none, is not the
        // broker's (found by the hostile round: `--sni evil.example.com` was "ready").
        if !names_server(leaf, &h.sni) {
            return intercepted(
                None,
                format!(
                    "its leaf names {}, not {}: not the server asked for",
                    if leaf.sans.is_empty() && leaf.subject.cn.is_empty() {
                        "no server".to_string()
                    } else {
                        leaf.sans
                            .iter()
                            .chain(&leaf.subject.cn)
                            .take(3)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    if h.sni.is_empty() { "any name" } else { &h.sni }
                ),
                0.8,
            );
        }
        return Judgement::Genuine(Basis::IssuerName(&leaf.issuer));
    }
    // 7. Anything else.
    intercepted(
        None,
        format!(
            "its issuer ({}) is not Zscaler's{}",
            leaf.issuer.text,
            if names_zscaler(&leaf.subject) {
                ", though the leaf copies the broker's subject"
            } else {
                ""
            }
        ),
        0.85,
    )
}

/// Whether `leaf` is for `server`: one of its DNS names (its CN when it has none) is the
/// name, or a wildcard covering exactly one label of it (RFC 6125; a bare `*` covers
/// nothing). A saved chain judged for its own wildcard (`*.prod.zpath.net`) is for it.
fn names_server(leaf: &CertSummary, server: &str) -> bool {
    let server = server.trim_end_matches('.').to_ascii_lowercase();
    if server.is_empty() {
        return false;
    }
    let names = if leaf.sans.is_empty() {
        &leaf.subject.cn
    } else {
        &leaf.sans
    };
    names.iter().any(|name| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == server {
            return true;
        }
        let Some(suffix) = name.strip_prefix("*.") else {
            return false;
        };
        suffix.contains('.')
            && server.split_once('.').is_some_and(|(label, rest)| {
                !label.is_empty() && !label.contains('*') && rest == suffix
            })
    })
}

/// Whether `ca` signed the leaf: its name, and its key (the CA certificate sent, or the
/// leaf's authority key identifier).
fn signed_by(chain: &[&CertSummary], ca: &KnownCa) -> bool {
    let Some(signer) = Signer::of(chain) else {
        return false;
    };
    let named = signer
        .name
        .cn
        .iter()
        .any(|cn| cn.eq_ignore_ascii_case(&ca.cn));
    let keyed = signer.spki() == Some(ca.spki_sha256.as_str())
        || (signer.key_id.is_some() && signer.key_id == ca.key_id.as_deref());
    named && keyed
}

/// The first catalog product whose key signs the chain, or whose pattern appears in a CA
/// name of it (the leaf's issuer, and every CA sent).
fn product<'a>(chain: &[&CertSummary], catalog: &'a [Interceptor]) -> Option<Product<'a>> {
    let cas = || chain.iter().skip(1).copied();
    let names = chain
        .first()
        .map(|leaf| &leaf.issuer)
        .into_iter()
        .chain(cas().flat_map(|ca| [&ca.subject, &ca.issuer]));
    let key_ids = chain
        .iter()
        .flat_map(|c| c.authority_key_id.iter().chain(&c.key_id));
    catalogued(cas(), key_ids, names, catalog)
}

/// Whether a saved chain can be judged: a file of CA certificates only (a user's export of
/// "the proxy's CA") has no server to judge, and is judged by its CAs only when the catalogue
/// names their product. Otherwise, what it holds and what to pass instead.
pub fn judgeable(chain: &[CertSummary], catalog: &[Interceptor]) -> Result<(), String> {
    if chain.is_empty() || !chain.iter().all(|c| c.is_ca) || ca_product(chain, catalog).is_some() {
        return Ok(());
    }
    let held: Vec<String> = chain
        .iter()
        .map(|c| format!("{} sha256 {}", c.subject.text, c.sha256))
        .collect();
    Err(format!(
        "holds only CA certificates ({}), of no catalogued inspection product: pass the chain a \
         server presented (leaf first, e.g. the output of openssl s_client -showcerts), or, if \
         this CA is your own broker anchor, pass it with --trust",
        held.join("; ")
    ))
}

/// The product a file of CA certificates alone belongs to (a user's export of "the proxy's
/// CA", with no server chain): matched on any of their keys or on any attribute of their
/// names, subject or issuer.
pub fn ca_product<'a>(cas: &[CertSummary], catalog: &'a [Interceptor]) -> Option<&'a str> {
    let names = cas.iter().flat_map(|ca| [&ca.subject, &ca.issuer]);
    let key_ids = cas
        .iter()
        .flat_map(|c| c.authority_key_id.iter().chain(&c.key_id));
    catalogued(cas.iter(), key_ids, names, catalog).map(|(p, _)| p.name.as_str())
}

/// The first product whose key is one of `cas`' keys or `key_ids`, else the first whose
/// pattern appears in any attribute (CN, O, OU, e-mail) of `names`: some products' CAs carry
/// no CN at all.
fn catalogued<'a, 'c>(
    cas: impl Iterator<Item = &'c CertSummary> + Clone,
    key_ids: impl Iterator<Item = &'c String> + Clone,
    names: impl Iterator<Item = &'c Name>,
    catalog: &'a [Interceptor],
) -> Option<Product<'a>> {
    let by_key = catalog.iter().find_map(|p| {
        let spki = cas
            .clone()
            .find(|ca| p.keys.contains(&ca.spki_sha256))
            .map(|ca| format!("its CA's key (sha256 {})", ca.spki_sha256));
        let key_id = || {
            key_ids
                .clone()
                .find(|id| p.key_ids.contains(id))
                .map(|id| format!("its signing key (key id {id})"))
        };
        spki.or_else(key_id).map(|how| (p, how))
    });
    if by_key.is_some() {
        return by_key;
    }
    let values: Vec<String> = names.flat_map(Name::values_lowercase).collect();
    catalog.iter().find_map(|p| {
        p.patterns
            .iter()
            .find(|pattern| values.iter().any(|v| v.contains(pattern.as_str())))
            .map(|pattern| (p, format!("the issuer match '{pattern}'")))
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Severity, diagnose};
    use super::names_server;
    use crate::evidence::ChainCert;

    #[test]
    fn a_leaf_is_for_the_names_it_carries() {
        let leaf = |sans: &[&str]| {
            let ChainCert::Parsed(mut c) = cert(dn("x", "y"), dn("ca", "Zscaler"), false) else {
                unreachable!()
            };
            c.sans = sans.iter().map(|s| s.to_string()).collect();
            c.subject.cn.clear();
            *c
        };
        let cases: &[(&[&str], &str, bool)] = &[
            (&["co2br.prod.zpath.net"], "co2br.prod.zpath.net", true),
            (&["*.prod.zpath.net"], "co2br.prod.zpath.net", true),
            (&["*.prod.zpath.net"], "a.b.prod.zpath.net", false),
            (&["*.prod.zpath.net"], "*.prod.zpath.net", true),
            (&["*"], "co2br.prod.zpath.net", false),
            (&["*.net"], "zpath.net", false),
            (&["broker.zpa.test"], "evil.example.com", false),
            (&[], "co2br.prod.zpath.net", false),
            (&["CO2BR.prod.zpath.net."], "co2br.PROD.zpath.net", true),
        ];
        for (sans, server, expected) in cases {
            assert_eq!(
                names_server(&leaf(sans), server),
                *expected,
                "{sans:?} {server}"
            );
        }
    }

    /// A chain whose CAs all name Zscaler, presented for a name its leaf does not carry, is
    /// not the broker's: never "ready".
    #[test]
    fn a_zscaler_named_chain_for_another_name_is_not_genuine() {
        let mut ev = healthy();
        for h in ev
            .tls
            .handshakes
            .iter_mut()
            .filter(|h| h.sni == "co2br.prod.zpath.net")
        {
            h.sni = "evil.example.com".into();
        }
        let d = diagnose(&ev);
        let cause = d.causes.iter().find(|c| c.id == "tls.intercepted").unwrap();
        assert_eq!(cause.severity, Severity::Blocking);
        assert!(
            cause.detail.contains("not the server asked for"),
            "{cause:?}"
        );
    }
}
