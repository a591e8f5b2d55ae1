//! Invariants and the checks a scenario asks for. The set is open: every protocol family
//! declares the invariants it offers (`Family::invariants`), by name, and a user's family
//! declares its own the same way.
//!
//! [`Invariant`] is a name as scenarios spell it (`ElectionSafety`); every violation report
//! carries it (`sim::Violation::invariant` is `Invariant::name()`). [`Check`] is what a scenario
//! lists under `checks:`: an invariant, and a deadline for the liveness ones
//! (`LeaderWithin("2s")`). [`Checks`] is the list a family's monitors are built from.

use crate::units::Dur;
use std::fmt;

/// An invariant's name, as scenarios spell it: an identifier in UpperCamelCase.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Invariant(&'static str);

impl Invariant {
    /// An invariant named `name`. Panics (at compile time in a `const`) unless `name` is an
    /// identifier: ASCII letters, digits and `_`, starting with a letter.
    pub const fn new(name: &'static str) -> Invariant {
        let b = name.as_bytes();
        assert!(
            !b.is_empty() && b[0].is_ascii_alphabetic(),
            "an invariant name starts with a letter"
        );
        let mut i = 0;
        while i < b.len() {
            assert!(
                b[i].is_ascii_alphanumeric() || b[i] == b'_',
                "an invariant name is an identifier"
            );
            i += 1;
        }
        Invariant(name)
    }

    /// The name as scenarios spell it.
    pub const fn name(self) -> &'static str {
        self.0
    }

    // ---- Raft (paper Figure 3, plus cheap per-server invariants) ----
    /// At most one leader per term.
    pub const ELECTION_SAFETY: Invariant = Invariant::new("ElectionSafety");
    /// A leader never overwrites or deletes entries in its log.
    pub const LEADER_APPEND_ONLY: Invariant = Invariant::new("LeaderAppendOnly");
    /// Same index and term ⇒ identical logs up to that index.
    pub const LOG_MATCHING: Invariant = Invariant::new("LogMatching");
    /// A committed entry is in the log of every leader of a later term.
    pub const LEADER_COMPLETENESS: Invariant = Invariant::new("LeaderCompleteness");
    /// No two servers apply different entries at the same index.
    pub const STATE_MACHINE_SAFETY: Invariant = Invariant::new("StateMachineSafety");
    /// A server's current term never decreases.
    pub const MONOTONIC_TERM: Invariant = Invariant::new("MonotonicTerm");
    /// A server's commit index never decreases (while it is up).
    pub const MONOTONIC_COMMIT: Invariant = Invariant::new("MonotonicCommit");
    /// A leader exists within the deadline after the last fault.
    pub const LEADER_WITHIN: Invariant = Invariant::new("LeaderWithin");
    // ---- Client histories (the KV workload: Raft, failover, any KV family) ----
    /// The client history is linearizable (Wing–Gong–Lowe checker).
    pub const LINEARIZABLE: Invariant = Invariant::new("Linearizable");
    /// Every operation submitted completes within the deadline after the last fault.
    pub const OPS_COMPLETE_WITHIN: Invariant = Invariant::new("OpsCompleteWithin");
    // ---- Gossip ----
    /// No node holds a value that nobody wrote.
    pub const NO_INVENTED_VALUES: Invariant = Invariant::new("NoInventedValues");
    /// A node's version of a key never goes back.
    pub const VERSIONS_MONOTONIC: Invariant = Invariant::new("VersionsMonotonic");
    /// With a persistent store, a node's version of a key survives its restarts.
    pub const UPDATES_SURVIVE_RESTART: Invariant = Invariant::new("UpdatesSurviveRestart");
    /// All live nodes hold identical state within the deadline after the last fault.
    pub const CONVERGED_WITHIN: Invariant = Invariant::new("ConvergedWithin");
    // ---- Failover ----
    /// At no instant do two nodes have writes accepted as primary.
    pub const NO_SPLIT_BRAIN: Invariant = Invariant::new("NoSplitBrain");
    /// At most one primary per epoch.
    pub const ONE_PRIMARY_PER_EPOCH: Invariant = Invariant::new("OnePrimaryPerEpoch");
    /// A committed entry is never overwritten or lost on a replica that held it, and no
    /// primary commits a different entry at its index.
    pub const COMMITTED_NEVER_OVERWRITTEN: Invariant = Invariant::new("CommittedNeverOverwritten");
    /// A primary serves writes within the deadline after the last fault.
    pub const PRIMARY_WITHIN: Invariant = Invariant::new("PrimaryWithin");
    // ---- SWIM membership ----
    /// False positives (healthy members declared dead) stay within the configured rate.
    pub const FALSE_POSITIVE_RATE: Invariant = Invariant::new("FalsePositiveRate");
    /// A member holding a crashed member dead never believes it alive again while it is down.
    pub const NO_FLAPPING: Invariant = Invariant::new("NoFlapping");
    /// Every crashed member is held dead by every live member within the deadline.
    pub const DEAD_WITHIN: Invariant = Invariant::new("DeadWithin");
    /// Every live member's view matches reality within the deadline after the last fault.
    pub const VIEWS_CONVERGE_WITHIN: Invariant = Invariant::new("ViewsConvergeWithin");
    // ---- Kafka-style log: the queue checker (Jepsen's kafka.clj anomalies) and the replicas ----
    /// An acknowledged send at an offset at or below the highest offset any consumer read was never read.
    pub const LOST_WRITE: Invariant = Invariant::new("LostWrite");
    /// An acknowledged send was never read, although the consumers drained every partition at the end.
    pub const UNSEEN: Invariant = Invariant::new("Unseen");
    /// One value appears at two places (partition, offset).
    pub const DUPLICATE: Invariant = Invariant::new("Duplicate");
    /// Two different values at one (partition, offset), from sends or polls.
    pub const INCONSISTENT_OFFSETS: Invariant = Invariant::new("InconsistentOffsets");
    /// A producer's successive acknowledged sends to a partition got offsets that did not increase.
    pub const NONMONOTONIC_SEND: Invariant = Invariant::new("NonmonotonicSend");
    /// A consumer's successive polls of a partition went back in offsets (within one session).
    pub const NONMONOTONIC_POLL: Invariant = Invariant::new("NonmonotonicPoll");
    /// A consumer's successive polls of a partition skipped an offset that holds a record.
    pub const POLL_SKIP: Invariant = Invariant::new("PollSkip");
    /// A consumer read a value whose send definitely failed (Jepsen's G1a).
    pub const ABORTED_READ: Invariant = Invariant::new("AbortedRead");
    /// Every send acknowledged at an offset is at that offset in the final log of its partition.
    pub const ACKNOWLEDGED_KEPT: Invariant = Invariant::new("AcknowledgedKept");
    /// Every replica holds the same record at each offset below its high watermark (no committed record lost or diverged).
    pub const COMMITTED_LOGS_AGREE: Invariant = Invariant::new("CommittedLogsAgree");
    /// At the end, the live replicas of each partition agree below their high watermarks.
    pub const REPLICAS_CONVERGE: Invariant = Invariant::new("ReplicasConverge");
    /// After the last fault, every partition has a serving leader within the deadline.
    pub const LEADER_PER_PARTITION_WITHIN: Invariant = Invariant::new("LeaderPerPartitionWithin");
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// What a family says about an invariant it offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvariantInfo {
    /// The invariant.
    pub invariant: Invariant,
    /// One line on what it checks.
    pub about: &'static str,
    /// Whether a scenario must give it a deadline (`LeaderWithin("2s")`): the liveness checks.
    pub deadline: bool,
}

impl InvariantInfo {
    /// A check without parameters (a safety property).
    pub const fn safety(invariant: Invariant, about: &'static str) -> InvariantInfo {
        InvariantInfo {
            invariant,
            about,
            deadline: false,
        }
    }

    /// A check with a deadline counted from the last fault (a liveness property).
    pub const fn within(invariant: Invariant, about: &'static str) -> InvariantInfo {
        InvariantInfo {
            invariant,
            about,
            deadline: true,
        }
    }
}

/// A check a scenario asks for: an invariant, with its deadline when it takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The invariant.
    pub invariant: Invariant,
    /// The deadline (liveness checks only).
    pub deadline: Option<Dur>,
}

impl Check {
    /// A check without a deadline.
    pub const fn of(invariant: Invariant) -> Check {
        Check {
            invariant,
            deadline: None,
        }
    }

    /// A check with a deadline.
    pub const fn within(invariant: Invariant, deadline: Dur) -> Check {
        Check {
            invariant,
            deadline: Some(deadline),
        }
    }
}

impl fmt::Display for Check {
    /// As scenarios write it: `ElectionSafety`, `LeaderWithin("2s")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.deadline {
            Some(d) => write!(f, "{}(\"{d}\")", self.invariant),
            None => write!(f, "{}", self.invariant),
        }
    }
}

/// The checks in force for a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checks(pub Vec<Check>);

impl Checks {
    /// Whether `invariant` is checked.
    pub fn has(&self, invariant: Invariant) -> bool {
        self.0.iter().any(|c| c.invariant == invariant)
    }

    /// The deadline of `invariant`, when it is checked with one.
    pub fn deadline(&self, invariant: Invariant) -> Option<Dur> {
        self.0
            .iter()
            .find(|c| c.invariant == invariant)
            .and_then(|c| c.deadline)
    }

    /// The checks, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Check> {
        self.0.iter()
    }
}

impl FromIterator<Check> for Checks {
    fn from_iter<I: IntoIterator<Item = Check>>(iter: I) -> Checks {
        Checks(iter.into_iter().collect())
    }
}

/// What a scenario expects of its run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expect {
    /// Every check holds.
    #[default]
    Holds,
    /// The named invariant is violated (a known-bug scenario).
    Violates(Invariant),
}

impl fmt::Display for Expect {
    /// `holds`, or `violates <Invariant>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Holds => f.write_str("holds"),
            Expect::Violates(i) => write!(f, "violates {i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_find_invariants_and_deadlines() {
        let checks: Checks = [
            Check::of(Invariant::ELECTION_SAFETY),
            Check::within(Invariant::LEADER_WITHIN, Dur::secs(2)),
        ]
        .into_iter()
        .collect();
        assert!(checks.has(Invariant::ELECTION_SAFETY));
        assert!(!checks.has(Invariant::LOG_MATCHING));
        assert_eq!(
            checks.deadline(Invariant::LEADER_WITHIN),
            Some(Dur::secs(2))
        );
        assert_eq!(checks.deadline(Invariant::ELECTION_SAFETY), None);
        assert_eq!(checks.0[1].to_string(), "LeaderWithin(\"2s\")");
        assert_eq!(
            Expect::Violates(Invariant::NO_SPLIT_BRAIN).to_string(),
            "violates NoSplitBrain"
        );
    }

    #[test]
    #[should_panic(expected = "identifier")]
    fn invariant_names_are_identifiers() {
        let _ = Invariant::new("Not a name");
    }
}
