//! The pipeline, wired once: profile → plan → probes (or a saved report) → diagnosis →
//! render → exit code. Each step is a module of its own; this one only connects them.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use chrono::Utc;

use std::str::FromStr;

use crate::cli::{
    ChainArgs, ChainFormat, CheckArgs, Cli, Command, ExplainArgs, GateArgs, OutputArgs,
};
use crate::error::{Error, InputError};
use crate::exit::Exit;
use crate::plan::{self, Overrides};
use crate::probe;
use crate::profile::{self, CONNECTOR_SOURCE};
use crate::render::{self, Format, Painter};
use crate::report::Report;

/// One line on stderr, made printable: it may quote a file name or a peer's text.
fn warn(line: String) {
    eprintln!("{}", render::printable(&line));
}

/// Runs the command and returns the exit code it earned.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Explain(args) => explain(args),
        Command::Gate(args) => gate(args),
        Command::Bundle(args) => {
            refuse_dry_run("bundle", &args.check)?;
            // One flag, one meaning: bundle prints one line, so --format has nothing to say.
            if args.check.output.format != Format::Human {
                return Err(Error::Usage(
                    "bundle: prints one line; the report is inside the bundle (and in --output)"
                        .into(),
                ));
            }
            let prepared = prepare(&args.check)?;
            let report = probe_once(&prepared, false)?;
            let written = crate::bundle::write(
                &args.out,
                &report,
                &args.check.root,
                args.log_lines,
                args.redact,
            )
            .map_err(|source| Error::Write {
                path: args.out.display().to_string(),
                source,
            })?;
            // --output means what it means for check: the JSON report, there too.
            if let Some(path) = &args.check.output.output {
                write_report(path, &report)?;
            }
            let exit = interrupted_or(Exit::from_verdict(report.verdict, args.check.output.strict));
            writeln!(
                std::io::stdout(),
                "wrote {} ({} files, no provision key) · {} · exit {}",
                args.out.display(),
                written.len(),
                render::human::verdict_word(report.verdict),
                exit.code()
            )
            .map_err(stdout_error)?;
            Ok(exit)
        }
        Command::Chain(args) => chain(args),
        Command::Size(args) => size(&args),
        Command::Feed { action } => match action {
            crate::cli::FeedCommand::Update(args) => feed_update(&args),
            crate::cli::FeedCommand::Show(args) => feed_show(&args),
        },
        Command::Completions { shell } => {
            let script = crate::manual::completions(shell);
            std::io::stdout().write_all(&script).map_err(stdout_error)?;
            Ok(Exit::Ready)
        }
        Command::Man { command, list } => {
            let mut out = std::io::stdout().lock();
            if list {
                for path in crate::manual::pages() {
                    let name = crate::manual::page_file_name(&path);
                    writeln!(out, "{name} {}", path.join(" ")).map_err(stdout_error)?;
                }
            } else {
                let page = crate::manual::page(&command).ok_or_else(|| {
                    Error::Usage(format!("man: no subcommand '{}'", command.join(" ")))
                })?;
                out.write_all(&page).map_err(stdout_error)?;
            }
            Ok(Exit::Ready)
        }
        Command::Causes { format } => {
            let mut out = std::io::stdout().lock();
            match format {
                Format::Human => render::causes::human(&mut out),
                Format::Json => render::causes::json(&mut out),
                Format::Markdown => render::causes::markdown(&mut out),
                Format::Prometheus => {
                    return Err(Error::Usage(
                        "causes: --format prometheus is for check reports".into(),
                    ));
                }
            }
            .map_err(stdout_error)?;
            Ok(Exit::Ready)
        }
        Command::Profiles => {
            let mut out = std::io::stdout().lock();
            for name in profile::builtin_profiles() {
                let p = profile::load(name)?;
                writeln!(out, "{name:16} {}", p.description).map_err(stdout_error)?;
            }
            Ok(Exit::Ready)
        }
    }
}

/// What a run needs once the arguments are read: the plan and the `--trust` anchors.
struct Prepared {
    plan: plan::Plan,
    anchors: Vec<probe::tls::Anchor>,
    /// Where logs handed in as pipes were spooled (kept for the life of the run).
    _spool: Option<tempfile::TempDir>,
}

/// The `--log` paths to read: a pipe handed in (`<(journalctl …)`, stdin) is read once, up to
/// the log cap, into a spool file, so that the checks and the bundle see the same bytes (a
/// pipe read by the check is empty for the bundle).
fn spool_logs(
    logs: &[std::path::PathBuf],
    window: std::time::Duration,
) -> Result<(Vec<String>, Option<tempfile::TempDir>), Error> {
    use std::os::unix::fs::FileTypeExt;
    let piped = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.file_type().is_fifo())
            && (p.starts_with("/dev/fd")
                || p.starts_with("/proc/self/fd")
                || p == Path::new("/dev/stdin"))
    };
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
        let name = log
            .display()
            .to_string()
            .trim_start_matches('/')
            .replace('/', "-");
        let path = spool.path().join(format!("{i}-{name}.log"));
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

/// `--root` must be a directory: a typo would otherwise be judged as an empty VM (SELinux
/// "disabled", no key) instead of being the usage error it is.
fn root_dir(root: &Path) -> Result<(), Error> {
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

fn prepare(args: &CheckArgs) -> Result<Prepared, Error> {
    root_dir(&args.root)?;
    let profile = profile::load(&args.profile)?;
    let zen = zen_in_use(&profile, args.cidrs.as_deref(), &args.cache)?;
    let anchors = anchors(&profile, &args.trust)?;
    // A pipe that never ends (`--log <(journalctl -f)`) is a source like any probe: read for
    // one probe timeout (what it has written by then, its backlog at least), and the run goes
    // on with that. It is read before the run starts, so the overall deadline would double
    // the run's length.
    let window = args
        .timeout
        .unwrap_or(std::time::Duration::from_millis(profile.timeouts.probe_ms));
    let (logs, spool) = spool_logs(&args.log, window)?;
    let overrides = Overrides {
        ntp_servers: args.ntp_server.clone(),
        logs,
        trust: anchors.iter().map(probe::tls::Anchor::describe).collect(),
        dns_server: args.dns_server,
        targets: args.target.clone(),
        probe_timeout_ms: args
            .timeout
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        zen,
        ignore: args.output.ignore.clone(),
        coverage: args.coverage,
    };
    // The pre-plan stage: what the VM's own configuration says (proxies, time servers).
    let system = probe::system::read(&args.root, &probe::system::environment());
    let plan = plan::plan(&profile, &overrides, &system, &args.root);
    Ok(Prepared {
        plan,
        anchors,
        _spool: spool,
    })
}

/// The Zen ranges a run uses: `--cidrs`, else a cached copy of the profile's published feed
/// (with its age), else `None`: the profile's own.
fn zen_in_use(
    profile: &profile::Profile,
    cidrs: Option<&Path>,
    cache: &Path,
) -> Result<Option<profile::feed::ZenRanges>, Error> {
    if let Some(path) = cidrs {
        return Ok(Some(profile::load_feed(path, CONNECTOR_SOURCE)?));
    }
    if !profile.zen_from_builtin_feed() {
        return Ok(None);
    }
    // Every cached kind the profile takes, merged: a Cloud Connector's brokers are in the
    // ZPA feed, its service edges in the cenr one.
    let mut merged: Option<profile::feed::ZenRanges> = None;
    for &kind in &profile.cached_feeds {
        let cached = match crate::feeds::read_cache(cache, kind) {
            Ok(Some(cached)) => cached,
            Ok(None) => continue,
            // An unreadable cache is no reason to stop a check: say so, use what there is.
            Err(e) => {
                warn(format!("zpa-preflight: ignoring the feed cache: {e}"));
                continue;
            }
        };
        let mut zen = cached.feed.clone();
        zen.source = format!(
            "{} (cached from {})",
            crate::feeds::cache_file(cache, kind).display(),
            cached.source
        );
        zen.fetched_at = Some(cached.fetched_at);
        zen.age_days = Some(cached.age_days(Utc::now()));
        merged = Some(match merged {
            None => zen,
            Some(mut first) => {
                first.ranges.extend(zen.ranges);
                first.ranges.sort();
                first.ranges.dedup();
                first.regions.extend(zen.regions);
                first.cloud = format!("{} + {}", first.cloud, zen.cloud);
                first.source = format!("{} + {}", first.source, zen.source);
                // The oldest copy decides how stale the whole is.
                if zen.age_days > first.age_days {
                    first.age_days = zen.age_days;
                    first.fetched_at = zen.fetched_at;
                }
                first
            }
        });
    }
    Ok(merged)
}

/// `size`: the connector plan for a protocol mix, and optionally this VM against it.
fn size(args: &crate::cli::SizeArgs) -> Result<Exit, Error> {
    let table = crate::sizing::table();
    let usage = |m: String| Error::Usage(format!("size: {m}"));
    let mix = table.parse_mix(&args.users).map_err(usage)?;
    let vm = table.size(&args.vm).ok_or_else(|| {
        let known: Vec<&str> = table.sizes.iter().map(|s| s.name.as_str()).collect();
        usage(format!(
            "--vm {}: the table has {}",
            args.vm,
            known.join(", ")
        ))
    })?;
    let sizing = crate::sizing::plan(&table, &mix, args.domains, vm);
    let here = if args.here {
        root_dir(&args.root)?;
        let read =
            |rel: &str| probe::host::read_bounded(&args.root, rel, probe::rootfs::CONFIG_CAP);
        let vcpus = read(crate::vm::CPUINFO).map(|t| probe::host::count_cpus(&t));
        let memory = read(crate::vm::MEMINFO).and_then(|t| probe::host::mem_total_mib(&t));
        match (vcpus, memory) {
            (Some(vcpus), Some(memory)) => Some(crate::sizing::here(
                &table,
                &mix,
                args.domains,
                vcpus,
                memory,
            )),
            _ => {
                return Err(usage(format!(
                    "--here: cannot read {}/proc/cpuinfo and proc/meminfo",
                    args.root.display()
                )));
            }
        }
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => render::size::human(&mut out, &table, &sizing, here.as_ref()),
        Format::Json => render::size::json(&mut out, &sizing, here.as_ref()),
        Format::Markdown => render::size::markdown(&mut out, &table, &sizing, here.as_ref()),
        Format::Prometheus => {
            return Err(usage(
                "--format prometheus is for check reports, not sizing".into(),
            ));
        }
    }
    .map_err(stdout_error)?;
    Ok(Exit::Ready)
}

/// `feed update`: fetch or read, validate, cache.
fn feed_update(args: &crate::cli::FeedUpdateArgs) -> Result<Exit, Error> {
    root_dir(&args.root)?;
    let cloud = args
        .cloud
        .clone()
        .unwrap_or_else(|| crate::feeds::default_cloud(args.kind).to_string());
    let from = args
        .from
        .clone()
        .unwrap_or_else(|| crate::feeds::url(args.kind, &cloud));
    let body = if from.starts_with("https://") {
        let ca = match &args.ca {
            Some(path) => probe::tls::load_anchor(&path.display().to_string())?.certs,
            None => Vec::new(),
        };
        // The request this tool makes itself goes through the system's proxy as configured,
        // credentials included (in memory only: every message names the proxy without them).
        // The system's proxy, read once: as configured (credentials included; `user:pw@host:port`
        // without a scheme, as /etc/environment often has it, is an HTTP proxy like any other)
        // for the client, and parsed without the credentials for every message.
        let proxy = probe::system::system_proxy(&args.root, &probe::system::environment())
            .and_then(|(raw, _, source)| {
                let shown = crate::plan::proxy::parse_proxy(&raw, &source, Vec::new())?;
                let raw = raw.trim();
                Some(crate::feeds::ProxyUse {
                    url: if raw.contains("://") {
                        raw.to_string()
                    } else {
                        format!("http://{raw}")
                    },
                    shown: format!("{} ({})", shown.addr, shown.source),
                    credentials: shown.credentials,
                })
            });
        crate::feeds::download(&from, proxy.as_ref(), &ca, args.timeout)
    } else if from.contains("://") {
        return Err(Error::Usage(format!(
            "feed update: {from}: only https:// URLs or files"
        )));
    } else {
        let text = crate::files::read_text(Path::new(&from), crate::files::Kind::Feed)?;
        Ok(crate::feeds::Body { text, source: from })
    };
    let updated = body.and_then(|body| {
        crate::feeds::update(
            &body,
            args.kind,
            &cloud,
            &args.cache,
            args.force,
            Utc::now(),
        )
    });
    let mut out = std::io::stdout().lock();
    match updated {
        Ok(updated) => {
            writeln!(
                out,
                "wrote {}: {} ranges ({} feed) for {} from {}{}",
                updated.path.display(),
                updated.cached.feed.ranges.len(),
                updated.cached.feed.kind.label(),
                updated.cached.feed.cloud,
                updated.cached.source,
                updated
                    .previous
                    .map(|n| format!(" (was {n})"))
                    .unwrap_or_default()
            )
            .map_err(stdout_error)?;
            Ok(Exit::Ready)
        }
        Err(e) => {
            warn(format!(
                "zpa-preflight: feed update: {e} (the cache is unchanged)"
            ));
            Ok(match e {
                crate::feeds::FeedUpdateError::Cache { .. } => Exit::ToolFailed,
                _ => Exit::Usage,
            })
        }
    }
}

/// `feed show`: the ranges a check would use, where they come from, by region.
fn feed_show(args: &crate::cli::FeedShowArgs) -> Result<Exit, Error> {
    let profile = profile::load(&args.profile)?;
    let zen = zen_in_use(&profile, args.cidrs.as_deref(), &args.cache)?.unwrap_or(profile.zen);
    let mut out = std::io::stdout().lock();
    match args.format {
        crate::cli::ShowFormat::Human => {
            render::feed::human(&mut out, &render::printable_value(&zen))
        }
        crate::cli::ShowFormat::Json => render::feed::json(&mut out, &zen),
    }
    .map_err(stdout_error)?;
    Ok(Exit::Ready)
}

/// The profile's `[tls] anchors` and the `--trust` files, read and validated.
fn anchors(profile: &profile::Profile, trust: &[String]) -> Result<Vec<probe::tls::Anchor>, Error> {
    Ok(profile
        .tls
        .anchors
        .iter()
        .chain(trust)
        .map(|spec| probe::tls::load_anchor(spec))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Runs every probe once and judges the result; with `live`, a progress display on stderr.
fn probe_once(prepared: &Prepared, live: bool) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let started_at = Utc::now();
    let clock = Instant::now();
    let progress = std::sync::Arc::new(probe::Progress::default());
    let display = live.then(|| render::progress::start(&prepared.plan, progress.clone()));
    let stop = crate::interrupt::listen();
    let mut evidence = runtime.block_on(probe::run(
        &prepared.plan,
        &prepared.anchors,
        &progress,
        stop,
    ));
    evidence.interrupted = crate::interrupt::received().map(|(_, name)| name.to_string());
    if let Some(display) = display {
        display.finish();
    }
    let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Do not wait for resolver background tasks: everything we need is in the evidence.
    runtime.shutdown_background();
    Ok(Report::new(evidence, started_at, duration_ms))
}

/// The exit a finished run earned, or the interruption's when a signal stopped it.
fn interrupted_or(exit: Exit) -> Exit {
    match crate::interrupt::received() {
        Some((signal, _)) => Exit::Interrupted(signal),
        None => exit,
    }
}

fn check(args: CheckArgs) -> Result<Exit, Error> {
    // A usage error, found before anything is read (a piped log would be consumed).
    if args.dry_run && matches!(args.output.format, Format::Markdown | Format::Prometheus) {
        return Err(Error::Usage(
            "check --dry-run: prints the plan as human text or JSON only".into(),
        ));
    }
    let prepared = prepare(&args)?;
    if args.dry_run {
        let plan = &prepared.plan;
        let (resolver, _) = probe::dns::configuration(&plan.resolver);
        let mut out = std::io::stdout().lock();
        match args.output.format {
            Format::Human => render::human::dry_run(
                &mut out,
                &render::printable_value(plan),
                &resolver,
                painter(&args.output),
            ),
            Format::Json => render::json::dry_run(&mut out, plan, &resolver),
            Format::Markdown | Format::Prometheus => unreachable!("refused above"),
        }
        .map_err(stdout_error)?;
        return Ok(Exit::Ready);
    }
    // On a terminal only: piped output and automation get nothing but the report.
    // The live display moves the cursor: never on a terminal that cannot (TERM=dumb).
    let live = args.output.format == Format::Human
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    emit(&probe_once(&prepared, live)?, &args.output).map(interrupted_or)
}

/// `gate`: the checks again and again until the VM is ready or the wait is over. One plain
/// line per attempt, never colour, the JSON report written to `--report` every time.
/// One flag, one meaning: `--dry-run` contacts nothing and writes nothing, which a gate (whose
/// answer is the probes') and a bundle (whose content is a run) cannot honour, so they refuse
/// it before reading anything; `check --dry-run` prints what they would contact.
fn refuse_dry_run(command: &str, args: &CheckArgs) -> Result<(), Error> {
    if args.dry_run {
        return Err(Error::Usage(format!(
            "{command}: --dry-run is for check (zpa-preflight check --dry-run shows what {command} would contact)"
        )));
    }
    Ok(())
}

fn gate(args: GateArgs) -> Result<Exit, Error> {
    refuse_dry_run("gate", &args.check)?;
    // One flag, one meaning: gate prints one plain line per attempt, whatever --format says,
    // so another format is refused rather than silently ignored.
    if args.check.output.format != Format::Human {
        return Err(Error::Usage(
            "gate: prints one line per attempt; the JSON report goes to --report (and --output)"
                .into(),
        ));
    }
    let prepared = prepare(&args.check)?;
    // The default report directory (/var/log/zpa-preflight) does not exist on a fresh VM.
    if let Some(dir) = args.report.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let started = Instant::now();
    let strict = args.check.output.strict;
    let mut out = std::io::stdout().lock();
    for attempt in 1.. {
        let report = probe_once(&prepared, false)?;
        write_report(&args.report, &report)?;
        // --output means what it means for check: also write the report there.
        if let Some(path) = &args.check.output.output {
            write_report(path, &report)?;
        }
        let exit = interrupted_or(Exit::from_verdict(report.verdict, strict));
        let interrupted = matches!(exit, Exit::Interrupted(_));
        let top = report.top_cause().map_or("none", |c| c.id.as_str());
        let verdict = render::human::verdict_word(report.verdict);
        let elapsed = started.elapsed();
        let next = args.interval.min(args.wait.saturating_sub(elapsed));
        let done = exit == Exit::Ready || interrupted || elapsed + args.interval > args.wait;
        let tail = if done {
            format!("report {} · exit {}", args.report.display(), exit.code())
        } else {
            format!("next in {}", humantime::format_duration(round(next)))
        };
        writeln!(
            out,
            "zpa-preflight gate: attempt {attempt} · {verdict} · {top} · {} · {tail}",
            crate::evidence::secs(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        )
        .map_err(stdout_error)?;
        if done {
            return Ok(exit);
        }
        // A signal during the pause ends the gate at once, with the last report kept.
        let resume = Instant::now() + next;
        while Instant::now() < resume {
            if let Some((signal, name)) = crate::interrupt::received() {
                writeln!(
                    out,
                    "zpa-preflight gate: interrupted ({name}) · report {} · exit {}",
                    args.report.display(),
                    Exit::Interrupted(signal).code()
                )
                .map_err(stdout_error)?;
                return Ok(Exit::Interrupted(signal));
            }
            std::thread::sleep(std::time::Duration::from_millis(50).min(resume - Instant::now()));
        }
    }
    unreachable!("the loop returns")
}

/// Whole seconds (or milliseconds below one), for messages.
fn round(d: std::time::Duration) -> std::time::Duration {
    if d.as_secs() > 0 {
        std::time::Duration::from_secs(d.as_secs())
    } else {
        std::time::Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0))
    }
}

fn explain(args: ExplainArgs) -> Result<Exit, Error> {
    if let Some(file) = &args.chain {
        return emit(&explain_chain(file, &args)?, &args.output);
    }
    if let [single] = args.reports.as_slice()
        && !single.is_dir()
    {
        let report = load_any(single)?.rejudge(&args.output.ignore);
        return emit(&report, &args.output);
    }
    // A fleet: every report given, folders expanded to their *.json files.
    let mut paths = Vec::new();
    for path in &args.reports {
        if path.is_dir() {
            let mut found: Vec<_> = std::fs::read_dir(path)
                .map_err(|source| crate::error::InputError::Read {
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
                )
                .into());
            }
            paths.extend(found);
        } else {
            paths.push(path.clone());
        }
    }
    let mut reports = Vec::new();
    for path in &paths {
        // A file name is anybody's text: printable before it reaches the summary.
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let name = render::printable(&name).into_owned();
        let mut report = load_any(path)?.rejudge(&args.output.ignore);
        // The host name a report records is anybody's text too.
        report.evidence.machine.hostname = report
            .evidence
            .machine
            .hostname
            .map(|h| render::printable(&h).into_owned());
        reports.push((name, report));
    }
    let fleet = crate::fleet::summarize(&reports);
    let mut out = std::io::stdout().lock();
    match args.output.format {
        Format::Json => {
            render::json::document(&mut out, "fleet", &fleet).map_err(stdout_error)?;
        }
        Format::Human => {
            render::fleet::human(&mut out, &fleet).map_err(stdout_error)?;
        }
        Format::Markdown | Format::Prometheus => {
            return Err(Error::Usage(
                "explain: a fleet summary is printed as human text or JSON only".into(),
            ));
        }
    }
    Ok(Exit::from_verdict(fleet.verdict(), args.output.strict))
}

/// `explain --chain`: a saved chain judged by the same rules as a live handshake. The plan is
/// the profile's with nothing to contact, so every other check says it did not run.
fn explain_chain(file: &Path, args: &ExplainArgs) -> Result<Report, Error> {
    let shown = file.display().to_string();
    let bytes = crate::files::read_bytes(file, crate::files::Kind::Chain)?;
    let ders = probe::tls::parse_chain(&bytes).map_err(|m| InputError::invalid(&shown, m))?;
    let profile = profile::load(args.profile.as_deref().unwrap_or(profile::DEFAULT_PROFILE))?;
    let anchors = anchors(&profile, &args.trust)?;
    let summaries: Vec<_> = ders
        .iter()
        .filter_map(|der| crate::x509::summarize(der).ok())
        .collect();
    // The server name: --sni, else the leaf's first concrete name (a wildcard is not one:
    // `*.prod.zpath.net` is judged as presented, for a name it covers), else none.
    let sni = match &args.sni {
        Some(sni) => sni.clone(),
        None => summaries
            .first()
            .filter(|leaf| !leaf.is_ca)
            .map(|leaf| {
                let names: Vec<&String> = leaf.sans.iter().chain(&leaf.subject.cn).collect();
                let concrete = names.iter().find(|n| {
                    !n.starts_with("*.")
                        && rustls::pki_types::ServerName::try_from(n.to_string()).is_ok()
                });
                concrete
                    .or_else(|| names.iter().find(|n| n.starts_with("*.")))
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            })
            .unwrap_or_default(),
    };
    // A file of CA certificates only (a user's export of "the proxy's CA") has no server to
    // judge: it is judged by its CAs when the catalogue names their product, and otherwise
    // says what it holds and what to pass instead.
    if !summaries.is_empty() && summaries.iter().all(|c| c.is_ca) {
        let catalog = &profile::interceptors();
        if crate::diagnose::ca_product(&summaries, catalog).is_none() {
            return Err(InputError::invalid(
                &shown,
                format!(
                    "holds only CA certificates ({}), of no catalogued inspection product: pass \
                     the chain a server presented (leaf first, e.g. the output of openssl \
                     s_client -showcerts), or, if this CA is your own broker anchor, pass it with \
                     --trust",
                    summaries
                        .iter()
                        .map(|c| format!("{} sha256 {}", c.subject.text, c.sha256))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
            .into());
        }
    }
    let class = profile
        .names
        .iter()
        .find(|n| n.host.as_str().eq_ignore_ascii_case(&sni))
        .map_or(plan::TrustClass::Broker, |n| n.role.into());
    let overrides = Overrides {
        trust: anchors.iter().map(probe::tls::Anchor::describe).collect(),
        ignore: args.output.ignore.clone(),
        ..Overrides::default()
    };
    // A saved chain is judged away from the VM it came from: no VM configuration applies.
    let plan = plan::plan(
        &profile,
        &overrides,
        &plan::SystemConfig::default(),
        Path::new("/"),
    )
    .offline();
    let verifiers = probe::tls::Verifiers::offline(&anchors);
    let handshake = probe::tls::saved(&ders, &shown, &sni, class, &verifiers);
    let evidence = crate::evidence::Evidence::offline(plan, vec![handshake]);
    Ok(Report::new(evidence, Utc::now(), 0))
}

/// `chain`: one handshake, its certificates printed for an operator to read or pin.
fn chain(args: ChainArgs) -> Result<Exit, Error> {
    let (host, port) = split_host_port(&args.host)
        .ok_or_else(|| InputError::invalid(&args.host, "not HOST, HOST:PORT or [IPv6]:PORT"))?;
    let sni = args.sni.clone().unwrap_or_else(|| host.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let captured = runtime.block_on(async {
        let addr = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip,
            Err(_) => {
                let lookup = tokio::net::lookup_host((host.as_str(), port));
                match tokio::time::timeout(args.timeout, lookup).await {
                    Ok(Ok(mut addrs)) => match addrs.next() {
                        Some(addr) => addr.ip(),
                        None => return Err(format!("{host} has no address")),
                    },
                    Ok(Err(e)) => return Err(format!("{host} does not resolve: {e}")),
                    Err(_) => return Err(format!("{host}: no DNS answer in time")),
                }
            }
        };
        let target = probe::tls::Target {
            addr,
            port,
            sni: sni.clone(),
            origin: plan::Origin::User {
                spec: args.host.clone(),
            },
            class: plan::TrustClass::Broker,
            via: args.proxy.map(|proxy| probe::tls::Via {
                addr: Ok(proxy),
                label: format!("{proxy} (--proxy)"),
            }),
        };
        let verifiers = probe::tls::Verifiers::offline(&[]);
        Ok(probe::tls::capture(target, args.timeout, &verifiers).await)
    });
    // The system's name lookup runs on a blocking thread that a timeout cannot stop; waiting
    // for it when the runtime is dropped would outlast --timeout (a resolver that never
    // answers held `chain` for 10 s). It is left behind instead.
    runtime.shutdown_background();
    let (handshake, ders) = match captured {
        Ok(captured) => captured,
        Err(why) => {
            warn(format!("zpa-preflight: chain: {why}"));
            return Ok(Exit::Blocked);
        }
    };
    if ders.is_empty() {
        warn(format!(
            "zpa-preflight: chain: {}:{} presented no certificate ({:?})",
            handshake.addr, handshake.port, handshake.result
        ));
        return Ok(Exit::Blocked);
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        ChainFormat::Human => render::chain::human(&mut out, &handshake, &ders),
        ChainFormat::Json => render::chain::json(&mut out, &handshake, &ders),
        ChainFormat::Pem if ders.len() < 2 => {
            warn(format!(
                "zpa-preflight: chain: {} sent its leaf only: no CA certificate to pin",
                handshake.sni
            ));
            return Ok(Exit::Blocked);
        }
        ChainFormat::Pem => render::chain::pem(&mut out, &ders),
    }
    .map_err(stdout_error)?;
    Ok(Exit::Ready)
}

/// `HOST`, `HOST:PORT`, `IP`, `IPv4:PORT` or `[IPv6]:PORT`; port 443 by default.
fn split_host_port(text: &str) -> Option<(String, u16)> {
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Some((addr.ip().to_string(), addr.port()));
    }
    if let Ok(ip) = text.parse::<std::net::IpAddr>() {
        return Some((ip.to_string(), 443));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (text, 443),
    };
    crate::profile::Hostname::from_str(host).ok()?;
    Some((host.to_string(), port))
}

/// A saved report, or the report inside a support bundle.
fn load_any(path: &Path) -> Result<Report, Error> {
    Ok(crate::bundle::load_any(path)?)
}

fn emit(report: &Report, output: &OutputArgs) -> Result<Exit, Error> {
    // A report that cannot be saved is still shown: the run is not lost, and the exit says
    // the tool failed (one line on stderr, from main).
    let saved = match &output.output {
        Some(path) => write_report(path, report),
        None => Ok(()),
    };
    let exit = Exit::from_verdict(report.verdict, output.strict);
    // Buffered: stdout is line-buffered, and a report of thousands of probes is tens of
    // thousands of lines (one write each, measured at 40 ms for 2,000 probes).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match output.format {
        // Text for people gets every field made printable first: a saved report, a profile
        // or a file name under --root is anybody's text. JSON escapes on its own.
        Format::Human => render::human::report(
            &mut out,
            &render::printable_value(report),
            exit,
            painter(output),
        ),
        Format::Json => render::json::report(&mut out, report),
        Format::Markdown => {
            render::markdown::report(&mut out, &render::printable_value(report), exit)
        }
        Format::Prometheus => {
            render::prometheus::report(&mut out, &render::printable_value(report))
        }
    }
    .and_then(|()| out.flush());
    // A reader that went away (`check | head`) does not change the answer: the verdict's code
    // stands, and --output was written in full before stdout.
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.map_err(stdout_error)?,
    }
    saved.map(|()| exit)
}

fn write_report(path: &Path, report: &Report) -> Result<(), Error> {
    let write_error = |source| Error::Write {
        path: path.display().to_string(),
        source,
    };
    // Atomic: a full disk or a failed attempt never leaves a truncated report or empties a
    // good one. Owner-only: a report names the site's hosts and addresses.
    crate::files::write_atomic(path, 0o600, |out| render::json::report(out, report))
        .map_err(write_error)
}

fn painter(output: &OutputArgs) -> Painter {
    let no_color = std::env::var_os("NO_COLOR");
    Painter::new(output.color.enabled(
        std::io::stdout().is_terminal(),
        no_color.as_deref(),
        std::env::var_os("TERM").as_deref(),
    ))
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}
