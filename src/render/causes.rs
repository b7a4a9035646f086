//! `zpa-preflight causes`: the catalogue of what this tool can conclude.

use std::io::{self, Write};

use crate::causes::CATALOGUE;

/// Width of the meaning column's wrapping, after the id column.
const MEANING_WIDTH: usize = 60;

/// One block per cause: id, family and severity, then the meaning, wrapped.
pub fn human(out: &mut dyn Write) -> io::Result<()> {
    let width = CATALOGUE.iter().map(|k| k.id.len()).max().unwrap_or(0);
    for kind in CATALOGUE {
        writeln!(
            out,
            "{:width$}  {:9}  {}",
            kind.id,
            kind.family.label(),
            kind.severity_text()
        )?;
        for line in textwrap::wrap(kind.meaning, MEANING_WIDTH) {
            writeln!(out, "{:width$}  {line}", "")?;
        }
    }
    writeln!(
        out,
        "\n{} causes; `--ignore ID` downgrades a blocking one to a warning.",
        CATALOGUE.len()
    )
}

/// The catalogue as a JSON document: `{"schema_version", "kind": "causes", "causes": […]}`.
pub fn json(out: &mut dyn Write) -> io::Result<()> {
    #[derive(serde::Serialize)]
    struct Causes {
        causes: &'static [&'static crate::causes::CauseKind],
    }
    super::json::document(out, "causes", &Causes { causes: CATALOGUE })
}

/// The README's table.
pub fn markdown(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| id | family | severity | what it means |\n|---|---|---|---|"
    )?;
    for kind in CATALOGUE {
        writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            kind.id,
            kind.family.label(),
            kind.severity_text(),
            kind.meaning.replace('|', "\\|")
        )?;
    }
    Ok(())
}
