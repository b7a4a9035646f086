//! Failures of the tool itself. A probe that fails is evidence, never one of these.

/// A file or name the user gave that cannot be used: a usage error, one line naming it.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The path as given.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but is not valid.
    #[error("{file}: {message}")]
    Invalid {
        /// The path as given, or `builtin:…`.
        file: String,
        /// What is wrong, with the line when known.
        message: String,
    },
    /// `--profile NAME` named neither a built-in profile nor an existing file.
    #[error("unknown profile '{name}': not a file, and the built-in profiles are {builtins}")]
    UnknownProfile {
        /// What was asked for.
        name: String,
        /// The built-in profile names, comma-separated.
        builtins: String,
    },
}

impl InputError {
    /// An invalid-input error for `file`.
    pub fn invalid(file: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: file.into(),
            message: message.into(),
        }
    }
}

/// Why a feed could not be fetched or used; the cache is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum FeedUpdateError {
    /// The download failed.
    #[error("{url}: {message}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// The body is not an acceptable feed.
    #[error("{source_name}: {message}")]
    Invalid {
        /// Where it came from.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The cache could not be read or written.
    #[error("{path}: {source}")]
    Cache {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Why the tool could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile, feed or report is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The report could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Flags that do not go together.
    #[error("{0}")]
    Usage(String),
    /// `feed update` could not replace the cache (which is left as it was).
    #[error("feed update: {0} (the cache is unchanged)")]
    FeedUpdate(#[from] FeedUpdateError),
    /// `chain`: the host presented no chain to print (no address, no handshake, no
    /// certificate, or only a leaf for `--format pem`); exit 3, as a blocked check.
    #[error("chain: {0}")]
    NoChain(String),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl Error {
    /// Whether this is a write to a pipe whose reader has gone.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
