//! Special-purpose address ranges: where a public name must never point.
//!
//! A public Zscaler name that resolves into one of these was rewritten by a resolver (a DNS
//! sinkhole, a split-horizon zone, a filtering product). Shared by the TCP probe, which does
//! not connect to such answers (connecting to 0.0.0.0 reaches the VM itself), and by the
//! diagnosis, which names the range. The table is the IANA special-purpose registries
//! (RFC 6890 and successors), reduced to the ranges a resolver would plausibly answer with.

use std::net::IpAddr;

use ipnet::IpNet;

/// (range, label) pairs; the first match wins.
const SPECIAL: &[(&str, &str)] = &[
    ("0.0.0.0/8", "unspecified (0.0.0.0/8)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified (::)"),
    ("::1/128", "loopback"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// The label of the special-purpose range `addr` falls in, if any.
pub fn special_purpose(addr: IpAddr) -> Option<&'static str> {
    special_range(addr).map(|(_, label)| label)
}

/// The special-purpose range `addr` falls in, with its label.
pub fn special_range(addr: IpAddr) -> Option<(IpNet, &'static str)> {
    let addr = match addr {
        // An IPv4-mapped answer is judged as the IPv4 address it carries.
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    SPECIAL.iter().find_map(|(net, label)| {
        let net: IpNet = net.parse().expect("the table holds valid CIDRs");
        net.contains(&addr).then_some((net, *label))
    })
}

/// The special-purpose range `net` overlaps (contains or lies in), if any: a published feed
/// holding one is corrupt or forged.
pub fn overlaps_special(net: &IpNet) -> Option<&'static str> {
    SPECIAL.iter().find_map(|(special, label)| {
        let special: IpNet = special.parse().expect("the table holds valid CIDRs");
        (special.contains(&net.network()) || net.contains(&special.network())).then_some(*label)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_sinkhole_answers() {
        let cases = [
            ("0.0.0.0", Some("unspecified (0.0.0.0/8)")),
            ("127.0.0.1", Some("loopback")),
            ("10.20.30.40", Some("private (RFC 1918)")),
            ("172.31.255.1", Some("private (RFC 1918)")),
            ("::", Some("unspecified (::)")),
            ("::ffff:192.168.1.1", Some("private (RFC 1918)")),
            ("fd00::1", Some("unique local (private)")),
            ("165.225.112.252", None),
            ("172.32.0.1", None),
            ("2605:4300::1", None),
        ];
        for (addr, expected) in cases {
            assert_eq!(special_purpose(addr.parse().unwrap()), expected, "{addr}");
        }
    }
}
