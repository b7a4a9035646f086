//! The network lab: a "vm" namespace wired by a veth pair to a "zen" namespace that hosts
//! the lab's DNS (dnsmasq) and brokers (listeners on 443 and 9000). Faults are netfilter rules
//! in the zen namespace's INPUT chain: a firewall on the path, not on the VM (a DROP in the
//! VM's own OUTPUT chain would fail UDP sends with EPERM instead of silence). Every
//! address is 198.18.0.0/15, assigned here, inside namespaces these tests create; nothing can
//! reach anything else. Used by the scenario tests (tests/cli/lab.rs) and the benchmark.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

/// The vm's address.
pub const VM: &str = "198.18.0.1";
/// The lab Zen host: resolver and brokers.
pub const ZEN: &str = "198.18.0.2";

/// A lab; every process is killed by PID and both namespaces deleted on drop, also when the
/// test panics.
pub struct Lab {
    vm: String,
    zen: String,
    children: Vec<Child>,
    root: tempfile::TempDir,
}

/// What the lab's dnsmasq answers for the profile's names.
pub enum Dns {
    /// broker.zpa.test and api.zpa.test → the Zen host.
    Answering,
    /// Every name NXDOMAIN.
    NxDomain,
    /// Every name under zpa.test → 0.0.0.0.
    Sinkhole,
}

impl Lab {
    /// Brings a lab up, or returns None (after [`require`]) when a prerequisite is missing.
    pub fn up(dns: Dns) -> Option<Lab> {
        if !require(is_root() && have("ip"), "the lab needs root and iproute2")
            || !require(have_dnsmasq(), "the lab needs dnsmasq (dnsmasq-base)")
            || !require(have("iptables"), "the lab needs iptables")
            || !require(have("python3"), "the lab's brokers run on python3")
        {
            return None;
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut lab = Lab {
            vm: format!("zpt-vm{id}"),
            zen: format!("zpt-zen{id}"),
            children: Vec::new(),
            root: tempfile::tempdir().unwrap(),
        };
        let (vm_if, zen_if) = (format!("zv{id}"), format!("zz{id}"));
        for ns in [&lab.vm, &lab.zen] {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        ip(&[
            "link", "add", &vm_if, "type", "veth", "peer", "name", &zen_if,
        ]);
        ip(&["link", "set", &vm_if, "netns", &lab.vm]);
        ip(&["link", "set", &zen_if, "netns", &lab.zen]);
        ip(&[
            "-n",
            &lab.vm,
            "addr",
            "add",
            &format!("{VM}/30"),
            "dev",
            &vm_if,
        ]);
        ip(&[
            "-n",
            &lab.zen,
            "addr",
            "add",
            &format!("{ZEN}/30"),
            "dev",
            &zen_if,
        ]);
        ip(&["-n", &lab.vm, "link", "set", &vm_if, "up"]);
        ip(&["-n", &lab.zen, "link", "set", &zen_if, "up"]);

        let zen: std::net::Ipv4Addr = ZEN.parse().unwrap();
        let answers = match dns {
            Dns::Answering => vec![
                Answer::A("broker.zpa.test", zen),
                Answer::A("api.zpa.test", zen),
            ],
            Dns::NxDomain => vec![],
            Dns::Sinkhole => vec![Answer::Sinkhole("zpa.test", "0.0.0.0")],
        };
        let dnsmasq = dnsmasq_args(zen, 53, &answers);
        let dnsmasq: Vec<&str> = dnsmasq.iter().map(String::as_str).collect();
        lab.spawn_in_zen(dnsmasq_path(), &dnsmasq, false);
        // Brokers: TLS on 443 with the lab's genuine chain, plain TCP on 9000.
        let chains = repo("fixtures/chains/broker-genuine");
        let (script, chain, key) = (
            repo("tests/cli/support/broker.py"),
            chains.join("chain.pem"),
            chains.join("key.pem"),
        );
        lab.spawn_in_zen(
            "python3",
            &[
                script.to_str().unwrap(),
                chain.to_str().unwrap(),
                key.to_str().unwrap(),
            ],
            true,
        );
        std::fs::create_dir(lab.root.path().join("etc")).unwrap();
        std::fs::write(
            lab.root.path().join("etc/resolv.conf"),
            format!("nameserver {ZEN}\n"),
        )
        .unwrap();
        lab.wait_for_dns();
        Some(lab)
    }

    /// Starts `program` inside the zen namespace; `ip netns exec` execs, so the PID is the
    /// server's own. With `ready`, waits for it to print a line.
    fn spawn_in_zen(&mut self, program: &str, args: &[&str], ready: bool) {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.zen, program])
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .stdout(if ready { Stdio::piped() } else { Stdio::null() });
        let mut child = command.spawn().expect("spawn in zen namespace");
        if ready {
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line.trim(), "ready", "{program} did not start");
        }
        self.children.push(child);
    }

    fn wait_for_dns(&self) {
        for _ in 0..200 {
            let up = Command::new("ip")
                .args(["netns", "exec", &self.vm, "bash", "-c"])
                .arg(format!("exec 3<>/dev/tcp/{ZEN}/53"))
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if up {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the lab's dnsmasq never came up");
    }

    /// Adds a rule to the zen side's INPUT chain: the egress firewall on the path.
    pub fn firewall(&self, rule: &str) -> &Lab {
        let mut args = vec!["netns", "exec", &self.zen, "iptables", "-A", "INPUT"];
        args.extend(rule.split_whitespace());
        let status = Command::new("ip").args(&args).status().unwrap();
        assert!(status.success(), "iptables {rule}");
        self
    }

    /// Routes everything from the vm through the zen side, which forwards nothing: any
    /// address outside the lab's /30 is then silently blackholed, never sent anywhere.
    pub fn default_route_via_zen(&self) {
        ip(&["-n", &self.vm, "route", "add", "default", "via", ZEN]);
    }

    /// Takes the vm's only link down: no route anywhere.
    pub fn unplug(&self) {
        let link = format!("zv{}", &self.vm["zpt-vm".len()..]);
        ip(&["-n", &self.vm, "link", "set", &link, "down"]);
    }

    /// Runs `check --format json` with `profile` inside the vm, the vm's resolv.conf under
    /// `--root`.
    pub fn check(&self, profile: &str) -> Run {
        let root = self.root.path().display().to_string();
        let mut args = vec!["netns", "exec", &self.vm, BIN, "check"];
        args.extend(["--profile", profile, "--root", &root, "--format", "json"]);
        run_command(Command::new("ip").args(&args))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.vm, &self.zen] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
