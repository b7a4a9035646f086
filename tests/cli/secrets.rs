//! The secret matrix: every secret the tool can meet × every place it can appear × every way
//! the tool writes (each output format, `--output`, the bundle, `bundle --redact`, `explain`
//! of the bundle), grepping every byte written to stdout, stderr and files.

use crate::support::*;

const TOKEN: &str = "PLANTED-SECRET-c2VjcmV0LXRva2VuLWZvci10ZXN0cy1vbmx5";

/// (what must never be written, where it was planted).
const SECRETS: &[(&str, &str)] = &[
    (TOKEN, "the provision key's token"),
    ("PLANTED-SECR", "a 12-character prefix of the token"),
    ("LOGPASS-42", "a URL password in a log line"),
    ("carol", "a URL user in a log line"),
    (
        "hunter2",
        "a password in the connector's proxy file (no scheme)",
    ),
    (
        "s3cret/pw",
        "a password holding '/' in /etc/environment's https_proxy",
    ),
    ("ENVSECRET-777", "AWS_SECRET_ACCESS_KEY in /etc/environment"),
    ("LOGTOKEN-99", "an API_TOKEN= assignment inside a log line"),
    ("PROCPASS-5", "a password in the tool's own HTTPS_PROXY"),
    (
        "QkFTSUNSRUQtMQ",
        "an Authorization: Basic header in a log line",
    ),
    (
        "BEARERSECRET-2",
        "a Proxy-Authorization: Bearer header in a log line",
    ),
    ("COOKIESECRET-3", "a Cookie: header in a log line"),
    ("COLONTOKEN-4", "a token: field in a log line"),
    ("JSONPASS-5", "a \"password\": field in a JSON log line"),
    ("APIKEY-6", "an api-key: field in a log line"),
];

/// A VM root with every secret planted, and its connector log.
fn planted_root() -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for dir in ["etc", "opt/zscaler/var"] {
        std::fs::create_dir_all(r.join(dir)).unwrap();
    }
    for file in ["etc/os-release", "etc/passwd", "etc/resolv.conf"] {
        std::fs::copy(
            repo(&format!("fixtures/roots/vm-base/{file}")),
            r.join(file),
        )
        .unwrap();
    }
    let write = |rel: &str, text: &str| std::fs::write(r.join(rel), text).unwrap();
    write(
        "opt/zscaler/var/provision_key",
        &format!("3|api.private.zscaler.com|{TOKEN}\n"),
    );
    write("opt/zscaler/var/proxy", "bob:hunter2@192.0.2.8:3128\n");
    write(
        "etc/environment",
        "https_proxy=\"http://alice:s3cret/pw@proxy.corp:3128\"\nAWS_SECRET_ACCESS_KEY=ENVSECRET-777\n",
    );
    let prefix = &TOKEN[..12];
    let log = r.join("connector.log");
    std::fs::write(
        &log,
        format!(
            "Nov 27 10:00:01 ac zpa-connector[1]: error:Login request failed - http status(401) nonce(<3|api.private.zscaler.com|{TOKEN}>)\n\
             Nov 27 10:00:02 ac zpa-connector[1]: error:Login request failed - http status(401) key {prefix}… rejected\n\
             Nov 27 10:00:03 ac zpa-connector[1]: error:Login request failed - http status(401) via http://carol:LOGPASS-42@proxy.corp:3128\n\
             Nov 27 10:00:04 ac zpa-connector[1]: self signed certificate in certificate chain API_TOKEN=LOGTOKEN-99 retrying\n\
             Nov 27 10:00:05 ac zpa-connector[1]: > Authorization: Basic QkFTSUNSRUQtMQ==\n\
             Nov 27 10:00:06 ac zpa-connector[1]: proxy replied; sent Proxy-Authorization: Bearer BEARERSECRET-2\n\
             Nov 27 10:00:07 ac zpa-connector[1]: > Cookie: session=COOKIESECRET-3; path=/\n\
             Nov 27 10:00:08 ac zpa-connector[1]: enroll token: COLONTOKEN-4 rejected\n\
             Nov 27 10:00:09 ac zpa-connector[1]: {{\"user\": \"zscaler\", \"password\": \"JSONPASS-5\"}}\n\
             Nov 27 10:00:10 ac zpa-connector[1]: api-key: APIKEY-6\n"
        ),
    )
    .unwrap();
    let log = log.display().to_string();
    (root, log)
}

/// Runs the binary with the tool's own proxy variable holding a password too.
fn run_planted(args: &[&str]) -> Run {
    let mut command = std::process::Command::new(bin());
    command
        .args(args)
        .env("HTTPS_PROXY", "http://dave:PROCPASS-5@proxy.corp:3128")
        .env("NO_COLOR", "1");
    run_command(&mut command)
}

/// stdout and stderr of `run`, both clean.
fn assert_run_clean(what: &str, run: &Run) {
    assert_clean(&format!("{what} (stdout)"), &run.stdout);
    assert_clean(&format!("{what} (stderr)"), &run.stderr);
}

fn assert_clean(what: &str, written: &str) {
    for (secret, planted) in SECRETS {
        assert!(
            !written.contains(secret),
            "{planted} ({secret}) leaked into {what}:\n{written}"
        );
    }
}

#[test]
fn no_secret_is_written_anywhere_in_any_format() {
    let (root, log) = planted_root();
    let r = root.path();
    let (profile, root_arg) = (
        repo("fixtures/profiles/host-only.toml")
            .display()
            .to_string(),
        r.display().to_string(),
    );
    let common = ["--profile", &profile, "--root", &root_arg, "--log", &log];

    for format in ["human", "json", "markdown", "prometheus"] {
        let saved = r.join(format!("report-{format}.json"));
        let saved_arg = saved.display().to_string();
        let mut args = vec!["check", "--format", format, "--output", &saved_arg];
        args.extend_from_slice(&common);
        let run = run_planted(&args);
        assert_eq!(
            run.code, 3,
            "check --format {format}: {}{}",
            run.stdout, run.stderr
        );
        assert_run_clean(&format!("check --format {format}"), &run);
        let written = std::fs::read_to_string(&saved).unwrap();
        assert_clean(&format!("check --output ({format})"), &written);
        // The lines themselves were seen: the scrub removed the secret, not the evidence.
        assert!(written.contains("Login request failed"), "{written}");
    }

    // The tool's own HTTPS_PROXY is read only when judging this very VM (--root /).
    let here = run_planted(&["check", "--profile", &profile, "--format", "json"]);
    assert_ne!(here.code, 2, "{}{}", here.stdout, here.stderr);
    assert!(here.stdout.contains("proxy.corp:3128"), "{}", here.stdout);
    assert_run_clean("check --root /", &here);

    for redact in [false, true] {
        let out = r.join(format!("bundle-{redact}.tar.gz"));
        let out_arg = out.display().to_string();
        let mut args = vec!["bundle", "-o", &out_arg];
        args.extend_from_slice(&common);
        if redact {
            args.push("--redact");
        }
        let run = run_planted(&args);
        assert_eq!(
            run.code, 3,
            "bundle (redact {redact}): {}{}",
            run.stdout, run.stderr
        );
        assert_run_clean(&format!("bundle --redact={redact}"), &run);
        let (_, all) = crate::bundle::unpack(&out);
        assert_clean(&format!("the bundle (redact {redact})"), &all);
        assert!(
            all.contains("root/etc/environment") || all.contains("https_proxy"),
            "{all}"
        );
        for format in ["human", "json", "markdown", "prometheus"] {
            let explained = run_planted(&["explain", &out_arg, "--format", format]);
            assert_eq!(
                explained.code, 3,
                "{}{}",
                explained.stdout, explained.stderr
            );
            assert_clean(
                &format!("explain {format} of the bundle"),
                &explained.stdout,
            );
        }
    }
}
