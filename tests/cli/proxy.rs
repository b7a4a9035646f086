//! Explicit proxies: the connector's proxy file is honoured, tunnelled through with CONNECT,
//! and judged. The proxy is a real one, mitmproxy (pip), inspecting or passing through.

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};

use crate::support::loopback::LoopbackLab;
use crate::support::tls_server::TlsBroker;
use crate::support::*;

/// A mitmproxy in regular (explicit proxy) mode on loopback, killed on drop.
struct Mitmproxy {
    child: Child,
    port: u16,
    _confdir: tempfile::TempDir,
}

impl Mitmproxy {
    fn start(program: &str, pass_through: bool) -> Mitmproxy {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let confdir = tempfile::tempdir().unwrap();
        let mut args = vec![
            format!("--set=confdir={}", confdir.path().display()),
            "--listen-host=127.0.0.1".into(),
            format!("--listen-port={port}"),
            "--set=ssl_insecure=true".into(),
            "-q".into(),
        ];
        if pass_through {
            args.push("--ignore-hosts=.*".into());
        }
        let child = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mitmdump starts");
        let proxy = Mitmproxy {
            child,
            port,
            _confdir: confdir,
        };
        wait_for_port(std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        proxy
    }
}

impl Drop for Mitmproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A root whose connector proxy file points at `proxy`.
fn root_with_proxy(proxy: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let var = root.path().join("opt/zscaler/var");
    std::fs::create_dir_all(&var).unwrap();
    std::fs::write(var.join("proxy"), format!("{proxy}\n")).unwrap();
    root
}

fn lab() -> Option<LoopbackLab> {
    LoopbackLab::up(TlsBroker::genuine)
}

#[test]
fn an_inspecting_explicit_proxy_is_caught_through_the_tunnel() {
    let Some(program) = mitmdump() else {
        require(false, "mitmproxy is not installed (pip install mitmproxy)");
        return;
    };
    let Some(lab) = lab() else {
        return;
    };
    let dns = &lab.dns;
    let proxy = Mitmproxy::start(&program, false);
    let root = root_with_proxy(&format!("127.0.0.1:{}", proxy.port));
    let root_arg = root.path().display().to_string();
    let run = check_via(dns.addr, &["--root", &root_arg, "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.json()["causes"]);
    let top = &run.json()["causes"][0];
    assert_eq!(top["id"], "tls.intercepted");
    assert!(
        top["title"]
            .as_str()
            .unwrap()
            .ends_with("intercepted by mitmproxy"),
        "{top}"
    );
    assert!(
        top["evidence"]
            .to_string()
            .contains("tunnelled through the proxy 127.0.0.1:"),
        "{top}"
    );
}

#[test]
fn a_pass_through_proxy_is_used_and_passes() {
    let Some(program) = mitmdump() else {
        require(false, "mitmproxy is not installed (pip install mitmproxy)");
        return;
    };
    let Some(lab) = lab() else {
        return;
    };
    let dns = &lab.dns;
    let proxy = Mitmproxy::start(&program, true);
    let root = root_with_proxy(&format!("127.0.0.1:{}", proxy.port));
    let root_arg = root.path().display().to_string();
    let run = check_via(dns.addr, &["--root", &root_arg, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.json()["causes"]);
    let handshake = &run.json()["evidence"]["tls"]["handshakes"][0];
    let via = handshake["via_proxy"].as_str().unwrap();
    assert!(via.ends_with("(/opt/zscaler/var/proxy)"), "{via}");
}

#[test]
pub(crate) fn an_unreachable_connector_proxy_is_misconfigured() {
    let Some(lab) = lab() else {
        return;
    };
    let dns = &lab.dns;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let root = root_with_proxy(&format!("http://user:s3cret@127.0.0.1:{closed}"));
    let root_arg = root.path().display().to_string();
    let run = check_via(dns.addr, &["--root", &root_arg]);
    run.assert_blocked_by("proxy.misconfigured");
    let json = check_via(dns.addr, &["--root", &root_arg, "--format", "json"]);
    json.keep_as("proxy");
    assert_eq!(json.top_cause(), "proxy.misconfigured");
    assert!(!json.stdout.contains("s3cret"), "credentials leaked");
    assert!(
        !run.stdout.contains("s3cret"),
        "credentials leaked:\n{}",
        run.stdout
    );
    let dry = check_via(dns.addr, &["--root", &root_arg, "--dry-run"]);
    assert!(
        dry.stdout.contains(&format!(
            "connector (broker channel) proxy 127.0.0.1:{closed}"
        )),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("s3cret"));
}
