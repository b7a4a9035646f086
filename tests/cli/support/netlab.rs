//! The network lab: a "vm" namespace wired by a veth pair to a "zen" namespace that hosts
//! the lab's DNS (dnsmasq) and brokers (listeners on 443 and 9000). Faults are netfilter rules
//! in the zen namespace's INPUT chain: a firewall on the path, not on the VM (a DROP in the
//! VM's own OUTPUT chain would fail UDP sends with EPERM instead of silence). Every
//! address is 198.18.0.0/15, assigned here, inside namespaces these tests create; nothing can
//! reach anything else. Used by the scenario tests (tests/cli/lab.rs) and the benchmark.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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
    /// The veth ends: the vm's and the zen host's.
    links: (String, String),
    children: Vec<Child>,
    root: tempfile::TempDir,
}

/// libfaketime, preloaded into a server whose clock a scenario fakes.
const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// What the lab's dnsmasq answers for the profile's names.
pub enum Dns {
    /// broker.zpa.test, api.zpa.test and dist.zpa.test → the Zen host.
    Answering,
    /// Every name NXDOMAIN.
    NxDomain,
    /// Every name under zpa.test → 0.0.0.0.
    Sinkhole,
}

impl Lab {
    /// Brings a lab up, or returns None (after [`require`]) when a prerequisite is missing.
    pub fn up(dns: Dns) -> Option<Lab> {
        Self::up_with(dns, None)
    }

    /// Like `up`, with the HTTPS host's clock (its `Date`) faked by libfaketime, e.g. `+600s`.
    pub fn up_with(dns: Dns, https_clock: Option<&str>) -> Option<Lab> {
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
            links: (format!("zv{id}"), format!("zz{id}")),
            children: Vec::new(),
            root: tempfile::tempdir().unwrap(),
        };
        let (vm_if, zen_if) = lab.links.clone();
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
                Answer::A("dist.zpa.test", zen),
                Answer::A("gateway.zpa.test", zen),
            ],
            Dns::NxDomain => vec![],
            Dns::Sinkhole => vec![Answer::Sinkhole("zpa.test", "0.0.0.0")],
        };
        let dnsmasq = dnsmasq_args(zen, 53, &answers);
        let dnsmasq: Vec<&str> = dnsmasq.iter().map(String::as_str).collect();
        lab.spawn_in_zen(dnsmasq_path(), &dnsmasq, &[], false);
        // Brokers: TLS on 443 with the lab's genuine chain (the control host dist.zpa.test
        // with its public-looking one), plain TCP on 9000.
        let (broker, control) = (
            repo("fixtures/chains/broker-genuine"),
            repo("fixtures/chains/control-public"),
        );
        let script = repo("tests/cli/support/broker.py");
        let control_spec = format!(
            "dist.zpa.test={},{}",
            control.join("chain.pem").display(),
            control.join("key.pem").display()
        );
        let args = [
            script.display().to_string(),
            broker.join("chain.pem").display().to_string(),
            broker.join("key.pem").display().to_string(),
            control_spec,
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = match https_clock {
            Some(offset) => vec![("LD_PRELOAD", FAKETIME_LIB), ("FAKETIME", offset)],
            None => vec![],
        };
        lab.spawn_in_zen("python3", &args, &env, true);
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
    fn spawn_in_zen(&mut self, program: &str, args: &[&str], env: &[(&str, &str)], ready: bool) {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.zen, program])
            .args(args)
            .envs(env.iter().copied())
            // Its own process group: squid's helpers die with it (see Drop).
            .process_group(0)
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

    /// A path-MTU black hole (shared/LAB.md §6): the vm's link is narrower (MTU 1200) than the
    /// MSS it advertises (1460), and segmentation offloads are off so that full-size frames
    /// really are full size. The zen host's full-size segments vanish at the vm's veth, which
    /// drops a frame larger than its MTU and says nothing (no ICMP); small ones pass.
    pub fn pmtu_blackhole(&self) {
        let (vm_if, zen_if) = &self.links;
        ip(&["-n", &self.vm, "link", "set", vm_if, "mtu", "1200"]);
        ip(&[
            "-n",
            &self.vm,
            "route",
            "replace",
            "198.18.0.0/30",
            "dev",
            vm_if,
            "advmss",
            "1460",
        ]);
        for (ns, link, features) in [
            (
                &self.zen,
                zen_if,
                &["tso", "off", "gso", "off", "gro", "off"][..],
            ),
            (&self.vm, vm_if, &["gro", "off"][..]),
        ] {
            let mut args = vec!["netns", "exec", ns.as_str(), "ethtool", "-K", link.as_str()];
            args.extend_from_slice(features);
            let out = Command::new("ip").args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "ethtool -K {link}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Runs python3 in the vm: a TLS handshake to the broker with `mss` (0: the kernel's), the
    /// proof that a black hole is real before the tool is tested on it. True when it completes.
    pub fn python_handshake(&self, mss: u32) -> bool {
        let script = format!(
            "import socket, ssl\n\
             s = socket.socket()\n\
             if {mss}: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, {mss})\n\
             s.settimeout(2)\n\
             s.connect(('{ZEN}', 443))\n\
             c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n\
             c.check_hostname = False\n\
             c.verify_mode = ssl.CERT_NONE\n\
             c.wrap_socket(s, server_hostname='broker.zpa.test')\n\
             print('completed')\n"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &self.vm, "python3", "-c", &script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("completed")
    }

    /// Empties the zen side's INPUT chain: no firewall on the path.
    #[allow(dead_code)] // used by benches/scale.rs
    pub fn flush_firewall(&self) {
        let args = ["netns", "exec", &self.zen, "iptables", "-F", "INPUT"];
        assert!(Command::new("ip").args(args).status().unwrap().success());
    }

    /// Makes every address of `cidr` a destination on the Zen host (a local route: the
    /// brokers' 0.0.0.0 listeners answer on all of them) and routes it from the vm.
    #[allow(dead_code)] // used by benches/scale.rs
    pub fn route_targets(&self, cidr: &str) {
        ip(&["-n", &self.zen, "route", "add", "local", cidr, "dev", "lo"]);
        ip(&["-n", &self.vm, "route", "add", cidr, "via", ZEN]);
    }

    /// `program args` inside the vm, timed.
    #[allow(dead_code)] // used by benches/scale.rs
    pub fn run_in_vm(&self, program: &str, args: &[&str]) -> Run {
        let mut all = vec!["netns", "exec", &self.vm, program];
        all.extend_from_slice(args);
        run_command(Command::new("ip").args(&all))
    }

    /// The `--root` the vm's checks read (its resolv.conf names the Zen host).
    #[allow(dead_code)] // used by benches/scale.rs
    pub fn root(&self) -> String {
        self.root.path().display().to_string()
    }

    /// A chronyd in the zen namespace answering NTP on the Zen host with its clock faked by
    /// `offset` (libfaketime, e.g. `+600s`; at least 1.1 s, see LAB.md). `-x`: never touches the
    /// real clock; no server lines: never asks anyone.
    pub fn start_ntp(&mut self, offset: &str) {
        let conf = self.root.path().join("chrony.conf");
        let pid = self.root.path().join("chronyd.pid");
        std::fs::write(
            &conf,
            format!(
                "port 123\nbindaddress {ZEN}\nallow 198.18.0.0/15\nlocal stratum 8\ncmdport 0\npidfile {}\n",
                pid.display()
            ),
        )
        .unwrap();
        let conf = conf.display().to_string();
        let env = [("LD_PRELOAD", FAKETIME_LIB), ("FAKETIME", offset)];
        self.spawn_in_zen(
            "chronyd",
            &["-d", "-x", "-u", "root", "-f", &conf],
            &env,
            false,
        );
        // Listening on UDP/123 is ready: chronyd answers from its first moment (LAB.md).
        for _ in 0..500 {
            let listening = Command::new("ip")
                .args([
                    "netns", "exec", &self.zen, "ss", "-Hlun", "sport", "=", ":123",
                ])
                .output()
                .is_ok_and(|out| !out.stdout.is_empty());
            if listening {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("chronyd never listened on {ZEN}:123");
    }

    /// squid-openssl with ssl_bump on the Zen host, fed every TCP/443 connection by a NAT
    /// redirect: transparent interception, as on a corporate egress proxy. Its CA is minted
    /// here with `subject` (squid has no default CA: an admin names it, DOMAIN.md §3.3); with
    /// `stare`, squid copies the upstream leaf's subject and SANs into the leaf it mints, as
    /// real deployments do. Its upstream is the lab broker.
    pub fn intercept_with_squid(&mut self, subject: &str) {
        let dir = self.root.path().join("squid");
        std::fs::create_dir(&dir).unwrap();
        let ca = dir.join("bump-ca.pem");
        let minted = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", subject])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .arg("-keyout")
            .arg(&ca)
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .unwrap();
        assert!(
            minted.status.success(),
            "{}",
            String::from_utf8_lossy(&minted.stderr)
        );
        let cert = std::fs::read_to_string(dir.join("cert.pem")).unwrap();
        let mut bundle = std::fs::read_to_string(&ca).unwrap();
        bundle.push_str(&cert);
        std::fs::write(&ca, bundle).unwrap();
        let db = dir.join("ssl_db");
        let init = Command::new("/usr/lib/squid/security_file_certgen")
            .args(["-c", "-s"])
            .arg(&db)
            .args(["-M", "4MB"])
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let d = dir.display();
        let conf = format!(
            "http_port 127.0.0.1:3128\n\
             https_port {ZEN}:3129 intercept ssl-bump tls-cert={d}/bump-ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB\n\
             sslcrtd_program /usr/lib/squid/security_file_certgen -s {d}/ssl_db -M 4MB\n\
             sslcrtd_children 2 startup=1 idle=1\n\
             acl step1 at_step SslBump1\nacl step2 at_step SslBump2\n\
             ssl_bump peek step1\nssl_bump stare step2\nssl_bump bump all\n\
             tls_outgoing_options flags=DONT_VERIFY_PEER\n\
             acl lab src 198.18.0.0/15\nhttp_access allow lab\nhttp_access allow localhost\nhttp_access deny all\n\
             dns_nameservers {ZEN}\ncache deny all\ncache_mem 8 MB\n\
             access_log stdio:{d}/access.log\ncache_log {d}/cache.log\ncache_store_log none\n\
             pid_filename {d}/squid.pid\ncoredump_dir {d}\ncache_effective_user proxy\n\
             shutdown_lifetime 1 seconds\nvisible_hostname zpt-lab-proxy\n"
        );
        std::fs::write(dir.join("squid.conf"), conf).unwrap();
        // squid runs as `proxy`: it must reach its files through the (0700) temp directory.
        for path in [self.root.path(), dir.as_path()] {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let chown = Command::new("chown")
            .arg("-R")
            .arg("proxy:proxy")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success());
        let conf = dir.join("squid.conf").display().to_string();
        self.spawn_in_zen("squid", &["-N", "-f", &conf], &[], false);
        // Not a connect to 3129: squid 5.7 stops accepting on an intercept port after a
        // connection it cannot find a NAT entry for. Its log says when it listens.
        self.wait_for_log(
            "squid/cache.log",
            "Accepting NAT intercepted SSL bumped HTTPS",
        );
        self.redirect_443_to(3129);
    }

    /// mitmproxy (pip) in reverse mode in front of the lab broker, fed every TCP/443
    /// connection by a NAT redirect; it mints its own CA (`CN=mitmproxy`).
    pub fn intercept_with_mitmproxy(&mut self, mitmdump: &str) {
        let confdir = self.root.path().join("mitm");
        std::fs::create_dir(&confdir).unwrap();
        let args = [
            format!("--set=confdir={}", confdir.display()),
            format!("--mode=reverse:https://{ZEN}:443@8444"),
            format!("--listen-host={ZEN}"),
            "--set=ssl_insecure=true".to_string(),
            "-q".to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn_in_zen(mitmdump, &args, &[], false);
        self.wait_for_zen_port(8444);
        self.redirect_443_to(8444);
    }

    /// Sends every TCP/443 connection arriving at the Zen side to `port` instead.
    fn redirect_443_to(&self, port: u16) {
        let status = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.zen,
                "iptables",
                "-t",
                "nat",
                "-A",
                "PREROUTING",
            ])
            .args([
                "-p",
                "tcp",
                "--dport",
                "443",
                "-j",
                "REDIRECT",
                "--to-ports",
                &port.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_for_log(&self, rel: &str, needle: &str) {
        for _ in 0..500 {
            if self.read_root(rel).contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("{rel} never said {needle:?}:\n{}", self.read_root(rel));
    }

    fn wait_for_zen_port(&self, port: u16) {
        for _ in 0..500 {
            let up = Command::new("ip")
                .args(["netns", "exec", &self.zen, "bash", "-c"])
                .arg(format!("exec 3<>/dev/tcp/{ZEN}/{port}"))
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if up {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nothing listens on {ZEN}:{port} in the zen namespace");
    }

    /// The command a person runs to check the lab's vm by hand (examples/lab.rs).
    #[allow(dead_code)] // used by examples/lab.rs, not by the tests
    pub fn command_line(&self, profile: &str) -> String {
        format!(
            "ip netns exec {} {} check --profile {profile} --root {}",
            self.vm,
            bin(),
            self.root.path().display()
        )
    }

    /// The SHA-256 of squid's CA certificate (lower-case hex), as the report should quote it.
    pub fn squid_ca_sha256(&self) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(self.root.path().join("squid/cert.pem"))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase()
    }

    /// A path under the lab's directory, for files a test writes.
    pub fn path(&self, rel: &str) -> std::path::PathBuf {
        self.root.path().join(rel)
    }

    /// Reads `rel` under the lab's directory (for diagnostics).
    pub fn read_root(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.path().join(rel)).unwrap_or_default()
    }

    /// Writes `rel` under the vm's root (what `--root` shows the tool), e.g. SELinux files.
    pub fn write_root(&self, rel: &str, contents: &str) {
        let path = self.root.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
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
        self.check_with(profile, &[])
    }

    /// `check` with more arguments.
    pub fn check_with(&self, profile: &str, extra: &[&str]) -> Run {
        let root = self.root.path().display().to_string();
        let mut args = vec!["netns", "exec", &self.vm, bin(), "check"];
        args.extend(["--profile", profile, "--root", &root, "--format", "json"]);
        args.extend_from_slice(extra);
        run_command(Command::new("ip").args(&args))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            // The whole group: squid's certificate helpers outlive a killed squid otherwise.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .output();
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
