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
    ("app", 13),
];

/// Every `crate::<module>` a source file names in code outside its tests (a doc link to a
/// later stage explains, it does not import).
fn uses(text: &str) -> Vec<String> {
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
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a, b::c}`: each first segment.
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        rest = after;
    }
    found.retain(|n| !n.is_empty());
    found
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
    let text = "use crate::plan::Plan;\nuse crate::{evidence::X, probe};\n/// [`crate::render`]\nlet a = crate::exit::Exit::Ready; // crate::cli\n#[cfg(test)]\nuse crate::app;";
    assert_eq!(uses(text), ["plan", "evidence", "probe", "exit"]);
}
