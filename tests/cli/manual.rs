//! The shipped manual: completions that complete flags and values in a real bash, and a man
//! page per subcommand that `man` renders.

use std::process::Command;

use crate::support::*;

/// What bash's completion function offers for `words` (the last one is being completed), the
/// way bash calls it on <TAB>: `$1` the command, `$2` the current word, `$3` the one before.
fn complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zpa-preflight.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\n\
         COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
         _zpa__preflight zpa-preflight \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" ")
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_subcommands_flags_and_values() {
    let script = run(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.stderr);
    let script = script.stdout;
    assert_eq!(
        complete(&script, &["zpa-preflight", "ch"]),
        ["check", "chain"]
    );
    assert_eq!(
        complete(&script, &["zpa-preflight", "check", "--form"]),
        ["--format"]
    );
    assert_eq!(
        complete(&script, &["zpa-preflight", "check", "--format", ""]),
        ["human", "json", "markdown", "prometheus"]
    );
    let kinds = complete(&script, &["zpa-preflight", "feed", "update", "--kind", ""]);
    for kind in [
        "zpa",
        "cenr",
        "future",
        "hubs-required",
        "hubs-recommended",
        "ca",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    assert_eq!(
        complete(&script, &["zpa-preflight", "gate", "--wa"]),
        ["--wait"]
    );
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    // `completions bash | head -1`: the reader goes away after one line.
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("{} completions zsh | head -1 >/dev/null", bin()),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_page_is_listed_and_renders() {
    let list = run(&["man", "--list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let pages: Vec<&str> = list.stdout.lines().collect();
    assert!(pages.len() >= 12, "{pages:?}");
    assert!(
        pages.contains(&"zpa-preflight-feed-update.1 feed update"),
        "{pages:?}"
    );
    let have_man = have("man");
    for line in pages {
        let mut words = line.split(' ');
        let file = words.next().unwrap();
        let mut args = vec!["man"];
        args.extend(words.filter(|w| !w.is_empty()));
        let page = run(&args);
        assert_eq!(page.code, 0, "{file}: {}", page.stderr);
        let title = file.trim_end_matches(".1");
        assert!(page.stdout.contains(&format!(".TH {title} 1")), "{file}");
        if have_man && file == "zpa-preflight-check.1" {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(file);
            std::fs::write(&path, &page.stdout).unwrap();
            let shown = Command::new("man")
                .args(["-l", "-P", "cat"])
                .arg(&path)
                .env("MANWIDTH", "100")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&shown.stdout);
            assert!(text.contains("--format"), "{text}");
            assert!(text.contains("--timeout"), "{text}");
        }
    }
    let unknown = run(&["man", "nonsense"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
}
