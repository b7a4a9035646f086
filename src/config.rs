//! The resolution stage: what the flags and the profile mean for one run. The command line
//! says what was typed ([`crate::cli`]); this turns it into the plan and the anchors a run
//! needs, reading only what the user named (the profile, feeds, anchors, piped logs) and the
//! VM's own proxy and time-server configuration.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::ProbeArgs;
use crate::error::{Error, InputError};
use crate::plan::{self, Overrides};
use crate::probe;
use crate::profile::{self, Profile};

/// What a run needs once the arguments are read: the plan and the `--trust` anchors.
pub struct Prepared {
    /// What to contact and read, and how to judge it.
    pub plan: plan::Plan,
    /// The `--trust` and profile anchors, read and validated.
    pub anchors: Vec<probe::tls::Anchor>,
    /// Where logs handed in as pipes were spooled (kept for the life of the run).
    _spool: Option<tempfile::TempDir>,
}

/// Reads the profile and what the flags name, and plans the run. `ignore` is `--ignore`.
pub fn prepare(args: &ProbeArgs, ignore: &[String]) -> Result<Prepared, Error> {
    root_dir(&args.root)?;
    let profile = profile::load(&args.profile)?;
    let zen = zen_in_use(&profile, args.cidrs.as_deref(), &args.cache)?;
    let anchors = anchors(&profile, &args.trust)?;
    // A pipe that never ends (`--log <(journalctl -f)`) is a source like any probe: read for
    // one probe timeout (what it has written by then, its backlog at least), and the run goes
    // on with that. It is read before the run starts, so the overall deadline would double
    // the run's length.
    let (logs, spool) = spool_logs(&args.log, probe_timeout(args, &profile))?;
    let mut overrides = overrides(args, ignore, logs);
    overrides.zen = zen;
    overrides.trust = anchors.iter().map(probe::tls::Anchor::describe).collect();
    // The pre-plan stage: what the VM's own configuration says (proxies, time servers).
    let system = probe::system::read(&args.root, &probe::system::environment());
    let plan = plan::plan(&profile, &overrides, &system, &args.root);
    Ok(Prepared {
        plan,
        anchors,
        _spool: spool,
    })
}

/// The Zen ranges `--cidrs`, the cache or the profile give ([`crate::feeds::zen_in_use`]); a
/// cache that cannot be read is no reason to stop: one line on stderr says it is ignored.
pub fn zen_in_use(
    profile: &Profile,
    cidrs: Option<&Path>,
    cache: &Path,
) -> Result<Option<crate::profile::feed::ZenRanges>, Error> {
    Ok(crate::feeds::zen_in_use(profile, cidrs, cache, |e| {
        warn(format!("zpa-preflight: ignoring the feed cache: {e}"))
    })?)
}

/// The flags a plan takes as they are (the feed and the anchors are read apart).
fn overrides(args: &ProbeArgs, ignore: &[String], logs: Vec<String>) -> Overrides {
    Overrides {
        ntp_servers: args.ntp_server.clone(),
        logs,
        dns_server: args.dns_server,
        targets: args.target.clone(),
        probe_timeout_ms: args
            .timeout
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        ignore: ignore.to_vec(),
        coverage: args.coverage,
        ..Overrides::default()
    }
}

/// `--timeout`, else the profile's probe timeout.
fn probe_timeout(args: &ProbeArgs, profile: &Profile) -> Duration {
    args.timeout
        .unwrap_or(Duration::from_millis(profile.timeouts.probe_ms))
}

/// One line on stderr, made printable: it may quote a file name or a peer's text.
fn warn(line: String) {
    eprintln!("{}", crate::render::printable(&line));
}

/// `--root` must be a directory: a typo would otherwise be judged as an empty VM (SELinux
/// "disabled", no key) instead of being the usage error it is.
pub fn root_dir(root: &Path) -> Result<(), Error> {
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(InputError::invalid(
            root.display().to_string(),
            "is not a directory: --root names the root of the system to inspect",
        )
        .into()),
        Err(source) => Err(InputError::Read {
            file: root.display().to_string(),
            source,
        }
        .into()),
    }
}

/// The profile's `[tls] anchors` and the `--trust` files, read and validated.
pub fn anchors(profile: &Profile, trust: &[String]) -> Result<Vec<probe::tls::Anchor>, Error> {
    Ok(profile
        .tls
        .anchors
        .iter()
        .chain(trust)
        .map(|spec| probe::tls::load_anchor(spec))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Whether `path` is a pipe handed in (`<(journalctl …)`, stdin): read once, it is empty for
/// whoever reads it next.
fn piped(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
        && (path.starts_with("/dev/fd")
            || path.starts_with("/proc/self/fd")
            || path == Path::new("/dev/stdin"))
}

/// The `--log` paths to read: a pipe handed in is read once, up to the log cap, into a spool
/// file, so that the checks and the bundle see the same bytes.
fn spool_logs(
    logs: &[PathBuf],
    window: Duration,
) -> Result<(Vec<String>, Option<tempfile::TempDir>), Error> {
    if !logs.iter().any(|p| piped(p)) {
        return Ok((logs.iter().map(|p| p.display().to_string()).collect(), None));
    }
    let spool = tempfile::tempdir().map_err(|source| Error::Write {
        path: "a spool directory for piped logs".into(),
        source,
    })?;
    let mut paths = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        if !piped(log) {
            paths.push(log.display().to_string());
            continue;
        }
        let text = probe::rootfs::read_log(log, probe::rootfs::LOG_CAP, window)
            .map_err(|e| InputError::invalid(log.display().to_string(), e.to_string()))?;
        let path = spool.path().join(spool_name(i, log));
        crate::files::replace_atomic(&path, 0o600, |out| out.write_all(text.as_bytes())).map_err(
            |source| Error::Write {
                path: path.display().to_string(),
                source,
            },
        )?;
        paths.push(path.display().to_string());
    }
    Ok((paths, Some(spool)))
}

/// A spooled pipe's file name: its position and its path, flattened (`0-dev-fd-63.log`), so
/// the report and the bundle still say which pipe it was.
fn spool_name(index: usize, log: &Path) -> String {
    let name = log
        .display()
        .to_string()
        .trim_start_matches('/')
        .replace('/', "-");
    format!("{index}-{name}.log")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn probe_args(extra: &[&str]) -> ProbeArgs {
        let mut argv = vec!["zpa-preflight", "check"];
        argv.extend(extra);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Check(args) => args.probe,
            _ => unreachable!(),
        }
    }

    #[test]
    fn flags_become_overrides() {
        let args = probe_args(&[
            "--timeout",
            "1500ms",
            "--target",
            "198.18.0.1",
            "--ntp-server",
            "198.18.0.2",
            "--dns-server",
            "198.18.0.3",
        ]);
        let o = overrides(
            &args,
            &["egress.tcp_9000_blocked".into()],
            vec!["a.log".into()],
        );
        assert_eq!(o.probe_timeout_ms, Some(1500));
        assert_eq!(o.targets.len(), 1);
        assert_eq!(o.ntp_servers, ["198.18.0.2"]);
        assert_eq!(o.dns_server.unwrap().port(), 53);
        assert_eq!(o.ignore, ["egress.tcp_9000_blocked"]);
        assert_eq!(o.logs, ["a.log"]);
        assert!(!o.coverage && o.zen.is_none() && o.trust.is_empty());
        let profile = profile::load(profile::DEFAULT_PROFILE).unwrap();
        assert_eq!(probe_timeout(&args, &profile), Duration::from_millis(1500));
        let none = probe_args(&[]);
        assert_eq!(
            probe_timeout(&none, &profile),
            Duration::from_millis(profile.timeouts.probe_ms)
        );
    }

    #[test]
    fn root_must_be_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(root_dir(dir.path()).is_ok());
        for (path, says) in [
            (file.clone(), "is not a directory"),
            (dir.path().join("missing"), "cannot read"),
        ] {
            let e = root_dir(&path).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains(&path.display().to_string()),
                "{e}"
            );
        }
    }

    #[test]
    fn files_are_not_spooled_pipes_are_named_after_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("connector.log");
        std::fs::write(&log, "x\n").unwrap();
        let (paths, spool) =
            spool_logs(std::slice::from_ref(&log), Duration::from_millis(10)).unwrap();
        assert_eq!(paths, [log.display().to_string()]);
        assert!(spool.is_none());
        assert_eq!(spool_name(0, Path::new("/dev/fd/63")), "0-dev-fd-63.log");
    }

    #[test]
    fn anchors_are_read_and_a_bad_one_is_named() {
        let profile = profile::load(profile::DEFAULT_PROFILE).unwrap();
        let e = anchors(&profile, &["broker=/nonexistent/ca.pem".into()])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
