//! TLS rules: is the connector's channel re-signed by an inspecting proxy, and by which one.
//!
//! A ZPA connector pins Zscaler's certificates, so any re-signing breaks it, and a plain TCP
//! connect cannot see it: that is why these rules rank above the port rules. Whether a chain
//! is genuine is decided once, by who signed it ([`super::chain`]), never by what its leaf
//! claims: re-signing proxies copy the leaf's subject and SANs.

use super::chain::{Judgement, Signer};
use super::{Cause, Check, CheckStatus, Facts, Severity, list};
use crate::evidence::{ChainCert, TlsHandshake};
use crate::plan::{Origin, TrustClass};
use crate::x509::CertSummary;

/// Every handshake with its judgement.
fn judged<'f, 'a>(
    facts: &'f Facts<'a>,
) -> impl Iterator<Item = (&'a TlsHandshake, &'f Judgement<'a>)> + 'f {
    facts.evidence.tls.handshakes.iter().zip(&facts.tls)
}

/// The handshakes of `class` with their judgements.
fn of_class<'f, 'a>(
    facts: &'f Facts<'a>,
    class: TrustClass,
) -> impl Iterator<Item = (&'a TlsHandshake, &'f Judgement<'a>)> + 'f {
    judged(facts).filter(move |(h, _)| h.class == class)
}

/// Where a handshake went, as the evidence names it.
fn place(h: &TlsHandshake) -> String {
    match &h.origin {
        Origin::SavedChain { file } => format!("{} (the chain saved in {file})", h.sni),
        _ => format!("{} [{}]:{}", h.sni, h.addr, h.port),
    }
}

fn leaf(h: &TlsHandshake) -> Option<&CertSummary> {
    h.chain.first().and_then(ChainCert::parsed)
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

/// The issuer, its fingerprint, and what the leaf copied: the lines a support engineer quotes.
fn issuer_lines(h: &TlsHandshake, signer: Option<&Signer>) -> Vec<String> {
    let Some(leaf) = leaf(h) else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "{} presented a leaf issued by {}",
        place(h),
        leaf.issuer.text
    )];
    if let Some(via) = &h.via_proxy {
        lines.push(format!(
            "tunnelled through the proxy {via}, as the connector would"
        ));
    }
    match signer {
        Some(signer) if signer.cert.is_some() => {
            lines.push(format!("issuing CA {}", signer.fingerprint()))
        }
        _ => lines.push(format!(
            "leaf (no CA sent) sha256 {}; issuing CA {}",
            leaf.sha256,
            signer.map_or_else(|| "unknown".into(), Signer::fingerprint)
        )),
    }
    lines.push(format!(
        "the leaf's subject ({}) is whatever the proxy copied from the real server: only the \
         issuer tells them apart",
        leaf.subject.text
    ));
    lines
}

/// `tls.handshake_blocked`: the TCP connect works but no TLS session can be set up, and no
/// follow-up named the middlebox ([`super::middlebox`] speaks for those it named).
pub(super) fn handshake_blocked(facts: &Facts) -> Vec<Cause> {
    let mut genuine = 0;
    let mut blocked = Vec::new();
    let mut cut_names = std::collections::BTreeSet::new();
    let mut cut = 0;
    // Every class: a control host cut off is a finding too, weighed by whether its name is
    // required (the profile's control hosts are not).
    for (h, judgement) in judged(facts) {
        match judgement {
            Judgement::Blocked(how) => {
                let told = super::middlebox::told(h);
                if told.is_some_and(|t| t != super::middlebox::Told::Nothing) {
                    continue;
                }
                blocked.push(format!("{}: {how}", place(h)));
                if told.is_some() {
                    blocked.push(format!(
                        "{}: nothing told the middleboxes apart",
                        super::middlebox::follow_up_line(&h.follow_ups)
                    ));
                }
                cut_names.insert(h.sni.as_str());
                cut += 1;
            }
            Judgement::Genuine(_) => genuine += 1,
            _ => {}
        }
    }
    if blocked.is_empty() {
        return Vec::new();
    }
    // By what the connector needs, not by the count: a broker cut off blocks even while the
    // enrollment name completes.
    let severity = super::middlebox::severity(facts, &cut_names);
    vec![
        Cause::new(crate::causes::TLS_HANDSHAKE_BLOCKED.id(), severity, 0.8)
            .title(format!(
                "TLS handshakes to {} are cut off",
                list(&cut_names.iter().copied().collect::<Vec<_>>(), 3)
            ))
            .detail(format!(
                "TCP connects, but {} of {} TLS handshakes never show a usable certificate: a \
                 middlebox filtering on SNI or TLS (DPI), or a broken peer.",
                cut,
                cut + genuine
            ))
            .evidence(blocked)
            .remedy(
                "Allow TLS to the Zen ranges and *.prod.zpath.net through the firewall's \
                 application/DPI filter (not only TCP/443), and exempt them from SSL inspection.",
            ),
    ]
}

/// The product's name, or the unnamed proxy's issuer.
fn who(judgement: &Judgement, h: &TlsHandshake) -> String {
    match judgement {
        Judgement::Intercepted {
            product: Some((p, _)),
            ..
        } => p.name.clone(),
        _ => format!(
            "an unnamed proxy (issuer {})",
            leaf(h).map_or("?", |c| c.issuer.text.as_str())
        ),
    }
}

/// [`who`], with the issuer also for a named product: the check line is what gets quoted.
fn who_and_issuer(judgement: &Judgement, h: &TlsHandshake) -> String {
    match judgement {
        Judgement::Intercepted {
            product: Some(_), ..
        } => format!(
            "{} (issuer {})",
            who(judgement, h),
            leaf(h).map_or("?", |c| c.issuer.text.as_str())
        ),
        _ => who(judgement, h),
    }
}

/// The control hosts whose chains the same CA re-signs: one proxy, named once.
fn same_signer_on_control<'a>(facts: &Facts<'a>, signer: &Signer) -> Vec<&'a str> {
    let mut hosts: Vec<&str> = of_class(facts, TrustClass::Control)
        .filter_map(|(h, j)| match j {
            Judgement::Intercepted {
                signer: Some(other),
                ..
            } if other.same(signer) => Some(h.sni.as_str()),
            _ => None,
        })
        .collect();
    hosts.dedup();
    hosts
}

/// `tls.intercepted`: the connector's own channel is re-signed.
pub(super) fn intercepted(facts: &Facts) -> Vec<Cause> {
    let hits: Vec<(&TlsHandshake, &Judgement)> = of_class(facts, TrustClass::Broker)
        .filter(|(_, j)| j.intercepted())
        .collect();
    let Some(&(
        first,
        judgement @ Judgement::Intercepted {
            product,
            why,
            confidence,
            signer,
        },
    )) = hits.first()
    else {
        return Vec::new();
    };
    let named = product.as_ref().map(|(p, _)| p.name.as_str());
    let mut evidence = issuer_lines(first, signer.as_ref());
    if let Some((p, how)) = product {
        evidence.push(format!(
            "named {} by {how} (confidence {:.2}; {})",
            p.name, p.confidence, p.source
        ));
    }
    evidence.push(format!("not genuine because {why}"));
    evidence.extend(shape_lines(first));
    if let Some(signer) = signer {
        let control = same_signer_on_control(facts, signer);
        if !control.is_empty() {
            evidence.push(format!(
                "the same CA re-signs the control host {}: one proxy inspects all of this VM's TLS",
                list(&control, 4)
            ));
        }
    }
    if hits.len() > 1 {
        let others: Vec<String> = hits[1..]
            .iter()
            .map(|(h, _)| format!("{}:{}", h.addr, h.port))
            .collect();
        evidence.push(format!("the same on {}", list(&others, 4)));
    }
    let bypass = product
        .as_ref()
        .and_then(|(p, _)| p.bypass.as_deref())
        .map(|b| format!(" In {}, that is {b}.", named.unwrap_or("the proxy")))
        .unwrap_or_default();
    vec![
        Cause::new(crate::causes::TLS_INTERCEPTED.id(), Severity::Blocking, *confidence)
            .title(format!(
                "TLS to the brokers is intercepted by {}",
                who(judgement, first)
            ))
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
    if of_class(facts, TrustClass::Broker).any(|(_, j)| j.intercepted()) {
        return Vec::new();
    }
    let Some((h, judgement)) = of_class(facts, TrustClass::Control).find(|(_, j)| j.intercepted())
    else {
        return Vec::new();
    };
    let Judgement::Intercepted { why, signer, .. } = judgement else {
        unreachable!("filtered");
    };
    let mut evidence = issuer_lines(h, signer.as_ref());
    evidence.push(format!("not genuine because {why}"));
    vec![
        Cause::new(
            crate::causes::TLS_INSPECTION_ON_PATH.id(),
            Severity::Warning,
            0.8,
        )
        .title(format!(
            "An SSL-inspecting proxy ({}) is on the path",
            who(judgement, h)
        ))
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
    let judged: Vec<(&TlsHandshake, &Judgement)> = judged(facts)
        .filter(|(_, j)| !matches!(j, Judgement::Nothing | Judgement::Unjudged(_)))
        .collect();
    if judged.is_empty() {
        let unjudged = facts.tls.iter().find_map(|j| match j {
            Judgement::Unjudged(why) => Some(why.clone()),
            _ => None,
        });
        let unfinished = !handshakes.is_empty()
            && handshakes
                .iter()
                .all(|h| matches!(h.result, crate::evidence::HandshakeResult::Unfinished(_)));
        check.reason = Some(match unjudged {
            Some(why) => format!("not judged: {why}"),
            None if handshakes.is_empty() => "no TLS destination (no address resolved)".into(),
            None if unfinished => {
                "no handshake finished (the deadline or a signal came first): unknown".into()
            }
            None => "no handshake got as far as a certificate (TCP failed)".into(),
        });
        return check;
    }
    let first_bad = |class: TrustClass| {
        judged
            .iter()
            .filter(|(h, _)| h.class == class)
            .find(|(_, j)| !matches!(j, Judgement::Genuine(_)))
            .copied()
    };
    // One issuer, one judgement: a CA re-signing the brokers and the control hosts is one
    // proxy, named once.
    let shared = match (
        first_bad(TrustClass::Broker),
        first_bad(TrustClass::Control),
    ) {
        (
            Some((
                h,
                j @ Judgement::Intercepted {
                    signer: Some(a), ..
                },
            )),
            Some((
                _,
                Judgement::Intercepted {
                    signer: Some(b), ..
                },
            )),
        ) if a.same(b) => Some((h, j)),
        _ => None,
    };
    let mut parts = Vec::new();
    let mut worst = CheckStatus::Pass;
    for class in [TrustClass::Broker, TrustClass::Control] {
        let of_class: Vec<&(&TlsHandshake, &Judgement)> =
            judged.iter().filter(|(h, _)| h.class == class).collect();
        if of_class.is_empty() {
            continue;
        }
        let label = match class {
            TrustClass::Broker => "brokers",
            TrustClass::Control => "control hosts",
        };
        match (first_bad(class), shared) {
            (None, _) => {
                let Judgement::Genuine(by) = of_class[0].1 else {
                    unreachable!("all genuine");
                };
                parts.push(format!(
                    "{label}: {}/{} genuine, accepted by {by}",
                    of_class.len(),
                    of_class.len()
                ));
            }
            (Some(_), Some((h, j))) => {
                if class == TrustClass::Broker {
                    parts.push(format!(
                        "brokers and control hosts: intercepted by {} (one CA re-signs both)",
                        who_and_issuer(j, h)
                    ));
                }
                worst = CheckStatus::Fail;
            }
            (Some((h, j)), None) => {
                parts.push(match j {
                    Judgement::Intercepted { .. } => {
                        format!("{label}: intercepted by {}", who_and_issuer(j, h))
                    }
                    Judgement::Blocked(how) => format!(
                        "{label}: handshake cut off ({how}){}",
                        match super::middlebox::told(h) {
                            Some(super::middlebox::Told::NameFilter) =>
                                ": a server-name filter (another name completes)",
                            Some(super::middlebox::Told::PathMtu) =>
                                ": a path-MTU black hole (small segments complete)",
                            Some(super::middlebox::Told::VersionFilter) =>
                                ": a TLS version filter (another version completes)",
                            Some(super::middlebox::Told::Nothing) => ": no follow-up got through",
                            None => "",
                        }
                    ),
                    _ => unreachable!("not genuine, not nothing"),
                });
                // A cut-off weighs what its cause weighs: failed when a name the connector
                // needs has nothing genuine left, a warning while it completes elsewhere.
                let status = match j {
                    Judgement::Blocked(_) => {
                        let name = std::collections::BTreeSet::from([h.sni.as_str()]);
                        match super::middlebox::severity(facts, &name) {
                            Severity::Blocking => CheckStatus::Fail,
                            _ => CheckStatus::Warn,
                        }
                    }
                    _ if class == TrustClass::Broker => CheckStatus::Fail,
                    _ => CheckStatus::Warn,
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
                |ev| resign_brokers(ev, dn("FortiGate CA", "Fortinet")),
                "tls.intercepted",
                Severity::Blocking,
            ),
            (
                "an unknown proxy re-signs, copying the broker's subject",
                |ev| resign_brokers(ev, dn("Corp Inspection CA", "Corp")),
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
                    )
                },
                "tls.intercepted",
                Severity::Blocking,
            ),
            (
                "only the control hosts are inspected",
                |ev| resign_control(ev, dn("Cisco Umbrella Primary SubCA", "Cisco")),
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
        resign_brokers(&mut ev, dn("FortiGate CA", "Fortinet"));
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
        resign_brokers(&mut ev, dn("mitmproxy", "mitmproxy"));
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
        resign_brokers(&mut ev, dn("Corp Inspection CA", "Corp"));
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

    /// The judgement over subject × issuer × anchor × system store: only the issuers and
    /// declared trust decide, never the leaf's subject.
    #[test]
    fn judgement_table() {
        use crate::evidence::ChainVerification;
        /// The leaf's subject.
        #[derive(Clone, Copy, Debug)]
        enum Subject {
            Broker,
            Other,
        }
        /// Who signed it.
        #[derive(Clone, Copy, Debug)]
        enum Issuer {
            ZscalerBrokerCa,
            ZiaInspection,
            Fortinet,
            Unknown,
            /// An enterprise CA named like Zscaler's: the hardest case.
            ZscalerNamedEnterprise,
            /// A Zscaler-named intermediate under an unknown root.
            ZscalerUnderUnknownRoot,
            SelfSigned,
        }
        /// What was declared.
        #[derive(Clone, Copy, Debug)]
        enum Anchor {
            None,
            Matches,
            Other,
        }
        let subjects = [Subject::Broker, Subject::Other];
        let issuers = [
            Issuer::ZscalerBrokerCa,
            Issuer::ZiaInspection,
            Issuer::Fortinet,
            Issuer::Unknown,
            Issuer::ZscalerNamedEnterprise,
            Issuer::ZscalerUnderUnknownRoot,
            Issuer::SelfSigned,
        ];
        for subject in subjects {
            for issuer in issuers {
                for anchor in [Anchor::None, Anchor::Matches, Anchor::Other] {
                    for system in [false, true] {
                        let mut ev = healthy();
                        set_broker_chains(&mut ev, |sni| {
                            let leaf = match subject {
                                Subject::Broker => broker_subject(sni),
                                Subject::Other => dn(sni, "Example Corp"),
                            };
                            let (ca, root) = match issuer {
                                Issuer::ZscalerBrokerCa => (dn("ZPA Broker CA", "Zscaler"), None),
                                Issuer::ZiaInspection => (
                                    dn(
                                        "Zscaler Intermediate Root CA (zscaler.net)",
                                        "Zscaler Inc.",
                                    ),
                                    Some(dn("Zscaler Root CA", "Zscaler Inc.")),
                                ),
                                Issuer::Fortinet => (dn("FortiGate CA", "Fortinet"), None),
                                Issuer::Unknown => {
                                    (dn("Acme Corp Egress Inspection CA", "Acme Corp"), None)
                                }
                                Issuer::ZscalerNamedEnterprise => {
                                    (dn("Zscaler Egress CA", "Zscaler"), None)
                                }
                                Issuer::ZscalerUnderUnknownRoot => (
                                    dn("ZPA Broker CA", "Zscaler"),
                                    Some(dn("Acme Root", "Acme Corp")),
                                ),
                                Issuer::SelfSigned => {
                                    let own = leaf.clone();
                                    return vec![cert(leaf, own, false)];
                                }
                            };
                            let top = root.clone().unwrap_or_else(|| ca.clone());
                            let mut chain =
                                vec![cert(leaf, ca.clone(), false), cert(ca, top.clone(), true)];
                            if let Some(root) = root {
                                chain.push(cert(root, top, true));
                            }
                            chain
                        });
                        if !matches!(anchor, Anchor::None) {
                            ev.plan.trust.push(TrustFile {
                                class: Some(TrustClass::Broker),
                                path: "broker-ca.pem".into(),
                                subjects: vec![],
                            });
                        }
                        for h in ev
                            .tls
                            .handshakes
                            .iter_mut()
                            .filter(|h| h.class == TrustClass::Broker)
                        {
                            h.verification = Some(ChainVerification {
                                mozilla: Trust::Untrusted {
                                    reason: "UnknownIssuer".into(),
                                },
                                system: if system {
                                    Trust::Verified
                                } else {
                                    Trust::NotChecked
                                },
                                anchor: matches!(anchor, Anchor::Matches)
                                    .then(|| "broker-ca.pem".into()),
                            });
                        }
                        let genuine = match anchor {
                            Anchor::Matches => true,
                            Anchor::Other => false,
                            Anchor::None => {
                                matches!(
                                    issuer,
                                    Issuer::ZscalerBrokerCa | Issuer::ZscalerNamedEnterprise
                                ) && !system
                            }
                        };
                        let d = diagnose(&ev);
                        let what = format!(
                            "{subject:?} × {issuer:?} × anchor {anchor:?} × system store {system}"
                        );
                        if genuine {
                            assert!(
                                d.causes.iter().all(|c| !c.id.starts_with("tls.")),
                                "{what}: {:?}",
                                d.causes
                            );
                            let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
                            let basis = if matches!(anchor, Anchor::Matches) {
                                "the declared anchor"
                            } else {
                                "issuer's name"
                            };
                            assert!(tls.summary.contains(basis), "{what}: {}", tls.summary);
                        } else {
                            assert_eq!(d.causes[0].id, "tls.intercepted", "{what}: {:?}", d.causes);
                            assert_eq!(d.causes[0].severity, Severity::Blocking, "{what}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_unnamed_issuer_is_shown_with_its_fingerprint() {
        let mut ev = healthy();
        resign_brokers(&mut ev, dn("Acme Corp Egress Inspection CA", "Acme Corp"));
        let d = diagnose(&ev);
        let top = &d.causes[0];
        assert!(
            top.title.ends_with(
                "an unnamed proxy (issuer CN=Acme Corp Egress Inspection CA, O=Acme Corp)"
            ),
            "{}",
            top.title
        );
        let evidence = top.evidence.join("\n");
        assert!(evidence.contains("issuing CA sha256 "), "{evidence}");
        assert!(evidence.contains("(key sha256 "), "{evidence}");
        assert!(
            evidence.contains("copies the broker's subject"),
            "{evidence}"
        );
    }

    /// The same CA signs the brokers' and the control hosts' chains: both are intercepted,
    /// and the proxy is named once.
    #[test]
    fn one_issuer_one_judgement() {
        let mut ev = healthy();
        let ca = dn("Acme Corp Egress Inspection CA", "Acme Corp");
        resign_brokers(&mut ev, ca.clone());
        resign_control(&mut ev, ca);
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "tls.intercepted");
        assert!(
            !d.causes.iter().any(|c| c.id == "tls.inspection_on_path"),
            "{:?}",
            d.causes
        );
        assert!(
            d.causes[0]
                .evidence
                .iter()
                .any(|l| l
                    .starts_with("the same CA re-signs the control host dist.private.zscaler.com")),
            "{:?}",
            d.causes[0].evidence
        );
        let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
        assert_eq!(
            tls.summary
                .matches("Acme Corp Egress Inspection CA")
                .count(),
            1,
            "{}",
            tls.summary
        );
        assert!(
            tls.summary
                .starts_with("brokers and control hosts: intercepted by an unnamed proxy"),
            "{}",
            tls.summary
        );

        // Even a CA named like Zscaler's is caught when it also signs a control host.
        let mut ev = healthy();
        resign_control(&mut ev, dn("ZPA Broker CA", "Zscaler"));
        assert_eq!(ids(&ev)[0], "tls.intercepted");
    }

    /// A CA of the same name with another key is another CA.
    #[test]
    fn same_name_other_key_is_not_the_same_signer() {
        let mut ev = healthy();
        for h in ev
            .tls
            .handshakes
            .iter_mut()
            .filter(|h| h.class == TrustClass::Control)
        {
            let ca = dn("ZPA Broker CA", "Zscaler");
            let mut ca_cert = cert(ca.clone(), ca.clone(), true);
            rekey(&mut ca_cert, "another key");
            h.chain = vec![cert(dn(&h.sni, "Zscaler"), ca, false), ca_cert];
        }
        assert!(
            ids(&ev).iter().all(|id| !id.starts_with("tls.")),
            "{:?}",
            ids(&ev)
        );
    }

    /// ZIA is recognised by its root's key even when its CAs are renamed.
    #[test]
    fn zia_is_named_by_its_key() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let pem = include_str!("../../fixtures/chains/zia-root-2014/ca.pem");
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let mut root = crate::x509::summarize(&der).unwrap();
        assert_eq!(
            root.spki_sha256,
            "a3d43860a9265aa0394cce5b17a6f4e8b3f13dfbf639ae0f558e55b535492779"
        );
        root.subject = dn("Renamed Root", "Someone");
        let mut ev = healthy();
        let ca = dn("Renamed Intermediate", "Someone");
        set_broker_chains(&mut ev, |sni| {
            vec![
                cert(broker_subject(sni), ca.clone(), false),
                cert(ca.clone(), root.subject.clone(), true),
                crate::evidence::ChainCert::Parsed(Box::new(root.clone())),
            ]
        });
        let d = diagnose(&ev);
        assert!(
            d.causes[0]
                .title
                .ends_with("intercepted by Zscaler ZIA (SSL inspection)"),
            "{}",
            d.causes[0].title
        );
    }

    /// A confirmed broker CA pins by name and key: a same-named CA with another key does not pass.
    #[test]
    fn a_known_broker_ca_needs_its_key() {
        let mut ev = healthy();
        let spki = crate::x509::sha256_hex(dn("ZPA Broker CA", "Zscaler").text.as_bytes());
        ev.plan.broker_cas.push(crate::profile::KnownCa {
            cn: "zpa broker ca".into(),
            spki_sha256: spki,
            key_id: None,
            source: "test".into(),
        });
        let d = diagnose(&ev);
        let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
        assert!(
            tls.summary.contains("the confirmed broker CA"),
            "{}",
            tls.summary
        );
        for h in ev
            .tls
            .handshakes
            .iter_mut()
            .filter(|h| h.class == TrustClass::Broker)
        {
            rekey(&mut h.chain[1], "someone else's key");
        }
        let d = diagnose(&ev);
        let tls = d.checks.iter().find(|c| c.id == "tls").unwrap();
        assert!(tls.summary.contains("issuer's name"), "{}", tls.summary);
    }
}
