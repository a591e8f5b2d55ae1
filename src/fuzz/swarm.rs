//! Swarm testing: per seed, draw the knobs themselves (latency distribution, loss,
//! duplication, which nemesis fault kinds are enabled) within ranges the scenario gives.
//!
//! Follows Groce et al., "Swarm Testing" (ISSTA 2012) and TigerBeetle's VOPR: a campaign where
//! every seed uses every fault kind at once explores less than one where each seed uses a
//! random subset, because some bugs need a fault kind to be *absent* (a crash that keeps
//! resetting the state a partition would otherwise corrupt). The knobs are drawn from their own
//! stream, so enabling swarm never changes network, workload or nemesis draws for a given
//! configuration, and [`apply`] returns a plain scenario with the drawn knobs written in and no
//! `swarm` section: the file saved for a failure replays without knowing about swarm.

use crate::scenario::Scenario;
use crate::scenario::nemesis::NemesisKind;
use crate::scenario::spec::LinksSpec;
use crate::scenario::validate::Probability;
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
}

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
                if hi.0 > 0.0 && s.network.links == LinksSpec::Stream {
                    return Err(format!(
                        "swarm.{name} needs `network: (links: Datagram)`: stream links are reliable"
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
        Ok(())
    }

    /// The drawn knobs as a sentence, for failure file headers.
    pub fn describe(drawn: &Scenario) -> String {
        let kinds = drawn
            .nemesis
            .as_ref()
            .map(|n| format!("{:?}", n.faults))
            .unwrap_or_else(|| "none".into());
        format!(
            "latency {:?}, loss {}, duplicate {}, nemesis kinds {kinds}",
            drawn.network.latency, drawn.network.loss.0, drawn.network.duplicate.0
        )
    }
}

/// The scenario with the knobs drawn for `seed` written in and its `swarm` section removed;
/// a scenario without one is returned unchanged.
pub fn apply(s: &Scenario, seed: u64) -> Scenario {
    let mut out = s.clone();
    let Some(w) = out.swarm.take() else {
        return out;
    };
    let mut rng = rng::stream(seed, Purpose::Other(SWARM_STREAM));
    // Every draw happens whether or not its knob is set, so adding one knob to a scenario
    // never changes the values drawn for the others.
    let latency_pick = rng::index(&mut rng, w.latency.len().max(1));
    let loss_u = rng::unit_f64(&mut rng);
    let duplicate_u = rng::unit_f64(&mut rng);
    let chance = w.fault_chance.map_or(0.5, |p| p.0);
    let kind_draws: Vec<bool> = (0..w.faults.len())
        .map(|_| rng::chance(&mut rng, chance))
        .collect();
    let keep_one = rng::index(&mut rng, w.faults.len().max(1));

    if let Some(l) = w.latency.get(latency_pick) {
        out.network.latency = *l;
    }
    let within = |r: Option<(Probability, Probability)>, u: f64, old: Probability| {
        r.map_or(old, |(lo, hi)| Probability(lo.0 + (hi.0 - lo.0) * u))
    };
    out.network.loss = within(w.loss, loss_u, out.network.loss);
    out.network.duplicate = within(w.duplicate, duplicate_u, out.network.duplicate);
    if let Some(n) = out.nemesis.as_mut()
        && !w.faults.is_empty()
    {
        let mut kinds: Vec<NemesisKind> = w
            .faults
            .iter()
            .zip(&kind_draws)
            .filter(|(_, on)| **on)
            .map(|(k, _)| *k)
            .collect();
        if kinds.is_empty() {
            kinds.push(w.faults[keep_one]);
        }
        n.faults = kinds;
    }
    out
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
            let a = apply(&s, seed);
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
            assert_eq!(format!("{:?}", apply(&s, seed)), format!("{a:?}"));
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
}
