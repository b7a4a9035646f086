//! Real servers for the tests, each stopped by a guard: dnsmasq on loopback, TCP listeners on
//! per-test loopback addresses, silent UDP sockets, network namespaces. Traffic stays on
//! loopback or inside namespaces the tests create.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

pub mod feed_server;
pub mod loopback;
pub mod mint;
pub mod netlab;
pub mod sntp;
pub mod tls_server;

/// The binary cargo built for this test run.
const BUILT: &str = match option_env!("CARGO_BIN_EXE_zpa-preflight") {
    Some(path) => path,
    // examples/lab.rs: cargo sets the variable for tests and benches only.
    None => "target/debug/zpa-preflight",
};

/// The binary under test: `ZPA_PREFLIGHT_BIN` when set (CI runs the whole suite against the
/// shipped release binary from `dist/`, the artefact users get), else the one cargo built.
pub fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| match std::env::var("ZPA_PREFLIGHT_BIN") {
        Ok(path) if !path.is_empty() => {
            assert!(
                Path::new(&path).is_file(),
                "ZPA_PREFLIGHT_BIN={path} is not a file"
            );
            path
        }
        _ => BUILT.to_string(),
    })
}

/// The repository root, for fixtures.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The lab profile every loopback test uses.
pub fn lab_profile() -> String {
    repo("fixtures/profiles/lab.toml").display().to_string()
}

/// Whether a prerequisite is there. Without it the test is skipped with one line on stderr;
/// under CI (`CI=true`) a missing prerequisite fails the test instead.
pub fn require(ok: bool, what: &str) -> bool {
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and a prerequisite is missing: {what}");
        }
        eprintln!("skipped: {what}");
    }
    ok
}

/// Whether this process may bind privileged ports and create namespaces.
pub fn is_root() -> bool {
    effective_uid() == 0
}

fn effective_uid() -> u32 {
    // /proc/self/status "Uid:\treal\teffective\t…": no libc call needed for one number.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|uid| uid.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// Whether `program` is on the PATH (or an absolute path that exists).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh loopback address per call, inside the lab's 127.77.0.0/16, so parallel tests can
/// all listen on the real ports 443 and 9000 without colliding.
pub fn fresh_loopback() -> Ipv4Addr {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let block = (std::process::id() % 250) as u8;
    Ipv4Addr::new(127, 77, block, n)
}

/// A UDP socket that receives DNS queries and never answers: a silent resolver.
pub struct SilentResolver {
    socket: UdpSocket,
}

impl SilentResolver {
    /// Binds one on loopback.
    pub fn new() -> SilentResolver {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        SilentResolver { socket }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// Whether any datagram arrived.
    pub fn received_anything(&self) -> bool {
        let mut buf = [0u8; 512];
        self.socket.recv_from(&mut buf).is_ok()
    }
}

/// A dnsmasq serving the lab's names, killed on drop.
pub struct Dnsmasq {
    child: Child,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
}

/// How dnsmasq answers one name.
pub enum Answer<'a> {
    /// An A record.
    A(&'a str, Ipv4Addr),
    /// A fixed address for the name and everything under it (how sinkholes answer).
    Sinkhole(&'a str, &'a str),
    /// An alias: the first name is a CNAME for the second.
    Cname(&'a str, &'a str),
}

impl Dnsmasq {
    /// Starts dnsmasq on `listen` (port 0: a free one). Every name not listed is NXDOMAIN.
    /// No upstream is configured, so nothing is ever forwarded anywhere.
    pub fn start(listen: Ipv4Addr, port: u16, answers: &[Answer]) -> Dnsmasq {
        let port = if port == 0 { free_port(listen) } else { port };
        let args = dnsmasq_args(listen, port, answers);
        let child = Command::new(dnsmasq_path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq starts");
        let addr = SocketAddr::from((listen, port));
        let server = Dnsmasq { child, addr };
        wait_for_tcp(addr, Duration::from_secs(5));
        server
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dnsmasq is in /usr/sbin, which a non-login PATH may lack.
pub fn dnsmasq_path() -> &'static str {
    if Path::new("/usr/sbin/dnsmasq").exists() {
        "/usr/sbin/dnsmasq"
    } else {
        "dnsmasq"
    }
}

/// Whether dnsmasq is installed.
pub fn have_dnsmasq() -> bool {
    Path::new("/usr/sbin/dnsmasq").exists() || have("dnsmasq")
}

fn free_port(addr: Ipv4Addr) -> u16 {
    // Free for both UDP and TCP, since dnsmasq listens on both.
    loop {
        let udp = UdpSocket::bind((addr, 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind((addr, port)).is_ok() {
            return port;
        }
    }
}

/// Waits until something listens on `addr` (5 s at most).
pub fn wait_for_port(addr: SocketAddr) {
    wait_for_tcp(addr, Duration::from_secs(5));
}

fn wait_for_tcp(addr: SocketAddr, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("nothing listens on {addr} after {limit:?}");
}

/// A network namespace, deleted on drop, with only a loopback interface: no route anywhere.
pub struct Netns {
    /// Its name.
    pub name: String,
}

impl Netns {
    /// Creates `zpt-<tag>-<pid>`.
    pub fn new(tag: &str) -> Netns {
        let name = format!("zpt-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let status = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip runs");
        assert!(status.success(), "ip netns add {name}");
        Netns { name }
    }

    /// Runs the binary inside the namespace.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["netns", "exec", &self.name, bin()];
        all.extend_from_slice(args);
        run_command(Command::new("ip").args(&all).env("NO_COLOR", "1"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A finished run of the binary.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub took: Duration,
}

/// Runs a prepared command to completion.
pub fn run_command(command: &mut Command) -> Run {
    Run::from(command)
}

impl Run {
    fn from(command: &mut Command) -> Run {
        let started = Instant::now();
        let Output {
            status,
            stdout,
            stderr,
        } = command.stdin(Stdio::null()).output().expect("binary runs");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    /// The JSON document on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The top cause as the tool itself names it in the SUMMARY line and the fleet summary:
    /// the first cause that is not mere information (JSON output).
    pub fn top_cause(&self) -> String {
        self.json()["causes"]
            .as_array()
            .and_then(|causes| causes.iter().find(|c| c["severity"] != "info"))
            .and_then(|c| c["id"].as_str())
            .unwrap_or("none")
            .to_string()
    }

    /// The cause ids, most likely first (JSON output).
    pub fn cause_ids(&self) -> Vec<String> {
        self.json()["causes"]
            .as_array()
            .map(|causes| {
                causes
                    .iter()
                    .map(|c| c["id"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cause with this id, or a panic naming the ones there are (JSON output).
    pub fn cause(&self, id: &str) -> serde_json::Value {
        self.find("causes", id)
    }

    /// The check with this id, or a panic naming the ones there are (JSON output).
    pub fn check(&self, id: &str) -> serde_json::Value {
        self.find("checks", id)
    }

    fn find(&self, list: &str, id: &str) -> serde_json::Value {
        let json = self.json();
        json[list]
            .as_array()
            .and_then(|items| items.iter().find(|c| c["id"] == id).cloned())
            .unwrap_or_else(|| panic!("no {list} entry {id}: {}", json[list]))
    }

    /// The title of the cause ranked first (JSON output).
    pub fn top_title(&self) -> String {
        self.json()["causes"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Asserts the human report blamed `cause` first and exited 3.
    pub fn assert_blocked_by(&self, cause: &str) {
        assert_eq!(self.code, 3, "{}{}", self.stdout, self.stderr);
        let expected = format!("SUMMARY: blocked · {cause} · ");
        assert!(self.summary().starts_with(&expected), "{}", self.stdout);
    }

    /// The `SUMMARY:` line (human output).
    pub fn summary(&self) -> &str {
        self.stdout
            .lines()
            .rev()
            .find(|l| l.starts_with("SUMMARY: "))
            .unwrap_or_else(|| panic!("no SUMMARY line in:\n{}", self.stdout))
    }
}

/// Set by the ignored `golden::regenerate_scenario_reports`: the lab tests it calls then keep
/// their reports as `fixtures/reports/scenarios/<name>.json`.
pub static KEEP_SCENARIOS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Keeps `json` (a report) as the scenario `name`, when the regenerator asked for it.
pub fn keep_scenario(name: &str, json: &str) {
    // Or one scenario at a time: ZPT_KEEP_SCENARIO=name,… with that test run by itself.
    let asked =
        std::env::var("ZPT_KEEP_SCENARIO").is_ok_and(|names| names.split(',').any(|n| n == name));
    if asked || KEEP_SCENARIOS.load(std::sync::atomic::Ordering::SeqCst) {
        let dir = repo("fixtures/reports/scenarios");
        std::fs::create_dir_all(&dir).unwrap();
        let value: serde_json::Value = serde_json::from_str(json).expect("a JSON report");
        // The checkout's own path says nothing about the scenario: a fixed one stands for it.
        let text = (serde_json::to_string_pretty(&value).unwrap() + "\n")
            .replace(&repo("").display().to_string(), "/src/zpa-preflight/");
        std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
}

impl Run {
    /// Keeps this run's JSON report as the scenario `name` (see [`KEEP_SCENARIOS`]).
    pub fn keep_as(&self, name: &str) -> &Run {
        keep_scenario(name, &self.stdout);
        self
    }
}

/// mitmdump: `$ZPT_MITMDUMP`, the venv `.ci/run` makes, or the PATH.
pub fn mitmdump() -> Option<String> {
    if let Ok(path) = std::env::var("ZPT_MITMDUMP") {
        return Some(path);
    }
    let venv = repo("target/lab-venv/bin/mitmdump");
    if venv.exists() {
        return Some(venv.display().to_string());
    }
    have("mitmdump").then(|| "mitmdump".to_string())
}

/// The lab profile with `extra` TOML appended, written into `dir`.
pub fn lab_profile_with(dir: &Path, extra: &str) -> String {
    let text = std::fs::read_to_string(lab_profile()).unwrap() + "\n" + extra;
    let path = dir.join("lab-extended.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The control host `dist.zpa.test` as profile TOML.
pub const CONTROL_HOST: &str =
    "[[names]]\nhost = \"dist.zpa.test\"\nrole = \"control\"\nports = [443]\nrequired = false\n";

/// Runs the binary with `args`, colour off, killing it after `limit`: for inputs that could
/// hang a careless reader (a FIFO, a pipe that never ends). A kill fails the test by its
/// message, never by hanging the suite.
pub fn run_within(limit: Duration, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "zpa-preflight {} still running after {limit:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Runs the binary with `args`, colour off.
pub fn run(args: &[&str]) -> Run {
    Run::from(Command::new(bin()).args(args).env("NO_COLOR", "1"))
}

/// `check` with the lab profile, asking the DNS server at `server`, plus `extra`.
pub fn check_via(server: SocketAddr, extra: &[&str]) -> Run {
    let server = server.to_string();
    let profile = lab_profile();
    let mut args = vec!["check", "--profile", &profile, "--dns-server", &server];
    args.extend_from_slice(extra);
    run(&args)
}

/// `check --format json` with the profile file `profile` and `--root` at `root`, plus `extra`:
/// a run that reads files only (the host-only and offline profiles contact nothing).
pub fn check_json(profile: &Path, root: &Path, extra: &[&str]) -> Run {
    let (profile, root) = (profile.display().to_string(), root.display().to_string());
    let mut args = vec![
        "check",
        "--profile",
        &profile,
        "--root",
        &root,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `check` with the lab profile and `--root` at `fixtures/roots/<case>`, plus `extra`.
pub fn check_root(case: &str, extra: &[&str]) -> Run {
    let root = repo(&format!("fixtures/roots/{case}"))
        .display()
        .to_string();
    let profile = lab_profile();
    let mut args = vec!["check", "--profile", &profile, "--root", &root];
    args.extend_from_slice(extra);
    run(&args)
}

/// dnsmasq's arguments: answer `answers` on `listen:port`, NXDOMAIN for every other name,
/// no upstream (nothing is ever forwarded), no files read.
pub fn dnsmasq_args(listen: Ipv4Addr, port: u16, answers: &[Answer]) -> Vec<String> {
    let mut args = vec![
        "--keep-in-foreground".to_string(),
        "--conf-file=/dev/null".into(),
        "--no-resolv".into(),
        "--no-hosts".into(),
        "--no-poll".into(),
        "--pid-file=".into(),
        "--user=root".into(),
        format!("--listen-address={listen}"),
        "--bind-interfaces".into(),
        format!("--port={port}"),
        "--local-ttl=30".into(),
    ];
    for answer in answers {
        args.push(match answer {
            Answer::A(name, ip) => format!("--host-record={name},{ip}"),
            Answer::Sinkhole(name, ip) => format!("--address=/{name}/{ip}"),
            Answer::Cname(alias, target) => format!("--cname={alias},{target}"),
        });
    }
    // Everything else: NXDOMAIN (an --address with no address).
    args.push("--address=/#/".into());
    args
}

/// How a [`ScriptedDns`] answers every query.
pub enum Reply {
    /// A well-formed response with this code and no records.
    Code(hickory_resolver::proto::op::ResponseCode),
    /// Bytes that are not a DNS message (a hostile or broken peer), echoing the query id.
    Garbage,
}

/// A DNS responder on loopback that answers every query the same scripted way: how the tests
/// get SERVFAIL, REFUSED and garbage, which dnsmasq cannot be made to answer on demand.
pub struct ScriptedDns {
    /// Where it answers (UDP).
    pub addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ScriptedDns {
    /// Starts one.
    pub fn start(reply: Reply) -> ScriptedDns {
        use hickory_resolver::proto::op::Message;
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let answer = match &reply {
                    Reply::Code(code) => {
                        let Ok(query) = Message::from_vec(&buf[..n]) else {
                            continue;
                        };
                        let mut response =
                            Message::error_msg(query.metadata.id, query.metadata.op_code, *code);
                        response.add_queries(query.queries.clone());
                        response.to_vec().unwrap()
                    }
                    Reply::Garbage => {
                        let mut junk = buf[..2].to_vec();
                        junk.extend_from_slice(&[0xff; 40]);
                        junk
                    }
                };
                let _ = socket.send_to(&answer, peer);
            }
        });
        ScriptedDns {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ScriptedDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
