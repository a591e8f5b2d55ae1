//! Context-dependent validation that still reports the exact line and column.
//!
//! A scenario is parsed twice. The first pass checks syntax, types and every rule a value can
//! check on its own (a probability in [0, 1], a duration with units, nodes ≥ 1). From its
//! result we learn the facts other values depend on (the node count, the duration, the
//! protocol family's invariants). The second pass parses the same text with those facts in a
//! thread-local [`Facts`], so a node id that does not exist, a fault after the end of the run
//! or an invariant the protocol does not offer fails *inside* deserialization, where `ron`
//! knows the position. Both passes run on the calling thread; nothing leaks between parses
//! because [`with_facts`] restores the previous value.

use protocols::checks::{Check, Invariant};
use protocols::units::Dur;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;

/// What the second pass knows.
#[derive(Clone, Debug)]
pub struct Facts {
    pub nodes: usize,
    pub duration: Dur,
    pub family: &'static str,
    pub offered: Vec<Invariant>,
}

thread_local! {
    static FACTS: RefCell<Option<Facts>> = const { RefCell::new(None) };
}

/// Runs `f` with `facts` in force on this thread.
pub fn with_facts<T>(facts: Facts, f: impl FnOnce() -> T) -> T {
    let previous = FACTS.with(|c| c.replace(Some(facts)));
    let out = f();
    FACTS.with(|c| *c.borrow_mut() = previous);
    out
}

fn facts() -> Option<Facts> {
    FACTS.with(|c| c.borrow().clone())
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(serde::de::Error::custom(format!(
                "expected a probability in [0, 1], got {p}"
            )));
        }
        Ok(Probability(p))
    }
}

/// A node id that must exist in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct NodeRef(pub u32);

impl<'de> Deserialize<'de> for NodeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = u32::deserialize(d)?;
        if let Some(f) = facts()
            && id as usize >= f.nodes
        {
            return Err(serde::de::Error::custom(format!(
                "node {id} does not exist: this scenario has {} nodes, ids 0 to {}",
                f.nodes,
                f.nodes - 1
            )));
        }
        Ok(NodeRef(id))
    }
}

/// The time of a timed fault: within the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FaultTime(pub Dur);

impl<'de> Deserialize<'de> for FaultTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let at = Dur::deserialize(d)?;
        if let Some(f) = facts()
            && at > f.duration
        {
            return Err(serde::de::Error::custom(format!(
                "a fault at {at} is after the end of the run (duration {})",
                f.duration
            )));
        }
        Ok(FaultTime(at))
    }
}

fn offered_or_err<E: serde::de::Error>(inv: Invariant) -> Result<(), E> {
    if let Some(f) = facts()
        && !f.offered.contains(&inv)
    {
        let names: Vec<&str> = f.offered.iter().map(|i| i.name()).collect();
        return Err(E::custom(format!(
            "the {} protocol does not offer the invariant {}; it offers: {}",
            f.family,
            inv.name(),
            names.join(", ")
        )));
    }
    Ok(())
}

/// A check the protocol family must offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckRef(pub Check);

impl<'de> Deserialize<'de> for CheckRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let c = Check::deserialize(d)?;
        offered_or_err(c.invariant())?;
        Ok(CheckRef(c))
    }
}

impl Serialize for CheckRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// An invariant the protocol family must offer (in `expect: Violates(...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvariantRef(pub Invariant);

impl<'de> Deserialize<'de> for InvariantRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let i = Invariant::deserialize(d)?;
        offered_or_err(i)?;
        Ok(InvariantRef(i))
    }
}

impl Serialize for InvariantRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A signed duration, for clock jumps: "-2s" jumps back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedDur(pub i64);

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (neg, body) = match s.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.trim()),
        };
        let dur = protocols::units::parse_duration(body).map_err(serde::de::Error::custom)?;
        let ns = i64::try_from(dur.as_nanos())
            .map_err(|_| serde::de::Error::custom("clock jump too large"))?;
        Ok(SignedDur(if neg { -ns } else { ns }))
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = Dur(std::time::Duration::from_nanos(self.0.unsigned_abs()));
        let sign = if self.0 < 0 { "-" } else { "" };
        s.serialize_str(&format!("{sign}{d}"))
    }
}
