//! The invariants and liveness checks a scenario can ask for, across every protocol family.
//!
//! [`Check`] is what a scenario lists under `checks:` (some take a deadline);
//! [`Invariant`] is the bare name, used by `expect: Violates(...)` and in every violation
//! report (`Violation::invariant` is `Invariant::name()`). Each protocol family says which
//! invariants it offers; asking a family for one it does not offer is a validation error.

use crate::units::Dur;
use serde::{Deserialize, Serialize};

macro_rules! invariants {
    ($( $(#[$doc:meta])* $name:ident $( ($arg:ty) )? ),* $(,)?) => {
        /// A check a scenario asks for.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Check {
            $( $(#[$doc])* $name $( ($arg) )? ),*
        }

        /// The name of an invariant, without parameters.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Invariant {
            $( $(#[$doc])* $name ),*
        }

        impl Check {
            /// The invariant this check enforces.
            pub fn invariant(&self) -> Invariant {
                match self {
                    $( invariants!(@pat $name $( ($arg) )?) => Invariant::$name ),*
                }
            }
        }

        impl Invariant {
            /// Every invariant, in declaration order.
            pub const ALL: &'static [Invariant] = &[$( Invariant::$name ),*];

            /// The name as scenarios spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $( Invariant::$name => stringify!($name) ),*
                }
            }

            /// The check for this invariant when it takes no parameter (a deadline-taking
            /// invariant such as `LeaderWithin` has no check without its deadline).
            pub fn parameterless(self) -> Option<Check> {
                match self {
                    $( Invariant::$name => invariants!(@bare $name $( ($arg) )?) ),*
                }
            }
        }
    };
    (@pat $name:ident ($arg:ty)) => { Check::$name(_) };
    (@pat $name:ident) => { Check::$name };
    (@bare $name:ident ($arg:ty)) => { None };
    (@bare $name:ident) => { Some(Check::$name) };
}

invariants! {
    // ---- Raft (paper Figure 3, plus cheap per-server invariants) ----
    /// At most one leader per term.
    ElectionSafety,
    /// A leader never overwrites or deletes entries in its log.
    LeaderAppendOnly,
    /// Same index and term ⇒ identical logs up to that index.
    LogMatching,
    /// A committed entry is in the log of every leader of a later term.
    LeaderCompleteness,
    /// No two servers apply different entries at the same index.
    StateMachineSafety,
    /// A server's current term never decreases.
    MonotonicTerm,
    /// A server's commit index never decreases (while it is up).
    MonotonicCommit,
    /// A leader exists within the deadline after the last fault.
    LeaderWithin(Dur),
    // ---- Client histories (Raft KV, failover KV) ----
    /// The client history is linearizable (Wing–Gong–Lowe checker).
    Linearizable,
    /// Every operation submitted completes within the deadline after the last fault.
    OpsCompleteWithin(Dur),
    // ---- Gossip ----
    /// No node holds a value that nobody wrote.
    NoInventedValues,
    /// A node's version of a key never goes back.
    VersionsMonotonic,
    /// All live nodes hold identical state within the deadline after the last fault and the
    /// last update.
    ConvergedWithin(Dur),
    // ---- Failover ----
    /// At no instant do two nodes have writes accepted as primary.
    NoSplitBrain,
    /// At most one primary per epoch.
    OnePrimaryPerEpoch,
    /// A primary serves writes within the deadline after the last fault.
    PrimaryWithin(Dur),
}

/// What a scenario expects of its run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Every check holds.
    #[default]
    Holds,
    /// The named invariant is violated (a known-bug scenario).
    Violates(Invariant),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_map_to_their_invariant() {
        assert_eq!(
            Check::LeaderWithin(Dur::secs(2)).invariant(),
            Invariant::LeaderWithin
        );
        assert_eq!(Check::ElectionSafety.invariant().name(), "ElectionSafety");
        assert!(Invariant::ALL.contains(&Invariant::NoSplitBrain));
        assert_eq!(
            Invariant::Linearizable.parameterless(),
            Some(Check::Linearizable)
        );
        assert_eq!(Invariant::LeaderWithin.parameterless(), None);
        for inv in Invariant::ALL {
            if let Some(c) = inv.parameterless() {
                assert_eq!(c.invariant(), *inv);
            }
        }
    }
}
