//! Which middlebox cut a handshake off, from its follow-ups: the same address and port, one
//! thing changed at a time ([`crate::plan::schedule::Change`]).
//!
//! TCP connects, then the handshake is reset, silenced or alerted. Three common middleboxes
//! do that, each with its own fix and its own team to call, and the follow-up that gets
//! through names which:
//! - **an SNI or URL-category filter**: another server name, or none, completes (OONI
//!   Probe's SNI-blocking experiment compares a control name on the same address the same way);
//! - **a path-MTU black hole**: only the handshake with 536-byte segments completes (the
//!   ClientHello is small and passes; the server's full-size first flight vanishes);
//! - **a protocol filter**: only a handshake offering TLS 1.2 or 1.3 alone completes.
//!
//! Nothing completes: nothing told them apart, and `tls.handshake_blocked` says so. The name
//! filter is asked first: its handshakes with another name differ from the original in the
//! name alone, so when one completes nothing else needs explaining.

use std::collections::BTreeSet;

use super::chain::Judgement;
use super::{Cause, Facts, Severity, list};
use crate::evidence::{FollowUp, HandshakeResult, TlsHandshake};
use crate::plan::schedule::{Change, SMALL_MSS};

/// What a cut-off handshake's follow-ups told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Told {
    /// Only small segments got through.
    PathMtu,
    /// Another server name, or none, got through.
    NameFilter,
    /// Only another TLS version got through.
    VersionFilter,
    /// Nothing got through: nothing told them apart.
    Nothing,
}

/// What `h`'s follow-ups tell; `None` when it has none (it was not cut off, went through a
/// proxy, or another handshake of its name was followed up instead).
pub(super) fn told(h: &TlsHandshake) -> Option<Told> {
    // No follow-up finished (the deadline, a signal): nothing was told, not "nothing got
    // through".
    if !h
        .follow_ups
        .iter()
        .any(|f| !matches!(f.result, HandshakeResult::Unfinished(_)))
    {
        return None;
    }
    let through = |change: Change| {
        h.follow_ups
            .iter()
            .any(|f| f.change == change && f.result.completed())
    };
    Some(if through(Change::OtherName) || through(Change::NoName) {
        Told::NameFilter
    } else if through(Change::SmallSegments) {
        Told::PathMtu
    } else if through(Change::Tls12Only) || through(Change::Tls13Only) {
        Told::VersionFilter
    } else {
        Told::Nothing
    })
}

/// The follow-ups, as the evidence line shows them.
pub(super) fn follow_up_line(follow_ups: &[FollowUp]) -> String {
    let each: Vec<String> = follow_ups
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f.change.label(),
                match &f.result {
                    HandshakeResult::Completed { protocol, ms } =>
                        format!("completed ({protocol}, {ms} ms)"),
                    other => other_label(other),
                }
            )
        })
        .collect();
    format!("follow-ups on the same address: {}", each.join(" · "))
}

fn other_label(result: &HandshakeResult) -> String {
    match result {
        HandshakeResult::Reset => "reset".into(),
        HandshakeResult::Closed => "closed".into(),
        HandshakeResult::TimedOut { ms } => format!("silent ({})", crate::evidence::secs(*ms)),
        HandshakeResult::Alert { alert } => format!("alert {alert}"),
        HandshakeResult::Failed { detail } => format!("failed ({detail})"),
        HandshakeResult::ConnectFailed { detail } => format!("no TCP connect ({detail})"),
        HandshakeResult::Unfinished(why) => format!("{} (unknown)", why.label()),
        HandshakeResult::ProxyUnreachable { .. } | HandshakeResult::ProxyRefused { .. } => {
            "through a proxy (not compared)".into()
        }
        HandshakeResult::Completed { .. } => "completed".into(),
    }
}

/// How much a cut-off weighs: blocking when a name the connector needs (a required broker or
/// enrollment name, or a `--target`) has no genuine handshake left; a warning while every
/// such name still completes somewhere. Judged by what the connector needs, never by the
/// count of handshakes: the enrollment name completing does not save a broker cut off.
pub(super) fn severity(facts: &Facts, cut_names: &BTreeSet<&str>) -> Severity {
    let genuine = |name: &str| {
        facts
            .evidence
            .tls
            .handshakes
            .iter()
            .zip(&facts.tls)
            .any(|(h, j)| h.sni == name && matches!(j, Judgement::Genuine(_)))
    };
    let needed = |name: &str| {
        facts
            .names
            .iter()
            .find(|n| n.spec.host.as_str().eq_ignore_ascii_case(name))
            .is_none_or(|n| n.spec.required)
    };
    if cut_names.iter().any(|name| needed(name) && !genuine(name)) {
        Severity::Blocking
    } else {
        Severity::Warning
    }
}

/// `egress.pmtu_blackhole`, `tls.sni_filtered` and `tls.version_filtered`: the middlebox the
/// follow-ups named, once per kind, with every handshake it cut off.
pub(super) fn named(facts: &Facts) -> Vec<Cause> {
    let mut causes = Vec::new();
    for kind in [Told::PathMtu, Told::NameFilter, Told::VersionFilter] {
        let cut: Vec<&TlsHandshake> = facts
            .evidence
            .tls
            .handshakes
            .iter()
            .zip(&facts.tls)
            .filter(|(h, j)| matches!(j, Judgement::Blocked(_)) && told(h) == Some(kind))
            .map(|(h, _)| h)
            .collect();
        if cut.is_empty() {
            continue;
        }
        let names: BTreeSet<&str> = cut.iter().map(|h| h.sni.as_str()).collect();
        let shown: Vec<&str> = names.iter().copied().collect();
        let severity = severity(facts, &names);
        let mut evidence = Vec::new();
        for h in &cut {
            evidence.push(format!(
                "{} [{}]:{} {}",
                h.sni,
                h.addr,
                h.port,
                other_label(&h.result)
            ));
            evidence.push(follow_up_line(&h.follow_ups));
        }
        let cause = match kind {
            Told::NameFilter => Cause::new(crate::causes::TLS_SNI_FILTERED.id(), severity, 0.9)
                .title(format!(
                    "A filter on the server name cuts off TLS to {}",
                    list(&shown, 3)
                ))
                .detail(
                    "TCP connects, and the handshake is cut off when it names Zscaler's host, \
                     but it completes on the same address and port with another name or none: a \
                     next-generation firewall's URL filtering, an \"unknown category\" policy or a \
                     security service filters on the TLS server name.",
                )
                .remedy(
                    "Ask the team that owns URL filtering to allow *.prod.zpath.net and \
                     *.private.zscaler.com (or to exempt the Zen ranges from the filter) for this \
                     VM; the category or policy that matched is in that device's log.",
                ),
            Told::PathMtu => Cause::new(
                crate::causes::EGRESS_PMTU_BLACKHOLE.id(),
                severity,
                0.85,
            )
            .title(format!(
                "Full-size packets from {} vanish on the path (a path-MTU black hole)",
                list(&shown, 3)
            ))
            .detail(format!(
                "TCP connects and the ClientHello gets out, but the server's first flight never \
                 arrives; the same handshake with {SMALL_MSS}-byte segments completes, so an \
                 MTU of {} works. A tunnel or cloud VPN narrower than the segments the VM \
                 advertises drops them, and the ICMP \"fragmentation needed\" that would shrink \
                 them never arrives.",
                SMALL_MSS + 40
            ))
            .remedy(
                "Clamp the MSS on the tunnel or VPN (`iptables -t mangle -A FORWARD -p tcp \
                 --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`, or the firewall's or \
                 cloud VPN's MSS setting), or let ICMP type 3 code 4 (fragmentation needed) \
                 through to this VM.",
            ),
            Told::VersionFilter => {
                let versions: BTreeSet<&str> = cut
                    .iter()
                    .flat_map(|h| &h.follow_ups)
                    .filter(|f| f.result.completed())
                    .filter_map(|f| match f.change {
                        Change::Tls12Only => Some("TLS 1.2 alone"),
                        Change::Tls13Only => Some("TLS 1.3 alone"),
                        _ => None,
                    })
                    .collect();
                let versions: Vec<&str> = versions.into_iter().collect();
                Cause::new(crate::causes::TLS_VERSION_FILTERED.id(), severity, 0.8)
                    .title(format!(
                        "A filter on the TLS version cuts off TLS to {}",
                        list(&shown, 3)
                    ))
                    .detail(format!(
                        "TCP connects, and the handshake offering TLS 1.3 and 1.2 (as the \
                         connector does) is cut off, but offering {} completes on the same \
                         address: a middlebox refuses a TLS version or the shape of the \
                         connector's ClientHello.",
                        versions.join(" or ")
                    ))
                    .remedy(
                        "Allow TLS 1.2 and 1.3 to the Zen ranges in the firewall's TLS or \
                         application inspection policy (and exempt *.prod.zpath.net from it).",
                    )
            }
            Told::Nothing => unreachable!("not a kind that names a middlebox"),
        };
        causes.push(cause.evidence(evidence));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Severity, diagnose};
    use crate::evidence::{Evidence, FollowUp, HandshakeResult};
    use crate::plan::schedule::Change;

    /// Cuts off co2br's handshakes with `result`, with follow-ups that complete for `through`.
    fn cut_brokers(ev: &mut Evidence, result: HandshakeResult, through: &[Change]) {
        for h in ev
            .tls
            .handshakes
            .iter_mut()
            .filter(|h| h.sni == "co2br.prod.zpath.net")
        {
            h.chain.clear();
            h.verification = None;
            h.result = result.clone();
            h.follow_ups = Change::ALL
                .into_iter()
                .map(|change| FollowUp {
                    change,
                    result: if through.contains(&change) {
                        HandshakeResult::Completed {
                            protocol: "TLSv1_2".into(),
                            ms: 15,
                        }
                    } else {
                        result.clone()
                    },
                })
                .collect();
        }
    }

    /// (what the follow-ups said, the cause ranked first, its severity). In every case the
    /// enrollment name still completes: the broker cut off blocks all the same (the issue-21
    /// bug: "some brokers complete" made it a warning).
    #[test]
    fn the_follow_up_that_gets_through_names_the_middlebox() {
        let silent = HandshakeResult::TimedOut { ms: 3000 };
        let cases: &[(&str, HandshakeResult, &[Change], &str)] = &[
            (
                "an SNI filter resets",
                HandshakeResult::Reset,
                &[Change::OtherName, Change::NoName],
                "tls.sni_filtered",
            ),
            (
                "an SNI filter drops",
                silent.clone(),
                &[Change::OtherName, Change::NoName],
                "tls.sni_filtered",
            ),
            (
                "a path-MTU black hole",
                silent.clone(),
                &[Change::SmallSegments],
                "egress.pmtu_blackhole",
            ),
            (
                "a TLS 1.3 filter",
                HandshakeResult::Reset,
                &[Change::Tls12Only],
                "tls.version_filtered",
            ),
            (
                "nothing gets through",
                HandshakeResult::Reset,
                &[],
                "tls.handshake_blocked",
            ),
        ];
        for (what, result, through, id) in cases {
            let mut ev = healthy();
            cut_brokers(&mut ev, result.clone(), through);
            let d = diagnose(&ev);
            assert_eq!(d.causes[0].id, *id, "{what}: {:?}", d.causes);
            assert_eq!(d.causes[0].severity, Severity::Blocking, "{what}");
            assert!(
                d.causes[0]
                    .evidence
                    .iter()
                    .any(|e| e.starts_with("follow-ups on the same address")),
                "{what}: {:?}",
                d.causes[0].evidence
            );
            // One cause for the cut-off, never also "blocked" without a name.
            if *id != "tls.handshake_blocked" {
                assert!(
                    d.causes.iter().all(|c| c.id != "tls.handshake_blocked"),
                    "{what}: {:?}",
                    d.causes
                );
            }
        }
    }

    #[test]
    fn a_name_that_still_completes_elsewhere_only_warns() {
        let mut ev = healthy();
        // One of co2br's two addresses is cut off; the other completes genuine.
        let h = ev
            .tls
            .handshakes
            .iter_mut()
            .find(|h| h.sni == "co2br.prod.zpath.net")
            .unwrap();
        h.chain.clear();
        h.verification = None;
        h.result = HandshakeResult::Reset;
        h.follow_ups = vec![FollowUp {
            change: Change::OtherName,
            result: HandshakeResult::Completed {
                protocol: "TLSv1_3".into(),
                ms: 9,
            },
        }];
        let d = diagnose(&ev);
        let cause = d
            .causes
            .iter()
            .find(|c| c.id == "tls.sni_filtered")
            .unwrap();
        assert_eq!(cause.severity, Severity::Warning, "{cause:?}");
    }
}
