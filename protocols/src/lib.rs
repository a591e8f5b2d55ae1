//! # protocols — the distributed protocols faultline tests
//!
//! Each family is a folder with a sans-IO node state machine (implementing
//! [`sim::Protocol`]), its config (deserialized from scenario files), its workload, its
//! invariant monitors, its metrics and its known-bug variants. A known-bug variant is a config
//! switch that re-creates a bug from the literature; the test suite proves every checker can
//! fail by finding each of them.
//!
//! Shared pieces: [`units`] (durations with units), [`checks`] (invariant names),
//! [`family`] (the plug-in contract with the scenario runner: `Family`, `Registry`), [`kv`]
//! (the key-value clients any KV protocol can reuse), [`linearizability`] (the history
//! checker). [`builtin`] is the registry of the families shipped here.

pub mod checks;
pub mod durability;
pub mod failover;
pub mod family;
pub mod gossip;
pub mod kafka;
pub mod kv;
pub mod limits;
pub mod linearizability;
pub mod raft;
pub mod swim;
pub mod units;

/// A registry of the families shipped here: Raft, gossip, failover, SWIM and Kafka.
pub fn builtin() -> family::Registry {
    family::Registry::new()
        .with(raft::RaftFamily)
        .with(gossip::GossipFamily)
        .with(failover::FailoverFamily)
        .with(swim::SwimFamily)
        .with(kafka::KafkaFamily)
}
