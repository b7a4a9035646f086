//! What the tool knows, printed: its causes, its profiles, its manual and completions.

use super::output::print;
use crate::cli::CatalogFormat;
use crate::error::Error;
use crate::exit::Exit;
use crate::render;

/// `causes`: every cause the tool can conclude.
pub fn causes(format: CatalogFormat) -> Result<Exit, Error> {
    print(|out| match format {
        CatalogFormat::Human => render::causes::human(out),
        CatalogFormat::Json => render::causes::json(out),
        CatalogFormat::Markdown => render::causes::markdown(out),
    })?;
    Ok(Exit::Ready)
}

/// `schema`: the report's JSON Schema.
pub fn schema() -> Result<Exit, Error> {
    print(|out| {
        serde_json::to_writer_pretty(&mut *out, &crate::report::schema())?;
        writeln!(out)
    })?;
    Ok(Exit::Ready)
}

/// `profiles`: the built-in profiles, one a line.
pub fn profiles() -> Result<Exit, Error> {
    let mut lines = Vec::new();
    for name in crate::profile::builtin_profiles() {
        let profile = crate::profile::load(name)?;
        lines.push(format!("{name:16} {}", profile.description));
    }
    print(|out| lines.iter().try_for_each(|line| writeln!(out, "{line}")))?;
    Ok(Exit::Ready)
}

/// `completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit, Error> {
    let script = crate::manual::completions(shell);
    print(|out| out.write_all(&script))?;
    Ok(Exit::Ready)
}

/// `man [COMMAND…]` or `man --list`.
pub fn man(command: &[String], list: bool) -> Result<Exit, Error> {
    if list {
        print(|out| {
            crate::manual::pages().iter().try_for_each(|path| {
                let name = crate::manual::page_file_name(path);
                writeln!(out, "{name} {}", path.join(" "))
            })
        })?;
        return Ok(Exit::Ready);
    }
    let page = crate::manual::page(command)
        .ok_or_else(|| Error::Usage(format!("man: no subcommand '{}'", command.join(" "))))?;
    print(|out| out.write_all(&page))?;
    Ok(Exit::Ready)
}
