//! Bad input gets one clear line and exit 2; a failure of the tool itself gets exit 1.

use crate::support::*;

fn stderr_line(run: &Run) -> &str {
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    run.stderr.trim_end()
}

#[test]
fn malformed_profile_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(lab_profile()).unwrap();
    let line = 1 + original.lines().position(|l| l == "port = 9000").unwrap();
    let text = original.replace("port = 9000", "port = \"nine thousand\"");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, text).unwrap();
    let run = run(&["check", "--profile", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    let message = stderr_line(&run);
    assert!(
        message.contains(&format!("broken.toml: line {line}: invalid type")),
        "{message}"
    );
}

#[test]
fn malformed_feed_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.json");
    std::fs::write(
        &path,
        "{\"Cloud Name\": \"private.zscaler.com\",\n \"content\": [{\"Source\": \
         \"Connector, Private Service Edge, Zscaler Client Connector\",\n \"IPs\": [\"1.2.3.4/40\"]}]}",
    )
    .unwrap();
    let run = run(&["check", "--dry-run", "--cidrs", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    let line = stderr_line(&run);
    assert!(line.contains("feed.json: line 3"), "{line}");
    assert!(line.contains("1.2.3.4/40"), "{line}");
}

#[test]
fn a_full_feed_replaces_the_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.json");
    std::fs::write(
        &path,
        r#"{"Cloud Name": "private.zscaler.com", "content": [
            {"Source": "Connector, Private Service Edge, Zscaler Client Connector",
             "Domains": "*.prod.zpath.net", "IP Protocol": "TCP/UDP", "Port": 443,
             "IPs": ["198.51.100.7", "203.0.113.0/24"], "Date Added": "x"}]}"#,
    )
    .unwrap();
    let run = run(&["check", "--dry-run", "--cidrs", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("198.51.100.7"), "{}", run.stdout);
    assert!(
        run.stdout.contains("sample of 203.0.113.0/24"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("13.127.26.17"), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &["check", "--target", "not a host!"],
        &["check", "--dns-server", "resolver.example"],
        &["check", "--timeout", "forever"],
        &["check", "--ignore", "Not-An-Id"],
        &["check", "--profile", "no-such-profile"],
        &["frobnicate"],
    ];
    for args in cases {
        let run = run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn an_unwritable_output_is_a_tool_failure() {
    let run = check_root("no-nameserver", &["--output", "/dev/null/report.json"]);
    assert_eq!(run.code, 1);
    assert!(stderr_line(&run).contains("cannot write /dev/null/report.json"));
    // The report is not lost with it: it still goes to stdout.
    assert!(run.stdout.contains("SUMMARY: "), "{}", run.stdout);
    // A good report is never emptied or truncated by a later attempt: written atomically.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json");
    let saved_arg = saved.display().to_string();
    let first = check_root("no-nameserver", &["--output", &saved_arg]);
    assert_eq!(first.code, 3, "{}", first.stderr);
    let good = std::fs::read_to_string(&saved).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&good).is_ok());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn help_documents_the_exit_codes() {
    let run = run(&["check", "--help"]);
    assert_eq!(run.code, 0);
    for line in [
        "0  ready",
        "1  the tool itself failed",
        "2  usage",
        "3  blocked",
        "4  warnings only",
    ] {
        assert!(run.stdout.contains(line), "{line}");
    }
}

#[test]
fn version_completions_and_man_page() {
    let version = run(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(
        version.stdout.starts_with("zpa-preflight 0.1.0 (commit "),
        "{}",
        version.stdout
    );
    for shell in ["bash", "zsh", "fish"] {
        let script = run(&["completions", shell]);
        assert_eq!(script.code, 0, "{shell}");
        assert!(
            script.stdout.contains("explain") && script.stdout.contains("dns-server"),
            "{shell}"
        );
    }
    let man = run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH zpa-preflight 1"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}

#[test]
fn piped_output_has_no_progress_display() {
    let run = check_root("no-nameserver", &[]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}'));
}

#[test]
fn a_terminal_gets_a_live_progress_display_that_is_erased() {
    if !require(have("script"), "script (util-linux) is not installed") {
        return;
    }
    let (profile, root) = (lab_profile(), repo("fixtures/roots/no-nameserver"));
    let command = format!(
        "{} check --profile {profile} --root {} --color never",
        bin(),
        root.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qc", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    // The first frame may come before or after the names resolve: 0/2, 1/2 or 2/2.
    let drawn = ["0/2", "1/2", "2/2"]
        .iter()
        .any(|n| screen.contains(&format!("  DNS      {n} names …")));
    assert!(drawn, "{screen}");
    assert!(
        screen.contains("\u{1b}[1A\u{1b}[2K"),
        "the progress lines are not erased: {screen}"
    );
    assert!(
        screen.contains("SUMMARY: blocked · dns.no_resolver"),
        "{screen}"
    );
}
