//! A RON syntax tree that keeps names, for setting sweep parameters by path.
//!
//! `ron::Value` forgets enum variant names (`Push` and `Pull` both become a unit), so it cannot
//! carry a scenario through an edit. This tree keeps every token as written: a scenario is
//! serialized with `ron::to_string` (every field present, defaults filled in), parsed here,
//! edited at a path like `protocol.fanout`, printed, and parsed again by `scenario::parse`,
//! which validates the result completely. The grammar is the subset `ron::to_string` writes
//! plus what people write for values: atoms (numbers, strings, identifiers, chars), named or
//! anonymous structs and tuples, lists and maps; comments are skipped.

use std::fmt;

/// One RON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A number, string literal, char, bool or unit variant, as written.
    Atom(String),
    /// `Name(a: x, b: y)` or `(a: x)`.
    Struct(Option<String>, Vec<(String, Node)>),
    /// `Name(x, y)` or `(x, y)`; newtype variants and `Some(x)` are one-item tuples.
    Tuple(Option<String>, Vec<Node>),
    /// `[x, y]`.
    List(Vec<Node>),
    /// `{k: v}`.
    Map(Vec<(Node, Node)>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Atom(s) => f.write_str(s),
            Node::Struct(name, fields) => {
                write!(f, "{}(", name.as_deref().unwrap_or(""))?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    write!(f, "{}{k}: {v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str(")")
            }
            Node::Tuple(name, items) => {
                write!(f, "{}(", name.as_deref().unwrap_or(""))?;
                for (i, v) in items.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str(")")
            }
            Node::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("]")
            }
            Node::Map(items) => {
                f.write_str("{")?;
                for (i, (k, v)) in items.iter().enumerate() {
                    write!(f, "{}{k}: {v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Parses one value; the whole text must be used.
pub fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let n = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text at byte {}", p.i));
    }
    Ok(n)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if self.s[self.i..].starts_with(b"//") {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if self.s[self.i..].starts_with(b"/*") {
                let end = self.s[self.i + 2..].windows(2).position(|w| w == b"*/");
                self.i = end.map_or(self.s.len(), |e| self.i + 2 + e + 2);
            } else {
                return;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.s[from..self.i]).into_owned()
    }

    fn value(&mut self) -> Result<Node, String> {
        // Nesting is bounded so hostile input cannot exhaust the stack.
        self.depth += 1;
        if self.depth > 64 {
            return Err("nesting deeper than 64".into());
        }
        let out = self.value_inner();
        self.depth -= 1;
        out
    }

    fn value_inner(&mut self) -> Result<Node, String> {
        let c = self.peek().ok_or("expected a value, found the end")?;
        let start = self.i;
        match c {
            b'"' | b'\'' => {
                self.i += 1;
                while self.i < self.s.len() && self.s[self.i] != c {
                    self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
                }
                if self.i >= self.s.len() {
                    return Err("unterminated string".into());
                }
                self.i += 1;
                Ok(Node::Atom(self.text(start)))
            }
            b'[' => {
                self.i += 1;
                let items = self.items(b']', |p| p.value())?;
                Ok(Node::List(items))
            }
            b'{' => {
                self.i += 1;
                let items = self.items(b'}', |p| {
                    let k = p.value()?;
                    p.expect(b':')?;
                    Ok((k, p.value()?))
                })?;
                Ok(Node::Map(items))
            }
            b'(' => self.group(None),
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'+' || c == b'.' => {
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b"_-+.".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                let word = self.text(start);
                if self.peek() == Some(b'(') && !c.is_ascii_digit() {
                    self.group(Some(word))
                } else {
                    Ok(Node::Atom(word))
                }
            }
            other => Err(format!("unexpected '{}' at byte {}", other as char, self.i)),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed).
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut out = vec![];
        loop {
            if self.eat(close) {
                return Ok(out);
            }
            out.push(item(self)?);
            if !self.eat(b',') {
                self.expect(close)?;
                return Ok(out);
            }
        }
    }

    /// `(` already peeked: a struct when the first item is `ident:`, else a tuple.
    fn group(&mut self, name: Option<String>) -> Result<Node, String> {
        self.expect(b'(')?;
        let save = self.i;
        let is_struct = {
            self.ws();
            let s = self.i;
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
            {
                self.i += 1;
            }
            let word = self.i > s && !self.s[s].is_ascii_digit();
            let colon = self.peek() == Some(b':');
            self.i = save;
            word && colon
        };
        if is_struct {
            let fields = self.items(b')', |p| {
                p.ws();
                let s = p.i;
                while p.i < p.s.len() && (p.s[p.i].is_ascii_alphanumeric() || p.s[p.i] == b'_') {
                    p.i += 1;
                }
                let key = p.text(s);
                p.expect(b':')?;
                Ok((key, p.value()?))
            })?;
            Ok(Node::Struct(name, fields))
        } else {
            Ok(Node::Tuple(name, self.items(b')', |p| p.value())?))
        }
    }
}

/// Sets the value at a dotted path (`protocol.fanout`, `network.latency`). A one-item tuple
/// on the way (a newtype variant such as `Gossip(..)`, or `Some(..)`) is looked through, so
/// paths name fields only. A struct field that is absent is added.
pub fn set(root: &mut Node, path: &str, value: Node) -> Result<(), String> {
    let mut at = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, key) in parts.iter().enumerate() {
        while let Node::Tuple(_, items) = at {
            if items.len() != 1 {
                return Err(format!(
                    "`{}` is not a structure with fields",
                    parts[..i].join(".")
                ));
            }
            at = &mut items[0];
        }
        let Node::Struct(_, fields) = at else {
            return Err(format!(
                "`{}` has no field `{key}`",
                if i == 0 {
                    "the scenario".to_string()
                } else {
                    parts[..i].join(".")
                }
            ));
        };
        let pos = match fields.iter().position(|(k, _)| k == key) {
            Some(p) => p,
            None if i + 1 == parts.len() => {
                fields.push((key.to_string(), Node::Atom("()".into())));
                fields.len() - 1
            }
            None => return Err(format!("no field `{}`", parts[..=i].join("."))),
        };
        at = &mut fields[pos].1;
    }
    *at = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sets_through_newtypes() {
        let text = r#"(name: "a, b", protocol: Gossip((direction: Push, k: 2)), latency: Uniform("1ms", "5ms"), xs: [1, -2.5e3], m: {"a": 1}, o: Some((x: 1)))"#;
        let mut n = parse(text).unwrap();
        assert_eq!(parse(&n.to_string()).unwrap(), n);
        set(&mut n, "protocol.direction", parse("PushPull").unwrap()).unwrap();
        set(&mut n, "o.x", parse("7").unwrap()).unwrap();
        set(&mut n, "protocol.fanout", parse("3").unwrap()).unwrap();
        let out = n.to_string();
        assert!(
            out.contains("Gossip((direction: PushPull, k: 2, fanout: 3))"),
            "{out}"
        );
        assert!(out.contains("o: Some((x: 7))"), "{out}");
        assert!(set(&mut n, "name.x", parse("1").unwrap()).is_err());
        assert!(set(&mut n, "nope.x", parse("1").unwrap()).is_err());
        assert!(parse("(a: [1, 2)").is_err());
    }
}
