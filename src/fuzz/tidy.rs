//! Shrunk files written for people: the fields that hold their default are left out.
//!
//! A scenario serializes with every field present, so a shrunk file would repeat forty
//! defaults around the three lines that matter. The tidy text keeps only what differs from a
//! scenario that sets nothing but `name`, `protocol` and the family's workload (those
//! defaults come from the same parser, so leaving them out changes nothing), laid out one
//! field per line where a line would be long. It is checked by parsing it back: when that
//! does not give the same scenario, the full text is written instead.

use super::campaign::to_text;
use crate::scenario::{self, Scenario};
use crate::sweep::tree::{self, Node};
use protocols::family::Registry;

/// Top-level fields a file must write even when they equal the comparison scenario's.
const REQUIRED: &[&str] = &["name", "protocol"];

/// Lines longer than this are broken, one field or item per line.
const WIDTH: usize = 96;

/// The scenario as a file, defaults left out; the full text when the short one does not read
/// back as the same scenario.
pub fn minimal_text(registry: &Registry, s: &Scenario) -> String {
    let full = to_text(s);
    short_text(registry, s, &full).unwrap_or(full)
}

fn short_text(registry: &Registry, s: &Scenario, full: &str) -> Option<String> {
    let family = s.protocol.family.as_ref();
    let defaults = format!(
        "Scenario(name: \"\", protocol: {}(()), workload: {}(()))",
        family.name(),
        family.workload_name()
    );
    let defaults = scenario::parse_with(registry, "defaults", &defaults).ok()?;
    let mut node = tree::parse(full).ok()?;
    prune(&mut node, &tree::parse(&to_text(&defaults)).ok()?, true);
    let text = format!("{}\n", pretty(&node, 0));
    let back = scenario::parse_with(registry, "tidy", &text).ok()?;
    (to_text(&back) == full).then_some(text)
}

/// Removes the fields of `node` equal to the same field of `default`, recursing into
/// structs and variants both have (not into lists: their items have no defaults).
fn prune(node: &mut Node, default: &Node, top: bool) {
    match (node, default) {
        (Node::Struct(name, fields), Node::Struct(default_name, defaults))
            if name == default_name =>
        {
            fields.retain_mut(|(key, value)| {
                let Some((_, d)) = defaults.iter().find(|(k, _)| k == key) else {
                    return true;
                };
                if value == d && !(top && REQUIRED.contains(&key.as_str())) {
                    return false;
                }
                prune(value, d, false);
                true
            });
        }
        (Node::Tuple(name, items), Node::Tuple(default_name, defaults))
            if name == default_name && items.len() == defaults.len() =>
        {
            for (item, d) in items.iter_mut().zip(defaults) {
                prune(item, d, false);
            }
        }
        _ => {}
    }
}

/// The node as RON text: on one line when it fits, else one field or item per line,
/// indented by four spaces per level. The top level is always broken.
fn pretty(node: &Node, indent: usize) -> String {
    let flat = node.to_string();
    if indent > 0 && indent + flat.len() <= WIDTH {
        return flat;
    }
    let pad = " ".repeat(indent + 4);
    let end = " ".repeat(indent);
    match node {
        Node::Struct(name, fields) if !fields.is_empty() => {
            let mut s = format!("{}(\n", name.as_deref().unwrap_or(""));
            for (k, v) in fields {
                s += &format!("{pad}{k}: {},\n", pretty(v, indent + 4));
            }
            s + &end + ")"
        }
        // A newtype variant around a struct (`Raft((...))`): the struct's own layout.
        Node::Tuple(name, items) if items.len() == 1 => {
            format!(
                "{}({})",
                name.as_deref().unwrap_or(""),
                pretty(&items[0], indent)
            )
        }
        Node::Tuple(name, items) if !items.is_empty() => {
            let mut s = format!("{}(\n", name.as_deref().unwrap_or(""));
            for v in items {
                s += &format!("{pad}{},\n", pretty(v, indent + 4));
            }
            s + &end + ")"
        }
        Node::List(items) if !items.is_empty() => {
            let mut s = "[\n".to_string();
            for v in items {
                s += &format!("{pad}{},\n", pretty(v, indent + 4));
            }
            s + &end + "]"
        }
        _ => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"Scenario(
        name: "t",
        protocol: Raft((pre_vote: true)),
        nodes: 5,
        duration: "4s",
        network: (latency: Uniform("1ms", "5ms")),
        workload: Kv((clients: 2)),
        faults: [(at: "1s", do: Crash(Node(1))), (at: "2s", do: Restart(Node(1)))],
    )"#;

    #[test]
    fn only_what_differs_from_the_defaults_is_written_and_it_reads_back_the_same() {
        let registry = crate::builtin::registry();
        let s = scenario::parse_with(&registry, "t.ron", FILE).unwrap();
        let text = minimal_text(&registry, &s);
        let back = scenario::parse_with(&registry, "t.ron", &text).unwrap();
        assert_eq!(to_text(&back), to_text(&s));
        for kept in [
            "pre_vote: true",
            "nodes: 5",
            "clients: 2",
            "Uniform(\"1ms\", \"5ms\")",
            "(at: \"1s\", do: Crash(Node(1)))",
        ] {
            assert!(text.contains(kept), "{kept} missing:\n{text}");
        }
        for dropped in [
            "heartbeat",
            "check_quorum",
            "keys:",
            "loss:",
            "max_events",
            "clocks",
        ] {
            assert!(!text.contains(dropped), "{dropped} kept:\n{text}");
        }
        assert!(
            text.lines().count() < to_text(&s).lines().count() / 3,
            "{text}"
        );
    }

    #[test]
    fn long_values_are_broken_one_item_per_line() {
        let node = tree::parse("(a: [1, 2], b: \"x\")").unwrap();
        assert_eq!(pretty(&node, 0), "(\n    a: [1, 2],\n    b: \"x\",\n)");
        let long = format!("[{}]", vec!["12345678"; 20].join(", "));
        let node = tree::parse(&format!("(a: {long})")).unwrap();
        assert!(pretty(&node, 0).contains("\n        12345678,\n"));
    }
}
