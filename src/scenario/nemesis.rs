//! The nemesis: random faults drawn from the seed, materialized into an explicit timed list
//! before the run starts.
//!
//! Faults come one at a time: a fault, its recovery after a random length, then a random quiet
//! gap. Materializing first (rather than injecting on the fly) means a fuzzing failure can be
//! written back as a plain scenario with an explicit `faults:` list that replays exactly, and
//! that the time of the last fault (where liveness deadlines start) is known in advance. The
//! draws come from their own stream, so changing the nemesis never changes network or
//! workload randomness.

use super::spec::{FaultSpec, TargetSpec, TimedFault};
use super::validate::{FaultTime, NodeRef};
use protocols::units::{Dur, SignedDur};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sim::rng::{self, Purpose};

/// The kinds of fault a nemesis may draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NemesisKind {
    /// Crash a random node, restart it later.
    Crash,
    /// Crash the leader (or primary), restart it later.
    CrashLeader,
    /// Pause a random node, resume it later.
    Pause,
    /// Pause the leader, resume it later.
    PauseLeader,
    /// Isolate a random node, then heal.
    Isolate,
    /// Isolate the leader, then heal.
    IsolateLeader,
    /// Split the cluster into two random groups, then heal.
    Partition,
    /// Drop everything one random node sends, then heal.
    OneWay,
    /// Split into two sides that only a bridge node connects (one `CutLink` between the
    /// sides), then heal.
    Bridge,
    /// Slow a random node's links for a while.
    DelaySpike,
    /// Jump a random node's clock by up to `max_clock_jump` either way.
    ClockJump,
    /// Make a random node's clock drift by up to `max_drift_ppm`, then restore it.
    Drift,
    /// Crash a random node tearing its last unsynced write, then restart it.
    TornWrite,
    /// Flip a bit in a random node's stored disk records and crash it, then restart it (the
    /// restart reads the damage).
    Corrupt,
    /// Make one of a random node's stored disk records unreadable and crash it, then restart it.
    ReadError,
    /// Fail a random node's next sync (its unsynced writes are dropped).
    FsyncFail,
    /// Slow a random node's syncs by 20–200 ms each for a while.
    SlowDisk,
    /// Slow a random node down 5–50 times for a while: its events take that many times its
    /// processing time (a base of `Exponential(mean: "1ms")` when it has none) and queue.
    Slow,
}

impl NemesisKind {
    /// Every kind, for `faultline list`.
    pub const ALL: &'static [NemesisKind] = &[
        NemesisKind::Crash,
        NemesisKind::CrashLeader,
        NemesisKind::Pause,
        NemesisKind::PauseLeader,
        NemesisKind::Isolate,
        NemesisKind::IsolateLeader,
        NemesisKind::Partition,
        NemesisKind::OneWay,
        NemesisKind::Bridge,
        NemesisKind::DelaySpike,
        NemesisKind::ClockJump,
        NemesisKind::Drift,
        NemesisKind::TornWrite,
        NemesisKind::Corrupt,
        NemesisKind::ReadError,
        NemesisKind::FsyncFail,
        NemesisKind::SlowDisk,
        NemesisKind::Slow,
    ];
}

/// Random faults drawn from the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NemesisSpec {
    /// Which kinds to draw from (uniformly).
    pub faults: Vec<NemesisKind>,
    /// When the nemesis starts: the first fault comes one random `gap` later.
    pub start: Dur,
    /// When the last recovery happens at the latest (default: two thirds of the run, leaving
    /// the rest for liveness checks).
    pub stop: Option<Dur>,
    /// How long each fault lasts before its recovery: uniform in [min, max].
    pub length: (Dur, Dur),
    /// Quiet time between a recovery and the next fault: uniform in [min, max].
    pub gap: (Dur, Dur),
    /// The largest drift a `Drift` fault sets.
    pub max_drift_ppm: u32,
    /// The largest jump a `ClockJump` fault makes.
    pub max_clock_jump: Dur,
    /// Let faults overlap: after each `gap`, either a new fault starts or one of the pending
    /// recoveries (chosen at random) is applied, so several nodes can be down at once and a
    /// node can bounce (crash, restart, crash) within one election. Whatever is still pending
    /// recovers at `stop`. `length` is then only used for delay spikes.
    pub overlap: bool,
}

impl Default for NemesisSpec {
    fn default() -> Self {
        NemesisSpec {
            faults: vec![
                NemesisKind::Crash,
                NemesisKind::CrashLeader,
                NemesisKind::Isolate,
                NemesisKind::Partition,
                NemesisKind::Pause,
            ],
            start: Dur::secs(1),
            stop: None,
            length: (Dur::ms(500), Dur::secs(3)),
            gap: (Dur::ms(500), Dur::secs(2)),
            max_drift_ppm: 100_000,
            max_clock_jump: Dur::secs(1),
            overlap: false,
        }
    }
}

/// The most faults a nemesis may draw in one run.
pub const MAX_NEMESIS_FAULTS: u64 = 10_000;

/// A label for the nemesis's random stream.
const NEMESIS_STREAM: u64 = 0x006e_656d_6573_6973; // "nemesis" in ASCII

impl NemesisSpec {
    /// Checks the parameters against the run.
    pub fn validate(&self, duration: Dur) -> Result<(), String> {
        if self.faults.is_empty() {
            return Err("nemesis.faults is empty: list at least one fault kind".into());
        }
        let stop = self.stop_at(duration);
        if self.start >= stop {
            return Err(format!(
                "nemesis.start ({}) must be before nemesis.stop ({stop})",
                self.start
            ));
        }
        if stop > duration {
            return Err(format!(
                "nemesis.stop ({stop}) is after the end of the run ({duration})"
            ));
        }
        for (name, (lo, hi)) in [("length", self.length), ("gap", self.gap)] {
            if lo > hi {
                return Err(format!("nemesis.{name} needs min <= max, got ({lo}, {hi})"));
            }
        }
        if self.length.0.0.is_zero() {
            return Err("nemesis.length must be above zero".into());
        }
        if self.max_drift_ppm >= 1_000_000 {
            return Err("nemesis.max_drift_ppm must be below 1000000".into());
        }
        for (name, d) in [
            ("nemesis.length (max)", self.length.1),
            ("nemesis.gap (max)", self.gap.1),
            ("nemesis.max_clock_jump", self.max_clock_jump),
        ] {
            protocols::limits::duration(name, d, std::time::Duration::ZERO)?;
        }
        let most = self.most_faults(duration);
        if most > MAX_NEMESIS_FAULTS {
            return Err(format!(
                "this nemesis could draw up to {most} faults in one run; the limit is \
                 {MAX_NEMESIS_FAULTS}: raise nemesis.gap or nemesis.length, or shorten the \
                 window between start and stop"
            ));
        }
        Ok(())
    }

    /// The most faults one run can draw: every cycle is at least the shortest length plus the
    /// shortest gap (a gap is at least 1 ns), or in overlap mode at least the shortest gap,
    /// and draws at most two faults (a fault and its recovery).
    pub fn most_faults(&self, duration: Dur) -> u64 {
        let window = self
            .stop_at(duration)
            .nanos()
            .saturating_sub(self.start.nanos());
        let gap = self.gap.0.nanos().max(1);
        let step = if self.overlap {
            gap
        } else {
            self.length.0.nanos().saturating_add(gap)
        };
        (window / step.max(1)).saturating_add(1).saturating_mul(2)
    }

    /// When the nemesis stops.
    pub fn stop_at(&self, duration: Dur) -> Dur {
        self.stop.unwrap_or(Dur(duration.0 * 2 / 3))
    }

    /// Draws the fault list for a seed on a cluster of `nodes`.
    pub fn materialize(&self, seed: u64, nodes: usize, duration: Dur) -> Vec<TimedFault> {
        lower(&self.episodes(seed, nodes, duration))
    }

    /// Draws the faults for a seed as episodes (a fault and its recovery): what
    /// [`materialize`](Self::materialize) lowers to the fault list, and what guided fuzzing
    /// adds, drops, moves and retargets.
    pub fn episodes(&self, seed: u64, nodes: usize, duration: Dur) -> Vec<Episode> {
        let mut rng = rng::stream(seed, Purpose::Other(NEMESIS_STREAM));
        let stop = self.stop_at(duration).nanos();
        if self.overlap {
            return self.overlapping_episodes(&mut rng, nodes, stop);
        }
        let mut out = Vec::new();
        let mut t = self.first_fault(&mut rng);
        while t < stop {
            let kind = self.faults[rng::index(&mut rng, self.faults.len())];
            let len = rng::uniform_u64(&mut rng, self.length.0.nanos(), self.length.1.nanos());
            let end = (t + len).min(stop);
            let (faults, recovery) = self.draw(kind, &mut rng, nodes, end - t);
            out.push(Episode {
                kind,
                at: t,
                faults,
                end,
                recovery,
            });
            t = end + rng::uniform_u64(&mut rng, self.gap.0.nanos(), self.gap.1.nanos()).max(1);
        }
        out
    }

    /// The overlapping schedule: faults and pending recoveries interleave at random gaps. A
    /// recovery that is already pending (one `Heal` for two cuts) belongs to the first episode
    /// that asked for it.
    fn overlapping_episodes(&self, rng: &mut impl Rng, nodes: usize, stop: u64) -> Vec<Episode> {
        let mut out: Vec<Episode> = Vec::new();
        // Each pending recovery and the episode it belongs to.
        let mut pending: Vec<(FaultSpec, usize)> = Vec::new();
        let mut t = self.first_fault(rng);
        while t < stop {
            if !pending.is_empty() && rng::chance(rng, 0.5) {
                let (recovery, owner) = pending.remove(rng::index(rng, pending.len()));
                out[owner].end = t;
                out[owner].recovery.push(recovery);
            } else {
                let kind = self.faults[rng::index(rng, self.faults.len())];
                let len = rng::uniform_u64(rng, self.length.0.nanos(), self.length.1.nanos());
                let (faults, recovery) = self.draw(kind, rng, nodes, len.min(stop - t));
                let owner = out.len();
                for r in recovery {
                    if !pending.iter().any(|(p, _)| *p == r) {
                        pending.push((r, owner));
                    }
                }
                out.push(Episode {
                    kind,
                    at: t,
                    faults,
                    end: t,
                    recovery: vec![],
                });
            }
            t += rng::uniform_u64(rng, self.gap.0.nanos(), self.gap.1.nanos()).max(1);
        }
        for (r, owner) in pending {
            out[owner].end = stop;
            out[owner].recovery.push(r);
        }
        out
    }

    /// A new episode of `kind` from `at` (nanoseconds), lasting a drawn length (cut at
    /// `stop`), on random targets.
    pub fn episode(
        &self,
        kind: NemesisKind,
        at: u64,
        rng: &mut impl Rng,
        nodes: usize,
        stop: u64,
    ) -> Episode {
        let len = rng::uniform_u64(rng, self.length.0.nanos(), self.length.1.nanos());
        let end = (at + len).min(stop).max(at + 1);
        let (faults, recovery) = self.draw(kind, rng, nodes, end - at);
        Episode {
            kind,
            at,
            faults,
            end,
            recovery,
        }
    }

    /// When the first fault comes: one random gap after `start`, so the first fault of a
    /// campaign does not always land on the same instant.
    fn first_fault(&self, rng: &mut impl Rng) -> u64 {
        self.start.nanos() + rng::uniform_u64(rng, self.gap.0.nanos(), self.gap.1.nanos())
    }

    /// One fault of a kind and its recovery.
    fn draw(
        &self,
        kind: NemesisKind,
        rng: &mut impl Rng,
        nodes: usize,
        len_ns: u64,
    ) -> (Vec<FaultSpec>, Vec<FaultSpec>) {
        let random_node = |rng: &mut dyn Rng| NodeRef(rng::index(rng, nodes) as u32);
        match kind {
            NemesisKind::Crash => {
                let n = random_node(rng);
                (
                    vec![FaultSpec::Crash(TargetSpec::Node(n))],
                    vec![FaultSpec::Restart(TargetSpec::Node(n))],
                )
            }
            NemesisKind::CrashLeader => (
                vec![FaultSpec::Crash(TargetSpec::Leader)],
                vec![FaultSpec::Restart(TargetSpec::Crashed)],
            ),
            NemesisKind::Pause => {
                let n = random_node(rng);
                (
                    vec![FaultSpec::Pause(TargetSpec::Node(n))],
                    vec![FaultSpec::Resume(TargetSpec::Node(n))],
                )
            }
            NemesisKind::PauseLeader => (
                vec![FaultSpec::Pause(TargetSpec::Leader)],
                vec![FaultSpec::Resume(TargetSpec::Paused)],
            ),
            NemesisKind::Isolate => (
                vec![FaultSpec::Isolate(TargetSpec::Node(random_node(rng)))],
                vec![FaultSpec::Heal],
            ),
            NemesisKind::IsolateLeader => (
                vec![FaultSpec::Isolate(TargetSpec::Leader)],
                vec![FaultSpec::Heal],
            ),
            NemesisKind::Partition => {
                let order = shuffled(rng, nodes);
                let cut = 1 + rng::index(rng, nodes.saturating_sub(1).max(1));
                let side = order[..cut.min(nodes)]
                    .iter()
                    .map(|&n| TargetSpec::Node(NodeRef(n)))
                    .collect();
                (
                    vec![FaultSpec::Partition(vec![side])],
                    vec![FaultSpec::Heal],
                )
            }
            NemesisKind::OneWay => {
                let n = random_node(rng);
                let rest = (0..nodes as u32)
                    .filter(|&i| i != n.0)
                    .map(NodeRef)
                    .collect();
                (
                    vec![FaultSpec::OneWay {
                        from: TargetSpec::Node(n),
                        to: TargetSpec::Nodes(rest),
                    }],
                    vec![FaultSpec::Heal],
                )
            }
            NemesisKind::Bridge => {
                let order = shuffled(rng, nodes);
                if nodes < 3 {
                    return (vec![], vec![]);
                }
                // order[0] is the bridge; the rest split into two sides that only it joins.
                let rest = &order[1..];
                let cut = 1 + rng::index(rng, rest.len() - 1);
                let (a, b) = rest.split_at(cut);
                let side = |ids: &[u32]| match ids {
                    [one] => TargetSpec::Node(NodeRef(*one)),
                    many => TargetSpec::Nodes(many.iter().map(|&n| NodeRef(n)).collect()),
                };
                (
                    vec![FaultSpec::CutLink(side(a), side(b))],
                    vec![FaultSpec::Heal],
                )
            }
            NemesisKind::DelaySpike => {
                let n = random_node(rng);
                let extra = sim::Latency::Uniform(50_000_000, 500_000_000);
                (
                    vec![FaultSpec::DelaySpike {
                        target: TargetSpec::Node(n),
                        extra,
                        duration: Dur(std::time::Duration::from_nanos(len_ns)),
                    }],
                    vec![],
                )
            }
            NemesisKind::ClockJump => {
                let n = random_node(rng);
                let max = self.max_clock_jump.nanos().min(i64::MAX as u64 / 2) as i64;
                let by = rng::uniform_u64(rng, 0, 2 * max as u64) as i64 - max;
                (
                    vec![FaultSpec::ClockJump {
                        target: TargetSpec::Node(n),
                        by: SignedDur(by),
                    }],
                    vec![],
                )
            }
            NemesisKind::TornWrite => {
                let n = TargetSpec::Node(random_node(rng));
                (
                    vec![FaultSpec::TornWrite(n.clone())],
                    vec![FaultSpec::Restart(n)],
                )
            }
            NemesisKind::Corrupt | NemesisKind::ReadError => {
                let n = TargetSpec::Node(random_node(rng));
                let damage = if kind == NemesisKind::Corrupt {
                    FaultSpec::Corrupt(n.clone())
                } else {
                    FaultSpec::ReadError(n.clone())
                };
                (
                    vec![damage, FaultSpec::Crash(n.clone())],
                    vec![FaultSpec::Restart(n)],
                )
            }
            NemesisKind::FsyncFail => (
                vec![FaultSpec::FsyncFail(TargetSpec::Node(random_node(rng)))],
                vec![],
            ),
            NemesisKind::SlowDisk => (
                vec![FaultSpec::SlowDisk {
                    target: TargetSpec::Node(random_node(rng)),
                    extra: sim::Latency::Uniform(20_000_000, 200_000_000),
                    duration: Dur(std::time::Duration::from_nanos(len_ns)),
                }],
                vec![],
            ),
            NemesisKind::Slow => {
                let n = random_node(rng);
                let factor = rng::uniform_u64(rng, 5, 50) as f64;
                (
                    vec![FaultSpec::Slow {
                        target: TargetSpec::Node(n),
                        factor,
                        per_event: Some(sim::Latency::Exponential { mean: 1_000_000 }),
                        duration: Dur(std::time::Duration::from_nanos(len_ns)),
                    }],
                    vec![],
                )
            }
            NemesisKind::Drift => {
                let n = random_node(rng);
                let max = i64::from(self.max_drift_ppm);
                let ppm = rng::uniform_u64(rng, 0, 2 * max as u64) as i64 - max;
                (
                    vec![FaultSpec::SetDrift {
                        target: TargetSpec::Node(n),
                        ppm,
                    }],
                    vec![FaultSpec::SetDrift {
                        target: TargetSpec::Node(n),
                        ppm: 0,
                    }],
                )
            }
        }
    }
}

/// One fault the nemesis drew, from `at` to `end` (nanoseconds of true time), and the
/// recovery applied at `end` (empty for faults that end by themselves, and for an overlapping
/// fault whose recovery another episode already holds).
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub kind: NemesisKind,
    pub at: u64,
    pub faults: Vec<FaultSpec>,
    pub end: u64,
    pub recovery: Vec<FaultSpec>,
}

/// The fault list of a set of episodes, in time order (faults before recoveries of later
/// episodes at the same instant, episodes in their order).
pub fn lower(episodes: &[Episode]) -> Vec<TimedFault> {
    let mut out: Vec<TimedFault> = Vec::new();
    for e in episodes {
        out.extend(e.faults.iter().map(|f| timed(e.at, f.clone())));
        out.extend(e.recovery.iter().map(|f| timed(e.end, f.clone())));
    }
    // Stable: at one instant, the order above.
    out.sort_by_key(|f| f.at);
    out
}

fn timed(ns: u64, action: FaultSpec) -> TimedFault {
    TimedFault {
        at: FaultTime(Dur(std::time::Duration::from_nanos(ns))),
        action,
    }
}

/// A random permutation of `0..n` (Fisher–Yates).
fn shuffled(rng: &mut impl Rng, n: usize) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng::index(rng, i + 1);
        v.swap(i, j);
    }
    v
}
