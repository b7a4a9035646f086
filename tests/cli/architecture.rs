//! The house's one rule, checked from the imports: data flows one way. Each top-level module
//! has a stage; a module may use its own stage and earlier ones, never a later one, so there
//! is no import circle across stages. A new module must be given its stage here (and in the
//! diagram in `src/lib.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::repo;

/// (module, stage): the order of `src/lib.rs`'s diagram.
const STAGES: &[(&str, u8)] = &[
    // Leaves: vocabulary and helpers that import nothing of the house.
    ("address", 0),
    ("causes", 0),
    ("x509", 0),
    ("certs", 0),
    ("secrets", 0),
    ("text", 0),
    ("vm", 0),
    ("error", 0),
    ("files", 0),
    ("interrupt", 0),
    ("sizing", 0),
    ("profile", 1),
    ("plan", 2),
    ("evidence", 3),
    // All the I/O: the probes (with the pre-plan read of the VM, probe::system) and the feed
    // downloads.
    ("probe", 4),
    ("feeds", 4),
    ("diagnose", 5),
    ("report", 6),
    ("exit", 7),
    ("fleet", 8),
    ("render", 9),
    ("redact", 10),
    ("bundle", 11),
    ("cli", 12),
    ("manual", 12),
    ("config", 13),
    ("commands", 14),
];

/// Every `crate::<module>` a source file names in code outside its tests (a doc link to a
/// later stage explains, it does not import).
fn uses(text: &str) -> Vec<String> {
    named_after(text, "crate::")
}

/// Every first path segment after `prefix` (`crate::`, `super::`) in code outside the tests.
fn named_after(text: &str, prefix: &str) -> Vec<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or(text)
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.as_str();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find(prefix).map(|i| from + i) {
        from = at + prefix.len();
        // Part of a longer path (`super::super::x` when looking for `super::`): not this one.
        if code[..at].ends_with("::") {
            continue;
        }
        let after = &code[from..];
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a, b::{c, d}, e}`: each first segment at the group's own depth.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || c != '{' {
                    item.push(c);
                }
            }
            found.push(first_segment(&item));
        } else {
            found.push(first_segment(after));
        }
    }
    found.retain(|n| !n.is_empty());
    found
}

/// The leading identifier of a path.
fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_later_stage() {
    let stages: BTreeMap<&str, u8> = STAGES.iter().copied().collect();
    let src = repo("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(module) = line.strip_prefix("pub mod ") {
            let module = module.trim_end_matches(';');
            assert!(
                stages.contains_key(module),
                "src/lib.rs declares `{module}`: give it a stage in tests/cli/architecture.rs"
            );
        }
    }
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(&stage) = stages.get(top.as_str()) else {
            continue; // lib.rs and main.rs: the wiring
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for used in uses(&text) {
            match stages.get(used.as_str()) {
                Some(&other) if other > stage => violations.push(format!(
                    "src/{} ({top}, stage {stage}) uses crate::{used} (stage {other})",
                    rel.display()
                )),
                _ => {}
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the flow:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_import_scanner_sees_every_form() {
    let text = "use crate::plan::Plan;\nuse crate::{evidence::X, probe};\n/// [`crate::render`]\nlet a = crate::exit::Exit::Ready; // crate::cli\nuse crate::{report::{A, B}, fleet};\n#[cfg(test)]\nuse crate::app;";
    assert_eq!(
        uses(text),
        ["plan", "evidence", "probe", "exit", "report", "fleet"]
    );
}

/// Every `super::<name>` a file names in code outside its tests: its uses of sibling modules.
fn sibling_uses(text: &str) -> Vec<String> {
    named_after(text, "super::")
}

/// Inside each folder too, the modules use one another one way: no circle between siblings
/// (a folder's `mod.rs` is its root, which its children may use). A subfolder is one sibling,
/// with every use its files make of the folder: `super::x` from its `mod.rs`,
/// `super::super::x` from its files, and `crate::<folder>::x` from anywhere in it.
#[test]
fn no_circle_inside_a_folder() {
    let src = repo("src");
    let mut folders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
                folders.push(path);
            }
        }
    }
    let mut circles = Vec::new();
    for folder in folders {
        let module_path = folder
            .strip_prefix(&src)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("::");
        let absolute = format!("crate::{module_path}::");
        let mut modules: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                // One sibling: its mod.rs at one level below, its files at two.
                let mut uses = Vec::new();
                let mut files = Vec::new();
                sources(&path, &mut files);
                for file in files {
                    let text = std::fs::read_to_string(&file).unwrap();
                    let depth = file.strip_prefix(&path).unwrap().components().count();
                    let up = if file.file_stem().is_some_and(|s| s == "mod") && depth == 1 {
                        "super::".to_string()
                    } else {
                        "super::".repeat(depth + 1)
                    };
                    uses.extend(named_after(&text, &up));
                    uses.extend(named_after(&text, &absolute));
                }
                modules.insert(name, uses);
            } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut uses = sibling_uses(&text);
                uses.extend(named_after(&text, &absolute));
                modules.insert(name, uses);
            }
        }
        // Depth-first, looking for a module reached again on its own path.
        fn visit(
            module: &str,
            modules: &BTreeMap<String, Vec<String>>,
            path: &mut Vec<String>,
            found: &mut Vec<String>,
        ) {
            if let Some(at) = path.iter().position(|m| m == module) {
                let mut circle = path[at..].to_vec();
                circle.push(module.to_string());
                found.push(circle.join(" → "));
                return;
            }
            path.push(module.to_string());
            for used in modules.get(module).into_iter().flatten() {
                if modules.contains_key(used) && used != module {
                    visit(used, modules, path, found);
                }
            }
            path.pop();
        }
        for module in modules.keys() {
            let mut found = Vec::new();
            visit(module, &modules, &mut Vec::new(), &mut found);
            for circle in found {
                circles.push(format!("{}: {circle}", folder.display()));
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(
        circles.is_empty(),
        "circles between siblings:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_sibling_scanner_sees_every_form() {
    let text = "use super::{chain::Judgement, Facts};\nlet x = super::measures::dns(f); // super::tls\n#[cfg(test)]\nuse super::testing;";
    assert_eq!(sibling_uses(text), ["chain", "Facts", "measures"]);
}

/// The files of `src/diagnose/` that weigh causes of several families at once, and why; every
/// other file is one family's rules, named after it (or inside its folder).
const SHARED_JUDGEMENTS: &[(&str, &str)] = &[
    ("mod", "the rule list, the facts and the ranking"),
    ("testing", "the table tests' builders"),
    (
        "chain",
        "who signed a chain: read by the TLS rules and the middlebox's",
    ),
    ("measures", "the numbers every output reads"),
    (
        "middlebox",
        "what a cut-off handshake's follow-ups say, lowest layer first: egress.pmtu_blackhole \
         before tls.sni_filtered and tls.version_filtered",
    ),
    (
        "log",
        "the connector's log lines, joined to the causes their patterns name",
    ),
];

/// One taxonomy: a rule file named after a family (or in its folder) concludes that family's
/// causes only, as `src/causes.rs` assigns them; `feed.stale` is in `feed.rs`, `key.malformed`
/// in `key.rs`.
#[test]
fn each_rule_file_concludes_its_familys_causes_only() {
    // Constant → family, from the catalogue's own definitions: `NAME = "id", Family, …`.
    let catalogue = std::fs::read_to_string(repo("src/causes.rs")).unwrap();
    let family_of: BTreeMap<String, String> = catalogue
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(" = \"")?;
            let (_, rest) = rest.split_once("\", ")?;
            let family = rest.split(',').next()?.trim().to_lowercase();
            name.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                .then(|| (name.to_string(), family))
        })
        .collect();
    assert!(family_of.len() > 40, "{} causes read", family_of.len());
    let families: std::collections::BTreeSet<&String> = family_of.values().collect();
    let root = repo("src/diagnose");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&root).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        // A folder is its family's: egress/coverage.rs is egress's.
        let owner = match rel.components().count() {
            1 => stem.clone(),
            _ => rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .into_owned(),
        };
        if !families.contains(&owner) {
            if !SHARED_JUDGEMENTS.iter().any(|(name, _)| *name == owner) {
                wrong.push(format!(
                    "src/diagnose/{}: named after no family; rename it, or declare it a shared judgement",
                    rel.display()
                ));
            }
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for used in named_after(&text, "crate::causes::") {
            if let Some(family) = family_of.get(&used)
                && *family != owner
            {
                wrong.push(format!(
                    "src/diagnose/{} ({owner}) concludes {used}, of family {family}",
                    rel.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
