//! The scenario configuration, `protocol: Paxos((...))`, and the known-bug switches.
//!
//! Every field is optional (`#[serde(default)]`) and a misspelled one is an error
//! (`deny_unknown_fields`), which is what faultline's `Settings` asks of a configuration. The
//! timing defaults follow common practice for leader-based consensus (randomized election
//! timeouts an order of magnitude above the heartbeat, as in Raft §5.2); Paxos itself leaves
//! leader election open (Paxos Made Simple §3: "a reliable algorithm for electing a proposer
//! must use either randomness or real time").

use faultline::prelude::Dur;
use serde::{Deserialize, Serialize};

/// Known bugs from the literature, re-created on purpose so that the tests can prove the
/// checks catch them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaxosBug {
    /// An acceptor accepts an Accept whose ballot is lower than the ballot it promised,
    /// breaking the promise of phase 1b (Paxos Made Simple §2.2, P1a).
    AcceptIgnoresPromise,
    /// A new leader does not adopt the highest-ballot values reported in the promises and
    /// proposes its own values for those slots (breaks P2c, Paxos Made Simple §2.2).
    IgnorePromisedValues,
    /// The acceptor's promise is kept in memory only: a restarted acceptor promises and
    /// accepts ballots lower than one it promised before the crash (Paxos Made Simple §2.3:
    /// "an acceptor must remember this information even if it fails and then restarts").
    ForgetPromise,
}

impl PaxosBug {
    /// Every known bug.
    pub const ALL: [PaxosBug; 3] = [
        PaxosBug::AcceptIgnoresPromise,
        PaxosBug::IgnorePromisedValues,
        PaxosBug::ForgetPromise,
    ];
}

/// The `protocol: Paxos((...))` section of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaxosConfig {
    /// A node that hears no leader for a time drawn uniformly from `[min, max]` starts phase 1
    /// with a higher ballot.
    pub election_timeout: (Dur, Dur),
    /// The leader's heartbeat period; unanswered Accepts and Prepares are re-sent this often.
    pub heartbeat: Dur,
    /// At most this many client requests in one slot's value.
    pub max_batch: usize,
    /// At most this many slots proposed and not yet chosen (the pipeline window, PMMC's
    /// `WINDOW`).
    pub window: usize,
    /// At most this many slots per Accept, Promise-driven re-proposal or catch-up message.
    pub max_entries_per_message: usize,
    /// A known-bug variant, or `None` for correct Paxos.
    pub bug: Option<PaxosBug>,
}

impl Default for PaxosConfig {
    fn default() -> Self {
        PaxosConfig {
            election_timeout: (Dur::ms(150), Dur::ms(300)),
            heartbeat: Dur::ms(50),
            max_batch: 8,
            window: 16,
            max_entries_per_message: 64,
            bug: None,
        }
    }
}

impl PaxosConfig {
    /// Whether a known bug is switched on.
    pub fn has_bug(&self, bug: PaxosBug) -> bool {
        self.bug == Some(bug)
    }

    /// Checks the values for a cluster of `nodes`, with a message saying what is wrong. The
    /// ranges come from `faultline::limits`, which every family shares.
    pub fn validate(&self, nodes: usize) -> Result<(), String> {
        use faultline::limits;
        let (lo, hi) = self.election_timeout;
        limits::period("election_timeout (min)", lo)?;
        limits::period("election_timeout (max)", hi)?;
        if lo > hi {
            return Err(format!(
                "election_timeout must be a range with min <= max, got ({lo}, {hi})"
            ));
        }
        limits::period("heartbeat", self.heartbeat)?;
        if self.heartbeat >= lo {
            return Err(format!(
                "heartbeat must be below the minimum election timeout ({lo}), got {}",
                self.heartbeat
            ));
        }
        limits::count("max_batch", self.max_batch as u64, 1, 10_000)?;
        limits::count("window", self.window as u64, 1, 10_000)?;
        limits::count(
            "max_entries_per_message",
            self.max_entries_per_message as u64,
            1,
            100_000,
        )?;
        limits::count("nodes", nodes as u64, 1, 1000)?;
        // The leader's heartbeat to every node and the answers; every node's election timer.
        let n = nodes as f64;
        limits::event_rate(
            2.0 * n / self.heartbeat.0.as_secs_f64() + n / lo.0.as_secs_f64(),
            "heartbeats and election timers",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PaxosConfig, String> {
        ron::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn every_field_is_optional() {
        assert_eq!(parse("()"), Ok(PaxosConfig::default()));
        let c = parse(r#"(heartbeat: "20ms", bug: Some(ForgetPromise))"#).unwrap();
        assert_eq!(c.heartbeat, Dur::ms(20));
        assert!(c.has_bug(PaxosBug::ForgetPromise));
        assert_eq!(c.window, PaxosConfig::default().window);
    }

    #[test]
    fn a_misspelled_field_is_an_error() {
        let e = parse("(heartbeats: \"20ms\")").unwrap_err();
        assert!(e.contains("heartbeats"), "{e}");
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert_eq!(PaxosConfig::default().validate(3), Ok(()));
        let slow_heartbeat = PaxosConfig {
            heartbeat: Dur::ms(200),
            ..PaxosConfig::default()
        };
        assert!(
            slow_heartbeat
                .validate(3)
                .unwrap_err()
                .contains("heartbeat")
        );
        let empty_range = PaxosConfig {
            election_timeout: (Dur::ms(300), Dur::ms(150)),
            ..PaxosConfig::default()
        };
        assert!(
            empty_range
                .validate(3)
                .unwrap_err()
                .contains("election_timeout")
        );
        let no_window = PaxosConfig {
            window: 0,
            ..PaxosConfig::default()
        };
        assert!(no_window.validate(3).is_err());
    }
}
