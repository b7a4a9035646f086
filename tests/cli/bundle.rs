//! `bundle`: the support engineer's archive, grepped for planted secrets, and read back by
//! `explain` to the same verdict.

use std::io::Read;

use crate::support::*;

/// `bundle` with the host-only profile, `root` as `--root`, into `root/bundle.tar.gz`, plus
/// `extra`; returns the run and the archive's path.
fn bundle_host_only(root: &std::path::Path, extra: &[&str]) -> (Run, std::path::PathBuf) {
    let out = root.join("bundle.tar.gz");
    let (profile, root_arg, out_arg) = (
        repo("fixtures/profiles/host-only.toml")
            .display()
            .to_string(),
        root.display().to_string(),
        out.display().to_string(),
    );
    let mut args = vec![
        "bundle",
        "--profile",
        &profile,
        "--root",
        &root_arg,
        "-o",
        &out_arg,
    ];
    args.extend_from_slice(extra);
    (run(&args), out)
}

/// Every entry of a bundle: (names, all their text).
pub(crate) fn unpack(bundle: &std::path::Path) -> (Vec<String>, String) {
    let (mut names, mut all) = (Vec::new(), String::new());
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        names.push(entry.path().unwrap().display().to_string());
        entry.read_to_string(&mut all).unwrap();
    }
    (names, all)
}

#[test]
fn a_bundle_holds_no_secret_and_explains_the_same() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let copy = |from: &str, to: &str| {
        std::fs::create_dir_all(r.join(to).parent().unwrap()).unwrap();
        std::fs::copy(repo(from), r.join(to)).unwrap();
    };
    copy("fixtures/roots/vm-base/etc/os-release", "etc/os-release");
    copy("fixtures/roots/vm-base/etc/passwd", "etc/passwd");
    copy("fixtures/roots/vm-base/etc/resolv.conf", "etc/resolv.conf");
    copy(
        "fixtures/roots/vm-base/opt/zscaler/var/provision_key",
        "opt/zscaler/var/provision_key",
    );
    std::fs::write(
        r.join("etc/environment"),
        "https_proxy=\"http://alice:s3cret-pw@proxy.corp:3128\"\n",
    )
    .unwrap();
    std::fs::write(
        r.join("opt/zscaler/var/proxy"),
        "bob:hunter2@192.0.2.8:3128\n",
    )
    .unwrap();
    let key = std::fs::read_to_string(r.join("opt/zscaler/var/provision_key")).unwrap();
    let token = key.trim().rsplit('|').next().unwrap().to_string();
    let log = r.join("connector.log");
    std::fs::write(
        &log,
        format!("Nov 25 10:02:12 ac zpa-connector[1]: error:Login request failed - http status(401) nonce(<3|api.private.zscaler.com|{token}>)\n"),
    )
    .unwrap();

    let log_arg = log.display().to_string();
    let (run, out) = bundle_host_only(r, &["--log", &log_arg]);
    let out_arg = out.display().to_string();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with(&format!("wrote {out_arg}")),
        "{}",
        run.stdout
    );

    let (names, all) = unpack(&out);
    for must in [
        "report.json",
        "version.txt",
        "MANIFEST",
        "root/etc/environment",
        "root/opt/zscaler/var/proxy",
        "logs/0-connector.log",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} missing from {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.contains("provision_key")),
        "{names:?}"
    );
    for secret in [
        "PLANTED-SECRET",
        token.as_str(),
        "s3cret-pw",
        "hunter2",
        "alice",
        "bob:",
    ] {
        assert!(!all.contains(secret), "{secret} leaked into the bundle");
    }
    assert!(all.contains("proxy.corp:3128") && all.contains("Login request failed"));

    let explained = crate::support::run(&["explain", &out_arg]);
    assert_eq!(
        explained.code, 3,
        "{}{}",
        explained.stdout, explained.stderr
    );
    assert!(
        explained.summary().starts_with("SUMMARY: blocked · "),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("key.rejected"),
        "{}",
        explained.stdout
    );
}

/// A redacted bundle names none of the site's hosts or addresses, keeps Zscaler's, and
/// explains to the same verdict and causes as the run it came from.
#[test]
fn a_redacted_bundle_explains_the_same() {
    if !require(have_dnsmasq(), "dnsmasq is not installed") {
        return;
    }
    // A sinkhole answer, and a connector proxy on a site host name that does not resolve.
    let dns = Dnsmasq::start(
        std::net::Ipv4Addr::LOCALHOST,
        0,
        &[
            Answer::Sinkhole("broker.zpa.test", "10.9.8.7"),
            Answer::A("api.zpa.test", "127.77.0.9".parse().unwrap()),
        ],
    );
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("opt/zscaler/var")).unwrap();
    std::fs::write(
        root.path().join("opt/zscaler/var/proxy"),
        "proxy.site-secret.example:3128\n",
    )
    .unwrap();
    let out = root.path().join("redacted.tar.gz");
    let (profile, server, root_arg, out_arg) = (
        lab_profile(),
        dns.addr.to_string(),
        root.path().display().to_string(),
        out.display().to_string(),
    );
    let base = [
        "--profile",
        profile.as_str(),
        "--dns-server",
        &server,
        "--root",
        &root_arg,
    ];
    let mut check = vec!["check"];
    check.extend(base);
    check.extend(["--format", "json"]);
    let original = run(&check);
    let mut bundle = vec!["bundle"];
    bundle.extend(base);
    bundle.extend(["--redact", "-o", &out_arg]);
    assert_eq!(run(&bundle).code, original.code);

    let mut all = String::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&out).unwrap(),
    ));
    for entry in archive.entries().unwrap() {
        entry.unwrap().read_to_string(&mut all).unwrap();
    }
    for site in ["proxy.site-secret.example", "10.9.8.7", &server] {
        assert!(!all.contains(site), "{site} survived redaction");
    }
    assert!(
        all.contains("broker.zpa.test") && all.contains("host-"),
        "Zscaler-side names stay, site names become tokens"
    );

    let explained = run(&["explain", &out_arg, "--format", "json"]);
    assert_eq!(explained.cause_ids(), original.cause_ids());
    assert_eq!(explained.json()["verdict"], original.json()["verdict"]);
    assert_eq!(explained.code, original.code);
}

/// The tool reads its own bundle back, whatever the key looks like: the secrets are removed from
/// values by their shape, never by a text replace over the JSON (which once turned every host
/// named in the key into a placeholder, and with a truncated key `3`, every 3 in the document).
#[test]
fn explain_reads_its_own_bundle_whatever_the_key() {
    let token = "PLANTED-SECRET-c2VjcmV0LXRva2VuLWZvci10ZXN0cy1vbmx5";
    for key in [
        format!("3|api.private.zscaler.com|{token}"),
        "3".to_string(),
    ] {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("opt/zscaler/var")).unwrap();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::copy(
            repo("fixtures/roots/vm-base/etc/passwd"),
            r.join("etc/passwd"),
        )
        .unwrap();
        std::fs::write(r.join("opt/zscaler/var/provision_key"), format!("{key}\n")).unwrap();
        // Lines that name the key's host and hold 3s, and one that echoes the key.
        let log = r.join("connector.log");
        std::fs::write(
            &log,
            format!(
                "Nov 27 10:03:33 ac zpa-connector[3]: DNS resolution failed for api.private.zscaler.com\n\
                 Nov 27 10:03:34 ac zpa-connector[3]: error:Login request failed - http status(401) nonce(<{key}>)\n"
            ),
        )
        .unwrap();
        let log_arg = log.display().to_string();
        let (made, out) = bundle_host_only(r, &["--log", &log_arg]);
        let out_arg = out.display().to_string();
        assert_eq!(made.code, 3, "{key}: {}{}", made.stdout, made.stderr);
        let explained = run(&["explain", &out_arg, "--format", "json"]);
        assert_eq!(explained.code, 3, "{key}: {}", explained.stderr);
        let report = explained.json();
        assert!(
            report["schema_version"].as_str().unwrap().starts_with("1."),
            "{key}"
        );
        let text = explained.stdout.clone();
        assert!(
            text.contains("DNS resolution failed for api.private.zscaler.com"),
            "{key}"
        );
        assert!(!text.contains(token), "{key}: the token leaked");
        assert!(text.contains("nonce([removed by zpa-preflight])"), "{key}");
    }
}

/// `--root` is read as a chroot would: an absolute link in the image means a path in the
/// image, never the host's file; a FIFO is refused, never waited on.
#[test]
fn the_root_is_never_escaped_and_never_hangs() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("run/systemd/resolve")).unwrap();
    std::fs::write(
        r.join("run/systemd/resolve/stub-resolv.conf"),
        "nameserver 192.0.2.53\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/run/systemd/resolve/stub-resolv.conf",
        r.join("etc/resolv.conf"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", r.join("etc/os-release")).unwrap();
    let root_arg = r.display().to_string();
    // The image's resolver, not the host's.
    let dry = run(&["check", "--dry-run", "--root", &root_arg]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("192.0.2.53:53"), "{}", dry.stdout);

    // The bundle never carries the host's /etc/passwd through the image's link.
    let (made, out) = bundle_host_only(r, &[]);
    assert!(
        made.code == 0 || made.code == 3,
        "{}{}",
        made.stdout,
        made.stderr
    );
    let (_, all) = unpack(&out);
    assert!(
        !all.contains("root:x:0:0"),
        "the host's /etc/passwd was collected"
    );

    // A FIFO where resolv.conf should be: refused at once, even for --dry-run.
    std::fs::remove_file(r.join("etc/resolv.conf")).unwrap();
    nix::unistd::mkfifo(&r.join("etc/resolv.conf"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = run(&["check", "--dry-run", "--root", &root_arg]);
    assert_eq!(fifo.code, 0, "{}", fifo.stderr);
    assert!(
        fifo.stdout.contains("not a regular file (a FIFO)"),
        "{}",
        fifo.stdout
    );
    assert!(fifo.took.as_secs_f64() < 2.0, "took {:?}", fifo.took);
}

/// `bundle --log <(journalctl …)`: a pipe is read once, and the check and the bundle see the
/// same lines (the check once consumed it, and the bundle held an empty log).
#[test]
fn a_piped_log_is_read_once_and_bundled() {
    use std::io::Write;
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::copy(
        repo("fixtures/roots/vm-base/etc/passwd"),
        r.join("etc/passwd"),
    )
    .unwrap();
    let out = r.join("bundle.tar.gz");
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let (root_arg, out_arg) = (r.display().to_string(), out.display().to_string());
    let mut child = std::process::Command::new(bin())
        .args([
            "bundle",
            "--profile",
            &profile,
            "--root",
            &root_arg,
            "--log",
            "/dev/stdin",
            "-o",
            &out_arg,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Nov 27 10:05:00 ac zpa-connector[4]: DNS resolution failed for api.private.zscaler.com\n")
        .unwrap();
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 3)), "{status:?}");
    let (_, all) = unpack(&out);
    // Once in the report's findings, once in the bundled log itself.
    assert!(
        all.matches("DNS resolution failed for api.private.zscaler.com")
            .count()
            >= 2,
        "{all}"
    );
}

/// Every configuration file a run reads is in the bundle (or in `vm::NOT_COLLECTED`, with the
/// reason): the list the report gives of the files read is held against the archive.
#[test]
fn the_bundle_collects_every_configuration_file_a_run_reads() {
    use zpa_preflight::vm;
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let mut every: Vec<&str> = vm::CONFIG_FILES.to_vec();
    every.extend(vm::NOT_COLLECTED.iter().map(|(path, _)| *path));
    for rel in &every {
        std::fs::create_dir_all(r.join(rel).parent().unwrap()).unwrap();
        std::fs::write(r.join(rel), "# planted by the test\n").unwrap();
    }
    // The units that make the upgrade configuration worth reading.
    for (dir, unit) in [
        (vm::UNIT_WANTS[0], "dnf-automatic.timer"),
        (vm::UNIT_WANTS[1], "yum-cron.service"),
    ] {
        std::fs::create_dir_all(r.join(dir)).unwrap();
        std::os::unix::fs::symlink("/usr/lib/systemd/system/x", r.join(dir).join(unit)).unwrap();
    }
    let (run, out) = bundle_host_only(r, &[]);
    assert!(matches!(run.code, 0 | 3), "{}{}", run.stdout, run.stderr);
    let (names, _) = unpack(&out);
    let report: serde_json::Value = {
        let file = std::fs::File::open(&out).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut entry = archive
            .entries()
            .unwrap()
            .map(Result::unwrap)
            .find(|e| e.path().unwrap().to_str() == Some("report.json"))
            .unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let read: Vec<String> = report["evidence"]["files_read"]
        .as_array()
        .unwrap_or_else(|| panic!("no files_read in {report}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    // The run really read the configuration (the test proves something only if it did).
    for must in vm::NTP_CONFIGS.iter().chain(&[
        vm::CONNECTOR_PROXY,
        vm::ENVIRONMENT,
        vm::SELINUX_CONFIG,
        vm::DNF_AUTOMATIC,
    ]) {
        assert!(
            read.iter().any(|r| r == must),
            "{must} was not read: {read:?}"
        );
    }
    for file in &read {
        let collected = names.iter().any(|n| *n == format!("root/{file}"));
        let excused = vm::NOT_COLLECTED.iter().any(|(path, _)| path == file);
        assert!(
            collected || excused,
            "{file} was read but is neither bundled nor in vm::NOT_COLLECTED: {names:?}"
        );
    }
}
