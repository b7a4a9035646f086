//! The fleet summary as text.

use std::io::{self, Write};

use super::human::verdict_word;
use crate::fleet::Fleet;

/// Writes the summary: counts per verdict, causes by spread, then every host.
pub fn human(out: &mut dyn Write, fleet: &Fleet) -> io::Result<()> {
    let total = fleet.ready + fleet.warnings + fleet.blocked;
    writeln!(
        out,
        "{total} connector(s): {} blocked, {} with warnings, {} ready\n",
        fleet.blocked, fleet.warnings, fleet.ready
    )?;
    if !fleet.causes.is_empty() {
        writeln!(out, "Causes, most widespread first:")?;
        for cause in &fleet.causes {
            writeln!(
                out,
                "  {:32} {:>3} host(s): {}",
                cause.id,
                cause.hosts.len(),
                cause.hosts.join(", ")
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "Hosts:")?;
    for host in &fleet.hosts {
        writeln!(
            out,
            "  {:24} {:9} {}",
            host.name,
            verdict_word(host.verdict),
            host.top.as_deref().unwrap_or("")
        )?;
    }
    writeln!(
        out,
        "\nSUMMARY: fleet · {} blocked, {} warnings, {} ready",
        fleet.blocked, fleet.warnings, fleet.ready
    )
}
