//! Proxy rules: the explicit proxy the connector (or the system) is told to use does not work.

use super::{Cause, Facts, Severity, capitalise};
use crate::evidence::HandshakeResult;
use crate::plan::TrustClass;

/// `proxy.misconfigured`: the configured proxy is unreachable or refuses the tunnel.
pub(super) fn misconfigured(facts: &Facts) -> Vec<Cause> {
    let failures: Vec<_> = facts
        .evidence
        .tls
        .handshakes
        .iter()
        .filter_map(|h| {
            let how = match &h.result {
                HandshakeResult::ProxyUnreachable { detail } => format!("unreachable: {detail}"),
                HandshakeResult::ProxyRefused { status } => {
                    format!("refused the CONNECT: {status}")
                }
                _ => return None,
            };
            Some((h, how))
        })
        .collect();
    let Some((first, how)) = failures.first() else {
        return Vec::new();
    };
    let via = first.via_proxy.as_deref().unwrap_or("the proxy");
    let connector = failures.iter().any(|(h, _)| h.class == TrustClass::Broker);
    let (severity, whose) = if connector {
        (Severity::Blocking, "the connector's")
    } else {
        (Severity::Warning, "the system's")
    };
    let evidence = failures
        .iter()
        .take(4)
        .map(|(h, how)| {
            format!(
                "CONNECT {}:{} for {} via {}: {how}",
                h.addr,
                h.port,
                h.sni,
                h.via_proxy.as_deref().unwrap_or("?")
            )
        })
        .collect();
    vec![
        Cause::new(crate::causes::PROXY_MISCONFIGURED.id(), severity, 0.9)
            .title(format!("{} proxy {via} does not work", capitalise(whose)))
            .detail(format!(
                "Every handshake through {whose} proxy failed before TLS began: the proxy is {how}. \
                 The connector sends all its traffic there, so it cannot enroll."
            ))
            .evidence(evidence)
            .remedy(
                "Fix the proxy address in /opt/zscaler/var/proxy (host:port) or remove the file to go \
                 direct; make the proxy allow CONNECT to port 443 of the Zen ranges without \
                 authentication (the connector does not authenticate to proxies), and list \
                 destinations that must go direct in /opt/zscaler/var/proxy-bypass.",
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::Severity;
    use super::super::testing::*;
    use crate::evidence::HandshakeResult;
    use crate::plan::TrustClass;

    #[test]
    fn an_unreachable_connector_proxy_blocks() {
        assert_top(
            "connector proxy down",
            |ev| {
                let down = HandshakeResult::ProxyUnreachable {
                    detail: "Connection refused".into(),
                };
                let via = Some("192.0.2.8:3128 (/opt/zscaler/var/proxy)");
                fail_handshakes(ev, TrustClass::Broker, down, via);
            },
            "proxy.misconfigured",
            Severity::Blocking,
        );
    }

    #[test]
    fn a_refusing_system_proxy_warns() {
        let d = assert_top(
            "system proxy wants auth",
            |ev| {
                let refused = HandshakeResult::ProxyRefused {
                    status: "HTTP/1.1 407 Proxy Authentication Required".into(),
                };
                let via = Some("proxy.corp:8080 (HTTPS_PROXY (environment))");
                fail_handshakes(ev, TrustClass::Control, refused, via);
            },
            "proxy.misconfigured",
            Severity::Warning,
        );
        assert!(
            d.causes[0]
                .title
                .starts_with("The system's proxy proxy.corp:8080"),
            "{}",
            d.causes[0].title
        );
    }
}
