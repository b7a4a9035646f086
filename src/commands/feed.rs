//! `feed update` and `feed show`: the policy is [`crate::feeds`]'s; this reads the flags.

use std::path::Path;

use chrono::Utc;

use super::output::print;
use crate::cli::{FeedFormat, FeedShowArgs, FeedUpdateArgs};
use crate::error::Error;
use crate::exit::Exit;
use crate::feeds;
use crate::render;

/// `feed update`: fetch or read, validate, cache. A failure leaves the cache as it was.
pub fn update(args: &FeedUpdateArgs) -> Result<Exit, Error> {
    crate::config::root_dir(&args.root)?;
    let cloud = args
        .cloud
        .clone()
        .unwrap_or_else(|| feeds::default_cloud(args.kind).to_string());
    let from = args
        .from
        .clone()
        .unwrap_or_else(|| feeds::url(args.kind, &cloud));
    let body = if from.starts_with("https://") {
        let ca = match &args.ca {
            Some(path) => crate::probe::tls::load_anchor(&path.display().to_string())?.certs,
            None => Vec::new(),
        };
        // The request this tool makes itself goes through the system's proxy as configured.
        let proxy = feeds::system_proxy(&args.root);
        feeds::download(&from, proxy.as_ref(), &ca, args.timeout)?
    } else {
        // Another scheme was refused before anything was read (cli::validate).
        let text = crate::files::read_text(Path::new(&from), crate::files::Kind::Feed)?;
        feeds::Body { text, source: from }
    };
    let updated = feeds::update(
        &body,
        args.kind,
        &cloud,
        &args.cache,
        args.force,
        Utc::now(),
    )?;
    print(|out| {
        writeln!(
            out,
            "wrote {}: {} ranges ({} feed) for {} from {}{}",
            updated.path.display(),
            updated.cached.feed.ranges.len(),
            updated.cached.feed.kind.label(),
            updated.cached.feed.cloud,
            updated.cached.source,
            updated
                .previous
                .map(|n| format!(" (was {n})"))
                .unwrap_or_default()
        )
    })?;
    Ok(Exit::Ready)
}

/// `feed show`: the ranges a check would use, where they come from, by region.
pub fn show(args: &FeedShowArgs) -> Result<Exit, Error> {
    let profile = crate::profile::load(&args.profile)?;
    let zen = crate::config::zen_in_use(&profile, args.cidrs.as_deref(), &args.cache)?
        .unwrap_or(profile.zen);
    print(|out| match args.format {
        FeedFormat::Human => render::feed::human(out, &render::printable_value(&zen)),
        FeedFormat::Json => render::feed::json(out, &zen),
    })?;
    Ok(Exit::Ready)
}
