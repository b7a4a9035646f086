//! TLS rules: is the connector's channel re-signed by an inspecting proxy, and by which one.
//!
//! A ZPA connector pins Zscaler's certificates, so any re-signing breaks it, and a plain TCP
//! connect cannot see it: that is why these rules rank above the port rules. A chain is
//! genuine when it verifies against a declared anchor (when one is declared for its class),
//! against Mozilla's roots (control hosts), or carries Zscaler's identity (brokers: Zscaler
//! publishes no anchor). Otherwise the issuing CA is matched against the interceptor catalog
//! to name the product; an unknown issuer is still reported, as an unnamed proxy.

use super::{Cause, Check, CheckStatus, Facts, Severity, list};
use crate::evidence::{ChainCert, HandshakeResult, TlsHandshake, Trust};
use crate::plan::{Plan, TrustClass};
use crate::profile::Interceptor;

/// What a handshake's chain means.
enum Judgement<'a> {
    /// Genuine, accepted by this.
    Genuine(String),
    /// Re-signed.
    Intercepted {
        /// The product, when the catalog names it, and the pattern that matched.
        product: Option<(&'a Interceptor, &'a str)>,
        /// Why it is not genuine.
        why: String,
        /// How sure.
        confidence: f64,
    },
    /// The handshake never showed a usable chain: reset, silence, alert, garbage.
    Blocked(String),
    /// Nothing to judge (the TCP connect failed, or the run ended first).
    Nothing,
}

fn judge<'a>(h: &'a TlsHandshake, plan: &'a Plan) -> Judgement<'a> {
    if let Some(ChainCert::Unparsable { error, len, .. }) =
        h.chain.iter().find(|c| c.parsed().is_none())
    {
        return Judgement::Blocked(format!(
            "the server sent a certificate that does not parse ({len} bytes: {error})"
        ));
    }
    let (Some(leaf), Some(verification)) =
        (h.chain.first().and_then(ChainCert::parsed), &h.verification)
    else {
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
            | HandshakeResult::DeadlineReached => Judgement::Nothing,
        };
    };
    if plan.has_anchors(h.class) {
        return match &verification.anchor {
            Some(path) => Judgement::Genuine(format!("the declared anchor {path}")),
            None => Judgement::Intercepted {
                product: product(h, &plan.interceptors),
                why: "it does not chain to the anchor declared for it".into(),
                confidence: 0.95,
            },
        };
    }
    let product = product(h, &plan.interceptors);
    match h.class {
        TrustClass::Control => {
            if verification.mozilla == Trust::Verified {
                return Judgement::Genuine("Mozilla's roots".into());
            }
            let why = if verification.system == Trust::Verified {
                "it is trusted only by the system store, where an enterprise CA was added"
            } else {
                "it is trusted by neither Mozilla's roots nor the system store"
            };
            Judgement::Intercepted {
                product,
                why: why.into(),
                confidence: 0.9,
            }
        }
        TrustClass::Broker => {
            if product.is_some() {
                return Judgement::Intercepted {
                    product,
                    why: "its issuer is a known inspection CA".into(),
                    confidence: 0.9,
                };
            }
            let identity = plan.tls.broker_identity.to_lowercase();
            if !identity.is_empty()
                && leaf
                    .subject
                    .o
                    .iter()
                    .any(|o| o.to_lowercase().contains(&identity))
            {
                return Judgement::Genuine(format!("its identity O={}", plan.tls.broker_identity));
            }
            Judgement::Intercepted {
                product: None,
                why: format!(
                    "its leaf is not Zscaler's (subject {}, expected O={})",
                    leaf.subject.text, plan.tls.broker_identity
                ),
                confidence: 0.75,
            }
        }
    }
}

/// The first catalog product whose pattern appears in a CA name of the chain.
fn product<'a>(h: &TlsHandshake, catalog: &'a [Interceptor]) -> Option<(&'a Interceptor, &'a str)> {
    let certs: Vec<_> = h.chain.iter().filter_map(ChainCert::parsed).collect();
    let mut values: Vec<String> = Vec::new();
    if let Some(leaf) = certs.first() {
        values.extend(leaf.issuer.values_lowercase());
    }
    for ca in certs.iter().skip(1) {
        values.extend(ca.subject.values_lowercase());
        values.extend(ca.issuer.values_lowercase());
    }
    catalog.iter().find_map(|p| {
        p.patterns
            .iter()
            .find(|pattern| values.iter().any(|v| v.contains(pattern.as_str())))
            .map(|pattern| (p, pattern.as_str()))
    })
}

/// Traits of a proxy-minted chain, as supporting evidence: a publicly trusted leaf carries
/// embedded SCTs and a root is never sent; a proxy mints its leaf minutes before use.
fn shape_lines(h: &TlsHandshake) -> Vec<String> {
    let certs: Vec<_> = h.chain.iter().filter_map(ChainCert::parsed).collect();
    let Some(leaf) = certs.first() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if !leaf.has_sct {
        lines.push("the leaf has no embedded Certificate Transparency timestamps".to_string());
    }
    let covers = |san: &String| {
        san.eq_ignore_ascii_case(&h.sni)
            || san.strip_prefix("*.").is_some_and(|zone| {
                h.sni
                    .split_once('.')
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(zone))
            })
    };
    if leaf.sans.is_empty() {
        lines.push("the leaf carries no subject alternative names".to_string());
    } else if !leaf.sans.iter().any(covers) {
        lines.push(format!(
            "the leaf's names ({}) do not include {}",
            leaf.sans.join(", "),
            h.sni
        ));
    }
    if certs.iter().skip(1).any(|c| c.self_signed) {
        lines.push("the server sent a self-signed root along with the chain".to_string());
    }
    let age = h.local_time - leaf.not_before;
    if h.local_time > 0 && (0..86_400).contains(&age) {
        lines.push(format!(
            "the leaf was issued {} minutes before the handshake",
            age / 60
        ));
    }
    lines
}

/// A clock hint for the clock check: the leaf is not valid at this VM's time.
fn clock_hint(h: &TlsHandshake) -> Option<String> {
    let leaf = h.chain.first().and_then(ChainCert::parsed)?;
    if h.local_time == 0 {
        return None;
    }
    if h.local_time < leaf.not_before {
        Some(format!(
            "the leaf from {} is not yet valid by this VM's clock ({} s early): the clock is likely behind",
            h.sni,
            leaf.not_before - h.local_time
        ))
    } else if h.local_time > leaf.not_after {
        Some(format!(
            "the leaf from {} expired {} s ago by this VM's clock: the clock may be ahead",
            h.sni,
            h.local_time - leaf.not_after
        ))
    } else {
        None
    }
}

/// The issuer line and fingerprint a support engineer quotes.
fn issuer_lines(h: &TlsHandshake) -> Vec<String> {
    let certs: Vec<_> = h.chain.iter().filter_map(ChainCert::parsed).collect();
    let mut lines = Vec::new();
    if let Some(leaf) = certs.first() {
        lines.push(format!(
            "{} [{}]:{} presented a leaf issued by {}",
            h.sni, h.addr, h.port, leaf.issuer.text
        ));
        if let Some(via) = &h.via_proxy {
            lines.push(format!(
                "tunnelled through the proxy {via}, as the connector would"
            ));
        }
        let issuing = certs.get(1).unwrap_or(leaf);
        lines.push(format!(
            "{} sha256 {}",
            if certs.len() > 1 {
                "issuing CA"
            } else {
                "leaf (no CA sent)"
            },
            issuing.sha256
        ));
    }
    lines
}

fn broker_class<'a>(facts: &'a Facts) -> impl Iterator<Item = &'a TlsHandshake> {
    facts
        .evidence
        .tls
        .handshakes
        .iter()
        .filter(|h| h.class == TrustClass::Broker)
}

/// `tls.handshake_blocked`: the TCP connect works but no TLS session can be set up.
pub(super) fn handshake_blocked(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    let mut genuine = 0;
    let mut blocked = Vec::new();
    for h in broker_class(facts) {
        match judge(h, plan) {
            Judgement::Blocked(how) => {
                blocked.push(format!("{} [{}]:{}: {how}", h.sni, h.addr, h.port))
            }
            Judgement::Genuine(_) => genuine += 1,
            _ => {}
        }
    }
    if blocked.is_empty() {
        return Vec::new();
    }
    let severity = if genuine == 0 {
        Severity::Blocking
    } else {
        Severity::Warning
    };
    vec![
        Cause::new("tls.handshake_blocked", severity, 0.8)
            .title("TLS handshakes to the brokers are cut off")
            .detail(format!(
                "TCP connects, but {} of {} TLS handshakes never show a usable certificate: a \
                 middlebox filtering on SNI or TLS (DPI), or a broken peer.",
                blocked.len(),
                blocked.len() + genuine
            ))
            .evidence(blocked)
            .remedy(
                "Allow TLS to the Zen ranges and *.prod.zpath.net through the firewall's \
                 application/DPI filter (not only TCP/443), and exempt them from SSL inspection.",
            ),
    ]
}

/// `tls.intercepted`: the connector's own channel is re-signed.
pub(super) fn intercepted(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    let hits: Vec<(&TlsHandshake, Judgement)> = broker_class(facts)
        .map(|h| (h, judge(h, plan)))
        .filter(|(_, j)| matches!(j, Judgement::Intercepted { .. }))
        .collect();
    let Some((
        first,
        Judgement::Intercepted {
            product,
            why,
            confidence,
        },
    )) = hits.first()
    else {
        return Vec::new();
    };
    let (product, confidence) = (*product, *confidence);
    let named = product.map(|(p, _)| p.name.as_str());
    let mut evidence = issuer_lines(first);
    if let Some((p, pattern)) = product {
        evidence.push(format!(
            "named {} by the issuer match '{pattern}' (confidence {:.2}; {})",
            p.name, p.confidence, p.source
        ));
    }
    evidence.push(format!("not genuine because {why}"));
    evidence.extend(shape_lines(first));
    if hits.len() > 1 {
        let others: Vec<String> = hits[1..]
            .iter()
            .map(|(h, _)| format!("{}:{}", h.addr, h.port))
            .collect();
        evidence.push(format!("the same on {}", list(&others, 4)));
    }
    let bypass = product
        .and_then(|(p, _)| p.bypass.as_deref())
        .map(|b| format!(" In {}, that is {b}.", named.unwrap_or("the proxy")))
        .unwrap_or_default();
    vec![
        Cause::new("tls.intercepted", Severity::Blocking, confidence)
            .title(match named {
                Some(name) => format!("TLS to the brokers is intercepted by {name}"),
                None => "TLS to the brokers is intercepted by an unnamed proxy".into(),
            })
            .detail(format!(
                "The certificate presented for {} is re-signed: {why}. The connector pins \
                 Zscaler's certificates, so its enrollment and control channel fail (\"self signed \
                 certificate in certificate chain\") even though TCP/443 connects.",
                first.sni
            ))
            .evidence(evidence)
            .remedy(format!(
                "Exempt the Zen ranges and *.prod.zpath.net from SSL/TLS inspection for this VM.{bypass} \
                 Inspection cannot be made to work: the connector deliberately does not accept other CAs."
            )),
    ]
}

/// `tls.inspection_on_path`: re-signing seen on a control host only.
pub(super) fn inspection_on_path(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    if broker_class(facts).any(|h| matches!(judge(h, plan), Judgement::Intercepted { .. })) {
        return Vec::new();
    }
    let hit = facts
        .evidence
        .tls
        .handshakes
        .iter()
        .filter(|h| h.class == TrustClass::Control)
        .find_map(|h| match judge(h, plan) {
            Judgement::Intercepted { product, why, .. } => Some((h, product, why)),
            _ => None,
        });
    let Some((h, product, why)) = hit else {
        return Vec::new();
    };
    let mut evidence = issuer_lines(h);
    evidence.push(format!("not genuine because {why}"));
    let name = product.map_or("an unnamed proxy", |(p, _)| p.name.as_str());
    vec![
        Cause::new("tls.inspection_on_path", Severity::Warning, 0.8)
            .title(format!("An SSL-inspecting proxy ({name}) is on the path"))
            .detail(format!(
                "{} is re-signed ({why}). The broker channel was not seen re-signed, so it may be \
                 exempt; package and software downloads are not.",
                h.sni
            ))
            .evidence(evidence)
            .remedy(
                "Exempt *.private.zscaler.com and the Zen ranges from SSL inspection, so that \
                 updates and any broker the connector is later sent to are not inspected either.",
            ),
    ]
}

/// The TLS line of the check list.
pub(super) fn check(facts: &Facts) -> Check {
    let plan = &facts.evidence.plan;
    let mut check = Check {
        id: "tls".into(),
        label: "TLS".into(),
        status: CheckStatus::Skipped,
        summary: String::new(),
        reason: None,
    };
    if plan.tls.ports.is_empty() {
        check.reason = Some("this profile asks for no TLS handshake".into());
        return check;
    }
    let handshakes = &facts.evidence.tls.handshakes;
    let judged: Vec<(&TlsHandshake, Judgement)> = handshakes
        .iter()
        .map(|h| (h, judge(h, plan)))
        .filter(|(_, j)| !matches!(j, Judgement::Nothing))
        .collect();
    if judged.is_empty() {
        check.reason = Some(if handshakes.is_empty() {
            "no TLS destination (no address resolved)".into()
        } else {
            "no handshake got as far as a certificate (TCP failed)".into()
        });
        return check;
    }
    let mut parts = Vec::new();
    let mut worst = CheckStatus::Pass;
    for class in [TrustClass::Broker, TrustClass::Control] {
        let of_class: Vec<&(&TlsHandshake, Judgement)> =
            judged.iter().filter(|(h, _)| h.class == class).collect();
        if of_class.is_empty() {
            continue;
        }
        let label = match class {
            TrustClass::Broker => "brokers",
            TrustClass::Control => "control hosts",
        };
        let bad = of_class
            .iter()
            .find(|(_, j)| !matches!(j, Judgement::Genuine(_)));
        match bad {
            None => {
                let by = match &of_class[0].1 {
                    Judgement::Genuine(by) => by.clone(),
                    _ => unreachable!("all genuine"),
                };
                parts.push(format!(
                    "{label}: {}/{} genuine, accepted by {by}",
                    of_class.len(),
                    of_class.len()
                ));
            }
            Some((h, j)) => {
                let text = match j {
                    Judgement::Intercepted { product, .. } => format!(
                        "{label}: intercepted by {} (issuer {})",
                        product.map_or("an unnamed proxy", |(p, _)| p.name.as_str()),
                        h.chain
                            .first()
                            .and_then(ChainCert::parsed)
                            .map_or("?", |c| c.issuer.text.as_str())
                    ),
                    Judgement::Blocked(how) => format!("{label}: handshake cut off ({how})"),
                    _ => unreachable!("filtered"),
                };
                parts.push(text);
                let status = if class == TrustClass::Broker {
                    CheckStatus::Fail
                } else {
                    CheckStatus::Warn
                };
                if status == CheckStatus::Fail || worst == CheckStatus::Pass {
                    worst = status;
                }
            }
        }
    }
    if let Some(hint) = judged.iter().find_map(|(h, _)| clock_hint(h)) {
        parts.push(hint);
    }
    check.status = worst;
    check.summary = parts.join(" · ");
    check
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{CheckStatus, Severity, diagnose};
    use crate::evidence::{Evidence, HandshakeResult, Trust};
    use crate::plan::{TrustClass, TrustFile};

    /// (what the proxy does, the cause ranked first, its severity)
    #[test]
    fn table() {
        type Fault = fn(&mut Evidence);
        let cases: &[(&str, Fault, &str, Severity)] = &[
            (
                "FortiGate re-signs the brokers",
                |ev| resign_brokers(ev, dn("FortiGate CA", "Fortinet"), "Zscaler"),
                "tls.intercepted",
                Severity::Blocking,
            ),
            (
                "an unknown proxy re-signs with its own leaf",
                |ev| resign_brokers(ev, dn("Corp Inspection CA", "Corp"), "Corp"),
                "tls.intercepted",
                Severity::Blocking,
            ),
            (
                "ZIA copies the subject but not the issuer",
                |ev| {
                    resign_brokers(
                        ev,
                        dn(
                            "Zscaler Intermediate Root CA (zscaler.net) (t)",
                            "Zscaler Inc.",
                        ),
                        "Zscaler",
                    )
                },
                "tls.intercepted",
                Severity::Blocking,
            ),
            (
                "only the control hosts are inspected",
                |ev| {
                    for h in ev
                        .tls
                        .handshakes
                        .iter_mut()
                        .filter(|h| h.class == TrustClass::Control)
                    {
                        h.verification.as_mut().unwrap().mozilla = Trust::Untrusted {
                            reason: "UnknownIssuer".into(),
                        };
                        h.chain[0] = cert(
                            dn(&h.sni, "x"),
                            dn("Cisco Umbrella Primary SubCA", "Cisco"),
                            false,
                        );
                    }
                },
                "tls.inspection_on_path",
                Severity::Warning,
            ),
            (
                "reset after the ClientHello",
                |ev| fail_handshakes(ev, TrustClass::Broker, HandshakeResult::Reset, None),
                "tls.handshake_blocked",
                Severity::Blocking,
            ),
        ];
        for (what, fault, id, severity) in cases {
            assert_top(what, *fault, id, *severity);
        }
    }

    #[test]
    fn the_product_and_its_bypass_term_are_named() {
        let mut ev = healthy();
        resign_brokers(&mut ev, dn("FortiGate CA", "Fortinet"), "Zscaler");
        let d = diagnose(&ev);
        let cause = &d.causes[0];
        assert!(
            cause
                .title
                .ends_with("intercepted by Fortinet FortiGate / FortiProxy"),
            "{}",
            cause.title
        );
        assert!(
            cause.remedy.contains("Exempt from SSL Inspection"),
            "{}",
            cause.remedy
        );
        assert!(
            cause
                .evidence
                .iter()
                .any(|l| l.contains("issuing CA sha256")),
            "{:?}",
            cause.evidence
        );
        let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
        assert_eq!(tls.status, CheckStatus::Fail);
        assert!(tls.summary.contains("CN=FortiGate CA"), "{}", tls.summary);
    }

    #[test]
    fn interception_outranks_a_dropped_9000_and_both_are_reported() {
        let mut ev = healthy();
        set_port(&mut ev, 9000, timed_out());
        resign_brokers(&mut ev, dn("mitmproxy", "mitmproxy"), "mitmproxy");
        assert_eq!(ids(&ev), ["tls.intercepted", "egress.tcp_9000_blocked"]);
    }

    #[test]
    fn a_declared_anchor_decides_alone() {
        let mut ev = healthy();
        ev.plan.trust.push(TrustFile {
            class: Some(TrustClass::Broker),
            path: "lab-ca.pem".into(),
            subjects: vec![],
        });
        // Genuine-looking identity, but not the declared anchor: a transparent proxy that
        // copies the subject (squid with stare) is still caught.
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "tls.intercepted");
        assert_eq!(d.causes[0].confidence, 0.95);
        for h in &mut ev.tls.handshakes {
            h.verification.as_mut().unwrap().anchor = Some("lab-ca.pem".into());
        }
        assert!(ids(&ev).is_empty(), "{:?}", ids(&ev));
    }

    /// The chain a real mitmproxy presented in front of the lab broker (fixtures/README.md).
    #[test]
    fn a_captured_mitmproxy_chain_is_named() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let pem = include_str!("../../fixtures/chains/captured-mitmproxy/chain.pem");
        let chain: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .map(|der| {
                let summary = crate::x509::summarize(&der.unwrap()).unwrap();
                crate::evidence::ChainCert::Parsed(Box::new(summary))
            })
            .collect();
        assert_eq!(chain.len(), 1, "mitmproxy sends the leaf only");
        let mut ev = healthy();
        set_broker_chains(&mut ev, |_| chain.clone());
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "tls.intercepted");
        assert!(
            d.causes[0].title.ends_with("intercepted by mitmproxy"),
            "{}",
            d.causes[0].title
        );
        assert!(
            d.causes[0].remedy.contains("--ignore-hosts"),
            "{}",
            d.causes[0].remedy
        );
        assert!(
            d.causes[0]
                .evidence
                .iter()
                .any(|l| l.starts_with("leaf (no CA sent) sha256")),
            "{:?}",
            d.causes[0].evidence
        );
    }

    #[test]
    fn shape_and_clock_hints() {
        let mut ev = healthy();
        resign_brokers(&mut ev, dn("Corp Inspection CA", "Corp"), "Corp");
        for h in &mut ev.tls.handshakes {
            h.local_time = 1_700_000_000 - 120;
        }
        let d = diagnose(&ev);
        let evidence = d.causes[0].evidence.join("\n");
        assert!(
            evidence.contains("no embedded Certificate Transparency"),
            "{evidence}"
        );
        assert!(evidence.contains("self-signed root"), "{evidence}");
        let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
        assert!(
            tls.summary
                .contains("not yet valid by this VM's clock (120 s early)"),
            "{}",
            tls.summary
        );
    }

    #[test]
    fn a_garbage_certificate_is_a_blocked_handshake() {
        let mut ev = healthy();
        let failed = HandshakeResult::Failed {
            detail: "invalid peer certificate: BadEncoding".into(),
        };
        fail_handshakes(&mut ev, TrustClass::Broker, failed, None);
        set_broker_chains(&mut ev, |_| {
            vec![crate::evidence::ChainCert::Unparsable {
                sha256: "00".repeat(32),
                len: 5,
                error: "not an X.509 certificate".into(),
            }]
        });
        assert_eq!(ids(&ev)[0], "tls.handshake_blocked");
    }
}
