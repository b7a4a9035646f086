//! Rules about the Zen ranges themselves: how current the list the run judged with is.

use super::{Cause, Facts, Severity};
use crate::profile::feed::STALE_AFTER_DAYS;

/// `feed.stale`: the cached feed is older than Zscaler's notice period for new ranges, so
/// ranges brought into service since may be missing from it (and from the firewall rules
/// built from it).
pub(super) fn stale(facts: &Facts) -> Vec<Cause> {
    let zen = &facts.evidence.plan.zen;
    let Some(days) = zen.age_days.filter(|d| *d > STALE_AFTER_DAYS) else {
        return Vec::new();
    };
    vec![
        Cause::new(crate::causes::FEED_STALE.id(), Severity::Warning, 0.9)
            .title(format!("The cached Zen feed is {days} days old"))
            .detail(format!(
                "Zscaler announces new ranges {STALE_AFTER_DAYS} days before using them; a list \
                 older than that may miss ranges in service now, here and in the firewall rules \
                 built from it."
            ))
            .evidence(vec![format!(
                "{} ({} ranges, {} feed for {})",
                zen.source,
                zen.ranges.len(),
                zen.kind.label(),
                zen.cloud
            )])
            .remedy(
                "Run `zpa-preflight feed update` (and refresh the firewall's allowlist from the \
                 same feed).",
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn a_feed_past_the_notice_period_is_stale() {
        let mut ev = healthy();
        ev.plan.zen.age_days = Some(90);
        assert!(!ids(&ev).contains(&"feed.stale".to_string()));
        ev.plan.zen.age_days = Some(91);
        assert_eq!(ids(&ev), ["feed.stale"]);
    }
}
