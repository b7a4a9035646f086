//! The tool's manual, generated from the command-line definitions: one man page for the tool
//! and one for each subcommand (`zpa-preflight-check(1)`, `zpa-preflight-feed-update(1)`, …),
//! and shell completion scripts. The release (`scripts/dist.sh`) ships both, so a VM's admin
//! has `man zpa-preflight-check` and `check --form<TAB>` without the sources.
//!
//! Pure: every function returns bytes; the caller writes them.

use clap::CommandFactory;

use crate::cli::Cli;

/// The name the binary is installed as, which the pages and the completions are written for.
pub const BIN: &str = "zpa-preflight";

/// The whole command tree, built once as the man pages see it: the `help` pseudo-subcommand
/// has no page of its own (`--help` is documented on every page).
fn tree() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// Every page there is, as the subcommand path that names it: `[]` is the tool's own page,
/// `["feed", "update"]` is `zpa-preflight-feed-update(1)`.
pub fn pages() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&tree(), &mut Vec::new(), &mut out);
    out
}

/// The file name of a page: `zpa-preflight-feed-update.1`.
pub fn page_file_name(path: &[String]) -> String {
    let mut name = BIN.to_string();
    for word in path {
        name.push('-');
        name.push_str(word);
    }
    name + ".1"
}

/// The man page (roff) of the tool (`path` empty) or of one subcommand, with every option.
/// `None` when the path names no subcommand.
pub fn page(path: &[String]) -> Option<Vec<u8>> {
    let tree = tree();
    let mut command = &tree;
    for word in path {
        command = command
            .get_subcommands()
            .find(|s| s.get_name() == word && !s.is_hide_set())?;
    }
    let mut roff = Vec::new();
    clap_mangen::Man::new(command.clone())
        .manual("zpa-preflight manual")
        // clap_mangen's default is the subcommand's own name and version ("update "): the
        // footer names the tool and its version on every page instead.
        .source(concat!("zpa-preflight ", env!("CARGO_PKG_VERSION")))
        .render(&mut roff)
        .expect("writing to a Vec cannot fail");
    Some(roff)
}

/// A completion script for `shell`.
///
/// clap_complete's bash generator mangles a binary name that holds a hyphen two ways: the
/// subcommand dispatch says `zpa__preflight__subcmd__check` while the per-subcommand cases say
/// `zpa__subcmd__preflight__subcmd__check`, so no subcommand's flags or values ever complete
/// (only the subcommand names do). The cases are renamed to what the dispatch sets: a fix of
/// the generated script's own identifiers, kept by `tests/cli/completions.rs`, which runs the
/// script in bash.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    if shell == clap_complete::Shell::Bash && BIN.contains('-') {
        let wrong = BIN.replace('-', "__subcmd__");
        let right = BIN.replace('-', "__");
        let text = String::from_utf8(script).expect("clap_complete writes UTF-8");
        script = text.replace(&wrong, &right).into_bytes();
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_page_naming_its_options() {
        let pages = pages();
        let names: Vec<String> = pages.iter().map(|p| page_file_name(p)).collect();
        for expected in [
            "zpa-preflight.1",
            "zpa-preflight-check.1",
            "zpa-preflight-feed-update.1",
            "zpa-preflight-feed-show.1",
            "zpa-preflight-gate.1",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        let check = String::from_utf8(page(&["check".into()]).unwrap()).unwrap();
        for option in [
            "\\-\\-format",
            "\\-\\-profile",
            "\\-\\-timeout",
            "\\-\\-root",
        ] {
            assert!(check.contains(option), "{option} missing from check's page");
        }
        let update = page(&["feed".into(), "update".into()]).unwrap();
        assert!(String::from_utf8(update).unwrap().contains("\\-\\-kind"));
        assert!(page(&["nonsense".into()]).is_none());
    }

    #[test]
    fn the_bash_script_names_its_cases_as_it_dispatches_them() {
        let script = String::from_utf8(completions(clap_complete::Shell::Bash)).unwrap();
        assert!(!script.contains("zpa__subcmd__preflight"));
        assert!(script.contains("cmd=\"zpa__preflight__subcmd__check\""));
        assert!(script.contains("\n        zpa__preflight__subcmd__check)"));
    }
}
