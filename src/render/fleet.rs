//! The fleet summary as text.

use std::io::{self, Write};

use super::human::verdict_word;
use crate::fleet::Fleet;

/// Writes the summary as the versioned `fleet` document.
pub fn json(out: &mut dyn Write, fleet: &Fleet) -> io::Result<()> {
    super::json::document(out, "fleet", fleet)
}

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
        // The diagnosis's numbers, as each report measured them.
        let mut numbers: Vec<String> = host
            .ports
            .iter()
            .filter_map(|(port, ratio)| ratio.map(|r| format!("{port} {:.0}%", r * 100.0)))
            .collect();
        if let Some(offset) = host.clock_offset_s {
            numbers.push(format!("clock {offset:+.1} s"));
        }
        writeln!(
            out,
            "  {:24} {:9} {:32} {}",
            host.name,
            verdict_word(host.verdict),
            host.top.as_deref().unwrap_or(""),
            numbers.join(" · ")
        )?;
    }
    writeln!(
        out,
        "\nSUMMARY: fleet · {} blocked, {} warnings, {} ready",
        fleet.blocked, fleet.warnings, fleet.ready
    )
}
