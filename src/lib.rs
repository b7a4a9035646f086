//! zpa-preflight: tells a Linux VM's owner whether its egress lets a Zscaler ZPA connector
//! enroll and stay connected, and when it does not, why — one ranked, evidenced cause.
//!
//! Data flows one way, and the folders follow it:
//!
//! ```text
//! checks/*.toml ─► profile ─► probe::system ─► plan ─► probe::run ─► Evidence ─┐ (serialisable,
//!   (data)        (parse)    (the VM's proxies (pure)   (ALL the I/O)          │  replayable)
//!                             and time servers)                               │
//!                             explain REPORT.json ────────────────────────────┤
//!                                                                             ▼
//!               diagnose(&Evidence) ─► checks, ranked causes, verdict ─► exit code ─► render
//!                     (pure)
//! ```
//!
//! Each module has a stage, in this order: the leaves (`address`, `causes` — what the tool can
//! conclude —, `x509`, `certs` (certificates as people hand them over), `secrets`, `text` (the one escaping of hostile text), `vm`, `error`, `files` (the one bounded reader and atomic writer), `interrupt`, `sizing`), `profile`, `plan`, `evidence`, `probe` and `feeds` (the
//! I/O), `diagnose`, `report`, `exit`, `fleet`, `render`, `redact`, `bundle`, `cli` (and `manual`, the man pages and completions made from it), `config` (what the flags mean for a run), `commands` (one file per subcommand, and the dispatcher). A
//! module uses its own stage and earlier ones only (`tests/cli/architecture.rs` checks the
//! imports), so nothing imports a later stage and there is no circle.
//!
//! Only [`probe`] touches the network or reads the inspected system; [`diagnose`] is pure, so
//! a saved report is judged offline exactly as it was on the VM. A new check is a probe, its
//! evidence type, its rules and its fixtures; nothing else moves.

pub mod address;
pub mod bundle;
pub mod causes;
pub mod certs;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod evidence;
pub mod exit;
pub mod feeds;
pub mod files;
pub mod fleet;
pub mod interrupt;
pub mod manual;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod redact;
pub mod render;
pub mod report;
pub mod secrets;
pub mod sizing;
pub mod text;
pub mod vm;
pub mod x509;
