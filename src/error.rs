//! Failures of the tool itself. A probe that fails is evidence, never one of these.

use crate::exit::Exit;
use crate::profile::ProfileError;
use crate::report::ReportError;

/// Why the tool could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile or feed is missing or malformed.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A saved report is missing or malformed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The report could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl Error {
    /// The exit code: bad input is a usage error (2), anything else a tool failure (1).
    pub fn exit(&self) -> Exit {
        match self {
            Error::Profile(_) | Error::Report(_) => Exit::Usage,
            Error::Write { .. } | Error::Runtime(_) => Exit::ToolFailed,
        }
    }
}
