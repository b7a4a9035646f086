//! `size`: the connector plan with its arithmetic, for an architect (human), a ticket or a
//! design document (markdown), or a pipeline (JSON).

use std::io::{self, Write};

use crate::sizing::{Domain, Here, Sizing, Table};

fn domain_lines(table: &Table, d: &Domain) -> Vec<String> {
    let mut lines: Vec<String> = d
        .terms
        .iter()
        .map(|t| {
            let label = table
                .protocols
                .iter()
                .find(|p| p.name == t.protocol)
                .map_or(t.protocol.as_str(), |p| p.label.as_str());
            format!(
                "{} {} ÷ {} (of {}–{} per connector) = {:.2} connectors  [{label}]",
                t.protocol, t.users, t.capacity[0], t.capacity[0], t.capacity[1], t.load
            )
        })
        .collect();
    let range = if d.needed_optimistic == d.needed {
        String::new()
    } else {
        format!(
            " ({}–{} by the table's range)",
            d.needed_optimistic, d.needed
        )
    };
    lines.push(format!(
        "load {:.2} (optimistic {:.2}) → {} needed{range} + {} spare (N+1) = {} connectors of {}",
        d.load, d.load_optimistic, d.needed, d.spare, d.connectors, d.vm
    ));
    lines
}

/// The plan, domain by domain, with the arithmetic.
pub fn human(
    out: &mut dyn Write,
    table: &Table,
    s: &Sizing,
    here: Option<&Here>,
) -> io::Result<()> {
    let vm = s.domains.first().map_or("?", |d| d.vm.as_str());
    let note = table.size(vm).map_or("", |v| v.note.as_str());
    writeln!(
        out,
        "App Connectors on {vm} ({note}), {} failure domain{}; each domain's group serves an even share \
         and plans on the conservative end of the lesson's table:",
        s.domains.len(),
        if s.domains.len() == 1 { "" } else { "s" }
    )?;
    for d in &s.domains {
        writeln!(out, "\nfailure domain {}:", d.domain)?;
        for line in domain_lines(table, d) {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out, "\nIn all: {} connectors of {vm}.", s.total)?;
    for (size, per_domain) in &s.alternatives {
        writeln!(out, "On {size}: {per_domain} per failure domain.")?;
    }
    writeln!(
        out,
        "Always N+1 per group; scale out, not up: more {} vCPU connectors, never past {} vCPU.",
        table.size("4x8").map_or(4, |s| s.vcpus),
        table.max_vcpus
    )?;
    for warning in &s.warnings {
        writeln!(out, "! {warning}")?;
    }
    if let Some(here) = here {
        writeln!(
            out,
            "\nThis VM ({} vCPU, {} MiB):",
            here.vcpus, here.memory_mib
        )?;
        for finding in &here.findings {
            writeln!(out, "  {finding}")?;
        }
    }
    Ok(())
}

/// The plan as a table per domain.
pub fn markdown(
    out: &mut dyn Write,
    table: &Table,
    s: &Sizing,
    here: Option<&Here>,
) -> io::Result<()> {
    writeln!(out, "# App Connector sizing\n")?;
    writeln!(
        out,
        "| Failure domain | VM | Load (conservative) | Load (optimistic) | Needed | Spare (N+1) | Connectors |\n|---|---|---|---|---|---|---|"
    )?;
    for d in &s.domains {
        writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {} | {} | **{}** |",
            d.domain, d.vm, d.load, d.load_optimistic, d.needed, d.spare, d.connectors
        )?;
    }
    writeln!(out, "\n**In all: {} connectors.**\n", s.total)?;
    if let Some(d) = s.domains.first() {
        writeln!(out, "Arithmetic per domain:\n")?;
        for line in domain_lines(table, d) {
            writeln!(out, "- {line}")?;
        }
    }
    for warning in &s.warnings {
        writeln!(out, "\n> {warning}")?;
    }
    if let Some(here) = here {
        writeln!(out, "\n## This VM\n")?;
        for finding in &here.findings {
            writeln!(out, "- {finding}")?;
        }
    }
    Ok(())
}

/// The plan as JSON: one object per failure domain with its `connectors` and `vm`, and the
/// arithmetic.
pub fn json(out: &mut dyn Write, s: &Sizing, here: Option<&Here>) -> io::Result<()> {
    #[derive(serde::Serialize)]
    struct Document<'a> {
        #[serde(flatten)]
        sizing: &'a Sizing,
        #[serde(skip_serializing_if = "Option::is_none")]
        here: Option<&'a Here>,
    }
    super::json::document(out, "size", &Document { sizing: s, here })
}
