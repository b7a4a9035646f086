//! The provision key's rules (`key.*`): present, readable by the connector's user, shaped
//! like a key, not writable by anyone. Its contents are never shown.

use super::{Cause, Facts, Severity};
use crate::evidence::KeyState;

/// `key.missing`, `key.unreadable`, `key.malformed`, `key.world_writable`.
pub(super) fn provision_key(facts: &Facts) -> Vec<Cause> {
    let Some(spec) = facts.host_spec() else {
        return Vec::new();
    };
    let host = &facts.evidence.host;
    let installed = host.connector.installed;
    let mut causes = Vec::new();
    let path = format!("/{}", crate::vm::PROVISION_KEY);
    match &host.key {
        KeyState::Missing if !host.connector.enrolled => causes.push(
            Cause::new(
                crate::causes::KEY_MISSING.id(),
                if installed { Severity::Blocking } else { Severity::Info },
                0.9,
            )
            .title("No provision key")
            .detail(if installed {
                format!("{path} does not exist: the installed connector has nothing to enroll with.")
            } else {
                format!("{path} does not exist yet: write it once this check passes, then start the connector.")
            })
            .evidence(vec![format!("{path}: no such file")])
            .remedy(format!(
                "Write the key from the ZPA admin portal to {path} (one line), `chmod 644`, then start zpa-connector."
            )),
        ),
        KeyState::Unreadable { error } => causes.push(
            Cause::new(crate::causes::KEY_UNREADABLE.id(), Severity::Blocking, 0.6)
                .title("The provision key cannot be read")
                .detail(format!("{path} exists but cannot be read here ({error}); run as root to check it."))
                .evidence(vec![format!("{path}: {error}")])
                .remedy(format!("`chmod 644 {path}`; run this check as root.")),
        ),
        KeyState::Present {
            readable_by_connector,
            world_writable,
            malformed,
            mode,
            bytes,
            lines,
        } => {
            let shape = format!("{path}: {bytes} bytes, {lines} line(s), mode {mode}");
            if *readable_by_connector == Some(false) {
                causes.push(
                    Cause::new(crate::causes::KEY_UNREADABLE.id(), Severity::Blocking, 0.9)
                        .title(format!("The {} user cannot read the provision key", spec.connector_user))
                        .detail(format!("{path} is mode {mode}; the connector reads it as {}.", spec.connector_user))
                        .evidence(vec![shape.clone()])
                        .remedy(format!("`chmod 644 {path}` (Zscaler's documented mode)."))
                );
            }
            if let Some(why) = malformed {
                let empty = why == crate::evidence::KEY_EMPTY;
                causes.push(
                    Cause::new(
                        crate::causes::KEY_MALFORMED.id(),
                        if empty { Severity::Blocking } else { Severity::Warning },
                        if empty { 0.95 } else { 0.6 },
                    )
                    .title("The provision key does not look like one")
                    .detail(format!("The key file is {why} (its contents are never shown)."))
                    .evidence(vec![shape.clone(), format!("shape: {why}")])
                    .remedy("Paste the key again from the ZPA admin portal: one line, nothing else."),
                );
            }
            if *world_writable {
                causes.push(
                    Cause::new(crate::causes::KEY_WORLD_WRITABLE.id(), Severity::Warning, 0.9)
                        .title("Anyone on the VM can overwrite the provision key")
                        .detail(format!("{path} is mode {mode}."))
                        .evidence(vec![shape])
                        .remedy(format!("`chmod 644 {path}`.")),
                );
            }
        }
        _ => {}
    }
    causes
}
