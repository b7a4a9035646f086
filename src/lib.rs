//! zpa-preflight: tells a Linux VM's owner whether its egress lets a Zscaler ZPA connector
//! enroll and stay connected, and when it does not, why — one ranked, evidenced cause.
//!
//! Data flows one way, and the folders follow it:
//!
//! ```text
//! checks/*.toml ─► profile ─► plan ─► probe::run ─► Evidence ─┐   (serialisable, replayable)
//!   (data)        (parse)    (pure)   (ALL the I/O)           │
//!                             explain REPORT.json ────────────┤
//!                                                             ▼
//!                         diagnose(&Evidence) ─► checks, ranked causes, verdict ─► render ─► exit
//!                               (pure)
//! ```
//!
//! Only [`probe`] touches the network or reads the inspected system; [`diagnose`] is pure, so
//! a saved report is judged offline exactly as it was on the VM. A new check is a probe, its
//! evidence type, its rules and its fixtures; nothing else moves.

pub mod address;
pub mod app;
pub mod bundle;
pub mod cli;
pub mod diagnose;
pub mod error;
pub mod evidence;
pub mod exit;
pub mod feeds;
pub mod fleet;
pub mod interrupt;
pub mod plan;
pub mod probe;
pub mod profile;
pub mod redact;
pub mod render;
pub mod report;
pub mod secrets;
pub mod sizing;
pub mod x509;
