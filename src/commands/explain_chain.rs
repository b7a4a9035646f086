//! `explain --chain`: a saved chain judged by the same rules as a live handshake. The plan is
//! the profile's with nothing to contact, so every other check says it did not run.

use std::path::Path;

use chrono::Utc;

use crate::cli::ExplainArgs;
use crate::error::{Error, InputError};
use crate::plan::{self, Overrides};
use crate::probe;
use crate::profile;
use crate::report::Report;

/// The report a saved chain earns.
pub fn judge(file: &Path, args: &ExplainArgs) -> Result<Report, Error> {
    let shown = file.display().to_string();
    let bytes = crate::files::read_bytes(file, crate::files::Kind::Chain)?;
    let ders = probe::tls::parse_chain(&bytes).map_err(|m| InputError::invalid(&shown, m))?;
    let profile = profile::load(args.profile.as_deref().unwrap_or(profile::DEFAULT_PROFILE))?;
    let anchors = crate::config::anchors(&profile, &args.trust)?;
    let summaries: Vec<_> = ders
        .iter()
        .filter_map(|der| crate::x509::summarize(der).ok())
        .collect();
    let sni = args
        .sni
        .clone()
        .unwrap_or_else(|| crate::x509::presented_for(&summaries));
    // A file of CA certificates only (a user's export of "the proxy's CA") has no server to
    // judge: it is judged by its CAs when the catalogue names their product, and otherwise
    // says what it holds and what to pass instead.
    if !summaries.is_empty()
        && summaries.iter().all(|c| c.is_ca)
        && crate::diagnose::ca_product(&summaries, &profile::interceptors()).is_none()
    {
        let held: Vec<String> = summaries
            .iter()
            .map(|c| format!("{} sha256 {}", c.subject.text, c.sha256))
            .collect();
        return Err(InputError::invalid(
            &shown,
            format!(
                "holds only CA certificates ({}), of no catalogued inspection product: pass \
                 the chain a server presented (leaf first, e.g. the output of openssl \
                 s_client -showcerts), or, if this CA is your own broker anchor, pass it with \
                 --trust",
                held.join("; ")
            ),
        )
        .into());
    }
    let class = profile
        .names
        .iter()
        .find(|n| n.host.as_str().eq_ignore_ascii_case(&sni))
        .map_or(plan::TrustClass::Broker, |n| n.role.into());
    let overrides = Overrides {
        trust: anchors.iter().map(probe::tls::Anchor::describe).collect(),
        ignore: args.judge.ignore.clone(),
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
