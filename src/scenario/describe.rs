//! What a family's scenario sections look like, for `faultline list`: every field with its
//! default, and the choices of every enum field.
//!
//! The defaults come from serializing the family's default configuration. The choices are
//! asked of the family's own deserializer: each field in turn is given a value no enum has
//! (`field: __Choices__`), and an enum field answers with serde's "unknown variant, expected
//! one of ..." listing its variants. Nothing has to be declared twice, and a user's family gets
//! the same listing as the built-in ones.

use super::ron_options;
use crate::sweep::tree::{self, Node};
use protocols::family::{AnyConfig, DynFamily};

/// The probe value: an identifier no configuration uses.
const PROBE: &str = "__Choices__";

/// One field of a section: its name, its default as RON, and its choices if it is an enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub default: String,
    pub choices: Vec<String>,
}

/// The fields of a family's configuration (`workload: false`) or workload (`true`).
pub fn fields(family: &dyn DynFamily, workload: bool) -> Vec<Field> {
    let default: Box<dyn AnyConfig> = if workload {
        family.default_workload()
    } else {
        family.default_config()
    };
    let Ok(text) = ron::to_string(&default) else {
        return vec![];
    };
    let Ok(Node::Struct(_, items)) = tree::parse(&text) else {
        return vec![];
    };
    items
        .into_iter()
        .map(|(name, value)| Field {
            choices: choices(family, workload, &name),
            default: value.to_string(),
            name,
        })
        .collect()
}

/// The variants the family's deserializer accepts for `field`, if it is an enum.
fn choices(family: &dyn DynFamily, workload: bool, field: &str) -> Vec<String> {
    let text = format!("({field}: {PROBE})");
    let Ok(mut de) = ron::Deserializer::from_str_with_options(&text, &ron_options()) else {
        return vec![];
    };
    let mut erased = <dyn erased_serde::Deserializer>::erase(&mut de);
    let read = if workload {
        family.deserialize_workload(&mut erased)
    } else {
        family.deserialize_config(&mut erased)
    };
    match read {
        Ok(_) => vec![],
        Err(e) => expected_variants(&e.to_string()),
    }
}

/// The names in serde's "unknown variant `x`, expected one of `A`, `B`" (or "expected `A` or
/// `B`"); nothing for any other message.
fn expected_variants(message: &str) -> Vec<String> {
    let Some(rest) = message
        .strip_prefix(&format!("unknown variant `{PROBE}`, expected"))
        .or_else(|| {
            message
                .find(&format!("`{PROBE}`"))
                .and_then(|i| message[i..].split_once("expected").map(|(_, r)| r))
        })
    else {
        return vec![];
    };
    rest.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_fields_list_their_variants_and_others_none() {
        let registry = protocols::builtin();
        let gossip = fields(registry.get("Gossip").unwrap().as_ref(), false);
        let style = gossip.iter().find(|f| f.name == "style").unwrap();
        assert_eq!(style.choices, ["AntiEntropy", "RumorMongering"]);
        assert_eq!(style.default, "AntiEntropy");
        let counter = gossip.iter().find(|f| f.name == "counter").unwrap();
        assert_eq!(counter.choices, ["Demers", "Cumulative"]);
        assert_eq!(counter.default, "Demers");
        let fanout = gossip.iter().find(|f| f.name == "fanout").unwrap();
        assert!(fanout.choices.is_empty());
        assert_eq!(fanout.default, "1");
        // An optional enum lists the enum's variants.
        let raft = fields(registry.get("Raft").unwrap().as_ref(), false);
        let bug = raft.iter().find(|f| f.name == "bug").unwrap();
        assert!(bug.choices.contains(&"ForgetVote".to_string()), "{bug:?}");
        let kv = fields(registry.get("Raft").unwrap().as_ref(), true);
        assert!(kv.iter().any(|f| f.name == "clients" && f.default == "4"));
    }

    #[test]
    fn serde_messages_are_read_for_their_variants() {
        assert_eq!(
            expected_variants("unknown variant `__Choices__`, expected `A` or `B`"),
            ["A", "B"]
        );
        assert_eq!(
            expected_variants("unknown variant `__Choices__`, expected one of `A`, `B`, `C`"),
            ["A", "B", "C"]
        );
        assert!(expected_variants("invalid type: string, expected u32").is_empty());
    }
}
