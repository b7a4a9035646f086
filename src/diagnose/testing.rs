//! Small evidence builders for the rule tests: a healthy run, then one fault at a time.

use std::net::IpAddr;

use crate::evidence::{
    ChainCert, ChainVerification, ClockEvidence, Connector, Daemon, DnsEvidence, Evidence,
    HandshakeResult, HostEvidence, KernelClock, KeyState, NameResolution, Need, NtpOutcome,
    NtpSample, OsRelease, PathAccess, QueryOutcome, ResolverState, Selinux, TcpAttempt,
    TcpEvidence, TcpOutcome, TlsHandshake, Trust,
};
use crate::plan::{self, NtpOrigin, Origin, Overrides, Plan, TrustClass};
use crate::profile;
use crate::x509::{CertSummary, Name};

/// A healthy run of the default profile: every name answers inside the Zen ranges and every
/// connect succeeds. No fixed targets, so each test controls every attempt.
pub fn healthy() -> Evidence {
    let profile = profile::load(profile::DEFAULT_PROFILE).unwrap();
    let mut plan: Plan = plan::plan(
        &profile,
        &Overrides::default(),
        &plan::SystemConfig::default(),
        std::path::Path::new("/"),
    );
    plan.fixed_targets.clear();
    let mut ev = Evidence {
        dns: DnsEvidence {
            resolver: ResolverState::Configured {
                source: "/etc/resolv.conf".into(),
                nameservers: vec!["192.0.2.53:53".into()],
                no_route: Vec::new(),
            },
            names: Vec::new(),
        },
        tcp: TcpEvidence::default(),
        tls: Default::default(),
        clock: Default::default(),
        host: Default::default(),
        udp: Default::default(),
        gateway: None,
        interrupted: None,
        files_read: Vec::new(),
        machine: Default::default(),
        plan,
    };
    let answers = [
        (
            "co2br.prod.zpath.net",
            vec!["165.225.112.252", "13.127.26.17"],
        ),
        ("api.private.zscaler.com", vec!["52.4.154.137"]),
        ("dist.private.zscaler.com", vec!["8.8.8.8"]),
        ("yum.private.zscaler.com", vec!["8.8.8.9"]),
    ];
    for (host, addrs) in answers {
        answer(&mut ev, host, &addrs);
    }
    ev.tls.handshakes = vec![
        genuine_broker("co2br.prod.zpath.net", "165.225.112.252"),
        genuine_broker("co2br.prod.zpath.net", "13.127.26.17"),
        genuine_broker("api.private.zscaler.com", "52.4.154.137"),
    ];
    for (host, addr) in [
        ("dist.private.zscaler.com", "8.8.8.8"),
        ("yum.private.zscaler.com", "8.8.8.9"),
    ] {
        let root = dn("Public Root", "Public CA");
        let chain = vec![
            cert(dn(host, "Zscaler"), root.clone(), false),
            cert(root.clone(), root, true),
        ];
        ev.tls.handshakes.push(handshake(
            host,
            addr,
            TrustClass::Control,
            chain,
            Trust::Verified,
        ));
    }
    ev.clock = ClockEvidence {
        daemons: vec![Daemon {
            name: "chronyd".into(),
            installed: true,
            running: Some(true),
        }],
        kernel: KernelClock::Read {
            synchronised: true,
            maxerror_us: 12_000,
            esterror_us: 400,
        },
        ntp: vec![ntp_sample(NtpOutcome::Answered {
            offset_s: 0.021,
            rtt_s: 0.004,
            stratum: 3,
            leap: "NoWarning".into(),
        })],
        http_date: Vec::new(),
    };
    ev.host = healthy_host();
    ev
}

/// A VM the host checks like: RHEL 9.4, 2 vCPU, 3.7 GiB, SELinux disabled, key in place.
pub fn healthy_host() -> HostEvidence {
    let access = |path: &str, need: Need, mode: &str| PathAccess {
        path: path.into(),
        need,
        exists: true,
        granted: Some(true),
        mode: Some(mode.into()),
    };
    HostEvidence {
        checked: true,
        selinux: Selinux::Disabled {
            configured: Some("disabled".into()),
        },
        os: Some(OsRelease {
            id: "rhel".into(),
            version_id: "9.4".into(),
            pretty: "Red Hat Enterprise Linux 9.4 (Plow)".into(),
        }),
        arch: Some("x86_64".into()),
        vcpus: Some(2),
        memory_mib: Some(3822),
        free_disk_mib: Some(20_000),
        auto_updates: Vec::new(),
        connector_user: Some((993, 990)),
        access: vec![
            access("/etc/resolv.conf", Need::Read, "644"),
            access("/opt/zscaler/var", Need::Write, "755"),
        ],
        key: KeyState::Present {
            bytes: 96,
            lines: 1,
            mode: "644".into(),
            readable_by_connector: Some(true),
            world_writable: false,
            malformed: None,
        },
        connector: Connector::default(),
        logs: Vec::new(),
    }
}

/// One SNTP exchange with the VM's configured server.
pub fn ntp_sample(outcome: NtpOutcome) -> NtpSample {
    NtpSample {
        server: "169.254.169.123".into(),
        origin: NtpOrigin::Configured,
        source: "/etc/chrony.conf".into(),
        addr: Some("169.254.169.123:123".into()),
        outcome,
    }
}

/// Every time server answers with `outcome`.
pub fn set_ntp(ev: &mut Evidence, outcome: NtpOutcome) {
    for sample in &mut ev.clock.ntp {
        sample.outcome = outcome.clone();
    }
}

/// A certificate name with one CN and one O.
pub fn dn(cn: &str, o: &str) -> Name {
    Name {
        text: format!("CN={cn}, O={o}"),
        cn: vec![cn.into()],
        o: vec![o.into()],
        ..Name::default()
    }
}

/// The subject a genuine broker leaf carries (Zscaler's troubleshooting page), which every
/// re-signing proxy copies.
pub fn broker_subject(host: &str) -> Name {
    Name {
        text: format!(
            "C=US, ST=California, L=San Jose, O=Zscaler, OU=Emerging Technologies, CN={host}"
        ),
        cn: vec![host.into()],
        o: vec!["Zscaler".into()],
        ou: vec!["Emerging Technologies".into()],
        ..Name::default()
    }
}

/// A certificate summary. A CA's key is derived from its name, so one name is one key unless
/// a test says otherwise ([`rekey`]).
pub fn cert(subject: Name, issuer: Name, is_ca: bool) -> ChainCert {
    let sans = if is_ca {
        Vec::new()
    } else {
        subject.cn.clone()
    };
    ChainCert::Parsed(Box::new(CertSummary {
        self_signed: subject == issuer,
        spki_sha256: crate::x509::sha256_hex(subject.text.as_bytes()),
        subject,
        issuer,
        sans,
        not_before: 1_700_000_000,
        not_after: 1_800_000_000,
        is_ca,
        has_sct: false,
        key: "EC 256".into(),
        sha256: "ab".repeat(32),
        key_id: None,
        authority_key_id: None,
    }))
}

/// The same certificate with another key: a CA of the same name minted by someone else.
pub fn rekey(cert: &mut ChainCert, seed: &str) {
    if let ChainCert::Parsed(summary) = cert {
        summary.spki_sha256 = crate::x509::sha256_hex(seed.as_bytes());
    }
}

/// A completed handshake presenting `chain`, verified as given.
pub fn handshake(
    host: &str,
    addr: &str,
    class: TrustClass,
    chain: Vec<ChainCert>,
    mozilla: Trust,
) -> TlsHandshake {
    TlsHandshake {
        addr: addr.parse().unwrap(),
        port: 443,
        sni: host.into(),
        origin: Origin::Name {
            host: host.parse().unwrap(),
            role: if class == TrustClass::Control {
                crate::profile::Role::Control
            } else {
                crate::profile::Role::Broker
            },
        },
        class,
        result: HandshakeResult::Completed {
            protocol: "TLSv1_3".into(),
            ms: 20,
        },
        chain,
        verification: Some(ChainVerification {
            mozilla,
            system: Trust::NotChecked,
            anchor: None,
        }),
        local_time: 1_750_000_000,
        via_proxy: None,
        follow_ups: Vec::new(),
    }
}

/// A genuine broker chain: the broker's subject, issued by a Zscaler CA.
pub fn genuine_broker(host: &str, addr: &str) -> TlsHandshake {
    let ca = dn("ZPA Broker CA", "Zscaler");
    let chain = vec![
        cert(broker_subject(host), ca.clone(), false),
        cert(ca.clone(), ca, true),
    ];
    let untrusted = Trust::Untrusted {
        reason: "UnknownIssuer".into(),
    };
    handshake(host, addr, TrustClass::Broker, chain, untrusted)
}

/// Every broker-class handshake presents `chain`.
pub fn set_broker_chains(ev: &mut Evidence, chain: impl Fn(&str) -> Vec<ChainCert>) {
    for h in ev
        .tls
        .handshakes
        .iter_mut()
        .filter(|h| h.class == TrustClass::Broker)
    {
        h.chain = chain(&h.sni);
    }
}

/// Replaces every broker-class chain with one re-signed by `ca`, whose leaf copies the
/// broker's subject and SANs, as the products do.
pub fn resign_brokers(ev: &mut Evidence, ca: Name) {
    set_broker_chains(ev, |sni| {
        vec![
            cert(broker_subject(sni), ca.clone(), false),
            cert(ca.clone(), ca.clone(), true),
        ]
    });
}

/// Replaces every control-host chain with one re-signed by `ca`, which Mozilla's roots do
/// not vouch for.
pub fn resign_control(ev: &mut Evidence, ca: Name) {
    for h in ev
        .tls
        .handshakes
        .iter_mut()
        .filter(|h| h.class == TrustClass::Control)
    {
        h.verification.as_mut().unwrap().mozilla = Trust::Untrusted {
            reason: "UnknownIssuer".into(),
        };
        h.chain = vec![
            cert(dn(&h.sni, "Zscaler"), ca.clone(), false),
            cert(ca.clone(), ca.clone(), true),
        ];
    }
}

/// Sets `host`'s A answer (AAAA: no records) and one connected attempt per address and port.
pub fn answer(ev: &mut Evidence, host: &str, addrs: &[&str]) {
    let addrs: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
    set_name(
        ev,
        host,
        QueryOutcome::Answered {
            addresses: addrs.clone(),
            ttl_s: 5,
            cname_chain: Vec::new(),
        },
        QueryOutcome::NoRecords,
    );
    let spec = ev
        .plan
        .names
        .iter()
        .find(|n| n.host.as_str() == host)
        .unwrap()
        .clone();
    for addr in addrs {
        for &port in &spec.ports {
            ev.tcp.attempts.push(TcpAttempt {
                addr,
                port,
                origin: Origin::Name {
                    host: spec.host.clone(),
                    role: spec.role,
                },
                outcome: TcpOutcome::Connected { ms: 30 },
            });
        }
    }
}

/// Makes `host` fail with `outcome` for both A and AAAA, and drops its attempts.
pub fn fail_name(ev: &mut Evidence, host: &str, outcome: QueryOutcome) {
    set_name(ev, host, outcome.clone(), outcome);
}

fn set_name(ev: &mut Evidence, host: &str, a: QueryOutcome, aaaa: QueryOutcome) {
    ev.dns.names.retain(|n| n.host.as_str() != host);
    ev.tcp
        .attempts
        .retain(|t| !matches!(&t.origin, Origin::Name { host: h, .. } if h.as_str() == host));
    ev.dns.names.push(NameResolution {
        host: host.parse().unwrap(),
        a,
        aaaa,
        elapsed_ms: 10,
    });
}

/// Sets every attempt on `port` to `outcome`.
pub fn set_port(ev: &mut Evidence, port: u16, outcome: TcpOutcome) {
    for attempt in ev.tcp.attempts.iter_mut().filter(|a| a.port == port) {
        attempt.outcome = outcome.clone();
    }
}

/// Adds a fixed target attempt.
pub fn add_attempt(ev: &mut Evidence, addr: &str, port: u16, origin: Origin, outcome: TcpOutcome) {
    ev.tcp.attempts.push(TcpAttempt {
        addr: addr.parse().unwrap(),
        port,
        origin,
        outcome,
    });
}

/// A dropped SYN.
pub fn timed_out() -> TcpOutcome {
    TcpOutcome::TimedOut { ms: 3000 }
}

/// The ids of the causes, most likely first.
pub fn ids(ev: &Evidence) -> Vec<String> {
    super::diagnose(ev)
        .causes
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Applies `fault` to a healthy run and checks the cause ranked first: its id and severity,
/// that it names evidence and a fix, and the verdict that follows. Returns the diagnosis for further checks.
pub fn assert_top(
    what: &str,
    fault: fn(&mut Evidence),
    id: &str,
    severity: super::Severity,
) -> super::Diagnosis {
    let mut ev = healthy();
    fault(&mut ev);
    let d = super::diagnose(&ev);
    let top = d
        .causes
        .first()
        .unwrap_or_else(|| panic!("{what}: no cause"));
    assert_eq!(
        (top.id.as_str(), top.severity),
        (id, severity),
        "{what}: {:?}",
        d.causes
    );
    assert!(!top.evidence.is_empty(), "{what}: no evidence");
    assert!(!top.remedy.is_empty(), "{what}: no remedy");
    let verdict = match severity {
        super::Severity::Blocking => super::Verdict::Blocked,
        super::Severity::Warning => super::Verdict::Warnings,
        super::Severity::Info => super::Verdict::Ready,
    };
    assert_eq!(d.verdict, verdict, "{what}");
    d
}

/// Every handshake of `class` ends with `result` and shows no chain (through `via`, if given).
pub fn fail_handshakes(
    ev: &mut Evidence,
    class: TrustClass,
    result: HandshakeResult,
    via: Option<&str>,
) {
    for h in ev.tls.handshakes.iter_mut().filter(|h| h.class == class) {
        h.chain.clear();
        h.verification = None;
        h.via_proxy = via.map(str::to_string);
        h.result = result.clone();
    }
}
