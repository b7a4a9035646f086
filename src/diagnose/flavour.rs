//! Rules that come from what a connector flavour is for, as its profile declares it.

use super::{Cause, Facts, Severity};
use crate::plan::Origin;
use crate::profile::Role;

/// `flavour.no_private_apps`: a private application checked with a profile whose connector
/// does not broker them (a Branch Connector forwards to ZIA; ZPA is App Connector's).
pub(super) fn no_private_apps(facts: &Facts) -> Vec<Cause> {
    let plan = &facts.evidence.plan;
    if plan.private_apps {
        return Vec::new();
    }
    let mut targets: Vec<String> = plan
        .names
        .iter()
        .filter(|n| n.role == Role::Target)
        .map(|n| n.host.to_string())
        .collect();
    targets.extend(plan.fixed_targets.iter().filter_map(|t| match &t.origin {
        Origin::User { spec } => Some(spec.clone()),
        _ => None,
    }));
    targets.dedup();
    if targets.is_empty() {
        return Vec::new();
    }
    vec![
        Cause::new(
            crate::causes::FLAVOUR_NO_PRIVATE_APPS.id(),
            Severity::Warning,
            0.95,
        )
        .title(format!(
            "A {} does not reach private applications",
            plan.profile
        ))
        .detail(
            "This connector forwards user traffic to ZIA's public service edges; it does not \
                 broker private applications, so what these targets answer says nothing about \
                 whether users will reach them through Zscaler."
                .to_string(),
        )
        .evidence(
            targets
                .iter()
                .take(4)
                .map(|t| format!("--target {t}"))
                .collect(),
        )
        .remedy(
            "For private applications deploy App Connectors beside the apps (profile \
                 app-connector) and Client Connector on the devices.",
        ),
    ]
}
