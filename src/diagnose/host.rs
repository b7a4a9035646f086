//! Host rules: SELinux and the VM's fitness (`host.*`, `selinux.*`), and the host lines of
//! the check list (the key's and the connector's included: what a VM holds). The key's rules
//! are `key.rs`'s, the connector's `connector.rs`'s.
//!
//! "Unknown" stays unknown: a module store or audit log this tool could not read (not root)
//! lowers a cause's confidence and says so; it is never read as "fine".

use super::{Cause, Check, CheckStatus, Facts, Severity, list, status_of};
use crate::evidence::{KeyState, Need, Selinux};

/// The CPU architectures Zscaler packages the App Connector for (`uname -m` spelling).
const CONNECTOR_ARCHITECTURES: &[&str] = &["x86_64"];

/// `selinux.denials_seen` and `selinux.blocks_connector`.
pub(super) fn selinux(facts: &Facts) -> Vec<Cause> {
    if facts.host_spec().is_none() {
        return Vec::new();
    }
    let Selinux::Active {
        enforcing,
        zscaler_modules,
        denials,
        policy,
        ..
    } = &facts.evidence.host.selinux
    else {
        return Vec::new();
    };
    let remedy = "Install the connector's SELinux policy module (`semodule -i`) and keep SELinux \
                  enforcing; do not `setenforce 0`. `ausearch -m AVC -c zpa-connector` shows what \
                  is denied.";
    if let Some(denials) = denials.as_ref().filter(|d| !d.is_empty()) {
        let mut evidence: Vec<String> = denials.iter().rev().take(3).cloned().collect();
        if denials.len() > 3 {
            evidence.push(format!("… {} denials in all", denials.len()));
        }
        return vec![
            Cause::new(
                crate::causes::SELINUX_DENIALS_SEEN.id(),
                if *enforcing {
                    Severity::Blocking
                } else {
                    Severity::Warning
                },
                0.9,
            )
            .title("SELinux denies the connector")
            .detail(format!(
                "The audit log holds {} AVC denial(s) for the connector{}.",
                denials.len(),
                if *enforcing {
                    " and SELinux is enforcing, so they are enforced"
                } else {
                    " (permissive now: they would block once enforcing)"
                }
            ))
            .evidence(evidence)
            .remedy(remedy),
        ];
    }
    if !*enforcing {
        return Vec::new();
    }
    let (confidence, seen) = match zscaler_modules {
        Some(modules) if !modules.is_empty() => return Vec::new(),
        Some(_) => (0.6, "no Zscaler policy module is installed".to_string()),
        None => (
            0.4,
            "the policy module store could not be read (not root?), so whether a Zscaler module \
             is installed is unknown"
                .to_string(),
        ),
    };
    let denials_note = if denials.is_none() {
        "the audit log could not be read"
    } else {
        "no denial is logged yet"
    };
    vec![
        Cause::new(
            crate::causes::SELINUX_BLOCKS_CONNECTOR.id(),
            Severity::Warning,
            confidence,
        )
        .title("SELinux is enforcing without a Zscaler policy module")
        .detail(format!(
            "SELinux enforces the {} policy and {seen}; the connector's control channel is \
                 likely to be denied ({denials_note}).",
            policy.as_deref().unwrap_or("targeted")
        ))
        .evidence(vec![format!("enforcing; {seen}; {denials_note}")])
        .remedy(remedy),
    ]
}

/// `host.*`: the VM's size, system, upgrades and the permissions the connector needs.
pub(super) fn fitness(facts: &Facts) -> Vec<Cause> {
    let Some(spec) = facts.host_spec() else {
        return Vec::new();
    };
    let host = &facts.evidence.host;
    let mut causes = Vec::new();
    for access in host.access.iter().filter(|a| a.granted == Some(false)) {
        // The probe checks read access to resolv.conf and write access to the state directory.
        let (id, what) = match access.need {
            Need::Read => (crate::causes::HOST_RESOLV_UNREADABLE.id(), "read"),
            Need::Write => (crate::causes::HOST_VAR_UNWRITABLE.id(), "write"),
        };
        causes.push(
            Cause::new(id, Severity::Blocking, 0.9)
                .title(format!(
                    "The {} user cannot {what} {}",
                    spec.connector_user, access.path
                ))
                .detail(format!(
                    "{} is mode {} and the connector runs as {}: enrollment fails (a documented \
                     cause: \"DNS resolution failed\" or a key that cannot be stored).",
                    access.path,
                    access.mode.as_deref().unwrap_or("?"),
                    spec.connector_user
                ))
                .evidence(vec![format!(
                    "{} mode {}, {} needs {}",
                    access.path,
                    access.mode.as_deref().unwrap_or("?"),
                    spec.connector_user,
                    access.need
                )])
                .remedy(if what == "read" {
                    "`chmod 644 /etc/resolv.conf` (and check the SELinux label: `restorecon -v /etc/resolv.conf`).".to_string()
                } else {
                    format!("`chown -R {0}:{0} /opt/zscaler/var`.", spec.connector_user)
                }),
        );
    }
    let mut small = Vec::new();
    if let Some(n) = host.vcpus.filter(|n| *n < spec.min_vcpus) {
        small.push(format!("{n} vCPU (minimum {})", spec.min_vcpus));
    }
    if let Some(m) = host.memory_mib.filter(|m| *m < spec.min_memory_mib) {
        small.push(format!(
            "{m} MiB of memory (minimum {} MiB)",
            spec.min_memory_mib
        ));
    }
    if let Some(d) = host.free_disk_mib.filter(|d| *d < spec.min_free_disk_mib) {
        small.push(format!(
            "{d} MiB free disk (minimum {} MiB)",
            spec.min_free_disk_mib
        ));
    }
    if !small.is_empty() {
        causes.push(
            Cause::new(crate::causes::HOST_UNDERSIZED.id(), Severity::Warning, 0.9)
                .title("The VM is below the connector's minimum size")
                .detail(format!("This VM has {}.", list(&small, 3)))
                .evidence(small)
                .remedy("Give the connector at least 2 vCPU and 4 GB (more for RDP-heavy use), and deploy N+1."),
        );
    }
    if let Some(os) = &host.os {
        let major = os.version_id.split('.').next().unwrap_or_default();
        let supported = spec
            .supported_os
            .iter()
            .any(|s| s.id == os.id && s.versions.iter().any(|v| v == major));
        if !supported {
            let list_os: Vec<String> = spec
                .supported_os
                .iter()
                .map(|s| format!("{} {}", s.id, s.versions.join("/")))
                .collect();
            causes.push(
                Cause::new(crate::causes::HOST_UNSUPPORTED_OS.id(), Severity::Warning, 0.8)
                    .title(format!("{} is not a supported connector OS", os.pretty))
                    .detail(format!(
                        "os-release says {} {}; the connector package is built for {}.",
                        os.id,
                        os.version_id,
                        list_os.join(", ")
                    ))
                    .evidence(vec![format!("ID={} VERSION_ID={}", os.id, os.version_id)])
                    .remedy("Deploy the connector on RHEL 8/9 (or a rebuild) or Amazon Linux 2, or use Zscaler's published image."),
            );
        }
    }
    // The connector is packaged for x86_64 only (its Linux prerequisites, shared/DOMAIN.md §2):
    // on any other CPU there is nothing to install, so this blocks whatever the network says.
    // Unknown (`--root` other than `/`) is not judged.
    if let Some(arch) = host
        .arch
        .as_deref()
        .filter(|a| !CONNECTOR_ARCHITECTURES.contains(a))
    {
        causes.push(
            Cause::new(crate::causes::HOST_UNSUPPORTED_ARCH.id(), Severity::Blocking, 0.95)
                .title(format!("This VM's CPU ({arch}) cannot run the connector"))
                .detail(format!(
                    "The App Connector is built for {} only; there is no package for {arch}.",
                    CONNECTOR_ARCHITECTURES.join(", ")
                ))
                .evidence(vec![format!("machine architecture {arch}")])
                .remedy("Deploy the connector on an x86_64 VM (an x86 instance type, not Graviton, Ampere or another Arm one)."),
        );
    }
    if !host.auto_updates.is_empty() {
        causes.push(
            Cause::new(crate::causes::HOST_AUTO_UPDATES.id(), Severity::Warning, 0.7)
                .title("Unattended OS upgrades are enabled")
                .detail(
                    "The connector ships its own TLS and crypto stack and is sensitive to library \
                     versions: unattended upgrades have broken whole fleets at the next restart.",
                )
                .evidence(host.auto_updates.clone())
                .remedy("Disable unattended upgrades on connector VMs; patch one connector of a group at a time in a window."),
        );
    }
    causes
}

/// The SELinux, host and connector lines of the check list.
pub(super) fn checks(facts: &Facts) -> Vec<Check> {
    let skipped = |id: &str, label: &str, reason: &str| Check {
        id: id.into(),
        label: label.into(),
        status: CheckStatus::Skipped,
        summary: String::new(),
        reason: Some(reason.into()),
    };
    if facts.host_spec().is_none() {
        return vec![skipped("host", "Host", "this profile has no host checks")];
    }
    let host = &facts.evidence.host;
    let selinux_summary = match &host.selinux {
        Selinux::NotRun => "not checked".to_string(),
        Selinux::Unknown { reason } => format!("unknown ({reason})"),
        Selinux::Disabled { configured } => format!(
            "disabled (no selinuxfs){}",
            configured
                .as_deref()
                .map(|c| format!(" · config says {c}"))
                .unwrap_or_default()
        ),
        Selinux::Active {
            enforcing,
            zscaler_modules,
            denials,
            ..
        } => format!(
            "{} · {} · {}",
            if *enforcing {
                "enforcing"
            } else {
                "permissive"
            },
            match zscaler_modules {
                Some(m) if !m.is_empty() => format!("Zscaler module {}", m.join(", ")),
                Some(_) => "no Zscaler policy module found".into(),
                None => "module store unreadable (unknown)".into(),
            },
            match denials {
                Some(d) => format!("{} connector denial(s)", d.len()),
                None => "audit log unreadable (unknown)".into(),
            }
        ),
    };
    let mut parts = Vec::new();
    if let Some(os) = &host.os {
        parts.push(os.pretty.clone());
    }
    if let Some(n) = host.vcpus {
        parts.push(format!("{n} vCPU"));
    }
    if let Some(m) = host.memory_mib {
        parts.push(format!("{:.1} GiB", m as f64 / 1024.0));
    }
    if let Some(d) = host.free_disk_mib {
        parts.push(format!("{:.1} GiB free", d as f64 / 1024.0));
    }
    parts.push(if host.auto_updates.is_empty() {
        "auto-updates off".into()
    } else {
        "auto-updates ON".into()
    });
    let key = match &host.key {
        KeyState::NotRun => "key not checked".to_string(),
        KeyState::Missing => "no provision key".into(),
        KeyState::Unreadable { .. } => "provision key unreadable here".into(),
        KeyState::Present {
            mode,
            lines,
            malformed,
            ..
        } => format!(
            "provision key present ({mode}, {lines} line{}){}",
            if *lines == 1 { "" } else { "s" },
            malformed
                .as_deref()
                .map(|m| format!(", {m}"))
                .unwrap_or_default()
        ),
    };
    let c = &host.connector;
    let service = if !c.installed {
        "connector not installed".to_string()
    } else {
        format!(
            "connector installed{}{}{}",
            if c.enabled {
                ", enabled"
            } else {
                ", not enabled"
            },
            match c.running {
                Some(true) => ", running",
                Some(false) => ", not running",
                None => "",
            },
            if c.enrolled { ", enrolled" } else { "" }
        )
    };
    let logs: Vec<String> = host
        .logs
        .iter()
        .map(|l| match &l.error {
            Some(e) => format!("{}: {e}", l.path),
            None => format!("{}: {} known line(s)", l.path, l.findings.len()),
        })
        .collect();
    let mut connector_summary = vec![key, service];
    connector_summary.extend(logs);
    vec![
        match &host.selinux {
            // Unknown is an answer with its reason, never a pass.
            Selinux::Unknown { reason } => Check {
                id: "selinux".into(),
                label: "SELinux".into(),
                status: CheckStatus::Skipped,
                summary: String::new(),
                reason: Some(format!("unknown: {reason}")),
            },
            _ => Check {
                id: "selinux".into(),
                label: "SELinux".into(),
                status: status_of(&selinux(facts)),
                summary: selinux_summary,
                reason: None,
            },
        },
        // Nothing of the VM read (no os-release, cpuinfo or meminfo under the root): its fitness
        // is unknown, never a pass (found by the hostile round: an empty root was "Host ✓").
        if host.os.is_none() && host.vcpus.is_none() && host.memory_mib.is_none() {
            let causes = fitness(facts);
            Check {
                id: "host".into(),
                label: "Host".into(),
                status: if causes.is_empty() {
                    CheckStatus::Skipped
                } else {
                    status_of(&causes)
                },
                summary: parts.join(" · "),
                reason: causes.is_empty().then(|| {
                    "unknown: no os-release, /proc/cpuinfo or /proc/meminfo could be read".into()
                }),
            }
        } else {
            Check {
                id: "host".into(),
                label: "Host".into(),
                status: status_of(&fitness(facts)),
                summary: parts.join(" · "),
                reason: None,
            }
        },
        Check {
            id: "connector".into(),
            label: "Connector".into(),
            status: status_of(
                &[
                    super::key::provision_key(facts),
                    super::connector::not_running(facts),
                ]
                .concat(),
            ),
            summary: connector_summary.join(" · "),
            reason: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Severity, diagnose};
    use crate::evidence::{Evidence, KeyState, LogFile, LogFinding, Selinux};

    fn enforcing(modules: Option<Vec<String>>, denials: Option<Vec<String>>) -> Selinux {
        Selinux::Active {
            enforcing: true,
            configured: Some("enforcing".into()),
            policy: Some("targeted".into()),
            zscaler_modules: modules,
            denials,
        }
    }

    fn key(ev: &mut Evidence, edit: fn(&mut KeyState)) {
        edit(&mut ev.host.key);
    }

    /// (what is wrong with the VM, the cause ranked first, its severity)
    #[test]
    fn table() {
        type Fault = fn(&mut Evidence);
        let cases: &[(&str, Fault, &str, Severity)] = &[
            (
                "enforcing, no module",
                |ev| ev.host.selinux = enforcing(Some(vec![]), Some(vec![])),
                "selinux.blocks_connector",
                Severity::Warning,
            ),
            (
                "enforcing with denials",
                |ev| {
                    ev.host.selinux = enforcing(
                        Some(vec![]),
                        Some(vec![
                            "avc: denied { name_connect } comm=\"zpa-connector\" dest=9000".into(),
                        ]),
                    )
                },
                "selinux.denials_seen",
                Severity::Blocking,
            ),
            (
                "undersized",
                |ev| ev.host.vcpus = Some(1),
                "host.undersized",
                Severity::Warning,
            ),
            (
                "Ubuntu",
                |ev| {
                    let os = ev.host.os.as_mut().unwrap();
                    os.id = "ubuntu".into();
                    os.version_id = "22.04".into();
                },
                "host.unsupported_os",
                Severity::Warning,
            ),
            (
                "an Arm VM",
                |ev| ev.host.arch = Some("aarch64".into()),
                "host.unsupported_arch",
                Severity::Blocking,
            ),
            (
                "unattended upgrades",
                |ev| {
                    ev.host.auto_updates = vec!["dnf-automatic installs updates on a timer".into()]
                },
                "host.auto_updates",
                Severity::Warning,
            ),
            (
                "resolv.conf unreadable",
                |ev| ev.host.access[0].granted = Some(false),
                "host.resolv_unreadable",
                Severity::Blocking,
            ),
            (
                "key missing, connector installed",
                |ev| {
                    ev.host.key = KeyState::Missing;
                    ev.host.connector.installed = true;
                },
                "key.missing",
                Severity::Blocking,
            ),
            (
                "key empty",
                |ev| {
                    key(ev, |k| {
                        if let KeyState::Present { malformed, .. } = k {
                            *malformed = Some("empty".into())
                        }
                    })
                },
                "key.malformed",
                Severity::Blocking,
            ),
            (
                "key world-writable",
                |ev| {
                    key(ev, |k| {
                        if let KeyState::Present { world_writable, .. } = k {
                            *world_writable = true
                        }
                    })
                },
                "key.world_writable",
                Severity::Warning,
            ),
            (
                "key unreadable by the connector",
                |ev| {
                    key(ev, |k| {
                        if let KeyState::Present {
                            readable_by_connector,
                            ..
                        } = k
                        {
                            *readable_by_connector = Some(false)
                        }
                    })
                },
                "key.unreadable",
                Severity::Blocking,
            ),
            (
                "connector enabled but dead",
                |ev| {
                    ev.host.connector.installed = true;
                    ev.host.connector.enabled = true;
                    ev.host.connector.running = Some(false);
                },
                "connector.not_running",
                Severity::Blocking,
            ),
        ];
        for (what, fault, id, severity) in cases {
            assert_top(what, *fault, id, *severity);
        }
    }

    #[test]
    fn unknown_module_store_is_not_fine() {
        let mut ev = healthy();
        ev.host.selinux = enforcing(None, None);
        let d = diagnose(&ev);
        assert_eq!(d.causes[0].id, "selinux.blocks_connector");
        assert_eq!(d.causes[0].confidence, 0.4);
        assert!(
            d.causes[0].detail.contains("unknown"),
            "{}",
            d.causes[0].detail
        );
    }

    fn log(lines: &[(&str, usize, &str)]) -> LogFile {
        LogFile {
            path: "/var/log/zpa/connector.log".into(),
            error: None,
            findings: lines
                .iter()
                .map(|(pattern, line, excerpt)| LogFinding {
                    pattern: (*pattern).into(),
                    line: *line,
                    excerpt: (*excerpt).into(),
                })
                .collect(),
            counts: Default::default(),
        }
    }

    #[test]
    fn a_log_line_and_a_chain_are_one_cause_with_more_confidence() {
        let mut ev = healthy();
        resign_brokers(&mut ev, dn("Forcepoint Cloud CA", "Forcepoint"));
        let alone = diagnose(&ev).causes[0].confidence;
        ev.host.logs = vec![log(&[(
            "interception",
            812,
            "BEV_EVENT_ERROR, sock=12 self signed certificate in certificate chain /C=US/O=Forcepoint/CN=Forcepoint Cloud CA",
        )])];
        let d = diagnose(&ev);
        let intercepted: Vec<_> = d
            .causes
            .iter()
            .filter(|c| c.id == "tls.intercepted")
            .collect();
        assert_eq!(intercepted.len(), 1);
        assert!(intercepted[0].confidence > alone);
        assert!(
            intercepted[0]
                .evidence
                .iter()
                .any(|e| e.starts_with("/var/log/zpa/connector.log:812:"))
        );
    }

    #[test]
    fn a_log_alone_raises_its_cause_and_names_the_product() {
        let mut ev = healthy();
        ev.tls.handshakes.clear();
        ev.host.logs = vec![log(&[
            (
                "interception",
                3,
                "self signed certificate in certificate chain /C=US/O=Safemarch/CN=Safemarch Inc CA",
            ),
            (
                "key_rejected",
                9,
                "error:Login request failed - http status(401) nonce(<3|api…|…>)",
            ),
            (
                "cloned_vm",
                12,
                "Cannot decrypt data from instance_id.crypt",
            ),
        ])];
        let d = diagnose(&ev);
        let ids: Vec<&str> = d.causes.iter().map(|c| c.id.as_str()).collect();
        assert!(
            ids.contains(&"tls.intercepted")
                && ids.contains(&"key.rejected")
                && ids.contains(&"host.cloned"),
            "{ids:?}"
        );
        let tls = d.causes.iter().find(|c| c.id == "tls.intercepted").unwrap();
        assert!(tls.title.contains("Safemarch"), "{}", tls.title);
    }
}
