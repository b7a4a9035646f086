//! `explain --chain`: a saved chain judged by the same rules as a live handshake. The plan is
//! the profile's with nothing to contact, so every other check says it did not run.

use std::path::Path;

use chrono::Utc;

use crate::cli::ExplainArgs;
use crate::error::{Error, InputError};
use crate::plan::{Overrides, Plan};
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
    crate::diagnose::judgeable(&summaries, &profile::interceptors())
        .map_err(|m| InputError::invalid(&shown, m))?;
    let sni = args
        .sni
        .clone()
        .unwrap_or_else(|| crate::x509::presented_for(&summaries));
    let overrides = Overrides {
        trust: anchors.iter().map(probe::tls::Anchor::describe).collect(),
        ignore: args.judge.ignore.clone(),
        ..Overrides::default()
    };
    let (plan, class) = Plan::for_saved_chain(&profile, &overrides, &sni);
    let verifiers = probe::tls::Verifiers::offline(&anchors);
    let handshake = probe::tls::saved(&ders, &shown, &sni, class, &verifiers);
    let evidence = crate::evidence::Evidence::offline(plan, vec![handshake]);
    Ok(Report::new(evidence, Utc::now(), 0))
}
