//! `size`: the connector plan for a protocol mix, and optionally this VM against it.

use super::output::print;
use crate::cli::{CatalogFormat, SizeArgs};
use crate::error::Error;
use crate::exit::Exit;
use crate::probe::{host, rootfs};
use crate::render;

/// Runs `size`.
pub fn run(args: &SizeArgs) -> Result<Exit, Error> {
    let table = crate::sizing::table();
    let usage = |m: String| Error::Usage(format!("size: {m}"));
    // --users and --vm were checked against the table by clap, before anything was read.
    let mix = &args.users.0;
    let vm = table
        .size(&args.vm)
        .ok_or_else(|| usage(format!("--vm {}: not in the table", args.vm)))?;
    let sizing = crate::sizing::plan(table, mix, args.domains, vm);
    let here = if args.here {
        crate::config::root_dir(&args.root)?;
        let read = |rel: &str| host::read_bounded(&args.root, rel, rootfs::CONFIG_CAP);
        let vcpus = read(crate::vm::CPUINFO).map(|t| host::count_cpus(&t));
        let memory = read(crate::vm::MEMINFO).and_then(|t| host::mem_total_mib(&t));
        let (Some(vcpus), Some(memory)) = (vcpus, memory) else {
            return Err(usage(format!(
                "--here: cannot read {}/proc/cpuinfo and proc/meminfo",
                args.root.display()
            )));
        };
        Some(crate::sizing::here(table, mix, args.domains, vcpus, memory))
    } else {
        None
    };
    print(|out| match args.format {
        CatalogFormat::Human => render::size::human(out, table, &sizing, here.as_ref()),
        CatalogFormat::Json => render::size::json(out, &sizing, here.as_ref()),
        CatalogFormat::Markdown => render::size::markdown(out, table, &sizing, here.as_ref()),
    })?;
    Ok(Exit::Ready)
}
