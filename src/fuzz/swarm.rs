//! Swarm testing: per seed, draw the knobs themselves (latency distribution, loss,
//! duplication, which nemesis fault kinds are enabled, and any field of the scenario — protocol
//! switches, link kinds, nemesis overlap — from a list of values) within what the scenario
//! gives.
//!
//! Follows Groce et al., "Swarm Testing" (ISSTA 2012) and TigerBeetle's VOPR: a campaign where
//! every seed uses every fault kind at once explores less than one where each seed uses a
//! random subset, because some bugs need a fault kind to be *absent* (a crash that keeps
//! resetting the state a partition would otherwise corrupt). The knobs are drawn from their own
//! stream, so enabling swarm never changes network, workload or nemesis draws for a given
//! configuration, and [`draw`] returns a plain scenario with the drawn knobs written in and no
//! `swarm` section: the file saved for a failure replays without knowing about swarm.
//!
//! `params` work like a sweep's parameters (`docs/sweeps.md`): a path into the scenario and
//! the values it may take, written as in a scenario file. The scenario is serialized, each
//! drawn value set at its path ([`crate::sweep::tree`]) and the text parsed again, so a drawn
//! combination is validated like a file; each value alone is checked when the scenario is
//! read ([`check_params`]).

use crate::scenario::Scenario;
use crate::scenario::nemesis::NemesisKind;
use crate::scenario::spec::LinksSpec;
use crate::scenario::validate::Probability;
use crate::sweep::Param;
use crate::sweep::tree;
use protocols::family::Registry;
use serde::{Deserialize, Serialize};
use sim::rng::{self, Purpose};

/// A label for the swarm stream ("swarm" in ASCII).
const SWARM_STREAM: u64 = 0x0073_7761_726d;

/// `swarm: (...)` — the ranges knobs are drawn from, per seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwarmSpec {
    /// Latency distributions to pick one from per seed (empty: keep `network.latency`).
    pub latency: Vec<sim::Latency>,
    /// Loss probability drawn uniformly in `[min, max]` (needs `links: Datagram`).
    pub loss: Option<(Probability, Probability)>,
    /// Duplication probability drawn uniformly in `[min, max]` (needs `links: Datagram`).
    pub duplicate: Option<(Probability, Probability)>,
    /// Nemesis kinds to enable or not, each with probability `fault_chance` (at least one is
    /// always kept). Empty: the nemesis's own list.
    pub faults: Vec<NemesisKind>,
    /// Probability that each kind in `faults` is enabled for a seed (default 0.5).
    pub fault_chance: Option<Probability>,
    /// Fields drawn from lists of values, one value each per seed, uniformly:
    /// `(path: "protocol.pre_vote", values: [false, true])`. Paths are as in sweeps
    /// (`protocol.snapshot_every`, `network.links`, `nemesis.overlap`).
    pub params: Vec<Param>,
}

/// The most `swarm.params` a scenario may have, and values per parameter.
pub const MAX_PARAMS: usize = 64;

impl SwarmSpec {
    /// Checks the ranges against the scenario they will be applied to.
    pub fn validate(&self, s: &Scenario) -> Result<(), String> {
        for (name, range) in [("loss", self.loss), ("duplicate", self.duplicate)] {
            if let Some((lo, hi)) = range {
                if lo.0 > hi.0 {
                    return Err(format!(
                        "swarm.{name} needs min <= max, got ({}, {})",
                        lo.0, hi.0
                    ));
                }
                if hi.0 > 0.0 && s.network.links == LinksSpec::Stream && !self.draws_links() {
                    return Err(format!(
                        "swarm.{name} needs `network: (links: Datagram)` (or `network.links` \
                         among swarm.params): stream links are reliable"
                    ));
                }
            }
        }
        for (i, l) in self.latency.iter().enumerate() {
            l.validate()
                .map_err(|e| format!("swarm.latency[{i}]: {e}"))?;
        }
        if !self.faults.is_empty() && s.nemesis.is_none() {
            return Err(
                "swarm.faults chooses nemesis fault kinds, but the scenario has no `nemesis`"
                    .into(),
            );
        }
        if self.params.len() > MAX_PARAMS {
            return Err(format!(
                "swarm.params has {} parameters; at most {MAX_PARAMS}",
                self.params.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in self.params.iter().enumerate() {
            let steps = tree::parse_path(&p.path)
                .map_err(|e| format!("swarm.params[{i}] {:?}: {}", p.path, e.message))?;
            if matches!(steps.first(), Some((_, tree::Step::Field(f))) if ["swarm", "seed"].contains(&f.as_str()))
            {
                return Err(format!(
                    "swarm.params[{i}] {:?}: the swarm cannot draw its own seed or section",
                    p.path
                ));
            }
            if p.values.is_empty() || p.values.len() > MAX_PARAMS {
                return Err(format!(
                    "swarm.params[{i}] {:?} needs 1 to {MAX_PARAMS} values, has {}",
                    p.path,
                    p.values.len()
                ));
            }
            if !seen.insert(tree::show_path(&steps)) {
                return Err(format!(
                    "swarm.params[{i}] {:?} is drawn twice: list its values once",
                    p.path
                ));
            }
        }
        Ok(())
    }

    /// Whether a parameter draws the link kind.
    fn draws_links(&self) -> bool {
        self.params.iter().any(|p| p.path.trim() == "network.links")
    }
}

/// What the swarm drew for one seed.
#[derive(Clone, Debug)]
pub struct Drawn {
    /// The scenario with everything drawn written in, and no `swarm` section.
    pub scenario: Scenario,
    /// Each knob and the value drawn, as written in a file (`protocol.pre_vote = true`).
    pub choices: Vec<(String, String)>,
}

impl Drawn {
    /// The drawn knobs as a sentence, for failure file headers.
    pub fn describe(&self) -> String {
        self.choices
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every draw the swarm makes for one seed, before it is applied: guided fuzzing changes one
/// at a time (see [`Picks::redraw_one`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Picks {
    latency: usize,
    loss: f64,
    duplicate: f64,
    kinds: Vec<bool>,
    keep_one: usize,
    params: Vec<usize>,
}

impl Picks {
    /// The draws of `seed` for the swarm `w`.
    pub fn draw(w: &SwarmSpec, seed: u64) -> Picks {
        let mut rng = rng::stream(seed, Purpose::Other(SWARM_STREAM));
        // Every draw happens whether or not its knob is set, so adding one knob to a scenario
        // never changes the values drawn for the others.
        let latency = rng::index(&mut rng, w.latency.len().max(1));
        let loss = rng::unit_f64(&mut rng);
        let duplicate = rng::unit_f64(&mut rng);
        let chance = w.fault_chance.map_or(0.5, |p| p.0);
        let kinds = (0..w.faults.len())
            .map(|_| rng::chance(&mut rng, chance))
            .collect();
        let keep_one = rng::index(&mut rng, w.faults.len().max(1));
        let params = w
            .params
            .iter()
            .map(|p| rng::index(&mut rng, p.values.len().max(1)))
            .collect();
        Picks {
            latency,
            loss,
            duplicate,
            kinds,
            keep_one,
            params,
        }
    }

    /// Draws one knob again (a parameter, the latency, loss, duplication, or one fault kind
    /// switched), leaving the others; returns what changed, or `None` if there is no knob.
    pub fn redraw_one(&mut self, w: &SwarmSpec, rng: &mut impl rand::Rng) -> Option<String> {
        let mut knobs: Vec<usize> = vec![];
        knobs.extend((0..w.params.len()).filter(|&i| w.params[i].values.len() > 1));
        let base = w.params.len();
        if w.latency.len() > 1 {
            knobs.push(base);
        }
        if w.loss.is_some() {
            knobs.push(base + 1);
        }
        if w.duplicate.is_some() {
            knobs.push(base + 2);
        }
        knobs.extend((0..w.faults.len()).map(|k| base + 3 + k));
        let &knob = knobs.get(rng::index(rng, knobs.len().max(1)))?;
        Some(if knob < base {
            let p = &w.params[knob];
            self.params[knob] = rng::index(rng, p.values.len());
            format!(
                "{} = {}",
                p.path,
                p.values[self.params[knob]].get_ron().trim()
            )
        } else if knob == base {
            self.latency = rng::index(rng, w.latency.len());
            "latency redrawn".into()
        } else if knob == base + 1 {
            self.loss = rng::unit_f64(rng);
            "loss redrawn".into()
        } else if knob == base + 2 {
            self.duplicate = rng::unit_f64(rng);
            "duplication redrawn".into()
        } else {
            let k = knob - base - 3;
            self.kinds[k] = !self.kinds[k];
            format!(
                "{:?} {}",
                w.faults[k],
                if self.kinds[k] { "on" } else { "off" }
            )
        })
    }
}

/// The scenario with the knobs drawn for `seed` written in and its `swarm` section removed;
/// a scenario without one is returned unchanged. `Err` when the drawn `params` together make
/// an invalid scenario (each value alone was checked when the file was read).
pub fn draw(s: &Scenario, seed: u64) -> Result<Drawn, String> {
    match &s.swarm {
        Some(w) => apply(s, &Picks::draw(w, seed)).map_err(|e| format!("seed {seed}: {e}")),
        None => apply(s, &Picks::draw(&SwarmSpec::default(), seed)),
    }
}

/// The scenario with `picks` written in and its `swarm` section removed.
pub fn apply(s: &Scenario, picks: &Picks) -> Result<Drawn, String> {
    let mut out = s.clone();
    let Some(w) = out.swarm.take() else {
        return Ok(Drawn {
            scenario: out,
            choices: vec![],
        });
    };
    let latency_pick = picks.latency;
    let loss_u = picks.loss;
    let duplicate_u = picks.duplicate;
    let kind_draws = &picks.kinds;
    let keep_one = picks.keep_one;
    let picks = &picks.params;

    let mut choices = vec![];
    if !w.params.is_empty() {
        let set: Vec<(&str, &str)> = w
            .params
            .iter()
            .zip(picks)
            .map(|(p, &i)| (p.path.as_str(), p.values[i].get_ron()))
            .collect();
        out = with_values(&out, &set).map_err(|e| {
            format!(
                "the swarm drew {} and the scenario is then invalid: {e}",
                set.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        choices.extend(
            set.iter()
                .map(|(k, v)| (k.to_string(), v.trim().to_string())),
        );
    }
    if let Some(l) = w.latency.get(latency_pick) {
        out.network.latency = *l;
        choices.push(("network.latency".into(), format!("{l:?}")));
    }
    let within = |r: Option<(Probability, Probability)>, u: f64, old: Probability| {
        r.map_or(old, |(lo, hi)| Probability(lo.0 + (hi.0 - lo.0) * u))
    };
    // Loss and duplication need datagram links (which a parameter may have left out).
    if out.network.links == LinksSpec::Datagram {
        out.network.loss = within(w.loss, loss_u, out.network.loss);
        out.network.duplicate = within(w.duplicate, duplicate_u, out.network.duplicate);
        if w.loss.is_some() {
            choices.push(("network.loss".into(), format!("{}", out.network.loss.0)));
        }
        if w.duplicate.is_some() {
            choices.push((
                "network.duplicate".into(),
                format!("{}", out.network.duplicate.0),
            ));
        }
    }
    if let Some(n) = out.nemesis.as_mut()
        && !w.faults.is_empty()
    {
        let mut kinds: Vec<NemesisKind> = w
            .faults
            .iter()
            .zip(kind_draws)
            .filter(|(_, on)| **on)
            .map(|(k, _)| *k)
            .collect();
        if kinds.is_empty() {
            kinds.push(w.faults[keep_one]);
        }
        choices.push(("nemesis.faults".into(), format!("{kinds:?}")));
        n.faults = kinds;
    }
    Ok(Drawn {
        scenario: out,
        choices,
    })
}

/// `s` with each `(path, value)` set, parsed again (so validated like a file).
fn with_values(s: &Scenario, set: &[(&str, &str)]) -> Result<Scenario, String> {
    let text = ron::to_string(s).map_err(|e| format!("cannot serialize the scenario: {e}"))?;
    let mut root = tree::parse(&text)?;
    for (path, value) in set {
        let node = tree::parse(value).map_err(|e| format!("{path}: {value}: {e}"))?;
        tree::set(&mut root, path, node).map_err(|e| format!("{path}: {e}"))?;
    }
    let mut registry = Registry::new();
    registry.insert(s.protocol.family.clone());
    crate::scenario::parse_with(&registry, &s.name, &root.to_string())
        .map_err(|e| crate::output::one_line(&e.message))
}

/// Checks each of `swarm.params`' values alone against the scenario (with the others at
/// their values in the file), so a typo is reported when the file is read, not at some seed.
pub fn check_params(s: &Scenario) -> Result<(), String> {
    let Some(w) = &s.swarm else { return Ok(()) };
    if w.params.is_empty() {
        return Ok(());
    }
    let mut base = s.clone();
    base.swarm = None;
    for (i, p) in w.params.iter().enumerate() {
        for v in &p.values {
            with_values(&base, &[(p.path.as_str(), v.get_ron())]).map_err(|e| {
                format!(
                    "swarm.params[{i}] ({}) value {}: {e}",
                    p.path,
                    v.get_ron().trim()
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(swarm: &str) -> Scenario {
        let text = format!(
            "Scenario(name: \"s\", protocol: Gossip(()), network: (links: Datagram), nemesis: (faults: [Crash]), swarm: {swarm})"
        );
        crate::scenario::parse("t.ron", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn draws_within_ranges_and_removes_the_section() {
        let s = scenario(
            "(latency: [Constant(\"1ms\"), Uniform(\"1ms\", \"9ms\")], loss: (0.1, 0.2), faults: [Crash, Pause, Isolate])",
        );
        let mut latencies = std::collections::BTreeSet::new();
        let mut kind_sets = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let a = draw(&s, seed).unwrap().scenario;
            assert!(a.swarm.is_none());
            assert!(
                (0.1..=0.2).contains(&a.network.loss.0),
                "loss {}",
                a.network.loss.0
            );
            let kinds = &a.nemesis.as_ref().unwrap().faults;
            assert!(!kinds.is_empty());
            assert!(kinds.iter().all(|k| {
                [NemesisKind::Crash, NemesisKind::Pause, NemesisKind::Isolate].contains(k)
            }));
            latencies.insert(format!("{:?}", a.network.latency));
            kind_sets.insert(format!("{kinds:?}"));
            // The same seed draws the same knobs.
            assert_eq!(
                format!("{:?}", draw(&s, seed).unwrap().scenario),
                format!("{a:?}")
            );
        }
        assert_eq!(latencies.len(), 2, "both latency choices are drawn");
        assert!(
            kind_sets.len() >= 4,
            "fault kind subsets vary: {kind_sets:?}"
        );
    }

    #[test]
    fn rejects_loss_on_stream_links_and_inverted_ranges() {
        let text = "Scenario(name: \"s\", protocol: Gossip(()), swarm: (loss: (0.0, 0.1)))";
        let e = crate::scenario::parse("t.ron", text).unwrap_err();
        assert!(e.message.contains("links: Datagram"), "{e}");
        let text = "Scenario(name: \"s\", protocol: Gossip(()), network: (links: Datagram), swarm: (loss: (0.3, 0.1)))";
        assert!(
            crate::scenario::parse("t.ron", text)
                .unwrap_err()
                .message
                .contains("min <= max")
        );
    }

    fn raft(swarm: &str) -> Result<Scenario, crate::scenario::ScenarioError> {
        let text = format!(
            "Scenario(name: \"s\", protocol: Raft(()), nodes: 3, duration: \"3s\", nemesis: (faults: [Crash]), swarm: {swarm})"
        );
        crate::scenario::parse("t.ron", &text)
    }

    #[test]
    fn params_draw_every_value_and_write_them_into_the_scenario() {
        let s = raft(
            "(params: [(path: \"protocol.pre_vote\", values: [false, true]), (path: \"protocol.reads\", values: [Log, Lease]), (path: \"network.links\", values: [Stream, Datagram])], loss: (0.1, 0.1))",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..32 {
            let d = draw(&s, seed).unwrap();
            let c: &protocols::raft::RaftConfig = d.scenario.protocol.config_as().unwrap();
            let links = d.scenario.network.links;
            // Loss is drawn only onto datagram links.
            assert_eq!(
                d.scenario.network.loss.0 > 0.0,
                links == LinksSpec::Datagram
            );
            let described = d.describe();
            assert!(
                described.contains(&format!("protocol.pre_vote = {}", c.pre_vote)),
                "{described}"
            );
            assert!(d.scenario.swarm.is_none());
            seen.insert((c.pre_vote, format!("{:?}", c.reads), format!("{links:?}")));
        }
        assert_eq!(seen.len(), 8, "every combination is drawn: {seen:?}");
    }

    #[test]
    fn params_are_checked_when_the_file_is_read() {
        let e = raft("(params: [(path: \"protocol.pre_vot\", values: [true])])").unwrap_err();
        assert!(e.message.contains("pre_vot"), "{e}");
        let e = raft("(params: [(path: \"protocol.reads\", values: [Log, Leese])])").unwrap_err();
        assert!(e.message.contains("Leese"), "{e}");
        let e = raft("(params: [(path: \"nodes\", values: [3]), (path: \"nodes\", values: [5])])")
            .unwrap_err();
        assert!(e.message.contains("drawn twice"), "{e}");
        let e = raft("(params: [(path: \"swarm.params\", values: [[]])])").unwrap_err();
        assert!(e.message.contains("own seed or section"), "{e}");
        // Loss on stream links is fine when the links are drawn too.
        assert!(
            raft("(loss: (0.0, 0.1), params: [(path: \"network.links\", values: [Stream, Datagram])])")
                .is_ok()
        );
    }
}
