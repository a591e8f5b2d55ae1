//! Coverage-guided campaigns (`faultline fuzz --guided`): keep the schedules that reached new
//! coverage, and spend half the runs mutating them instead of drawing fresh seeds.
//!
//! After Mallory (Meng et al., CCS 2023), which showed that steering fault injection by what
//! the system under test did finds distributed-systems bugs faster than a random nemesis; and
//! AFL's corpus with hit-count buckets ([`super::coverage`]). A corpus entry is everything a
//! run is drawn from: the seed (network, workload and node randomness), the swarm's picks and
//! the nemesis's faults as episodes (a fault and its recovery). A mutant changes one to three
//! of these: adds an episode, drops one, moves one in time, retargets one (same kind, other
//! nodes), changes one's kind, redraws one swarm knob, or changes the seed. Mutated schedules
//! end with every recovery their kinds need at the nemesis's `stop` (heal, restart and resume
//! all, clocks back to rate), so liveness checks after the last fault stay meaningful.
//!
//! Determinism: candidates are made in batches of a fixed size from the corpus as it was at
//! the start of the batch, with the guide's own random stream (seeded by the first seed of the
//! range), and results are taken in batch order; so a guided campaign is the same whatever the
//! number of threads. Every candidate is a plain scenario with an explicit fault list, so a
//! failure is saved, replayed and shrunk like any other.

use super::campaign::Candidate;
use super::coverage::{Feature, Tally};
use super::swarm::{self, Picks};
use crate::scenario::Scenario;
use crate::scenario::nemesis::{Episode, NemesisKind, NemesisSpec, lower};
use crate::scenario::spec::{FaultSpec, TargetSpec, TimedFault};
use crate::scenario::validate::FaultTime;
use protocols::units::Dur;
use sim::rng::{self, Purpose, StreamRng};

/// A label for the guide's stream ("guide" in ASCII).
const GUIDE_STREAM: u64 = 0x0067_7569_6465;

/// The share of runs that mutate the corpus once it is not empty (the rest are fresh seeds).
pub const MUTANT_SHARE: f64 = 0.5;

/// Candidates made per batch (fixed, so the campaign does not depend on the thread count).
pub const BATCH: usize = 64;

/// What a run was drawn from.
#[derive(Clone, Debug)]
pub struct Entry {
    seed: u64,
    picks: Option<Picks>,
    /// The scenario with `picks` applied (before the seed and faults are written in), kept so
    /// that a swarm's picks are applied (a serialize and a parse) once per change, not per use.
    drawn: swarm::Drawn,
    episodes: Vec<Episode>,
    /// Whether the schedule was mutated (it then ends with every recovery at `stop`).
    mutated: bool,
}

/// The corpus (each entry with the features it found first) and the guide's random stream.
pub struct Guide {
    base: Scenario,
    rng: StreamRng,
    corpus: Vec<(Entry, Vec<Feature>)>,
    mutants: u64,
}

impl Guide {
    /// A guide for a campaign over `base` whose range starts at `first_seed`.
    pub fn new(base: &Scenario, first_seed: u64) -> Guide {
        Guide {
            base: base.clone(),
            rng: rng::stream(first_seed, Purpose::Other(GUIDE_STREAM)),
            corpus: vec![],
            mutants: 0,
        }
    }

    /// Entries kept so far.
    pub fn corpus_len(&self) -> usize {
        self.corpus.len()
    }

    /// Mutants made so far.
    pub fn mutants(&self) -> u64 {
        self.mutants
    }

    /// Keeps an entry that reached new coverage first (`found`).
    pub fn keep(&mut self, e: Entry, found: Vec<Feature>) {
        self.corpus.push((e, found));
    }

    /// Each entry's weight: the sum over the features it found first of one over the runs
    /// that reached them since, so entries behind rare features are mutated more (AFL's
    /// favouring of rare edges).
    fn weights(&self, tally: &Tally) -> Vec<f64> {
        self.corpus
            .iter()
            .map(|(_, found)| {
                found
                    .iter()
                    .map(|f| 1.0 / tally.runs_reaching(f).max(1) as f64)
                    .sum::<f64>()
                    .max(1e-9)
            })
            .collect()
    }

    /// An entry drawn by weight.
    fn pick(&mut self, weights: &[f64]) -> Entry {
        let total: f64 = weights.iter().sum();
        let mut x = rng::unit_f64(&mut self.rng) * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return self.corpus[i].0.clone();
            }
            x -= w;
        }
        self.corpus[self.corpus.len() - 1].0.clone()
    }

    /// Up to `n` candidates: a mutant with probability [`MUTANT_SHARE`] once the corpus has
    /// entries, else the next fresh seed from `seeds` (`None` when they are used up and no
    /// mutant is due, which ends the batch).
    pub fn next_batch(
        &mut self,
        seeds: &mut impl Iterator<Item = u64>,
        n: usize,
        tally: &Tally,
    ) -> Result<Vec<(Candidate, Entry)>, String> {
        let mut out = Vec::with_capacity(n);
        let weights = self.weights(tally);
        for _ in 0..n {
            let mutate = !self.corpus.is_empty() && rng::chance(&mut self.rng, MUTANT_SHARE);
            let made = if mutate {
                let parent = self.pick(&weights);
                self.mutants += 1;
                let (entry, how) = self.mutate(parent);
                let mut c = self.build(&entry)?;
                c.mutant = Some((self.mutants, how));
                (c, entry)
            } else {
                let Some(seed) = seeds.next() else { break };
                let entry = self.fresh(seed)?;
                (self.build(&entry)?, entry)
            };
            out.push(made);
        }
        Ok(out)
    }

    /// The entry a fresh seed draws: the same run as a random campaign's.
    fn fresh(&self, seed: u64) -> Result<Entry, String> {
        let picks = self.base.swarm.as_ref().map(|w| Picks::draw(w, seed));
        let drawn = match &picks {
            Some(p) => swarm::apply(&self.base, p)?,
            None => swarm::draw(&self.base, seed)?,
        };
        let episodes = drawn_nemesis(&drawn)
            .map(|(n, nodes, duration)| n.episodes(seed, nodes, duration))
            .unwrap_or_default();
        Ok(Entry {
            seed,
            picks,
            drawn,
            episodes,
            mutated: false,
        })
    }

    /// The scenario an entry runs.
    fn build(&self, e: &Entry) -> Result<Candidate, String> {
        let mut drawn = e.drawn.clone();
        let stop = drawn
            .scenario
            .nemesis
            .as_ref()
            .map(|n| n.stop_at(drawn.scenario.duration).nanos());
        let s = &mut drawn.scenario;
        s.seed = e.seed;
        let mut faults = s.faults.clone();
        faults.extend(lower(&e.episodes));
        if e.mutated
            && let Some(stop) = stop
        {
            faults.extend(recover_all(&e.episodes, stop));
        }
        faults.sort_by_key(|f| f.at);
        s.faults = faults;
        s.nemesis = None;
        s.swarm = None;
        if e.mutated {
            // A redrawn cluster size may leave episodes naming nodes that no longer exist:
            // narrow or drop those faults, as shrinking to fewer nodes does.
            *s = super::shrink::restrict_nodes(s, s.nodes);
        }
        Ok(Candidate {
            seed: e.seed,
            drawn,
            mutant: None,
        })
    }

    /// One to three mutations of `e`, and what they were.
    fn mutate(&mut self, mut e: Entry) -> (Entry, String) {
        let rounds = 1 + rng::index(&mut self.rng, 3);
        let mut what = vec![format!("seed {}", e.seed)];
        for _ in 0..rounds {
            if let Some(w) = self.mutate_once(&mut e) {
                what.push(w);
            }
        }
        e.mutated = true;
        (e, what.join(", "))
    }

    fn mutate_once(&mut self, e: &mut Entry) -> Option<String> {
        let nemesis = drawn_nemesis(&e.drawn);
        let rng = &mut self.rng;
        // Without a nemesis, only the seed and the swarm's knobs can change.
        let ops: &[u8] = if nemesis.is_some() {
            &[0, 1, 2, 3, 4, 5, 6]
        } else {
            &[5, 6]
        };
        let op = ops[rng::index(rng, ops.len())];
        let Some((n, nodes, duration)) = nemesis else {
            return self.mutate_knobs(e, op);
        };
        let start = n.start.nanos();
        let stop = n.stop_at(duration).nanos().max(start + 1);
        let pick = |rng: &mut StreamRng, len: usize| rng::index(rng, len.max(1));
        let kind = |rng: &mut StreamRng| n.faults[rng::index(rng, n.faults.len())];
        match op {
            0 => {
                let k = kind(rng);
                let at = rng::uniform_u64(rng, start, stop - 1);
                let ep = n.episode(k, at, rng, nodes, stop);
                e.episodes.push(ep);
                Some(format!("added {k:?} at {}", Dur::from_nanos(at)))
            }
            1 if !e.episodes.is_empty() => {
                let i = pick(rng, e.episodes.len());
                let ep = e.episodes.remove(i);
                Some(format!(
                    "dropped {:?} at {}",
                    ep.kind,
                    Dur::from_nanos(ep.at)
                ))
            }
            2 if !e.episodes.is_empty() => {
                let i = pick(rng, e.episodes.len());
                let ep = &mut e.episodes[i];
                let span = n.length.1.nanos() + n.gap.1.nanos() + 1;
                let to = (ep.at + rng::uniform_u64(rng, 0, 2 * span))
                    .saturating_sub(span)
                    .clamp(start, stop - 1);
                let len = ep.end.saturating_sub(ep.at);
                ep.at = to;
                ep.end = (to + len).min(stop).max(to);
                Some(format!("moved {:?} to {}", ep.kind, Dur::from_nanos(to)))
            }
            3 if !e.episodes.is_empty() => {
                let i = pick(rng, e.episodes.len());
                let old = e.episodes[i].clone();
                let mut ep = n.episode(old.kind, old.at, rng, nodes, stop);
                ep.end = old.end.max(old.at + 1);
                e.episodes[i] = ep;
                Some(format!("retargeted {:?}", old.kind))
            }
            4 if !e.episodes.is_empty() => {
                let i = pick(rng, e.episodes.len());
                let k = kind(rng);
                let at = e.episodes[i].at;
                let was = e.episodes[i].kind;
                e.episodes[i] = n.episode(k, at, rng, nodes, stop);
                Some(format!("{was:?} became {k:?}"))
            }
            _ => self.mutate_knobs(e, op),
        }
    }

    /// Redraws a swarm knob (op 5, when there is a swarm) or the seed.
    fn mutate_knobs(&mut self, e: &mut Entry, op: u8) -> Option<String> {
        if op == 5
            && let (Some(w), Some(p)) = (&self.base.swarm, e.picks.as_mut())
        {
            let mut trial = p.clone();
            let how = trial.redraw_one(w, &mut self.rng)?;
            // A combination the scenario rejects is not worth a run: keep the old picks.
            if let Ok(drawn) = swarm::apply(&self.base, &trial) {
                *p = trial;
                e.drawn = drawn;
                return Some(how);
            }
            return None;
        }
        e.seed = rng::uniform_u64(&mut self.rng, 0, u64::MAX - 1);
        Some(format!("reseeded {}", e.seed))
    }
}

/// The nemesis as the swarm's picks left it (fault kinds, overlap), with the cluster size and
/// run length they left (both may be drawn too).
fn drawn_nemesis(d: &swarm::Drawn) -> Option<(NemesisSpec, usize, Dur)> {
    let s = &d.scenario;
    Some((s.nemesis.clone()?, s.nodes, s.duration))
}

/// The recoveries every kind among `episodes` needs, at `stop`: a mutated schedule may have
/// dropped or moved the episode that held one.
fn recover_all(episodes: &[Episode], stop: u64) -> Vec<TimedFault> {
    use NemesisKind::*;
    let has = |kinds: &[NemesisKind]| episodes.iter().any(|e| kinds.contains(&e.kind));
    let mut out = vec![];
    if has(&[Isolate, IsolateLeader, Partition, OneWay, Bridge]) {
        out.push(FaultSpec::Heal);
    }
    if has(&[Crash, CrashLeader]) {
        out.push(FaultSpec::Restart(TargetSpec::Crashed));
    }
    if has(&[Pause, PauseLeader]) {
        out.push(FaultSpec::Resume(TargetSpec::Paused));
    }
    if has(&[Drift]) {
        out.push(FaultSpec::SetDrift {
            target: TargetSpec::All,
            ppm: 0,
        });
    }
    let at = FaultTime(Dur::from_nanos(stop));
    out.into_iter()
        .map(|action| TimedFault { at, action })
        .collect()
}
