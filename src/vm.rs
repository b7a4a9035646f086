//! Every path this tool reads on the inspected VM, in one place.
//!
//! Paths are relative to `--root` (a mounted image, a fixture tree, or `/`), and every one of
//! them is read through [`crate::probe::rootfs`], as a chroot would. Probes, the plan and the
//! bundle name these constants, never a literal: when the paths lived in six files they
//! drifted (the clock probe read ntpsec's `ntp.conf`, the bundle never collected it). The
//! bundle collects [`CONFIG_FILES`]; everything else a run reads is in [`NOT_COLLECTED`] with
//! the reason, and a test checks that every file a run reads is one or the other.

use std::path::{Path, PathBuf};

/// A file of the inspected system: the root it lives under (`--root`) and its path inside it.
/// The plan names files this way and the probes read them this way, inside the root as a
/// chroot would; the two halves are never joined and split again. A file of this host named by
/// the user (`--log`) has no root: it is the path as given, relative to the current directory
/// when it is relative. On the wire it is the joined path, as reports have always carried it;
/// a path read back from a report is shown, never read, so it comes back as that one path.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(into = "String", from = "String")]
pub struct VmPath {
    /// The inspected system's root: `/`, or a mounted image.
    pub root: PathBuf,
    /// The path inside it (relative, or absolute as the inspected system writes it).
    pub rel: PathBuf,
}

impl VmPath {
    /// `rel` under `root`.
    pub fn new(root: impl Into<PathBuf>, rel: impl Into<PathBuf>) -> VmPath {
        VmPath {
            root: root.into(),
            rel: rel.into(),
        }
    }

    /// A file of this host, named by the user (`--log`), whatever `--root` says: the path as
    /// given, no root.
    pub fn host(path: impl Into<PathBuf>) -> VmPath {
        VmPath::new(PathBuf::new(), path)
    }

    /// Whether this is a file of this host as named, not one under a root.
    pub fn is_host(&self) -> bool {
        self.root.as_os_str().is_empty()
    }

    /// The one joined path, for people and for the report.
    pub fn joined(&self) -> PathBuf {
        if self.is_host() || (self.root == Path::new("/") && self.rel.is_absolute()) {
            return self.rel.clone();
        }
        self.root
            .join(self.rel.strip_prefix("/").unwrap_or(&self.rel))
    }
}

impl std::fmt::Display for VmPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.joined().display())
    }
}

impl From<VmPath> for String {
    fn from(path: VmPath) -> String {
        path.to_string()
    }
}

impl From<String> for VmPath {
    fn from(path: String) -> VmPath {
        VmPath::host(path)
    }
}

/// The resolver configuration.
pub const RESOLV_CONF: &str = "etc/resolv.conf";
/// systemd-resolved's stub file, which `etc/resolv.conf` usually links to.
pub const RESOLVED_STUB: &str = "run/systemd/resolve/stub-resolv.conf";
/// The OS release, and its fallback location.
pub const OS_RELEASE: &str = "etc/os-release";
/// Where os-release lives when `etc/os-release` is absent.
pub const OS_RELEASE_FALLBACK: &str = "usr/lib/os-release";
/// Users: the connector user's uid and gid (never the host's NSS).
pub const PASSWD: &str = "etc/passwd";
/// System-wide environment: `https_proxy`, `no_proxy`.
pub const ENVIRONMENT: &str = "etc/environment";

/// The host name, in an image.
pub const HOSTNAME: &str = "etc/hostname";
/// The host name the kernel uses, on the live system.
pub const KERNEL_HOSTNAME: &str = "proc/sys/kernel/hostname";
/// systemd's machine id.
pub const MACHINE_ID: &str = "etc/machine-id";
/// The cloud's instance id, as cloud-init recorded it.
pub const CLOUD_INSTANCE_ID: &str = "var/lib/cloud/data/instance-id";

/// The time daemons' configuration (chrony, ntpd, ntpsec, timesyncd), in the order read.
pub const NTP_CONFIGS: &[&str] = &[
    "etc/chrony.conf",
    "etc/chrony/chrony.conf",
    "etc/ntp.conf",
    "etc/ntpsec/ntp.conf",
    "etc/systemd/timesyncd.conf",
];
/// chronyd's binary: installed or not.
pub const CHRONYD: &[&str] = &["usr/sbin/chronyd"];
/// ntpd's binary.
pub const NTPD: &[&str] = &["usr/sbin/ntpd"];
/// systemd-timesyncd's binary (RHEL and Amazon Linux, then Debian's merged-usr-less layout).
pub const TIMESYNCD: &[&str] = &[
    "usr/lib/systemd/systemd-timesyncd",
    "lib/systemd/systemd-timesyncd",
];

/// SELinux's configuration (`SELINUX=`, `SELINUXTYPE=`).
pub const SELINUX_CONFIG: &str = "etc/selinux/config";
/// Whether SELinux is enforcing, on a live system.
pub const SELINUX_ENFORCE: &str = "sys/fs/selinux/enforce";
/// The SELinux module store (`<type>/active/modules/<priority>/<name>/`).
pub const SELINUX_STORE: &str = "var/lib/selinux";
/// The audit log, for the connector's denials.
pub const AUDIT_LOG: &str = "var/log/audit/audit.log";

/// The connector's installation.
pub const CONNECTOR_DIR: &str = "opt/zscaler";
/// The connector's binaries.
pub const CONNECTOR_BIN: &str = "opt/zscaler/bin";
/// Where the connector keeps its state and its provision key (it must be writable).
pub const CONNECTOR_VAR: &str = "opt/zscaler/var";
/// The provision key, read at the connector's first start. Never collected, never printed.
pub const PROVISION_KEY: &str = "opt/zscaler/var/provision_key";
/// The connector's own proxy (`host:port`, perhaps with credentials).
pub const CONNECTOR_PROXY: &str = "opt/zscaler/var/proxy";
/// What the connector sends direct, around its proxy.
pub const CONNECTOR_PROXY_BYPASS: &str = "opt/zscaler/var/proxy-bypass";
/// The connector's own log.
pub const CONNECTOR_LOG: &str = "var/log/zpa/connector.log";
/// The connector's systemd unit.
pub const CONNECTOR_UNIT: &str = "usr/lib/systemd/system/zpa-connector.service";
/// The link that enables it at boot (inspected as a link, on purpose: never followed).
pub const CONNECTOR_UNIT_ENABLED: &str =
    "etc/systemd/system/multi-user.target.wants/zpa-connector.service";

/// Where enabled units are linked (inspected as links, never followed).
pub const UNIT_WANTS: &[&str] = &[
    "etc/systemd/system/timers.target.wants",
    "etc/systemd/system/multi-user.target.wants",
];
/// dnf-automatic's configuration (`apply_updates`).
pub const DNF_AUTOMATIC: &str = "etc/dnf/automatic.conf";
/// yum-cron's configuration (`apply_updates`).
pub const YUM_CRON: &str = "etc/yum/yum-cron.conf";
/// unattended-upgrades' switch.
pub const APT_AUTO_UPGRADES: &str = "etc/apt/apt.conf.d/20auto-upgrades";

/// CPUs.
pub const CPUINFO: &str = "proc/cpuinfo";
/// Memory.
pub const MEMINFO: &str = "proc/meminfo";
/// IPv4 forwarding (a Cloud Connector's gateway duty).
pub const IPV4_FORWARD: &str = "proc/sys/net/ipv4/ip_forward";
/// IPv6 forwarding.
pub const IPV6_FORWARD: &str = "proc/sys/net/ipv6/conf/all/forwarding";

/// The configuration a support engineer asks for first: the bundle collects each one that
/// exists, secrets removed by shape.
pub const CONFIG_FILES: &[&str] = &[
    OS_RELEASE,
    OS_RELEASE_FALLBACK,
    RESOLV_CONF,
    RESOLVED_STUB,
    NTP_CONFIGS[0],
    NTP_CONFIGS[1],
    NTP_CONFIGS[2],
    NTP_CONFIGS[3],
    NTP_CONFIGS[4],
    SELINUX_CONFIG,
    ENVIRONMENT,
    CONNECTOR_PROXY,
    CONNECTOR_PROXY_BYPASS,
    DNF_AUTOMATIC,
    YUM_CRON,
    APT_AUTO_UPGRADES,
];

/// Files a run may read that the bundle does not collect, and why.
pub const NOT_COLLECTED: &[(&str, &str)] = &[
    (
        PROVISION_KEY,
        "the provision key is a secret: never collected",
    ),
    (
        PASSWD,
        "the user database: only the connector user's ids are kept, in the report",
    ),
    (
        AUDIT_LOG,
        "the connector's denials are kept in the report, not the whole audit log",
    ),
    (
        CONNECTOR_LOG,
        "logs are bundled as their last lines, under logs/",
    ),
    (CPUINFO, "runtime state: its value is in the report"),
    (MEMINFO, "runtime state: its value is in the report"),
    (SELINUX_ENFORCE, "runtime state: its value is in the report"),
    (IPV4_FORWARD, "runtime state: its value is in the report"),
    (IPV6_FORWARD, "runtime state: its value is in the report"),
    (
        HOSTNAME,
        "the machine's identity: in the report's `machine`",
    ),
    (
        KERNEL_HOSTNAME,
        "the machine's identity: in the report's `machine`",
    ),
    (
        MACHINE_ID,
        "the machine's identity: in the report's `machine`",
    ),
    (
        CLOUD_INSTANCE_ID,
        "the machine's identity: in the report's `machine`",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_path_is_joined_once_and_is_its_joined_path_on_the_wire() {
        for (root, rel, joined) in [
            ("/", RESOLV_CONF, "/etc/resolv.conf"),
            ("/mnt/vm", RESOLV_CONF, "/mnt/vm/etc/resolv.conf"),
            (
                "/mnt/vm",
                "/etc/pki/tls/cert.pem",
                "/mnt/vm/etc/pki/tls/cert.pem",
            ),
            ("roots/vm", RESOLV_CONF, "roots/vm/etc/resolv.conf"),
            // A --log as the user named it: no root, relative stays relative.
            ("", "/tmp/connector.log", "/tmp/connector.log"),
            ("", "logs/connector.log", "logs/connector.log"),
        ] {
            let path = VmPath::new(root, rel);
            assert_eq!(path.to_string(), joined);
            let wire = serde_json::to_value(&path).unwrap();
            assert_eq!(wire, serde_json::json!(joined));
            // Read back from a report, it is shown the same (and never read).
            let back: VmPath = serde_json::from_value(wire).unwrap();
            assert_eq!(back.to_string(), joined);
        }
    }

    #[test]
    fn every_path_is_relative_and_listed_once() {
        let mut all: Vec<&str> = CONFIG_FILES.to_vec();
        all.extend(NOT_COLLECTED.iter().map(|(path, _)| *path));
        for path in &all {
            assert!(!path.starts_with('/'), "{path} must be relative to --root");
        }
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "a path is both collected and not");
        for config in NTP_CONFIGS {
            assert!(CONFIG_FILES.contains(config), "{config} is not collected");
        }
    }
}
