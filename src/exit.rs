//! Exit codes: computed from the outcome, never chosen ad hoc, so automation can tell
//! "the VM is not ready" from "the tool failed" (the convention of Replicated's preflight).

use crate::diagnose::Verdict;
use crate::error::{Error, FeedUpdateError};

/// The process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing blocks enrollment (warnings allowed unless `--strict`).
    Ready,
    /// 1: the tool itself failed (cannot write the report, internal error).
    ToolFailed,
    /// 2: usage or input error (bad flag, malformed profile, feed or report).
    Usage,
    /// 3: at least one blocking cause was found.
    Blocked,
    /// 4: only warnings, and `--strict` was given.
    Warnings,
    /// 128 + the signal's number (129 SIGHUP, 130 SIGINT, 143 SIGTERM): interrupted, the
    /// partial report written and printed.
    Interrupted(u8),
}

impl Exit {
    /// The code for a verdict.
    pub fn from_verdict(verdict: Verdict, strict: bool) -> Exit {
        match verdict {
            Verdict::Ready => Exit::Ready,
            Verdict::Blocked => Exit::Blocked,
            Verdict::Warnings if strict => Exit::Warnings,
            Verdict::Warnings => Exit::Ready,
        }
    }

    /// The code for a run that ended in an error: bad input (a flag, a file, a feed that cannot
    /// be used) is a usage error (2); a host that presented no chain to `chain` is blocked (3),
    /// as a check that could not reach it; anything else is a failure of the tool (1).
    pub fn from_error(error: &Error) -> Exit {
        match error {
            Error::Input(_) | Error::Usage(_) => Exit::Usage,
            // A feed that cannot be fetched or is not acceptable is bad input; a cache that
            // cannot be written is the tool's failure.
            Error::FeedUpdate(FeedUpdateError::Cache { .. }) => Exit::ToolFailed,
            Error::FeedUpdate(_) => Exit::Usage,
            Error::NoChain(_) => Exit::Blocked,
            Error::Write { .. } | Error::Runtime(_) => Exit::ToolFailed,
        }
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ready => 0,
            Exit::ToolFailed => 1,
            Exit::Usage => 2,
            Exit::Blocked => 3,
            Exit::Warnings => 4,
            Exit::Interrupted(signal) => 128u8.saturating_add(signal),
        }
    }
}

/// The table printed by `--help` and copied in the README.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ready: no blocking cause (warnings allowed unless --strict)
  1  the tool itself failed
  2  usage or input error (bad flag, malformed profile, feed or report)
  3  blocked: at least one blocking cause
  4  warnings only, and --strict was given
  129, 130, 143  interrupted by SIGHUP, Ctrl-C (SIGINT) or SIGTERM: the partial report is printed";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_to_code() {
        let cases = [
            (Verdict::Ready, false, 0),
            (Verdict::Ready, true, 0),
            (Verdict::Blocked, false, 3),
            (Verdict::Blocked, true, 3),
            (Verdict::Warnings, false, 0),
            (Verdict::Warnings, true, 4),
        ];
        for (verdict, strict, code) in cases {
            assert_eq!(
                Exit::from_verdict(verdict, strict).code(),
                code,
                "{verdict:?} {strict}"
            );
        }
    }
}
