//! The report: evidence plus its diagnosis, as saved to JSON and read back by `explain`.
//!
//! `schema_version` is `MAJOR.MINOR`. A minor bump only adds optional fields, so this tool
//! reads any report of its own major version (unknown fields are ignored, missing new ones
//! take their defaults); a different major is refused with a clear message. `explain` never
//! trusts the saved `checks`, `causes` or `verdict`: it re-derives them from the evidence.
//!
//! What keeps that promise:
//! - **Tolerant wire types.** No type a report carries denies unknown fields; the profile's
//!   strictness (an unknown TOML key is an error) lives in the TOML reader
//!   (`profile::strict_toml`), not in the types the plan embeds.
//! - **Ids are strings on the wire.** A log pattern's cause is checked against the catalogue
//!   when the catalogue is loaded; in a report it is a string, and a cause this version does
//!   not know is left out of its diagnosis rather than failing the load.
//! - **New enum variants.** A variant an older reader cannot know (a new probe outcome, a new
//!   SELinux state) is a minor bump only when it appears in new situations alone; such a report
//!   read by an older tool fails on that value, and says the report is newer than the tool
//!   (below) rather than giving a bare field error. A variant that changes the meaning of one
//!   an older reader knows is a major bump.
//!
//!   1.9 bent this once, knowingly: an HTTPS `Date` estimate or a gateway echo that the run's
//!   deadline or a signal cut short was left out (the estimate) or written as a `failed` in
//!   words (the echo); it is now `deadline_reached` or `interrupted`, as every other probe's
//!   outcome always was. A 1.8 tool refuses such a report, saying it is newer; the report of a
//!   run whose `Date` and echo finished (nearly every run) loads in 1.8 as before.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::diagnose::measures::Measures;
use crate::diagnose::{self, Cause, Check, Verdict};
use crate::error::InputError;
use crate::evidence::Evidence;

/// The schema this tool writes.
pub const SCHEMA_VERSION: &str = "1.9";
/// The major version this tool reads.
const SCHEMA_MAJOR: u64 = 1;

/// Which tool wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tool {
    /// Always `zpa-preflight`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Tool {
    /// This build.
    pub fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The report's JSON Schema (draft 2020-12), generated from [`Report`] itself, so it cannot
/// drift from what is written. It states the wire's tolerance too: no object denies unknown
/// fields (a newer minor version's additions load), and what `#[serde(default)]` fills is not
/// required.
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Report).to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            format!("urn:zpa-preflight:report:{SCHEMA_VERSION}").into(),
        );
        object.insert(
            "title".into(),
            format!("zpa-preflight report, schema {SCHEMA_VERSION}").into(),
        );
    }
    schema
}

/// A complete run: what was checked, what was seen, and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// `MAJOR.MINOR` of this document's shape (1.1 added `evidence.tls`, 1.2 `evidence.clock`, 1.3 `evidence.host`, 1.4 certificate keys, `plan.broker_cas` and saved chains, 1.5 `measures`, `interrupted` outcomes and `evidence.files_read`).
    pub schema_version: String,
    /// The tool that ran the probes.
    pub tool: Tool,
    /// The profile name.
    pub profile: String,
    /// When the probes started (UTC).
    pub started_at: DateTime<Utc>,
    /// How long the probes took.
    pub duration_ms: u64,
    /// ready, blocked or warnings.
    pub verdict: Verdict,
    /// One status per check.
    pub checks: Vec<Check>,
    /// Ranked causes, most likely first.
    pub causes: Vec<Cause>,
    /// The numbers behind the diagnosis (per-port counts, the clock estimate, DNS counts):
    /// what every renderer reads. Re-derived like the causes, never trusted from a file.
    #[serde(default)]
    pub measures: Measures,
    /// The raw observations and the plan they followed.
    pub evidence: Evidence,
}

impl Report {
    /// Diagnoses `evidence` and wraps it.
    pub fn new(evidence: Evidence, started_at: DateTime<Utc>, duration_ms: u64) -> Report {
        let diagnosis = diagnose::diagnose(&evidence);
        Report {
            schema_version: SCHEMA_VERSION.into(),
            tool: Tool::current(),
            profile: evidence.plan.profile.clone(),
            started_at,
            duration_ms,
            verdict: diagnosis.verdict,
            checks: diagnosis.checks,
            causes: diagnosis.causes,
            measures: diagnosis.measures,
            evidence,
        }
    }

    /// The cause a log line or a ticket quotes: the first one that is not mere information.
    pub fn top_cause(&self) -> Option<&Cause> {
        self.causes
            .iter()
            .find(|c| c.severity != crate::diagnose::Severity::Info)
    }

    /// Re-derives the diagnosis from the evidence, with `ignore` added to the saved ignores.
    pub fn rejudge(mut self, ignore: &[String]) -> Report {
        for id in ignore {
            if !self.evidence.plan.ignore.contains(id) {
                self.evidence.plan.ignore.push(id.clone());
            }
        }
        let diagnosis = diagnose::diagnose(&self.evidence);
        self.verdict = diagnosis.verdict;
        self.checks = diagnosis.checks;
        self.causes = diagnosis.causes;
        self.measures = diagnosis.measures;
        self
    }
}

/// Reads a saved report.
pub fn load(path: &Path) -> Result<Report, InputError> {
    let text = crate::files::read_text(path, crate::files::Kind::Report)?;
    parse(&text).map_err(|message| InputError::invalid(path.display().to_string(), message))
}

/// Parses a report's JSON text, checking its schema version first so that a report from a
/// different major version gets that message rather than a confusing field error.
pub fn parse(text: &str) -> Result<Report, String> {
    #[derive(Deserialize)]
    struct Header {
        schema_version: String,
    }
    let header: Header = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let major = header
        .schema_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .ok_or_else(|| {
            format!(
                "schema_version '{}' is not MAJOR.MINOR",
                header.schema_version
            )
        })?;
    if major != SCHEMA_MAJOR {
        return Err(format!(
            "schema_version {} is not readable by this tool, which reads {SCHEMA_MAJOR}.x reports \
             (it writes {SCHEMA_VERSION})",
            header.schema_version
        ));
    }
    let report: Report = serde_json::from_str(text).map_err(|e| {
        let minor = |v: &str| v.split('.').nth(1).and_then(|m| m.parse::<u64>().ok());
        match (minor(&header.schema_version), minor(SCHEMA_VERSION)) {
            (Some(theirs), Some(ours)) if theirs > ours => format!(
                "{} (the report is schema {}, newer than this tool's {SCHEMA_VERSION}: a value \
                 it added is unknown here; explain it with a newer zpa-preflight)",
                json_error(&e),
                header.schema_version
            ),
            _ => json_error(&e),
        }
    })?;
    // A report's plan is judged with, so it is held to what every feed is held to: Zen
    // ranges that cover everything would make any answer look like Zscaler's.
    crate::profile::feed::plausible(&report.evidence.plan.zen.ranges)
        .map_err(|m| format!("evidence.plan.zen: {m}"))?;
    Ok(report)
}

fn json_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |cut| &message[..cut]);
    // An outcome is a tagged enum with `Unfinished` as its fallback, so serde cannot say which
    // of the two went wrong: say what it could be instead of "did not match any variant".
    let message = match message.strip_prefix("data did not match any variant of untagged enum ") {
        Some(outcome) => format!(
            "not a {outcome} this version reads: its \"kind\" is unknown here, or a field that \
             kind needs is missing or of the wrong type"
        ),
        None => message.to_string(),
    };
    format!("line {}, column {}: {message}", e.line(), e.column())
}
