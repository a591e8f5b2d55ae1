//! # faultline — the command line and scenario runner
//!
//! `scenario` reads and validates RON scenario files; `runner` turns one into a run of the
//! engine and judges the result; `output` prints it for people or as JSON; `cli` is the
//! command line. The engine lives in the `sim` crate, the protocols in `protocols`.

pub mod bench;
pub mod cli;
pub mod fuzz;
pub mod output;
pub mod runner;
pub mod scenario;
pub mod sweep;
