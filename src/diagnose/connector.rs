//! The installed connector's rules (`connector.*`) that the VM shows: its service. What its
//! own log says is `log.rs`'s, through the patterns in `checks/`.

use super::{Cause, Facts, Severity};

/// `connector.not_running`: installed, and no process runs.
pub(super) fn not_running(facts: &Facts) -> Vec<Cause> {
    if facts.host_spec().is_none() {
        return Vec::new();
    }
    let c = &facts.evidence.host.connector;
    if !c.installed || c.running != Some(false) {
        return Vec::new();
    }
    vec![
            Cause::new(
                crate::causes::CONNECTOR_NOT_RUNNING.id(),
                if c.enabled { Severity::Blocking } else { Severity::Warning },
                0.8,
            )
            .title("The connector is installed but not running")
            .detail(if c.enabled {
                "zpa-connector is enabled but no process runs: it crashed or was stopped."
            } else {
                "zpa-connector is installed but neither enabled nor running."
            })
            .evidence(vec![format!("installed; enabled: {}; running: no", c.enabled)])
            .remedy("`systemctl enable --now zpa-connector`, then `journalctl -u zpa-connector -f` (or this tool with --log)."),
    ]
}
