//! The pre-plan stage: the inspected VM's own configuration that decides what to probe.
//!
//! Before a plan exists the run must know how this VM reaches out: which proxies the connector
//! and the system's tools use, and which time servers its daemons are configured with. This
//! stage reads exactly that (bounded, regular files, inside `--root`) and returns a
//! [`SystemConfig`] the pure plan consumes; nothing else in the run reads the VM before
//! probing starts.

use std::path::Path;

use crate::plan::SystemConfig;
use crate::plan::proxy::{Environment, Proxies, parse_environment, parse_proxy, split_list};
use crate::vm;

/// What this VM's configuration says, under `root`. `env` counts only when `root` is `/`:
/// another root is another system, whose environment is its `/etc/environment`.
pub fn read(root: &Path, env: &Environment) -> SystemConfig {
    SystemConfig {
        proxies: proxies(root, env),
        configured_ntp: super::clock::configured_servers(root),
    }
}

/// This process's proxy variables (lower-case names win, as curl does).
pub fn environment() -> Environment {
    let var = |lower: &str, upper: &str| {
        std::env::var(lower)
            .or_else(|_| std::env::var(upper))
            .ok()
            .filter(|v| !v.trim().is_empty())
    };
    Environment {
        https_proxy: var("https_proxy", "HTTPS_PROXY"),
        no_proxy: var("no_proxy", "NO_PROXY"),
    }
}

/// The proxy configuration under `root`.
pub fn proxies(root: &Path, env: &Environment) -> Proxies {
    let fs = super::rootfs::RootFs::new(root);
    let read = |rel: &str| fs.read(rel, super::rootfs::CONFIG_CAP).ok();
    let connector = read(vm::CONNECTOR_PROXY).and_then(|text| {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let bypass = read(vm::CONNECTOR_PROXY_BYPASS)
            .map(|t| split_list(&t))
            .unwrap_or_default();
        parse_proxy(line, &format!("/{}", vm::CONNECTOR_PROXY), bypass)
    });
    let system = system_proxy(root, env).and_then(|(value, no_proxy, source)| {
        let bypass = no_proxy.as_deref().map(split_list).unwrap_or_default();
        parse_proxy(&value, &source, bypass)
    });
    Proxies { connector, system }
}

/// The system's HTTPS proxy as configured, credentials and all, with its `NO_PROXY` and where
/// it was read: this process's environment when `root` is `/`, else the root's
/// `/etc/environment`. Only a request this tool makes itself (`feed update`) uses the raw
/// value, in memory; the plan keeps it without the credentials.
pub fn system_proxy(root: &Path, env: &Environment) -> Option<(String, Option<String>, String)> {
    if root == Path::new("/") && env.https_proxy.is_some() {
        return env.https_proxy.clone().map(|value| {
            (
                value,
                env.no_proxy.clone(),
                "HTTPS_PROXY (environment)".to_string(),
            )
        });
    }
    let fs = super::rootfs::RootFs::new(root);
    let etc_environment = fs
        .read(vm::ENVIRONMENT, super::rootfs::CONFIG_CAP)
        .ok()
        .map(|t| parse_environment(&t))
        .unwrap_or_default();
    etc_environment.https_proxy.map(|value| {
        (
            value,
            etc_environment.no_proxy,
            format!("/{}", vm::ENVIRONMENT),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etc_environment_is_read_under_another_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join(vm::CONNECTOR_VAR)).unwrap();
        std::fs::write(
            root.path().join(vm::ENVIRONMENT),
            "PATH=/usr/bin\nhttps_proxy=\"http://u:p@198.51.100.3:3128\"\nNO_PROXY=localhost\n",
        )
        .unwrap();
        std::fs::write(root.path().join(vm::CONNECTOR_PROXY), "198.51.100.4:8080\n").unwrap();
        std::fs::write(
            root.path().join(vm::CONNECTOR_PROXY_BYPASS),
            "*.prod.zpath.net\n",
        )
        .unwrap();
        let env = Environment {
            https_proxy: Some("http://ignored:1".into()),
            no_proxy: None,
        };
        let config = read(root.path(), &env);
        let system = config.proxies.system.unwrap();
        assert_eq!(
            (system.addr.to_string().as_str(), system.credentials),
            ("198.51.100.3:3128", true)
        );
        assert_eq!(system.bypass, ["localhost"]);
        assert_eq!(system.source, "/etc/environment");
        let connector = config.proxies.connector.unwrap();
        assert_eq!(connector.addr.to_string(), "198.51.100.4:8080");
        assert_eq!(connector.bypass, ["*.prod.zpath.net"]);
        assert_eq!(connector.source, "/opt/zscaler/var/proxy");
    }
}
