//! docs/scenario-format.md cannot drift from the parser: every `ron` block in it must parse.
//! A block that starts with `Scenario(` is a whole file; any other block is a field (or
//! fields) and is parsed inside a minimal scenario of the protocol the block's fields suit.

use faultline::scenario::parse;

fn ron_blocks(doc: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut cur: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("```ron") => cur = Some((i + 1, String::new())),
            (Some(_), l) if l.starts_with("```") => out.push(cur.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// A minimal scenario around a field fragment. Fragments that mention a family's fields get
/// that family; the rest get Raft with 5 nodes and a 30 s run (long enough for any example).
fn wrap(fragment: &str) -> String {
    let t = fragment.trim().trim_end_matches(',');
    if t.starts_with("protocol:") {
        // Gossip examples use partial views that need more nodes than the view's degree.
        return format!("Scenario(name: \"doc\", nodes: 20, duration: \"30s\", {t})");
    }
    let protocol = if t.contains("NoSplitBrain") || t.contains("PrimaryWithin") {
        "Failover(())"
    } else if t.contains("Updates(")
        || t.contains("ConvergedWithin")
        || t.contains("NoInventedValues")
    {
        "Gossip(())"
    } else {
        "Raft(())"
    };
    format!("Scenario(name: \"doc\", protocol: {protocol}, nodes: 5, duration: \"30s\", {t})")
}

#[test]
fn every_ron_example_in_the_format_doc_parses() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/scenario-format.md"
    ))
    .unwrap();
    let blocks = ron_blocks(&doc);
    assert!(
        blocks.len() >= 8,
        "expected the doc's examples, found {}",
        blocks.len()
    );
    let mut failures = vec![];
    for (line, text) in &blocks {
        let full = if text.trim_start().starts_with("Scenario(") {
            text.clone()
        } else {
            wrap(text)
        };
        if let Err(e) = parse(
            &format!("docs/scenario-format.md (block at line {line})"),
            &full,
        ) {
            failures.push(format!("{e}\n--- block ---\n{text}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} doc examples do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
