//! # protocols — the distributed protocols faultline tests
//!
//! Each family is a folder with a sans-IO node state machine (implementing
//! [`sim::Protocol`]), its config (deserialized from scenario files), its workload, its
//! invariant monitors, its metrics and its known-bug variants. A known-bug variant is a config
//! switch that re-creates a bug from the literature; the test suite proves every checker can
//! fail by finding each of them.
//!
//! Shared pieces: [`units`] (durations with units), [`checks`] (invariant names),
//! [`family`] (the contract with the scenario runner), `linearizability` (the history
//! checker).

pub mod checks;
pub mod failover;
pub mod family;
pub mod gossip;
pub mod kv;
pub mod linearizability;
pub mod raft;
pub mod units;
