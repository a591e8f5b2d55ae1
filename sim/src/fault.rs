//! Faults the engine can inject, and the targets they are aimed at: the one fault vocabulary.
//!
//! [`Fault`] and [`Target`] are declared here once and used by everything that speaks of
//! faults: scenario files deserialize them as written (`Crash(Leader)`,
//! `DelaySpike(target: Node(1), extra: Uniform("50ms", "500ms"), duration: "2s")`), the
//! nemesis draws them, the engine applies them, the shrinker pins and narrows them, and
//! `faultline list` prints [`catalogue`]. Both are generic over how a node is named:
//! the engine uses [`NodeId`]; a scenario parser can use its own id type (one that checks the
//! node exists while parsing, where it knows the line and column) and convert with
//! [`Fault::map_nodes`].
//!
//! Targets are resolved at the moment the fault fires, so `Crash(Leader)` hits whoever leads
//! then. Random choices draw from the run's fault stream.

use crate::NodeId;
use crate::latency::Latency;
use crate::units::{Dur, SignedDur};
use serde::{Deserialize, Serialize};

/// Which nodes a fault is aimed at, resolved when the fault fires. Inside a fault, a bare node
/// id stands for `Node(id)`: `CutLink(0, 2)`, `CutLink(Leader, 4)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "N: Deserialize<'de> + NodeNaming"))]
pub enum Target<N = NodeId> {
    /// One node by id: `Node(2)`.
    Node(N),
    /// Several nodes by id: `Nodes([0, 1])`.
    Nodes(Vec<N>),
    /// A contiguous range of ids, both ends included: `Range(0, 499)`.
    Range(N, N),
    /// The live node claiming leadership with the highest term (none if no node leads).
    /// `Primary` is accepted as another name for it.
    #[serde(alias = "Primary")]
    Leader,
    /// One live node that does not claim leadership, chosen at random.
    Follower,
    /// One live node chosen at random.
    Random,
    /// Every node.
    All,
    /// Every crashed node (for `Restart`).
    Crashed,
    /// Every paused node (for `Resume`).
    Paused,
    /// Every node of a zone of the network's topology: `Zone("dc2")` (see
    /// [`crate::network::Zones`]). Not a role: a zone's nodes never change during a run.
    Zone(#[serde(deserialize_with = "zone_name::<_, N>")] String),
}

/// How a fault names nodes, as far as reading zone names goes: a scenario parser's node type
/// checks that a zone named in `Zone("dc2")` exists while the parser still knows the line
/// and column (as it checks node ids); the engine's [`NodeId`] accepts any name and resolves
/// it when the fault fires.
pub trait NodeNaming {
    /// Whether `name` names a zone; the message says why not.
    fn check_zone(name: &str) -> Result<(), String> {
        let _ = name;
        Ok(())
    }
}

impl NodeNaming for NodeId {}
impl NodeNaming for u32 {}

fn zone_name<'de, D: serde::Deserializer<'de>, N: NodeNaming>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    N::check_zone(&name).map_err(serde::de::Error::custom)?;
    Ok(name)
}

impl<N> Target<N> {
    /// Whether the target names a role resolved when the fault fires (`Leader`, `Follower`,
    /// `Random`, `Crashed`, `Paused`) rather than fixed nodes.
    pub fn is_role(&self) -> bool {
        matches!(
            self,
            Target::Leader | Target::Follower | Target::Random | Target::Crashed | Target::Paused
        )
    }

    /// The same target with every node named another way.
    pub fn map_nodes<M>(self, mut f: impl FnMut(N) -> M) -> Target<M> {
        match self {
            Target::Node(n) => Target::Node(f(n)),
            Target::Nodes(ns) => Target::Nodes(ns.into_iter().map(f).collect()),
            Target::Range(a, b) => Target::Range(f(a), f(b)),
            Target::Leader => Target::Leader,
            Target::Follower => Target::Follower,
            Target::Random => Target::Random,
            Target::All => Target::All,
            Target::Crashed => Target::Crashed,
            Target::Paused => Target::Paused,
            Target::Zone(z) => Target::Zone(z),
        }
    }
}

/// How a fault's target is read: a bare node id or a target.
#[derive(Deserialize)]
#[serde(
    untagged,
    bound(deserialize = "N: Deserialize<'de> + NodeNaming"),
    expecting = "a node id or a target: 2, Node(2), Nodes([0, 1]), Range(0, 4), Leader, Follower, Random, All, Crashed, Paused or Zone(\"dc1\")"
)]
enum TargetOrId<N> {
    Id(N),
    Target(Target<N>),
}

impl<N> From<TargetOrId<N>> for Target<N> {
    fn from(t: TargetOrId<N>) -> Target<N> {
        match t {
            TargetOrId::Id(n) => Target::Node(n),
            TargetOrId::Target(t) => t,
        }
    }
}

/// Serde helpers for targets written as bare ids or targets.
mod target_text {
    use super::{NodeNaming, Target, TargetOrId};
    use serde::{Deserialize, Deserializer};

    pub fn one<'de, D: Deserializer<'de>, N: Deserialize<'de> + NodeNaming>(
        d: D,
    ) -> Result<Target<N>, D::Error> {
        TargetOrId::deserialize(d).map(Target::from)
    }

    pub fn groups<'de, D: Deserializer<'de>, N: Deserialize<'de> + NodeNaming>(
        d: D,
    ) -> Result<Vec<Vec<Target<N>>>, D::Error> {
        let groups: Vec<Vec<TargetOrId<N>>> = Vec::deserialize(d)?;
        Ok(groups
            .into_iter()
            .map(|g| g.into_iter().map(Target::from).collect())
            .collect())
    }

    pub fn all<N>() -> Target<N> {
        Target::All
    }
}

/// The largest `Slow` factor: a million times slower (a 1 µs event then takes a second).
pub const MAX_SLOW_FACTOR: f64 = 1e6;

/// One fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "N: Deserialize<'de> + NodeNaming"))]
pub enum Fault<N = NodeId> {
    /// Crash: volatile state, pending timers and messages in flight to the node are lost.
    Crash(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Restart crashed nodes from their durable state.
    Restart(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Freeze nodes (a GC stall): nothing runs, messages queue, the clock keeps going.
    Pause(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Unfreeze paused nodes: overdue timers and queued messages are handled at once.
    Resume(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Cut the network into groups; nodes in no group form one more group.
    Partition(#[serde(deserialize_with = "target_text::groups")] Vec<Vec<Target<N>>>),
    /// Cut one node (or set) off from everyone else, both ways.
    Isolate(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Drop messages from `from` to `to` (one direction only).
    OneWay {
        #[serde(deserialize_with = "target_text::one")]
        from: Target<N>,
        #[serde(deserialize_with = "target_text::one")]
        to: Target<N>,
    },
    /// Cut the links between two nodes (or between every node of one set and every node of
    /// another), both ways. Cutting A–C while A–B and B–C stay up is the non-transitive
    /// "bridge" shape.
    CutLink(
        #[serde(deserialize_with = "target_text::one")] Target<N>,
        #[serde(deserialize_with = "target_text::one")] Target<N>,
    ),
    /// Remove every cut in force.
    Heal,
    /// Add an extra latency draw to every message from or to the target for a while.
    DelaySpike {
        #[serde(default = "target_text::all", deserialize_with = "target_text::one")]
        target: Target<N>,
        extra: Latency,
        duration: Dur,
    },
    /// Move the target's clock reading by a signed amount: `ClockJump(target: Node(1), by: "-2s")`.
    ClockJump {
        #[serde(deserialize_with = "target_text::one")]
        target: Target<N>,
        by: SignedDur,
    },
    /// Set the target's clock drift, in parts per million: `SetDrift(target: Node(0), ppm: 5000)`.
    SetDrift {
        #[serde(deserialize_with = "target_text::one")]
        target: Target<N>,
        ppm: i64,
    },
    /// Split every other node into two halves by id (the lower ids and the upper ids) that
    /// only the target joins: every link between the halves is cut, both ways, and the target
    /// talks to both (Jepsen's "bridge"). `Bridge(Leader)` leaves the leader the only way
    /// across; with no node to bridge (no leader) nothing is cut.
    Bridge(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Crash, and tear the last unsynced log write that reaches the disk: the unsynced writes
    /// up to a log append chosen by the seed survive, that append cut short (a crash with no
    /// unsynced append tears nothing).
    TornWrite(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Flip one bit of one durable disk record (log or metadata) chosen by the seed; the
    /// node finds it when it reads the record.
    Corrupt(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// One durable disk record chosen by the seed can no longer be read (a latent sector
    /// error).
    ReadError(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// The target's next sync fails: it is reported failed and every unsynced write is
    /// dropped (a later sync succeeds, as Linux's did in PostgreSQL's "fsyncgate").
    FsyncFail(#[serde(deserialize_with = "target_text::one")] Target<N>),
    /// Every sync the target asks for during `duration` takes an extra latency draw.
    SlowDisk {
        #[serde(deserialize_with = "target_text::one")]
        target: Target<N>,
        extra: Latency,
        duration: Dur,
    },
    /// Slow the target down for a while (a CPU stall, GC pressure, an overloaded host): every
    /// event whose handling starts during `duration` costs `factor` times its processing-time
    /// draw, so events queue behind each other and the node answers and times out late.
    /// Unlike `Pause` the node keeps working, only slowly. A node with no processing time of
    /// its own (see [`crate::processing`]) draws its base cost from `per_event`:
    /// `Slow(target: Leader, factor: 50.0, duration: "3s")`,
    /// `Slow(target: 2, factor: 10.0, per_event: Constant("1ms"), duration: "5s")`.
    Slow {
        #[serde(deserialize_with = "target_text::one")]
        target: Target<N>,
        factor: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        per_event: Option<Latency>,
        duration: Dur,
    },
    /// WAN trouble between two sets of nodes (typically two zones) for a while, both ways:
    /// every message between a node of `a` and a node of `b` takes an `extra` latency draw
    /// and is lost with probability `loss`. A datagram link drops a lost message; a stream
    /// link (reliable) retransmits it instead, each loss drawn adding
    /// [`crate::network::RETRANSMIT_NS`] (200 ms) to its delivery:
    /// `Degrade(a: Zone("dc1"), b: Zone("dc2"), extra: Uniform("100ms", "300ms"), loss: 0.2, duration: "10s")`.
    Degrade {
        #[serde(deserialize_with = "target_text::one")]
        a: Target<N>,
        #[serde(deserialize_with = "target_text::one")]
        b: Target<N>,
        /// Extra latency per message (none by default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<Latency>,
        /// Probability a message is lost (0 by default).
        #[serde(default, skip_serializing_if = "is_zero")]
        loss: f64,
        duration: Dur,
    },
}

fn is_zero(p: &f64) -> bool {
    *p == 0.0
}

/// The fault kinds, one line each, for help texts (`faultline list`): an example of each
/// kind as a scenario writes it, and what it does.
pub struct FaultKind {
    /// An example value of the kind.
    pub example: Fault<u32>,
    /// What it does, in a few words.
    pub about: &'static str,
}

impl<N> Fault<N> {
    /// A short name for traces and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Crash(_) => "crash",
            Fault::Restart(_) => "restart",
            Fault::Pause(_) => "pause",
            Fault::Resume(_) => "resume",
            Fault::Partition(_) => "partition",
            Fault::Isolate(_) => "isolate",
            Fault::OneWay { .. } => "one-way",
            Fault::CutLink(..) => "cut-link",
            Fault::Heal => "heal",
            Fault::DelaySpike { .. } => "delay-spike",
            Fault::ClockJump { .. } => "clock-jump",
            Fault::SetDrift { .. } => "set-drift",
            Fault::Bridge(_) => "bridge",
            Fault::TornWrite(_) => "torn-write",
            Fault::Corrupt(_) => "corrupt",
            Fault::ReadError(_) => "read-error",
            Fault::FsyncFail(_) => "fsync-fail",
            Fault::SlowDisk { .. } => "slow-disk",
            Fault::Slow { .. } => "slow",
            Fault::Degrade { .. } => "degrade",
        }
    }

    /// What the kind does, in a few words (the same text for every value of a kind).
    pub fn about(&self) -> &'static str {
        match self {
            Fault::Crash(_) => "lose volatile state, timers and in-flight messages",
            Fault::Restart(_) => "rebuild crashed nodes from durable state",
            Fault::Pause(_) => "freeze (a GC stall); the clock keeps going",
            Fault::Resume(_) => "unfreeze; queued events run at once",
            Fault::Partition(_) => "split into groups; unlisted nodes form one more",
            Fault::Isolate(_) => "cut off from everyone else, both ways",
            Fault::OneWay { .. } => "drop messages in one direction only",
            Fault::CutLink(..) => "cut the links between two nodes or sets, both ways",
            Fault::Heal => "remove every cut",
            Fault::DelaySpike { .. } => "extra latency on the target's messages for a while",
            Fault::ClockJump { .. } => "move clock readings",
            Fault::SetDrift { .. } => "change clock drift rates",
            Fault::Bridge(_) => "two halves that only the target joins",
            Fault::TornWrite(_) => "crash, cutting short the last unsynced write kept",
            Fault::Corrupt(_) => "flip a bit in one stored disk record",
            Fault::ReadError(_) => "one stored disk record becomes unreadable",
            Fault::FsyncFail(_) => "the next sync fails; unsynced writes are dropped",
            Fault::SlowDisk { .. } => "extra latency on the target's syncs for a while",
            Fault::Slow { .. } => "events take factor times longer to handle for a while",
            Fault::Degrade { .. } => "extra latency and loss between two sets (zones) for a while",
        }
    }

    /// Its targets, in the order they appear.
    pub fn targets(&self) -> Vec<&Target<N>> {
        match self {
            Fault::Crash(t)
            | Fault::Restart(t)
            | Fault::Pause(t)
            | Fault::Resume(t)
            | Fault::Isolate(t)
            | Fault::DelaySpike { target: t, .. }
            | Fault::ClockJump { target: t, .. }
            | Fault::SetDrift { target: t, .. }
            | Fault::Bridge(t)
            | Fault::TornWrite(t)
            | Fault::Corrupt(t)
            | Fault::ReadError(t)
            | Fault::FsyncFail(t)
            | Fault::SlowDisk { target: t, .. }
            | Fault::Slow { target: t, .. } => vec![t],
            Fault::Partition(groups) => groups.iter().flatten().collect(),
            Fault::OneWay { from, to } => vec![from, to],
            Fault::CutLink(a, b) | Fault::Degrade { a, b, .. } => vec![a, b],
            Fault::Heal => vec![],
        }
    }

    /// The fault with each target replaced by what `f` makes of it, in the order of
    /// [`Self::targets`]; `None` when a target `f` drops leaves the fault aimed at nobody. A
    /// partition keeps the targets and groups that remain (and is dropped when none does);
    /// every other kind is dropped when any of its targets is.
    pub fn filter_map_targets<M>(
        self,
        mut f: impl FnMut(Target<N>) -> Option<Target<M>>,
    ) -> Option<Fault<M>> {
        Some(match self {
            Fault::Crash(t) => Fault::Crash(f(t)?),
            Fault::Restart(t) => Fault::Restart(f(t)?),
            Fault::Pause(t) => Fault::Pause(f(t)?),
            Fault::Resume(t) => Fault::Resume(f(t)?),
            Fault::Isolate(t) => Fault::Isolate(f(t)?),
            Fault::Bridge(t) => Fault::Bridge(f(t)?),
            Fault::TornWrite(t) => Fault::TornWrite(f(t)?),
            Fault::Corrupt(t) => Fault::Corrupt(f(t)?),
            Fault::ReadError(t) => Fault::ReadError(f(t)?),
            Fault::FsyncFail(t) => Fault::FsyncFail(f(t)?),
            Fault::SlowDisk {
                target,
                extra,
                duration,
            } => Fault::SlowDisk {
                target: f(target)?,
                extra,
                duration,
            },
            Fault::Slow {
                target,
                factor,
                per_event,
                duration,
            } => Fault::Slow {
                target: f(target)?,
                factor,
                per_event,
                duration,
            },
            Fault::Partition(groups) => {
                let kept: Vec<Vec<Target<M>>> = groups
                    .into_iter()
                    .map(|g| g.into_iter().filter_map(&mut f).collect::<Vec<_>>())
                    .filter(|g| !g.is_empty())
                    .collect();
                if kept.is_empty() {
                    return None;
                }
                Fault::Partition(kept)
            }
            Fault::OneWay { from, to } => {
                let from = f(from);
                let to = f(to);
                Fault::OneWay {
                    from: from?,
                    to: to?,
                }
            }
            Fault::CutLink(a, b) => {
                let a = f(a);
                let b = f(b);
                Fault::CutLink(a?, b?)
            }
            Fault::Degrade {
                a,
                b,
                extra,
                loss,
                duration,
            } => {
                let a = f(a);
                let b = f(b);
                Fault::Degrade {
                    a: a?,
                    b: b?,
                    extra,
                    loss,
                    duration,
                }
            }
            Fault::Heal => Fault::Heal,
            Fault::DelaySpike {
                target,
                extra,
                duration,
            } => Fault::DelaySpike {
                target: f(target)?,
                extra,
                duration,
            },
            Fault::ClockJump { target, by } => Fault::ClockJump {
                target: f(target)?,
                by,
            },
            Fault::SetDrift { target, ppm } => Fault::SetDrift {
                target: f(target)?,
                ppm,
            },
        })
    }

    /// The fault with each target replaced by what `f` makes of it.
    pub fn map_targets(self, mut f: impl FnMut(Target<N>) -> Target<N>) -> Fault<N> {
        self.filter_map_targets(|t| Some(f(t)))
            .expect("mapping targets keeps every target")
    }

    /// The same fault with every node named another way.
    pub fn map_nodes<M>(self, mut f: impl FnMut(N) -> M) -> Fault<M> {
        self.filter_map_targets(|t| Some(t.map_nodes(&mut f)))
            .expect("mapping nodes keeps every target")
    }

    /// Checks the parameters that do not depend on the cluster, with a message saying what
    /// is wrong.
    pub fn validate(&self) -> Result<(), String>
    where
        N: PartialEq + std::fmt::Debug,
    {
        match self {
            Fault::Partition(groups) if groups.is_empty() => {
                Err("Partition needs at least one group".into())
            }
            Fault::CutLink(Target::Node(a), Target::Node(b)) if a == b => Err(format!(
                "CutLink names the same node twice ({a:?}): a node has no link to itself"
            )),
            Fault::DelaySpike { extra, .. } => extra
                .validate()
                .map_err(|e| format!("DelaySpike.extra: {e}")),
            Fault::SlowDisk { extra, .. } => {
                extra.validate().map_err(|e| format!("SlowDisk.extra: {e}"))
            }
            Fault::Slow { factor, .. }
                if !(factor.is_finite() && (1.0..=MAX_SLOW_FACTOR).contains(factor)) =>
            {
                Err(format!(
                    "Slow factor must be a number from 1 to {MAX_SLOW_FACTOR} (how many times slower), got {factor}"
                ))
            }
            Fault::Slow {
                per_event: Some(l), ..
            } => l.validate().map_err(|e| format!("Slow.per_event: {e}")),
            Fault::Degrade { loss, .. } if !(0.0..=1.0).contains(loss) => Err(format!(
                "Degrade loss must be a probability in [0, 1], got {loss}"
            )),
            Fault::Degrade {
                extra: Some(extra), ..
            } => extra.validate().map_err(|e| format!("Degrade.extra: {e}")),
            Fault::SetDrift { ppm, .. } if *ppm <= -1_000_000 => Err(format!(
                "SetDrift ppm {ppm} would stop the clock (must be > -1000000)"
            )),
            _ => Ok(()),
        }
    }
}

/// One example of every kind, with what it does: the list `faultline list` prints. The
/// exhaustive match in the test below fails to compile when a kind is added here but not
/// there, and the test fails when a kind is missing from the list.
pub fn catalogue() -> Vec<FaultKind> {
    let node = Target::Node;
    let examples: Vec<Fault<u32>> = vec![
        Fault::Crash(Target::Leader),
        Fault::Restart(Target::Crashed),
        Fault::Pause(node(1)),
        Fault::Resume(Target::Paused),
        Fault::Partition(vec![vec![node(0), node(1)], vec![node(2)]]),
        Fault::Isolate(Target::Leader),
        Fault::OneWay {
            from: node(0),
            to: Target::Nodes(vec![1, 2]),
        },
        Fault::CutLink(node(0), node(2)),
        Fault::Heal,
        Fault::DelaySpike {
            target: node(1),
            extra: Latency::Uniform(50_000_000, 500_000_000),
            duration: Dur::secs(2),
        },
        Fault::ClockJump {
            target: node(1),
            by: SignedDur(-2_000_000_000),
        },
        Fault::SetDrift {
            target: node(0),
            ppm: 5000,
        },
        Fault::Bridge(Target::Leader),
        Fault::TornWrite(Target::Follower),
        Fault::Corrupt(node(2)),
        Fault::ReadError(node(2)),
        Fault::FsyncFail(Target::Leader),
        Fault::SlowDisk {
            target: node(0),
            extra: Latency::Uniform(20_000_000, 200_000_000),
            duration: Dur::secs(2),
        },
        Fault::Slow {
            target: Target::Leader,
            factor: 50.0,
            per_event: None,
            duration: Dur::secs(3),
        },
        Fault::Degrade {
            a: Target::Zone("dc1".into()),
            b: Target::Zone("dc2".into()),
            extra: Some(Latency::Uniform(100_000_000, 300_000_000)),
            loss: 0.2,
            duration: Dur::secs(10),
        },
    ];
    examples
        .into_iter()
        .map(|example| FaultKind {
            about: example.about(),
            example,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_every_kind_once() {
        let kinds: Vec<&str> = catalogue().iter().map(|k| k.example.kind()).collect();
        // Adding a variant makes this match non-exhaustive until it is listed here, and the
        // count below then fails until the catalogue shows it too.
        let every = |f: &Fault<u32>| match f {
            Fault::Crash(_)
            | Fault::Restart(_)
            | Fault::Pause(_)
            | Fault::Resume(_)
            | Fault::Partition(_)
            | Fault::Isolate(_)
            | Fault::OneWay { .. }
            | Fault::CutLink(..)
            | Fault::Heal
            | Fault::DelaySpike { .. }
            | Fault::ClockJump { .. }
            | Fault::SetDrift { .. }
            | Fault::Bridge(_)
            | Fault::TornWrite(_)
            | Fault::Corrupt(_)
            | Fault::ReadError(_)
            | Fault::FsyncFail(_)
            | Fault::SlowDisk { .. }
            | Fault::Slow { .. }
            | Fault::Degrade { .. } => 20,
        };
        assert_eq!(kinds.len(), every(&Fault::Heal));
        let mut unique = kinds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
    }

    #[test]
    fn filtering_targets_drops_faults_aimed_at_nobody() {
        let keep_even = |t: Target<u32>| match t {
            Target::Node(n) => (n % 2 == 0).then_some(Target::Node(n)),
            other => Some(other),
        };
        let p = Fault::Partition(vec![vec![Target::Node(1)], vec![Target::Node(2)]]);
        assert_eq!(
            p.filter_map_targets(keep_even),
            Some(Fault::Partition(vec![vec![Target::Node(2)]]))
        );
        let one_way = Fault::OneWay {
            from: Target::Node(1),
            to: Target::Node(2),
        };
        assert_eq!(one_way.filter_map_targets(keep_even), None);
        assert_eq!(
            Fault::Crash(Target::Leader).filter_map_targets(keep_even),
            Some(Fault::Crash(Target::Leader))
        );
    }
}
