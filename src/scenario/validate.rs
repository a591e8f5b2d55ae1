//! Context-dependent validation that still reports the exact line and column.
//!
//! A scenario is parsed twice. The first pass checks syntax, types and every rule a value can
//! check on its own (a probability in [0, 1], a duration with units, nodes ≥ 1), and reads the
//! protocol section through the registry of families. From its result we learn the facts other
//! values depend on (the node count, the duration, the protocol family). The second pass
//! parses the same text with those facts in a thread-local [`Facts`], so a node id that does
//! not exist, a fault after the end of the run, a workload or an invariant the family does not
//! take fails *inside* deserialization, where `ron` knows the position. In the first pass the
//! sections that need the family (workload, checks, expectation) are skipped: their field may
//! come before `protocol:` in the file. Both passes run on the calling thread; nothing leaks
//! between parses because [`with_facts`] restores the previous value.

use protocols::checks::{Check, Expect, Invariant, InvariantInfo};
use protocols::family::{DynFamily, Registry};
use protocols::units::Dur;
use serde::de::{self, DeserializeSeed, EnumAccess, IgnoredAny, VariantAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// What a parse knows: the families (both passes), then the cluster and the chosen family
/// (second pass).
#[derive(Clone)]
pub struct Facts {
    pub registry: Registry,
    pub second: Option<SecondPass>,
}

/// What the second pass knows from the first.
#[derive(Clone)]
pub struct SecondPass {
    pub nodes: usize,
    pub duration: Dur,
    pub family: Arc<dyn DynFamily>,
    /// The zone names of the `topology` section, in order (empty without one); shared, as
    /// every node id read clones the facts.
    pub zones: Arc<[String]>,
}

thread_local! {
    static FACTS: RefCell<Option<Facts>> = const { RefCell::new(None) };
    /// Why the last node id was refused. A fault's target is read as "a node id or a target"
    /// (serde's untagged enums), which replaces the reason an alternative failed with a
    /// generic message; the parse puts this one back (see `scenario::ron_error`).
    static NODE_REFUSED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Takes the reason the last node id was refused, if any (and forgets it).
pub fn take_node_refusal() -> Option<String> {
    NODE_REFUSED.with(|c| c.borrow_mut().take())
}

/// Runs `f` with `facts` in force on this thread.
pub fn with_facts<T>(facts: Facts, f: impl FnOnce() -> T) -> T {
    let previous = FACTS.with(|c| c.replace(Some(facts)));
    let out = f();
    FACTS.with(|c| *c.borrow_mut() = previous);
    out
}

/// The facts in force on this thread, if a parse is running.
pub(super) fn facts() -> Option<Facts> {
    FACTS.with(|c| c.borrow().clone())
}

fn second() -> Option<SecondPass> {
    facts().and_then(|f| f.second)
}

/// The family, in the second pass.
pub(super) fn second_family() -> Option<Arc<dyn DynFamily>> {
    second().map(|f| f.family)
}

/// The closest of `candidates` to `name` when it is close enough to be a likely typo:
/// " (did you mean `X`?)", or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .min();
    match best {
        Some((d, c)) if d <= 2.max(name.len() / 3) && c != name => {
            format!(" (did you mean `{c}`?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(de::Error::custom(format!(
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
        if let Some(f) = second()
            && id as usize >= f.nodes
        {
            let why = format!(
                "node {id} does not exist: this scenario has {} nodes, ids 0 to {}",
                f.nodes,
                f.nodes - 1
            );
            NODE_REFUSED.with(|c| *c.borrow_mut() = Some(why.clone()));
            return Err(de::Error::custom(why));
        }
        Ok(NodeRef(id))
    }
}

impl sim::NodeNaming for NodeRef {
    /// In the second pass, a zone must be one the `topology` section names.
    fn check_zone(name: &str) -> Result<(), String> {
        let Some(f) = second() else {
            return Ok(());
        };
        zone_exists(&f.zones, name).inspect_err(|why| {
            NODE_REFUSED.with(|c| *c.borrow_mut() = Some(why.clone()));
        })
    }
}

/// Whether `name` is one of `zones`, with a message naming them (and the closest) if not.
fn zone_exists(zones: &[String], name: &str) -> Result<(), String> {
    if zones.iter().any(|z| z == name) {
        return Ok(());
    }
    if zones.is_empty() {
        return Err(format!(
            "zone `{name}` does not exist: this scenario has no `topology` section naming zones"
        ));
    }
    Err(format!(
        "zone `{name}` does not exist{}; the topology's zones are: {}",
        did_you_mean(name, zones.iter().map(String::as_str)),
        zones.join(", ")
    ))
}

/// A zone the `topology` section names, by name: `"dc1"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ZoneRef(pub String);

impl<'de> Deserialize<'de> for ZoneRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if let Some(f) = second() {
            zone_exists(&f.zones, &name).map_err(de::Error::custom)?;
        }
        Ok(ZoneRef(name))
    }
}

/// The time of a timed fault: within the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FaultTime(pub Dur);

impl<'de> Deserialize<'de> for FaultTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let at = Dur::deserialize(d)?;
        if let Some(f) = second()
            && at > f.duration
        {
            return Err(de::Error::custom(format!(
                "a fault at {at} is after the end of the run (duration {})",
                f.duration
            )));
        }
        Ok(FaultTime(at))
    }
}

/// The family's description of `name`, or an error listing what it offers.
fn offered<E: de::Error>(family: &dyn DynFamily, name: &str) -> Result<InvariantInfo, E> {
    let offered = family.invariants();
    offered
        .iter()
        .find(|i| i.invariant.name() == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|i| i.invariant.name()).collect();
            E::custom(format!(
                "the {} protocol does not offer the invariant {name}{}; it offers: {}",
                family.name(),
                did_you_mean(name, names.iter().copied()),
                names.join(", ")
            ))
        })
}

/// A placeholder for first-pass values that need the family (replaced by the second pass).
const PLACEHOLDER: Invariant = Invariant::new("Unresolved");

/// A check the protocol family offers: `ElectionSafety`, or `LeaderWithin("2s")` for the
/// invariants that take a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckRef(pub Check);

impl<'de> Deserialize<'de> for CheckRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(f) = second() else {
            IgnoredAny::deserialize(d)?;
            return Ok(CheckRef(Check::of(PLACEHOLDER)));
        };
        struct V(Arc<dyn DynFamily>);
        impl<'de> Visitor<'de> for V {
            type Value = CheckRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an invariant, such as ElectionSafety or LeaderWithin(\"2s\")")
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<CheckRef, A::Error> {
                let (name, variant) = data.variant_seed(Identifier)?;
                let info = offered::<A::Error>(self.0.as_ref(), &name)?;
                let inv = info.invariant;
                if info.deadline {
                    let d: Dur = variant.newtype_variant().map_err(|_| {
                        de::Error::custom(format!(
                            "{inv} takes a deadline counted from the last fault: {inv}(\"2s\")"
                        ))
                    })?;
                    Ok(CheckRef(Check::within(inv, d)))
                } else {
                    variant.unit_variant().map_err(|_| {
                        de::Error::custom(format!("{inv} takes no parameter: write {inv}"))
                    })?;
                    Ok(CheckRef(Check::of(inv)))
                }
            }
        }
        d.deserialize_enum("Check", &[], V(f.family))
    }
}

impl Serialize for CheckRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = self.0.invariant.name();
        match self.0.deadline {
            Some(d) => s.serialize_newtype_variant("Check", 0, name, &d),
            None => s.serialize_unit_variant("Check", 0, name),
        }
    }
}

/// `expect:` — `Holds` or `Violates(Invariant)`, an invariant the family offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectSpec(pub Expect);

impl<'de> Deserialize<'de> for ExpectSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let family = second().map(|f| f.family);
        struct V(Option<Arc<dyn DynFamily>>);
        impl<'de> Visitor<'de> for V {
            type Value = ExpectSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Holds or Violates(Invariant)")
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<ExpectSpec, A::Error> {
                let (name, variant) = data.variant_seed(Identifier)?;
                match name.as_str() {
                    "Holds" => {
                        variant.unit_variant()?;
                        Ok(ExpectSpec(Expect::Holds))
                    }
                    "Violates" => {
                        let inv: String = variant.newtype_variant_seed(Identifier)?;
                        let Some(family) = self.0 else {
                            return Ok(ExpectSpec(Expect::Violates(PLACEHOLDER)));
                        };
                        let info = offered::<A::Error>(family.as_ref(), &inv)?;
                        Ok(ExpectSpec(Expect::Violates(info.invariant)))
                    }
                    other => Err(de::Error::custom(format!(
                        "expected Holds or Violates(Invariant), got {other}{}",
                        did_you_mean(other, ["Holds", "Violates"])
                    ))),
                }
            }
        }
        d.deserialize_enum("Expect", &["Holds", "Violates"], V(family))
    }
}

impl Serialize for ExpectSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Expect::Holds => s.serialize_unit_variant("Expect", 0, "Holds"),
            Expect::Violates(i) => {
                s.serialize_newtype_variant("Expect", 1, "Violates", &Bare(i.name()))
            }
        }
    }
}

/// An identifier written bare (`LogMatching`), read as a string.
pub(super) struct Identifier;

impl<'de> DeserializeSeed<'de> for Identifier {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_string())
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A name written bare: serialized as a unit variant so RON prints `LogMatching`, not a string.
struct Bare(&'static str);

impl Serialize for Bare {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit_variant("Invariant", 0, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_ignore_strangers() {
        let names = ["ElectionSafety", "LogMatching", "Linearizable"];
        assert_eq!(
            did_you_mean("Linearizible", names),
            " (did you mean `Linearizable`?)"
        );
        assert_eq!(
            did_you_mean("logmatching", names),
            " (did you mean `LogMatching`?)"
        );
        assert_eq!(did_you_mean("Zebra", names), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
