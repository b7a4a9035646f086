//! Sizing: how many App Connectors a protocol mix needs, per failure domain, with every step
//! of the arithmetic kept so that the output can show it.
//!
//! The numbers are data (`checks/sizing.toml`, the course lesson's table); the method is the
//! lesson's: throughput depends on the protocol mix, not on a head count, so each protocol's
//! users are a fraction of a connector by its own capacity, and the fractions add up. The
//! table gives ranges; the plan takes the conservative (low) end and shows the optimistic one
//! beside it. Then the two rules: N+1 per group, and scale out, not up. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The built-in table.
const TABLE: &str = include_str!("../checks/sizing.toml");

/// A VM size the table has numbers for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSize {
    /// `2x4`: vCPUs x GiB.
    pub name: String,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, GiB.
    pub memory_gib: u32,
    /// What the lesson says of it.
    pub note: String,
}

/// The most users a mix may hold, in all: far past any site, and far from any overflow.
pub const MAX_USERS: u64 = 10_000_000;

/// One protocol's capacity per VM size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// What `--users` calls it.
    pub name: String,
    /// What the report calls it.
    pub label: String,
    /// Concurrent users one connector of each size carries: [conservative, optimistic].
    pub users: BTreeMap<String, [u32; 2]>,
}

/// The sizing table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Spare connectors per group (N+1: 1).
    pub spare_per_group: u32,
    /// Past this many vCPUs a connector gains little.
    pub max_vcpus: u32,
    /// The sizes, smallest first.
    #[serde(rename = "size")]
    pub sizes: Vec<VmSize>,
    /// The protocols.
    #[serde(rename = "protocol")]
    pub protocols: Vec<Protocol>,
}

/// The built-in table (`checks/sizing.toml`), validated by a test; parsed once, though the
/// command line and `size` both read it.
pub fn table() -> &'static Table {
    static PARSED: std::sync::LazyLock<Table> = std::sync::LazyLock::new(|| {
        toml::from_str(TABLE).expect("checks/sizing.toml is valid (tested)")
    });
    &PARSED
}

impl Table {
    /// The size named `name`.
    pub fn size(&self, name: &str) -> Option<&VmSize> {
        self.sizes.iter().find(|s| s.name == name)
    }

    /// The largest size a VM with `vcpus` and `memory_mib` reaches (MemTotal reads about
    /// 7 % under the size sold), or `None` below the smallest.
    pub fn class_of(&self, vcpus: u32, memory_mib: u64) -> Option<&VmSize> {
        self.sizes
            .iter()
            .filter(|s| vcpus >= s.vcpus && memory_mib * 100 >= u64::from(s.memory_gib) * 1024 * 90)
            .max_by_key(|s| s.vcpus)
    }

    /// Parses `http=1200,rdp=300`: known protocols, whole numbers, [`MAX_USERS`] in all.
    pub fn parse_mix(&self, text: &str) -> Result<Vec<(String, u64)>, String> {
        let mut mix: Vec<(String, u64)> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, count) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not PROTOCOL=USERS"))?;
            let name = name.trim().to_ascii_lowercase();
            if !self.protocols.iter().any(|p| p.name == name) {
                let known: Vec<&str> = self.protocols.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "unknown protocol '{name}' (the table knows {})",
                    known.join(", ")
                ));
            }
            let count: u64 = count
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= MAX_USERS)
                .ok_or_else(|| {
                    format!("'{part}': the users must be a whole number up to {MAX_USERS}")
                })?;
            match mix.iter_mut().find(|(n, _)| *n == name) {
                Some((_, total)) => *total += count,
                None => mix.push((name, count)),
            }
        }
        if mix.iter().all(|(_, n)| *n == 0) {
            return Err("the mix has no users".into());
        }
        // The cap is on the whole mix (a term repeated, or many terms, cannot pass it).
        let total: u64 = mix.iter().map(|(_, n)| n).sum();
        if total > MAX_USERS {
            return Err(format!(
                "{total} users in all: the mix may hold up to {MAX_USERS} users in all"
            ));
        }
        Ok(mix)
    }
}

/// One protocol's share of a connector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    /// The protocol.
    pub protocol: String,
    /// Its users in this failure domain.
    pub users: u64,
    /// What one connector of the size carries: [conservative, optimistic].
    pub capacity: [u32; 2],
    /// users / conservative capacity.
    pub load: f64,
    /// users / optimistic capacity.
    pub load_optimistic: f64,
}

/// The plan for one failure domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domain {
    /// 1-based.
    pub domain: u32,
    /// The VM size planned with.
    pub vm: String,
    /// Each protocol's share.
    pub terms: Vec<Term>,
    /// Connectors' worth of load, conservative (the sum of the shares).
    pub load: f64,
    /// The same, optimistic.
    pub load_optimistic: f64,
    /// Connectors the load needs, conservative (at least one).
    pub needed: u32,
    /// Connectors the load needs by the optimistic end.
    pub needed_optimistic: u32,
    /// Spares (N+1).
    pub spare: u32,
    /// What to deploy in this domain: needed + spare.
    pub connectors: u32,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sizing {
    /// The mix, as given (all domains together).
    pub mix: Vec<(String, u64)>,
    /// Failure domains.
    pub domains: Vec<Domain>,
    /// Connectors in all.
    pub total: u32,
    /// The same plan on the other sizes, for comparison: (size, connectors per domain).
    pub alternatives: Vec<(String, u32)>,
    /// Where the plan leaves what the table covers.
    pub warnings: Vec<String>,
}

/// Plans `mix` over `domains` failure domains on `vm`. Each domain's group serves an even
/// share of the users (rounded up), and carries its own spare.
pub fn plan(table: &Table, mix: &[(String, u64)], domains: u32, vm: &VmSize) -> Sizing {
    let domains = domains.max(1);
    let per_domain = |users: u64| users.div_ceil(u64::from(domains));
    let domain_plan = |vm: &VmSize, index: u32| {
        let terms: Vec<Term> = mix
            .iter()
            .filter_map(|(name, users)| {
                let protocol = table.protocols.iter().find(|p| p.name == *name)?;
                let capacity = *protocol.users.get(&vm.name)?;
                let users = per_domain(*users);
                Some(Term {
                    protocol: name.clone(),
                    users,
                    capacity,
                    load: users as f64 / f64::from(capacity[0].max(1)),
                    load_optimistic: users as f64 / f64::from(capacity[1].max(1)),
                })
            })
            .collect();
        let load: f64 = terms.iter().map(|t| t.load).sum();
        let load_optimistic: f64 = terms.iter().map(|t| t.load_optimistic).sum();
        let needed = connectors_for(load);
        Domain {
            domain: index,
            vm: vm.name.clone(),
            terms,
            load,
            load_optimistic,
            needed,
            needed_optimistic: connectors_for(load_optimistic),
            spare: table.spare_per_group,
            connectors: needed + table.spare_per_group,
        }
    };
    let planned: Vec<Domain> = (1..=domains).map(|i| domain_plan(vm, i)).collect();
    let total = planned.iter().map(|d| d.connectors).sum();
    let alternatives = table
        .sizes
        .iter()
        .filter(|s| s.name != vm.name)
        .map(|s| (s.name.clone(), domain_plan(s, 1).connectors))
        .collect();
    let mut warnings = Vec::new();
    if vm.vcpus > table.max_vcpus {
        warnings.push(format!(
            "{} vCPU is past {} vCPU, where a connector gains little: scale out with more 4 vCPU connectors",
            vm.vcpus, table.max_vcpus
        ));
    }
    if mix.iter().any(|(name, _)| name == "smb") {
        warnings.push(
            "smb counts active transfers, not users: give the transfers running at once".into(),
        );
    }
    if let Some(first) = planned.first()
        && first.needed > 20
    {
        warnings.push(format!(
            "{} connectors in one group is past what the lesson's table was drawn from: \
             measure a pilot group before ordering VMs",
            first.needed
        ));
    }
    Sizing {
        mix: mix.to_vec(),
        domains: planned,
        total,
        alternatives,
        warnings,
    }
}

/// Whole connectors for `load` connectors' worth of users: at least one.
fn connectors_for(load: f64) -> u32 {
    // A hair of tolerance: 1000 users on a 1000-user connector is one, not two.
    let whole = (load - 1e-9).ceil().max(1.0);
    if whole >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        whole as u32
    }
}

/// What one VM carries of a mix: its size class and the share of the load on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Here {
    /// vCPUs seen.
    pub vcpus: u32,
    /// Memory seen, MiB.
    pub memory_mib: u64,
    /// The table's size it reaches; none below the minimum.
    pub class: Option<String>,
    /// Connectors' worth of the mix on one VM of that class (conservative); 1.0 is full.
    pub load: Option<f64>,
    /// What to say about it.
    pub findings: Vec<String>,
}

/// Judges this VM (`vcpus`, `memory_mib`) against `mix` spread over `domains`.
pub fn here(
    table: &Table,
    mix: &[(String, u64)],
    domains: u32,
    vcpus: u32,
    memory_mib: u64,
) -> Here {
    let mut findings = Vec::new();
    let class = table.class_of(vcpus, memory_mib);
    let load = class.map(|size| plan(table, mix, domains, size).domains[0].load);
    match (class, load) {
        (None, _) => findings.push(format!(
            "{vcpus} vCPU / {:.1} GiB is below the {} minimum: not supported for a connector",
            memory_mib as f64 / 1024.0,
            table.sizes.first().map_or("2x4", |s| s.name.as_str())
        )),
        (Some(size), Some(load)) => {
            findings.push(format!(
                "this VM is a {} ({}): it carries {:.0} % of its failure domain's share of the mix",
                size.name,
                size.note,
                100.0 / load.max(f64::MIN_POSITIVE)
            ));
            if load > 1.0 {
                findings.push(format!(
                    "one VM of this size is {load:.2} connectors' worth of load: undersized alone, \
                     and N+1 needs {} in the group",
                    connectors_for(load) + table.spare_per_group
                ));
            }
        }
        (Some(_), None) => {}
    }
    if vcpus > table.max_vcpus {
        findings.push(format!(
            "{vcpus} vCPU is past {} vCPU, where a connector gains little: more 4 vCPU connectors serve better",
            table.max_vcpus
        ));
    }
    Here {
        vcpus,
        memory_mib,
        class: class.map(|s| s.name.clone()),
        load,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sized(mix: &str, domains: u32, vm: &str) -> Sizing {
        let t = table();
        let mix = t.parse_mix(mix).unwrap();
        plan(t, &mix, domains, t.size(vm).unwrap())
    }

    #[test]
    fn the_table_loads_and_covers_every_size() {
        let t = table();
        assert_eq!(t.spare_per_group, 1);
        for p in &t.protocols {
            for s in &t.sizes {
                let [low, high] = p.users[&s.name];
                assert!(low > 0 && low <= high, "{} {}", p.name, s.name);
            }
        }
    }

    /// The lesson's worked cases.
    #[test]
    fn the_lessons_cases() {
        // 500 RDP users on one 2 vCPU / 4 GB connector: undersized, and N+1 breaks.
        let rdp = sized("rdp=500", 1, "2x4");
        assert_eq!(rdp.domains[0].needed, 4, "500 / 150 = 3.3 connectors");
        assert_eq!(rdp.domains[0].connectors, 5);
        let rdp = sized("rdp=500", 1, "4x8");
        assert!(rdp.domains[0].connectors >= 3, "three or more");
        // 1,500 Jira users: one or two 4 vCPU connectors by the range, two or three with
        // N+1, never one.
        let jira = sized("http=1500", 1, "4x8");
        let d = &jira.domains[0];
        assert_eq!((d.needed_optimistic, d.needed), (1, 2));
        assert_eq!(d.connectors, 3);
        assert!(d.needed_optimistic + d.spare >= 2);
        // 3,000 users over four DCs: two or more per DC.
        let cutover = sized("http=3000", 4, "4x8");
        assert_eq!(cutover.domains.len(), 4);
        assert!(cutover.domains.iter().all(|d| d.connectors >= 2));
        assert_eq!(cutover.total, 8);
    }

    #[test]
    fn loads_add_up_across_protocols() {
        let mix = sized("http=500,rdp=200,ssh=1000", 1, "4x8");
        let d = &mix.domains[0];
        let expected = 500.0 / 1000.0 + 200.0 / 400.0 + 1000.0 / 2000.0;
        assert!((d.load - expected).abs() < 1e-9, "{}", d.load);
        assert_eq!(d.needed, 2);
        assert_eq!(d.connectors, 3);
        // Exactly full is one connector, not two.
        assert_eq!(sized("http=1000", 1, "4x8").domains[0].needed, 1);
    }

    #[test]
    fn bad_mixes_are_refused() {
        let t = table();
        for (text, expected) in [
            ("ftp=10", "unknown protocol 'ftp'"),
            ("http", "not PROTOCOL=USERS"),
            ("http=-3", "whole number"),
            ("http=1e9", "whole number"),
            ("http=0", "no users"),
            ("", "no users"),
            ("http=10000000,rdp=1", "in all"),
            ("http=6000000,http=6000000", "in all"),
        ] {
            let err = t.parse_mix(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        assert_eq!(t.parse_mix("HTTP=1,http=2").unwrap(), [("http".into(), 3)]);
    }

    #[test]
    fn this_vm_against_the_mix() {
        let t = table();
        let mix = t.parse_mix("rdp=500").unwrap();
        // A 2 vCPU VM reading 3.7 GiB of MemTotal is a 2x4.
        let small = here(t, &mix, 1, 2, 3822);
        assert_eq!(small.class.as_deref(), Some("2x4"));
        assert!(
            small.findings[1].contains("undersized"),
            "{:?}",
            small.findings
        );
        let tiny = here(t, &mix, 1, 1, 1900);
        assert_eq!(tiny.class, None);
        assert!(
            tiny.findings[0].contains("below the 2x4 minimum"),
            "{:?}",
            tiny.findings
        );
        let big = here(t, &mix, 1, 16, 65536);
        assert_eq!(big.class.as_deref(), Some("4x8"));
        assert!(big.findings.iter().any(|f| f.contains("past 8 vCPU")));
    }
}
