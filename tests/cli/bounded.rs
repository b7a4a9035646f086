//! One bounded reader, one atomic writer: every file a user names (profile, feed, feed cache,
//! anchors, report, bundle, chain) is read as a regular file under a cap, and every file the
//! tool writes replaces its target atomically, never through a planted symlink.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::support::*;

/// Long enough for any honest run here; a read that waits on a FIFO never ends.
const HANG: Duration = Duration::from_secs(30);

fn one_line_exit_2(run: &Run, names: &str, says: &str) {
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(names),
        "{} should name {names}",
        run.stderr
    );
    assert!(
        run.stderr.contains(says),
        "{} should say {says}",
        run.stderr
    );
}

fn fifo(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    path.display().to_string()
}

#[test]
fn every_user_named_input_refuses_a_fifo_a_device_and_a_directory_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path(), "fifo");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let folder = folder.display().to_string();
    let lab = lab_profile();
    for (bad, says) in [
        (fifo.as_str(), "is a pipe"),
        ("/dev/zero", "is a device"),
        (folder.as_str(), "is a directory"),
    ] {
        let trust = format!("broker={bad}");
        let cases: Vec<Vec<&str>> = vec![
            vec!["check", "--dry-run", "--profile", bad],
            vec!["check", "--dry-run", "--profile", &lab, "--cidrs", bad],
            vec!["check", "--dry-run", "--profile", &lab, "--trust", &trust],
            vec!["explain", bad],
            vec!["explain", "--chain", bad],
            vec![
                "feed",
                "update",
                "--from",
                bad,
                "--cache",
                dir.path().to_str().unwrap(),
            ],
            vec!["feed", "show", "--cidrs", bad],
        ];
        for args in cases {
            if args[0] == "explain" && args[1] == bad && bad == folder {
                continue; // a folder of reports is a fleet: its own test below
            }
            let run = run_within(HANG, &args);
            one_line_exit_2(&run, bad, says);
        }
    }
}

#[test]
fn a_fifo_at_the_feed_cache_is_refused_not_waited_on() {
    // A cache that cannot be read is set aside with one line (the run goes on with the
    // profile's ranges and says so): what matters for a cloud-init boot is that it ends.
    let cache = tempfile::tempdir().unwrap();
    let planted = fifo(cache.path(), "zpa.json");
    let dir = cache.path().to_str().unwrap();
    for args in [
        vec!["check", "--dry-run", "--cache", dir],
        vec!["feed", "show", "--cache", dir],
    ] {
        let run = run_within(HANG, &args);
        assert!(
            run.stderr.contains(&planted) && run.stderr.contains("is a pipe"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_oversized_input_is_refused_by_its_kind_cap() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.toml");
    let file = std::fs::File::create(&big).unwrap();
    // Sparse: 2 GiB that take no disk.
    file.set_len(2 << 30).unwrap();
    let big = big.display().to_string();
    for args in [
        vec!["check", "--dry-run", "--profile", big.as_str()],
        vec!["explain", big.as_str()],
        vec![
            "feed",
            "update",
            "--from",
            big.as_str(),
            "--cache",
            dir.path().to_str().unwrap(),
        ],
    ] {
        let run = run_within(HANG, &args);
        one_line_exit_2(&run, &big, "is larger than");
    }
}

#[test]
fn a_log_pipe_that_never_ends_is_read_until_the_deadline() {
    // `--log /dev/stdin` with a writer that never closes: `journalctl -f`.
    let profile = repo("fixtures/profiles/host-only.toml")
        .display()
        .to_string();
    let root = repo("fixtures/roots/offline").display().to_string();
    let mut child = std::process::Command::new(bin())
        .args(["check", "--profile", &profile, "--root", &root])
        .args(["--log", "/dev/stdin", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"Dec  1 10:00:00 vm zpa-connector[812]: Login request failed - http status(401)\n",
        )
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < HANG,
            "check still reading a pipe that never ends"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let causes: Vec<&str> = report["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        causes.contains(&"key.rejected"),
        "what the pipe wrote was read: {causes:?}"
    );
}

/// A gzip'd tar whose one PAX header claims `size` bytes of zeros: tiny on disk, huge inflated.
fn pax_bomb(size: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut header = tar::Header::new_ustar();
    header.set_path("PaxHeaders/report.json").unwrap();
    header.set_entry_type(tar::EntryType::XHeader);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    gz.write_all(header.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        gz.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    gz.finish().unwrap()
}

#[test]
fn a_bundle_is_bounded_by_what_it_inflates_to() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.tar.gz");
    let bytes = pax_bomb(600 << 20);
    assert!(bytes.len() < 1 << 20, "{} bytes on disk", bytes.len());
    std::fs::write(&bomb, bytes).unwrap();
    let run = run_within(HANG, &["explain", bomb.to_str().unwrap()]);
    one_line_exit_2(&run, "bomb.tar.gz", "expands past");
}

#[test]
fn a_bundle_packed_with_tar_c_dot_is_a_bundle() {
    if !require(have("tar"), "tar is not installed") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::copy(
        repo("fixtures/reports/scenarios/egress.json"),
        content.join("report.json"),
    )
    .unwrap();
    let bundle = dir.path().join("repacked.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&bundle)
        .arg("-C")
        .arg(&content)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let run = run(&["explain", "--format", "json", bundle.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.top_cause(), "egress.tcp_9000_blocked");
}

#[test]
fn the_report_writers_replace_a_planted_symlink_and_never_write_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("passwd");
    std::fs::write(&victim, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let report = dir.path().join("out.json");
    std::os::unix::fs::symlink(&victim, &report).unwrap();
    let saved = repo("fixtures/reports/scenarios/egress.json");
    let run = run(&[
        "explain",
        saved.to_str().unwrap(),
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "root:x:0:0:root:/root:/bin/bash\n",
        "the symlink's target is untouched"
    );
    assert!(!std::fs::symlink_metadata(&report).unwrap().is_symlink());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(written["causes"].is_array());
}

/// `--dry-run` is check's alone: gate (whose answer is the probes') and bundle (whose content
/// is a run) cannot honour it, so they do not accept it, and clap refuses it before anything
/// is read or written.
#[test]
fn dry_run_is_refused_where_it_cannot_be_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let bundle = dir.path().join("b.tar.gz");
    for (args, command) in [
        (
            vec!["gate", "--dry-run", "--report", report.to_str().unwrap()],
            "gate",
        ),
        (
            vec!["bundle", "--dry-run", "-o", bundle.to_str().unwrap()],
            "bundle",
        ),
    ] {
        let run = run_within(HANG, &args);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("unexpected argument '--dry-run'"),
            "{command}: {}",
            run.stderr
        );
    }
    assert!(!report.exists() && !bundle.exists(), "nothing written");
}
