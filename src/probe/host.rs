//! The host probe: the VM itself, read under `--root` so that a fixture tree or the mounted
//! disk of a broken VM can be inspected like the live system.
//!
//! SELinux is read from selinuxfs and its config (no libselinux, no `getenforce`), resources
//! from `/proc` under the root, ownership and modes from the files themselves. Processes and
//! the local debug port count only when `--root` is `/`. The provision key is read to judge
//! its shape and the contents are dropped at once: they never reach the evidence, the report
//! or the screen.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::rootfs::{CONFIG_CAP, Refusal, RootFs};
use crate::evidence::{
    Connector, HostEvidence, KeyState, LogFile, LogFinding, Need, OsRelease, PathAccess, Selinux,
};
use crate::profile::{HostSpec, LogPattern};

use crate::vm::{self, CONNECTOR_VAR, PROVISION_KEY as KEY};
/// The longest log line kept in an excerpt.
const EXCERPT: usize = 240;

/// Reads everything the host checks need.
/// `debug_port` is what the schedule's probe of the connector's debug interface saw (it runs
/// with the network probes, under their deadline); it counts only when the connector runs.
pub fn inspect(
    root: &Path,
    spec: &HostSpec,
    logs: &[crate::vm::VmPath],
    patterns: &[LogPattern],
    debug_port: Option<bool>,
) -> HostEvidence {
    let live = root == Path::new("/");
    let user = connector_user(root, &spec.connector_user);
    let connector = connector(root, live, debug_port);
    HostEvidence {
        checked: true,
        selinux: selinux(root, &spec.selinux_modules),
        os: os_release(root),
        arch: live.then(|| std::env::consts::ARCH.to_string()),
        vcpus: read(root, vm::CPUINFO)
            .map(|t| count_cpus(&t))
            .filter(|n| *n > 0),
        memory_mib: read(root, vm::MEMINFO).and_then(|t| mem_total_mib(&t)),
        free_disk_mib: free_disk_mib(root),
        auto_updates: auto_updates(root),
        connector_user: user,
        access: vec![
            access(root, vm::RESOLV_CONF, Need::Read, user),
            access(root, CONNECTOR_VAR, Need::Write, user),
        ],
        key: key(root, user),
        connector,
        logs: {
            // The key's token, read once for every log.
            let secrets = secrets(root);
            logs.iter()
                .map(|path| scan_log(path, patterns, &secrets))
                .collect()
        },
    }
}

/// The most of a provision key file read: a key is one short line, 64 KiB is far past any.
const KEY_CAP: u64 = 64 * 1024;

fn read(root: &Path, rel: &str) -> Option<String> {
    RootFs::new(root).read(rel, CONFIG_CAP).ok()
}

/// At most `max` bytes of a regular file under `root`, resolved inside it ([`RootFs`]).
pub fn read_bounded(root: &Path, rel: &str, max: u64) -> Option<String> {
    RootFs::new(root).read(rel, max).ok()
}

/// `KEY=value` lines (os-release, selinux config), quotes removed.
fn key_values(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let (k, v) = line.trim().split_once('=')?;
        Some((k.trim(), v.trim().trim_matches('"').trim_matches('\'')))
    })
}

fn value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    key_values(text).find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn selinux(root: &Path, candidates: &[String]) -> Selinux {
    let config = read(root, vm::SELINUX_CONFIG);
    let configured = config
        .as_deref()
        .and_then(|c| value(c, "SELINUX"))
        .map(str::to_string);
    // Only a missing enforce file means no selinuxfs; one that cannot be read says nothing.
    let enforce = match RootFs::new(root).read(vm::SELINUX_ENFORCE, CONFIG_CAP) {
        Ok(text) => text,
        Err(super::rootfs::Refusal::Missing) => return Selinux::Disabled { configured },
        Err(why) => {
            return Selinux::Unknown {
                reason: format!("/{}: {why}", vm::SELINUX_ENFORCE),
            };
        }
    };
    let policy = config
        .as_deref()
        .and_then(|c| value(c, "SELINUXTYPE"))
        .map(str::to_string);
    let zscaler_modules =
        selinux_modules(root, policy.as_deref().unwrap_or("targeted")).map(|modules| {
            modules
                .into_iter()
                .filter(|m| {
                    candidates
                        .iter()
                        .any(|c| m.to_lowercase().contains(c.as_str()))
                })
                .collect()
        });
    Selinux::Active {
        enforcing: enforce.trim() == "1",
        configured,
        policy,
        zscaler_modules,
        denials: read(root, vm::AUDIT_LOG).map(|log| connector_denials(&log)),
    }
}

/// Module names in `/var/lib/selinux/<type>/active/modules/<priority>/<name>/`.
fn selinux_modules(root: &Path, policy: &str) -> Option<Vec<String>> {
    // Resolved inside the root, as every read of the inspected system is.
    let store = RootFs::new(root)
        .resolve(
            Path::new(vm::SELINUX_STORE)
                .join(policy)
                .join("active/modules"),
        )
        .ok()?;
    let mut names = Vec::new();
    for priority in std::fs::read_dir(store).ok()?.filter_map(Result::ok) {
        for module in std::fs::read_dir(priority.path())
            .ok()?
            .filter_map(Result::ok)
        {
            names.push(module.file_name().to_string_lossy().into_owned());
        }
    }
    Some(names)
}

/// AVC denials that concern the connector: its process, its contexts, its control port,
/// the resolver configuration it must read, or its state directory.
pub fn connector_denials(audit: &str) -> Vec<String> {
    audit
        .lines()
        .filter(|l| l.contains("avc:") && l.contains("denied"))
        .filter(|l| {
            l.contains("comm=\"zpa-connector")
                || l.contains("zpa")
                || l.contains("zscaler")
                || (l.contains("name_connect") && l.contains("dest=9000"))
        })
        .map(shorten)
        .collect()
}

fn os_release(root: &Path) -> Option<OsRelease> {
    let text = read(root, vm::OS_RELEASE).or_else(|| read(root, vm::OS_RELEASE_FALLBACK))?;
    Some(OsRelease {
        id: value(&text, "ID").unwrap_or_default().to_string(),
        version_id: value(&text, "VERSION_ID").unwrap_or_default().to_string(),
        pretty: value(&text, "PRETTY_NAME").unwrap_or_default().to_string(),
    })
}

/// `processor` lines of /proc/cpuinfo.
pub fn count_cpus(cpuinfo: &str) -> u32 {
    cpuinfo
        .lines()
        .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
        .count() as u32
}

/// `MemTotal:` of /proc/meminfo, in MiB.
pub fn mem_total_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn free_disk_mib(root: &Path) -> Option<u64> {
    let path = [
        root.join(vm::CONNECTOR_DIR),
        root.join("opt"),
        root.to_path_buf(),
    ]
    .into_iter()
    .find(|p| p.exists())?;
    let stat = nix::sys::statvfs::statvfs(&path).ok()?;
    Some(stat.blocks_available() as u64 * stat.fragment_size() as u64 / (1024 * 1024))
}

/// Unattended OS upgrades: dnf-automatic, yum-cron, unattended-upgrades.
fn auto_updates(root: &Path) -> Vec<String> {
    let enabled = |unit: &str| {
        vm::UNIT_WANTS
            .iter()
            // An enabled unit is a symlink to /usr/lib/…: under another root it must not be
            // followed into this machine's tree.
            .any(|dir| std::fs::symlink_metadata(root.join(dir).join(unit)).is_ok())
    };
    let applies = |file: &str| {
        read(root, file)
            .as_deref()
            .and_then(|t| value(t, "apply_updates"))
            .is_some_and(|v| matches!(v, "yes" | "True" | "true" | "1"))
    };
    let mut found = Vec::new();
    if enabled("dnf-automatic-install.timer")
        || (enabled("dnf-automatic.timer") && applies(vm::DNF_AUTOMATIC))
    {
        found.push("dnf-automatic installs updates on a timer".to_string());
    }
    if enabled("yum-cron.service") && applies(vm::YUM_CRON) {
        found.push("yum-cron applies updates daily".to_string());
    }
    if read(root, vm::APT_AUTO_UPGRADES).is_some_and(|t| t.contains("Unattended-Upgrade \"1\"")) {
        found.push("unattended-upgrades is enabled".to_string());
    }
    found
}

/// The connector user's uid and gid from `/etc/passwd` under the root (not the host's NSS).
fn connector_user(root: &Path, name: &str) -> Option<(u32, u32)> {
    read(root, vm::PASSWD)?.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// Whether `user` may read (or write and enter) `rel`, by owner, group and other bits.
fn access(root: &Path, rel: &str, need: Need, user: Option<(u32, u32)>) -> PathAccess {
    let meta = RootFs::new(root)
        .resolve(rel)
        .ok()
        .and_then(|path| std::fs::metadata(path).ok());
    let granted = match (&meta, user) {
        (Some(meta), Some((uid, gid))) => {
            let mode = meta.mode();
            let class = if uid == 0 || meta.uid() == uid {
                6
            } else if meta.gid() == gid {
                3
            } else {
                0
            };
            let bits = (mode >> class) & 0o7;
            Some(match need {
                Need::Read => uid == 0 || bits & 0o4 != 0,
                Need::Write => uid == 0 || (bits & 0o2 != 0 && (!meta.is_dir() || bits & 0o1 != 0)),
            })
        }
        _ => None,
    };
    PathAccess {
        path: format!("/{rel}"),
        need,
        exists: meta.is_some(),
        granted,
        mode: meta.map(|m| format!("{:o}", m.permissions().mode() & 0o7777)),
    }
}

/// The provision key: its shape, never its contents.
fn key(root: &Path, user: Option<(u32, u32)>) -> KeyState {
    let path = match RootFs::new(root).resolve(KEY) {
        Ok(path) => path,
        Err(Refusal::Missing) => return KeyState::Missing,
        Err(e) => {
            return KeyState::Unreadable {
                error: e.to_string(),
            };
        }
    };
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return KeyState::Missing,
        Err(e) => {
            return KeyState::Unreadable {
                error: e.to_string(),
            };
        }
    };
    let text = match RootFs::new(root).read(KEY, KEY_CAP) {
        Ok(text) => text.into_bytes(),
        Err(e) => {
            return KeyState::Unreadable {
                error: e.to_string(),
            };
        }
    };
    let lines = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    let malformed = key_shape(&text);
    drop(text);
    KeyState::Present {
        bytes: meta.len(),
        lines,
        mode: format!("{:o}", meta.permissions().mode() & 0o7777),
        readable_by_connector: access(root, KEY, Need::Read, user).granted,
        world_writable: meta.mode() & 0o002 != 0,
        malformed,
    }
}

/// Why `key` does not look like a provisioning key, or `None` when it does. A key is one
/// line of printable ASCII, `|`-separated fields (`<n>|<cloud host>|<token>`, as the
/// connector's log echoes it), no spaces.
pub fn key_shape(key: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(key) {
        Ok(text) => text.trim(),
        Err(_) => return Some("not text".into()),
    };
    if text.is_empty() {
        return Some(crate::evidence::KEY_EMPTY.into());
    }
    if text.lines().count() > 1 {
        return Some("more than one line".into());
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || !c.is_ascii_graphic())
    {
        return Some("contains spaces or non-printable characters".into());
    }
    let fields: Vec<&str> = text.split('|').collect();
    if fields.len() < 3 {
        return Some(format!(
            "{} '|'-separated field(s), expected at least 3",
            fields.len()
        ));
    }
    if !fields[1].contains('.') {
        return Some("the second field is not a cloud host name".into());
    }
    if text.len() < 40 {
        return Some(format!("only {} characters: truncated?", text.len()));
    }
    None
}

fn connector(root: &Path, live: bool, debug_port: Option<bool>) -> Connector {
    let running = live.then(|| {
        super::process_names()
            .iter()
            .any(|name| name.starts_with("zpa-connector"))
    });
    let debug_port = debug_port.filter(|_| running == Some(true));
    let fs = RootFs::new(root);
    let enrolled = fs
        .resolve(CONNECTOR_VAR)
        .and_then(|dir| std::fs::read_dir(dir).map_err(|e| Refusal::Io(e.to_string())))
        .map(|dir| {
            dir.filter_map(Result::ok).any(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.ends_with(".crt") || name.ends_with(".pem") || name == "cert.pem"
            })
        })
        .unwrap_or(false);
    Connector {
        installed: fs.exists(vm::CONNECTOR_BIN) || fs.exists(vm::CONNECTOR_UNIT),
        enabled: std::fs::symlink_metadata(root.join(vm::CONNECTOR_UNIT_ENABLED)).is_ok(),
        running,
        enrolled,
        debug_port,
    }
}

/// The secrets to remove from whatever is kept of this system: the provision key's token,
/// when its file is there (secrets with no file, like a `nonce(…)` echo, go by shape anyway).
pub fn secrets(root: &Path) -> crate::secrets::Secrets {
    read_bounded(root, KEY, KEY_CAP)
        .map(|key| crate::secrets::Secrets::from_key(&key))
        .unwrap_or_default()
}

/// The known lines of one log file, with the key's contents scrubbed from the excerpts.
pub fn scan_log(
    path: &crate::vm::VmPath,
    patterns: &[LogPattern],
    secrets: &crate::secrets::Secrets,
) -> LogFile {
    let read = super::rootfs::host_path(path).and_then(|host| {
        super::rootfs::read_log(&host, super::rootfs::LOG_CAP, super::rootfs::PIPE_WINDOW)
    });
    let text = match read {
        Ok(text) => text,
        Err(e) => {
            return LogFile {
                path: path.to_string(),
                error: Some(e.to_string()),
                findings: Vec::new(),
                counts: Default::default(),
            };
        }
    };
    // Every match counted; only the latest few of each pattern kept as excerpts (2 million
    // matching lines once made a 500 MB report).
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut kept: std::collections::BTreeMap<&str, std::collections::VecDeque<LogFinding>> =
        Default::default();
    for (i, line) in text.lines().enumerate() {
        let Some(pattern) = patterns.iter().find(|p| {
            p.contains
                .iter()
                .any(|needle| line.contains(needle.as_str()))
        }) else {
            continue;
        };
        *counts.entry(pattern.id.clone()).or_default() += 1;
        let latest = kept.entry(pattern.id.as_str()).or_default();
        if latest.len() == EXCERPTS_PER_PATTERN {
            latest.pop_front();
        }
        latest.push_back(LogFinding {
            pattern: pattern.id.clone(),
            line: i + 1,
            excerpt: shorten(&secrets.scrub(line)),
        });
    }
    let mut findings: Vec<LogFinding> = kept.into_values().flatten().collect();
    findings.sort_by_key(|f| f.line);
    LogFile {
        path: path.to_string(),
        error: None,
        findings,
        counts,
    }
}

/// Excerpts kept per log pattern: enough to quote, bounded whatever the log.
const EXCERPTS_PER_PATTERN: usize = 5;

/// A log line as kept: control characters escaped (a line may carry terminal escape
/// sequences: printed as is, an OSC sequence retitles the reader's terminal), then shortened.
fn shorten(line: &str) -> String {
    let line = crate::text::printable(line.trim()).into_owned();
    if line.chars().count() <= EXCERPT {
        line
    } else {
        line.chars().take(EXCERPT).chain("…".chars()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes() {
        let good = b"3|api.private.zscaler.com|c2VjcmV0LXRva2VuLWZvci10ZXN0cy1vbmx5LW5vdC1yZWFs\n";
        assert_eq!(key_shape(good), None);
        let cases: [(&[u8], &str); 6] = [
            (b"", "empty"),
            (b"  \n", "empty"),
            (
                b"3|api.private.zscaler.com|abc\n2|x|y\n",
                "more than one line",
            ),
            (b"paste your key here", "contains spaces"),
            (b"3|api.private.zscaler.com|short", "truncated"),
            (
                b"notakeyatallbutlongenoughtopassthelengthcheck",
                "1 '|'-separated field",
            ),
        ];
        for (key, why) in cases {
            let got = key_shape(key).unwrap_or_default();
            assert!(
                got.contains(why),
                "{got} for {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn secrets_are_scrubbed() {
        let secrets = crate::secrets::Secrets::from_key("3|api|TOKENTOKENTOKENTOKEN");
        let text = "nonce(<TOKENTOKENTOKENTOKEN>) key 3|api|TOKENTOKENTOKENTOKEN";
        assert!(!secrets.scrub(text).contains("TOKEN"));
    }

    #[test]
    fn proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n";
        assert_eq!(count_cpus(cpuinfo), 2);
        assert_eq!(
            mem_total_mib("MemTotal:        3914036 kB\nMemFree: 1 kB\n"),
            Some(3822)
        );
    }

    #[test]
    fn denials_for_the_connector_only() {
        let audit = "type=AVC msg=audit(1700000000.1:42): avc:  denied  { name_connect } for  pid=991 comm=\"zpa-connector\" dest=9000 scontext=system_u:system_r:unconfined_service_t:s0 tcontext=system_u:object_r:unreserved_port_t:s0 tclass=tcp_socket permissive=0\n\
type=AVC msg=audit(1700000001.1:43): avc:  denied  { read } for  pid=12 comm=\"sshd\" name=\"motd\" tclass=file permissive=0\n";
        let found = connector_denials(audit);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("dest=9000"));
    }

    #[test]
    fn excerpts_are_printable() {
        let line = "zpa-connector: \u{1b}]0;pwned\u{7}Login request failed\tdone";
        let kept = shorten(line);
        assert!(!kept.chars().any(char::is_control), "{kept}");
        assert!(kept.contains("\\u{1b}]0;pwned\\u{7}"), "{kept}");
    }

    #[test]
    fn a_huge_log_keeps_counts_and_a_few_excerpts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connector.log");
        let line = "zpa-connector: DNS resolution failed for api.private.zscaler.com\n";
        std::fs::write(&path, line.repeat(10_000)).unwrap();
        let patterns = crate::profile::log_patterns();
        let log = scan_log(
            &crate::vm::VmPath::host(&path),
            &patterns,
            &crate::secrets::Secrets::default(),
        );
        assert_eq!(log.counts["dns_failure"], 10_000);
        assert_eq!(log.findings.len(), EXCERPTS_PER_PATTERN);
        assert_eq!(
            log.findings.last().unwrap().line,
            10_000,
            "the latest are kept"
        );
    }
}
