//! Host checks on fixture roots: a copy of `fixtures/roots/vm-base` with one overlay and, where
//! git cannot carry it, one mode changed; the binary runs with `--root` and `--log`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

/// The planted marker inside the fixture provision key: it must never appear in any output.
const SECRET: &str = "PLANTED-SECRET";

/// Copies `src` into `dst`, symlinks as symlinks.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap().filter_map(Result::ok) {
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            let _ = std::fs::remove_file(&to);
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
        } else if kind.is_dir() {
            copy_tree(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// A VM root: vm-base with `overlay` (a fixtures/roots case) laid over it.
fn vm(overlay: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo("fixtures/roots/vm-base"), dir.path());
    if let Some(case) = overlay {
        copy_tree(&repo(&format!("fixtures/roots/{case}")), dir.path());
    }
    // The package makes /opt/zscaler/var the zscaler user's (uid 993 in vm-base's passwd).
    std::os::unix::fs::chown(dir.path().join("opt/zscaler/var"), Some(993), Some(990))
        .expect("chown needs root");
    dir
}

fn chmod(root: &Path, rel: &str, mode: u32) {
    std::fs::set_permissions(root.join(rel), std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The fixture trees need their owners set, which takes root.
fn can_run() -> bool {
    require(is_root(), "the host fixtures need root to set owners")
}

fn check_host(root: &Path, extra: &[&str]) -> Run {
    let run = check_json(&repo("fixtures/profiles/host-only.toml"), root, extra);
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "the key leaked"
    );
    run
}

#[test]
fn a_healthy_vm_is_ready() {
    if !can_run() {
        return;
    }
    let root = vm(None);
    let run = check_host(root.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    let host = &run.json()["evidence"]["host"];
    assert_eq!(host["vcpus"], 2);
    assert_eq!(host["memory_mib"], 3822);
    assert_eq!(host["selinux"]["kind"], "disabled");
    assert_eq!(host["key"]["kind"], "present");
}

/// (overlay, mode change, the cause ranked first, exit code)
#[test]
fn fixture_states() {
    if !can_run() {
        return;
    }
    type Tweak = fn(&Path);
    let cases: &[(&str, Option<&str>, Tweak, &str, i32)] = &[
        (
            "enforcing without module",
            Some("selinux-enforcing-no-module"),
            |_| {},
            "selinux.blocks_connector",
            0,
        ),
        (
            "enforcing with module and denials",
            Some("selinux-enforcing-denials"),
            |_| {},
            "selinux.denials_seen",
            3,
        ),
        (
            "undersized",
            Some("undersized"),
            |_| {},
            "host.undersized",
            0,
        ),
        (
            "unattended upgrades",
            Some("auto-updates"),
            |_| {},
            "host.auto_updates",
            0,
        ),
        (
            "key malformed",
            Some("key-malformed"),
            |_| {},
            "key.malformed",
            0,
        ),
        (
            "key world-writable",
            None,
            |r| chmod(r, "opt/zscaler/var/provision_key", 0o666),
            "key.world_writable",
            0,
        ),
        (
            "resolv.conf unreadable by the connector",
            None,
            |r| chmod(r, "etc/resolv.conf", 0o600),
            "host.resolv_unreadable",
            3,
        ),
        (
            "key unreadable by the connector",
            None,
            |r| chmod(r, "opt/zscaler/var/provision_key", 0o600),
            "key.unreadable",
            3,
        ),
        (
            "key missing with the connector installed",
            None,
            |r| {
                std::fs::remove_file(r.join("opt/zscaler/var/provision_key")).unwrap();
                std::fs::create_dir_all(r.join("opt/zscaler/bin")).unwrap();
            },
            "key.missing",
            3,
        ),
    ];
    for (what, overlay, tweak, id, code) in cases {
        let root = vm(*overlay);
        tweak(root.path());
        let run = check_host(root.path(), &[]);
        assert_eq!(
            run.cause_ids().first().map(String::as_str),
            Some(*id),
            "{what}: {}",
            run.json()["causes"]
        );
        assert_eq!(run.code, *code, "{what}");
    }
}

#[test]
fn permissive_and_absent_selinux_are_not_blocking() {
    if !can_run() {
        return;
    }
    for overlay in [Some("selinux-permissive"), None] {
        let root = vm(overlay);
        if overlay.is_none() {
            std::fs::remove_dir_all(root.path().join("etc/selinux")).unwrap();
        }
        let run = check_host(root.path(), &[]);
        assert_eq!(run.code, 0, "{overlay:?}: {}", run.json()["causes"]);
        assert!(
            !run.cause_ids().iter().any(|id| id.starts_with("selinux.")),
            "{overlay:?}"
        );
    }
}

#[test]
pub(crate) fn logs_are_triaged_with_line_numbers() {
    if !can_run() {
        return;
    }
    let root = vm(None);
    for (log, id, line) in [
        ("interception-forcepoint.log", "tls.intercepted", 4),
        ("key-rejected.log", "key.rejected", 2),
        ("clock-behind.log", "clock.skewed", 3),
        ("cloned-vm.log", "host.cloned", 1),
    ] {
        let path = repo(&format!("fixtures/logs/{log}")).display().to_string();
        let run = check_host(root.path(), &["--log", &path]);
        if id == "key.rejected" {
            run.keep_as("key");
        }
        assert_eq!(run.code, 3, "{log}: {}", run.json()["causes"]);
        let top = &run.json()["causes"][0];
        assert_eq!(top["id"], id, "{log}");
        let first = top["evidence"][0].as_str().unwrap();
        assert!(
            first.starts_with(&format!("{path}:{line}: ")),
            "{log}: {first}"
        );
    }
    let forcepoint = repo("fixtures/logs/interception-forcepoint.log")
        .display()
        .to_string();
    let run = check_host(root.path(), &["--log", &forcepoint]);
    assert!(
        run.json()["causes"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Forcepoint")
    );

    let healthy = repo("fixtures/logs/healthy.log").display().to_string();
    let run = check_host(root.path(), &["--log", &healthy]);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
}

#[test]
fn the_provision_key_never_leaves_the_vm() {
    if !can_run() {
        return;
    }
    let root = vm(None);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json");
    let saved_arg = saved.display().to_string();
    let json = check_host(root.path(), &["--output", &saved_arg]);
    assert_eq!(json.code, 0);
    let written = std::fs::read_to_string(&saved).unwrap();
    assert!(!written.contains(SECRET), "the saved report holds the key");
    let human = run(&[
        "check",
        "--profile",
        &repo("fixtures/profiles/host-only.toml")
            .display()
            .to_string(),
        "--root",
        &root.path().display().to_string(),
    ]);
    assert!(!human.stdout.contains(SECRET));
    assert!(
        human.stdout.contains("provision key present"),
        "{}",
        human.stdout
    );
    let explained = run(&["explain", &saved_arg, "--format", "json"]);
    assert!(!explained.stdout.contains(SECRET));

    // A connector log that echoes the key (its 401 line does, in part) keeps it out too.
    let log = dir.path().join("connector.log");
    let key = std::fs::read_to_string(root.path().join("opt/zscaler/var/provision_key")).unwrap();
    std::fs::write(
        &log,
        format!(
            "zpa-connector[1]: error:Login request failed - http status(401) nonce(<{}>)\n",
            key.trim()
        ),
    )
    .unwrap();
    let with_log = check_host(root.path(), &["--log", &log.display().to_string()]);
    assert!(
        with_log
            .stdout
            .contains("nonce([removed by zpa-preflight])"),
        "{}",
        with_log.stdout
    );
    assert!(!with_log.stdout.contains(SECRET), "{}", with_log.stdout);
    // Without a key file the tool cannot know the key, and its echo still goes, by shape.
    std::fs::remove_file(root.path().join("opt/zscaler/var/provision_key")).unwrap();
    let keyless = check_host(root.path(), &["--log", &log.display().to_string()]);
    assert!(!keyless.stdout.contains(SECRET), "{}", keyless.stdout);
}

/// The connector's own words: a clock correction becomes clock evidence with its size, and a
/// connector that never reaches the cloud (or was deleted) is said so.
#[test]
pub(crate) fn connector_clock_corrections_and_deleted_connectors() {
    if !can_run() {
        return;
    }
    let root = vm(None);
    let dir = tempfile::tempdir().unwrap();
    let host_only = std::fs::read_to_string(repo("fixtures/profiles/host-only.toml")).unwrap();
    let profile = dir.path().join("host-and-clock.toml");
    std::fs::write(
        &profile,
        format!(
            "{host_only}\n[clock]\nbehind_blocking_s = 2.0\nahead_blocking_s = 60.0\nwarn_s = 1.0\n"
        ),
    )
    .unwrap();
    let log = repo("fixtures/logs/clock-corrected.log")
        .display()
        .to_string();
    let root_arg = root.path().display().to_string();
    let profile_arg = profile.display().to_string();
    // No time server answers (a closed loopback port): the log is the only estimate.
    let run = run(&[
        "check",
        "--profile",
        &profile_arg,
        "--root",
        &root_arg,
        "--log",
        &log,
        "--ntp-server",
        "127.0.0.1:9",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    let skew = run.cause("clock.skewed");
    assert_eq!(skew["title"], "This VM's clock is 737.4 s ahead");
    assert!(
        skew["evidence"][0]
            .as_str()
            .unwrap()
            .contains(&format!("{log}:2"))
    );

    let deleted = repo("fixtures/logs/deleted-connector.log")
        .display()
        .to_string();
    let run = check_host(root.path(), &["--log", &deleted]);
    run.keep_as("connector");
    assert!(
        run.cause_ids()
            .contains(&"connector.not_connected".to_string()),
        "{}",
        run.json()["causes"]
    );
}

/// A `--log` is a file of this host as the user named it: a relative one is read from the
/// current directory, whatever `--root` says, by `check` and `bundle` alike (a review found it
/// read from `/`, the verdict flipped to ready and the bundle without it).
#[test]
fn a_relative_log_is_read_from_the_current_directory() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cwd.path().join("host")).unwrap();
    std::fs::write(
        cwd.path().join("host/connector.log"),
        "2026-12-01 10:00:00 DNS resolution failed for co2br.prod.zpath.net\n",
    )
    .unwrap();
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let root = repo("fixtures/roots/offline").display().to_string();
    let common = [
        "--profile",
        &profile,
        "--root",
        &root,
        "--log",
        "host/connector.log",
    ];
    let in_cwd = |args: &[&str]| {
        run_command(
            std::process::Command::new(bin())
                .current_dir(cwd.path())
                .env("NO_COLOR", "1")
                .args(args),
        )
    };
    let mut args = vec!["check", "--format", "json"];
    args.extend(common);
    let checked = in_cwd(&args);
    assert_eq!(checked.code, 3, "{}", checked.stderr);
    assert_eq!(
        checked.top_cause(),
        "dns.unresolvable",
        "{}",
        checked.stdout
    );
    let logs = &checked.json()["evidence"]["host"]["logs"];
    assert_eq!(logs[0]["path"], "host/connector.log", "{logs}");
    let mut args = vec!["bundle", "-o", "b.tar.gz"];
    args.extend(common);
    let bundled = in_cwd(&args);
    assert_eq!(bundled.code, 3, "{}{}", bundled.stdout, bundled.stderr);
    let listing = std::process::Command::new("tar")
        .args(["tzf", "b.tar.gz"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("logs/0-connector.log"),
        "{}",
        String::from_utf8_lossy(&listing.stdout)
    );
}
