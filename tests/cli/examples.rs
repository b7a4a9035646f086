//! The deployment examples are part of the product: they must parse, validate, and only use
//! flags the binary accepts.

use std::process::Command;

use crate::support::*;

#[test]
fn the_cloud_init_example_is_valid_cloud_config() {
    if !require(
        have("cloud-init"),
        "cloud-init is not installed (apt-get install cloud-init)",
    ) {
        return;
    }
    let file = repo("examples/cloud-init.yaml");
    let out = Command::new("cloud-init")
        .args(["schema", "--config-file"])
        .arg(&file)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("Valid cloud-config"),
        "{text}"
    );
}

#[test]
fn the_ansible_play_is_yaml_with_hosts_and_tasks() {
    if !require(have("python3"), "python3 is not installed") {
        return;
    }
    let script = "import sys, yaml\nplays = yaml.safe_load(open(sys.argv[1]))\n\
                  assert isinstance(plays, list) and all('hosts' in p and p['tasks'] for p in plays)\n\
                  print(len(plays))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(repo("examples/ansible-preflight.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
}

/// Every zpa-preflight command line in the examples is one the binary accepts.
#[test]
fn example_command_lines_parse() {
    for file in [
        "examples/zpa-preflight.service",
        "examples/zpa-preflight-metrics.service",
        "examples/zpa-connector.service.d/preflight.conf",
        "examples/cloud-init.yaml",
    ] {
        let text = std::fs::read_to_string(repo(file))
            .unwrap()
            .replace("\\\n", " ");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| {
                l.split_once("/usr/bin/zpa-preflight ")
                    .map(|(_, args)| args)
            })
            .collect();
        assert!(!lines.is_empty(), "{file} runs no zpa-preflight");
        for line in lines {
            let mut args: Vec<&str> = line
                .trim_end_matches("; then")
                .split_whitespace()
                // The end of the command: a separator or a redirection.
                .take_while(|a| *a != ";" && !a.starts_with('>'))
                .collect();
            args.push("--help");
            let run = run(&args);
            assert_eq!(run.code, 0, "{file}: {line}: {}", run.stderr);
        }
    }
}

/// The Ansible play installs the release this checkout makes: its version is the crate's.
#[test]
fn the_ansible_play_installs_this_release() {
    let text = std::fs::read_to_string(repo("examples/ansible-preflight.yml")).unwrap();
    let pinned = format!("zpa_preflight_version: \"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(text.matches(&pinned).count(), 2, "both plays pin {pinned}");
    assert!(
        text.contains("x86_64-linux.tar.gz"),
        "the play installs the tarball"
    );
    assert!(!text.contains("target/release"), "the play needs no build");
}
