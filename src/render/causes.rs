//! `zpa-preflight causes`: the catalogue of what this tool can conclude.

use std::io::{self, Write};

use crate::causes::{CATALOGUE, markdown_table};

/// Width of the meaning column's wrapping, after the id column.
const MEANING_WIDTH: usize = 60;

/// One block per cause: id, family and severity, then the meaning, wrapped.
pub fn human(out: &mut impl Write) -> io::Result<()> {
    let width = CATALOGUE.iter().map(|k| k.id.len()).max().unwrap_or(0);
    for kind in CATALOGUE {
        let severity = match kind.severity_note {
            "" => kind.severity.label().to_string(),
            note => format!("{} ({note})", kind.severity.label()),
        };
        writeln!(
            out,
            "{:width$}  {:9}  {severity}",
            kind.id,
            kind.family.label()
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

/// The catalogue as a JSON array.
pub fn json(out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, CATALOGUE).map_err(io::Error::other)?;
    writeln!(out)
}

/// The README's table.
pub fn markdown(out: &mut impl Write) -> io::Result<()> {
    out.write_all(markdown_table().as_bytes())
}
