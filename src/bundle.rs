//! The support bundle: the JSON report plus the configuration a support engineer asks for
//! first, in one `.tar.gz` that `explain` reads back.
//!
//! Nothing secret leaves the VM: the provision key file is never collected, and secrets are
//! removed by their shape from every value kept ([`crate::secrets`]): the report is cleaned as
//! data before it is serialized, never by a text replace over its JSON. What is collected is
//! listed in the bundle's `MANIFEST`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::report::{self, Report};

/// Files copied from under `--root`, when they exist: [`crate::vm::CONFIG_FILES`].
const FILES: &[&str] = crate::vm::CONFIG_FILES;
/// Never collected, whatever else changes.
const KEY: &str = crate::vm::PROVISION_KEY;

/// Writes the bundle for `report` to `out`: the report, the files above, the last
/// `log_lines` lines of each log the run read.
pub fn write(
    out: &Path,
    report: &Report,
    root: &Path,
    log_lines: usize,
    redact: bool,
) -> std::io::Result<Vec<String>> {
    let secrets = crate::probe::host::secrets(root);
    // With --redact, the evidence is rewritten and judged again, so every text in the report
    // (summaries, causes) is made from the tokens, not from the originals.
    let mut redactor = redact.then(|| crate::redact::Redactor::new(&report.evidence));
    let redacted;
    let report = match redactor.as_mut() {
        Some(r) => {
            let evidence = r.evidence(&report.evidence);
            redacted = Report::new(evidence, report.started_at, report.duration_ms);
            &redacted
        }
        None => report,
    };
    let mut scrub = |text: &str| {
        let text = secrets.scrub(text);
        match redactor.as_mut() {
            Some(r) => r.text(&text),
            None => text,
        }
    };
    let mut entries: Vec<(String, String)> = Vec::new();
    // Cleaned as data, value by value, then serialized: a short secret can never turn into a
    // text replace across the document (a truncated key "3" would hit every 3 in it).
    let mut value = serde_json::to_value(report).map_err(std::io::Error::other)?;
    crate::secrets::scrub_json(&mut value, &secrets);
    let json = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)? + "\n";
    entries.push(("report.json".into(), json));
    entries.push((
        "version.txt".into(),
        format!(
            "zpa-preflight {} (commit {})\n",
            env!("CARGO_PKG_VERSION"),
            env!("ZPA_PREFLIGHT_COMMIT")
        ),
    ));
    let fs = crate::probe::rootfs::RootFs::new(root);
    for rel in FILES {
        // Inside the root, as a chroot would: a link in an image never collects a host file.
        if let Ok(text) = fs.read(rel, crate::probe::rootfs::CONFIG_CAP) {
            entries.push((format!("root/{rel}"), scrub(&text)));
        }
    }
    for (i, log) in report.evidence.plan.logs.iter().enumerate() {
        // The connector's own log inside the root, as a chroot would; a --log file as named.
        let read = crate::probe::rootfs::host_path(log).and_then(|path| {
            crate::probe::rootfs::read_log(
                &path,
                crate::probe::rootfs::LOG_CAP,
                crate::probe::rootfs::PIPE_WINDOW,
            )
        });
        if let Ok(text) = read {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(log_lines)..].join("\n");
            let name = log
                .rel
                .file_name()
                .map_or_else(|| format!("log-{i}"), |n| n.to_string_lossy().into_owned());
            entries.push((format!("logs/{i}-{name}"), scrub(&tail) + "\n"));
        }
    }
    let manifest: Vec<String> = entries.iter().map(|(name, _)| name.clone()).collect();
    entries.push((
        "MANIFEST".into(),
        format!(
            "{}\nnot collected: /{KEY} (the provision key, never); secrets removed by shape{}\n",
            manifest.join("\n"),
            if redact {
                "; host names and addresses redacted (Zscaler's kept)"
            } else {
                ""
            }
        ),
    ));

    // Through the one atomic writer: never in place, never through a symlink planted at
    // `out`, and a full disk or a second Ctrl-C leaves the previous bundle whole.
    crate::files::write_atomic(out, 0o600, |file| {
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ));
        for (name, text) in &entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(report.started_at.timestamp().max(0) as u64);
            header.set_cksum();
            archive.append_data(&mut header, name, text.as_bytes())?;
        }
        archive.into_inner()?.finish()?.flush()
    })?;
    Ok(manifest)
}

/// Whether `bytes` are gzip (a bundle) rather than a JSON report.
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The reports of a fleet: every path given, folders expanded to their reports (`*.json`) and
/// bundles (`*.gz`), in name order. An empty folder is an error: "0 connectors, none blocked"
/// would be a pass.
pub fn reports_in(given: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut paths = Vec::new();
    for path in given {
        if !path.is_dir() {
            paths.push(path.clone());
            continue;
        }
        let mut found: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| InputError::Read {
                file: path.display().to_string(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "gz"))
            .collect();
        found.sort();
        // An empty folder is no fleet: "0 connectors, none blocked" would be a pass.
        if found.is_empty() {
            return Err(InputError::invalid(
                path.display().to_string(),
                "holds no report (*.json) or bundle (*.gz): nothing to explain",
            ));
        }
        paths.extend(found);
    }
    Ok(paths)
}

/// A saved report or bundle, whichever `path` holds, read once through the bounded reader.
pub fn load_any(path: &Path) -> Result<Report, InputError> {
    let file_name = path.display().to_string();
    let bytes = crate::files::read_bytes(path, crate::files::Kind::Report)?;
    if is_bundle(&bytes) {
        if bytes.len() as u64 > crate::files::Kind::Bundle.cap() {
            return Err(InputError::invalid(
                file_name,
                "is larger than a bundle can be (64 MiB)",
            ));
        }
        return read_report(&bytes[..]).map_err(|message| InputError::invalid(file_name, message));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        InputError::invalid(
            &file_name,
            "is neither a JSON report nor a bundle (not UTF-8, not gzip)",
        )
    })?;
    report::parse(&text).map_err(|message| InputError::invalid(file_name, message))
}

/// The report inside a bundle read from `gzip`: the parser `explain` trusts with a customer's
/// attachment, so it is bounded and fuzzed (`fuzz/fuzz_targets/bundle.rs`). The bound is on
/// the decompressed stream, everything the tar reader pulls (headers, PAX and long-name
/// records, other entries), not only on the report: a small attachment whose headers expand
/// would otherwise take hundreds of MiB.
pub fn read_report(gzip: impl Read) -> Result<Report, String> {
    let decompressed = crate::files::Capped::new(
        flate2::read::GzDecoder::new(gzip),
        crate::files::Kind::Report.cap(),
    );
    let mut archive = tar::Archive::new(decompressed);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a bundle: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a bundle: {e}"))?;
        // `tar -C dir .` writes `./report.json`: the same file.
        let is_report = entry
            .path()
            .is_ok_and(|p| p == Path::new("report.json") || p == Path::new("./report.json"));
        if is_report {
            // Bounded by the decompressed stream's cap above: a larger report is refused by
            // that cap's message, never cut short into a parse error.
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| format!("report.json: {e}"))?;
            return report::parse(&text).map_err(|m| format!("report.json: {m}"));
        }
    }
    Err("the bundle holds no report.json".into())
}
