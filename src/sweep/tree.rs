//! A RON syntax tree that keeps names, for setting sweep parameters by path.
//!
//! `ron::Value` forgets enum variant names (`Push` and `Pull` both become a unit), so it cannot
//! carry a scenario through an edit. This tree keeps every token as written: a scenario is
//! serialized with `ron::to_string` (every field present, defaults filled in), parsed here,
//! edited at a path like `protocol.fanout` or `faults[0].at`, printed, and parsed again by
//! `scenario::parse`, which validates the result completely. The grammar is what RON files
//! hold: atoms (numbers, strings, raw and byte strings, identifiers, chars), named or
//! anonymous structs and tuples, lists and maps; comments (nested block comments too) and
//! `#![enable(..)]` attributes are skipped.
//!
//! [`parse_located`] keeps where each value was written (byte offsets), so errors about a
//! sweep file can point into it; [`parse_path`] and [`find`] read and follow a path with
//! errors that say, in the scenario's terms, which part of it does not exist.

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

/// Where a parse stopped: a byte offset into the text and what was wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the text.
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

/// A value with where it was written: `start..end` are byte offsets into the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The shape of a [`Located`] value (a [`Node`] whose parts are located too).
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Atom(String),
    Struct(Option<String>, Vec<Field>),
    Tuple(Option<String>, Vec<Located>),
    List(Vec<Located>),
    Map(Vec<(Located, Located)>),
}

/// A struct field with where its name was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: String,
    /// Byte offset of the field's name.
    pub key_at: usize,
    pub value: Located,
}

impl Located {
    /// The value without positions.
    pub fn to_node(&self) -> Node {
        match &self.kind {
            Kind::Atom(a) => Node::Atom(a.clone()),
            Kind::Struct(n, fields) => Node::Struct(
                n.clone(),
                fields
                    .iter()
                    .map(|f| (f.key.clone(), f.value.to_node()))
                    .collect(),
            ),
            Kind::Tuple(n, items) => {
                Node::Tuple(n.clone(), items.iter().map(Located::to_node).collect())
            }
            Kind::List(items) => Node::List(items.iter().map(Located::to_node).collect()),
            Kind::Map(items) => Node::Map(
                items
                    .iter()
                    .map(|(k, v)| (k.to_node(), v.to_node()))
                    .collect(),
            ),
        }
    }

    /// The field `key` of a struct (the first, if written twice).
    pub fn field(&self, key: &str) -> Option<&Field> {
        match &self.kind {
            Kind::Struct(_, fields) => fields.iter().find(|f| f.key == key),
            _ => None,
        }
    }

    /// The items of a list (none for anything else).
    pub fn items(&self) -> &[Located] {
        match &self.kind {
            Kind::List(items) => items,
            _ => &[],
        }
    }
}

/// The deepest nesting a parse accepts, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses one value; the whole text must be used.
pub fn parse(text: &str) -> Result<Node, String> {
    parse_located(text)
        .map(|l| l.to_node())
        .map_err(|e| e.to_string())
}

/// Parses one value, keeping where each part was written; the whole text must be used.
pub fn parse_located(text: &str) -> Result<Located, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    let n = p.value()?;
    p.ws()?;
    if p.i < p.s.len() {
        return Err(p.unexpected("after the value"));
    }
    Ok(n)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_-+.".contains(&c) || c >= 0x80
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl Parser<'_> {
    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            at,
            message: message.into(),
        })
    }

    /// "unexpected 'x' {context}", with the character decoded whole.
    fn unexpected(&self, context: &str) -> ParseError {
        let c = self
            .text
            .get(self.i..)
            .and_then(|t| t.chars().next())
            .unwrap_or('?');
        ParseError {
            at: self.i,
            message: format!("unexpected {c:?} {context}"),
        }
    }

    /// Skips whitespace, comments (block comments nest, as in RON) and `#![..]` attributes.
    fn ws(&mut self) -> Result<(), ParseError> {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            let rest = &self.s[self.i..];
            if rest.starts_with(b"//") {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if rest.starts_with(b"/*") {
                let open = self.i;
                let mut level = 0usize;
                loop {
                    let rest = &self.s[self.i..];
                    if rest.is_empty() {
                        return self.err(open, "unclosed block comment");
                    } else if rest.starts_with(b"/*") {
                        level += 1;
                        self.i += 2;
                    } else if rest.starts_with(b"*/") {
                        level -= 1;
                        self.i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        self.i += 1;
                    }
                }
            } else if rest.starts_with(b"#![") {
                match rest.iter().position(|&c| c == b']') {
                    Some(end) => self.i += end + 1,
                    None => return self.err(self.i, "unclosed attribute"),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, ParseError> {
        self.ws()?;
        Ok(self.s.get(self.i).copied())
    }

    fn eat(&mut self, c: u8) -> Result<bool, ParseError> {
        if self.peek()? == Some(c) {
            self.i += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn text(&self, from: usize) -> String {
        self.text.get(from..self.i).unwrap_or_default().to_string()
    }

    fn value(&mut self) -> Result<Located, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let at = self.i;
            return self.err(at, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let out = self.value_inner();
        self.depth -= 1;
        out
    }

    fn located(&self, start: usize, kind: Kind) -> Located {
        Located {
            start,
            end: self.i,
            kind,
        }
    }

    /// A quoted string or char from `self.i` (at the quote), escapes skipped.
    fn quoted(&mut self, start: usize) -> Result<(), ParseError> {
        let q = self.s[self.i];
        self.i += 1;
        while self.i < self.s.len() && self.s[self.i] != q {
            self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
        }
        if self.i >= self.s.len() {
            self.i = self.s.len();
            return self.err(start, "unterminated string");
        }
        self.i += 1;
        Ok(())
    }

    /// A raw string from `self.i` (at the first `#` or the quote): `r#"..."#`.
    fn raw(&mut self, start: usize) -> Result<(), ParseError> {
        let hashes = self.s[self.i..].iter().take_while(|&&c| c == b'#').count();
        self.i += hashes;
        if self.s.get(self.i) != Some(&b'"') {
            return Err(self.unexpected("in a raw string"));
        }
        self.i += 1;
        let mut close = vec![b'"'];
        close.extend(std::iter::repeat_n(b'#', hashes));
        match self.s[self.i..]
            .windows(close.len())
            .position(|w| w == close)
        {
            Some(e) => {
                self.i += e + close.len();
                Ok(())
            }
            None => {
                self.i = self.s.len();
                self.err(start, "unterminated raw string")
            }
        }
    }

    fn value_inner(&mut self) -> Result<Located, ParseError> {
        let Some(c) = self.peek()? else {
            let at = self.i;
            return self.err(at, "expected a value, found the end");
        };
        let start = self.i;
        match c {
            b'"' | b'\'' => {
                self.quoted(start)?;
                Ok(self.located(start, Kind::Atom(self.text(start))))
            }
            b'[' => {
                self.i += 1;
                let items = self.items(b']', |p| p.value())?;
                Ok(self.located(start, Kind::List(items)))
            }
            b'{' => {
                self.i += 1;
                let items = self.items(b'}', |p| {
                    let k = p.value()?;
                    p.expect(b':')?;
                    Ok((k, p.value()?))
                })?;
                Ok(self.located(start, Kind::Map(items)))
            }
            b'(' => self.group(start, None),
            c if is_word(c) => {
                while self.i < self.s.len() && is_word(self.s[self.i]) {
                    self.i += 1;
                }
                let word = self.text(start);
                let next = self.s.get(self.i).copied();
                // Raw and byte strings (`r"..."`, `r#"..."#`, `b"..."`, `br"..."`), raw
                // identifiers (`r#type`).
                match (word.as_str(), next) {
                    ("r" | "br", Some(b'"' | b'#'))
                        if next == Some(b'"')
                            || self.s[self.i..].iter().find(|&&c| c != b'#') == Some(&b'"') =>
                    {
                        self.raw(start)?;
                        return Ok(self.located(start, Kind::Atom(self.text(start))));
                    }
                    ("r", Some(b'#')) => {
                        self.i += 1;
                        while self.i < self.s.len() && is_ident(self.s[self.i]) {
                            self.i += 1;
                        }
                    }
                    ("b", Some(b'"' | b'\'')) => {
                        self.quoted(start)?;
                        return Ok(self.located(start, Kind::Atom(self.text(start))));
                    }
                    _ => {}
                }
                let word = self.text(start);
                if self.peek()? == Some(b'(') && !c.is_ascii_digit() {
                    self.group(start, Some(word))
                } else {
                    let end = start + word.len();
                    Ok(Located {
                        start,
                        end,
                        kind: Kind::Atom(word),
                    })
                }
            }
            _ => Err(self.unexpected("where a value should be")),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.eat(c)? {
            Ok(())
        } else if self.i >= self.s.len() {
            self.err(self.i, format!("expected '{}', found the end", c as char))
        } else {
            Err(self.unexpected(&format!("where '{}' should be", c as char)))
        }
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed).
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        let mut out = vec![];
        loop {
            if self.eat(close)? {
                return Ok(out);
            }
            out.push(item(self)?);
            if !self.eat(b',')? {
                self.expect(close)?;
                return Ok(out);
            }
        }
    }

    /// `(` next: a struct when the first item is `ident:`, else a tuple.
    fn group(&mut self, start: usize, name: Option<String>) -> Result<Located, ParseError> {
        self.expect(b'(')?;
        let save = self.i;
        self.ws()?;
        let s = self.i;
        while self.i < self.s.len() && is_ident(self.s[self.i]) {
            self.i += 1;
        }
        let word = self.i > s && !self.s[s].is_ascii_digit();
        // `a: x` starts a struct; `a::b` does not occur in RON values.
        let colon = self.peek()? == Some(b':');
        self.i = save;
        if word && colon {
            let fields = self.items(b')', |p| {
                p.ws()?;
                let key_at = p.i;
                while p.i < p.s.len() && is_ident(p.s[p.i]) {
                    p.i += 1;
                }
                if p.i == key_at {
                    return Err(p.unexpected("where a field name should be"));
                }
                let key = p.text(key_at);
                p.expect(b':')?;
                Ok(Field {
                    key,
                    key_at,
                    value: p.value()?,
                })
            })?;
            Ok(self.located(start, Kind::Struct(name, fields)))
        } else {
            let items = self.items(b')', |p| p.value())?;
            Ok(self.located(start, Kind::Tuple(name, items)))
        }
    }
}

/// One step of a path: a field name or an index into a list (or a tuple of several items).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// A path that cannot be read or followed: the byte offset of the step at fault in the path
/// text, and why, in the scenario's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads a path: field names separated by dots, each followed by any number of `[index]`:
/// `nodes`, `protocol.fanout`, `faults[0].at`, `network.overrides[1].latency`. Each step comes
/// with its byte offset in `path`.
pub fn parse_path(path: &str) -> Result<Vec<(usize, Step)>, PathError> {
    let b = path.as_bytes();
    let err = |at: usize, message: String| Err(PathError { at, message });
    if path.trim().is_empty() {
        return err(
            0,
            "the path is empty: name a field of the scenario, such as `nodes` or \
             `protocol.fanout`"
                .into(),
        );
    }
    let mut steps = vec![];
    let mut i = 0;
    loop {
        let s = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if i == s {
            let what = match b.get(i) {
                None => "the path ends where a field name should be".to_string(),
                Some(b'.') => "two dots in a row: a field name is missing between them".into(),
                Some(_) => format!(
                    "unexpected {:?} where a field name should be",
                    path[i..].chars().next().unwrap_or('?')
                ),
            };
            return err(i, what);
        }
        steps.push((s, Step::Field(path[s..i].to_string())));
        while b.get(i) == Some(&b'[') {
            let open = i;
            i += 1;
            let d = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == d || b.get(i) != Some(&b']') {
                return err(
                    open,
                    "expected an index such as [0]: a number in square brackets".into(),
                );
            }
            let Ok(n) = path[d..i].parse::<usize>() else {
                return err(d, format!("index {} is too large", &path[d..i]));
            };
            i += 1;
            steps.push((open, Step::Index(n)));
        }
        match b.get(i) {
            None => return Ok(steps),
            Some(b'.') => i += 1,
            Some(_) => {
                return err(
                    i,
                    format!(
                        "unexpected {:?} in the path: fields are separated by dots and \
                         indices written [0]",
                        path[i..].chars().next().unwrap_or('?')
                    ),
                );
            }
        }
    }
}

/// A path written back: `faults[0].at`.
pub fn show_path(steps: &[(usize, Step)]) -> String {
    let mut s = String::new();
    for (_, step) in steps {
        match step {
            Step::Field(f) if s.is_empty() => s.push_str(f),
            Step::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A value as it reads in a message: on one line, shortened when long.
fn short(n: &Node) -> String {
    let s = n.to_string();
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(37).collect::<String>())
    } else {
        s
    }
}

/// Follows `steps` from `root` and returns the route to the value they name (the index of
/// the child taken at each level, one-item tuples included). A one-item tuple on the way (a
/// variant such as `Gossip(..)`, or `Some(..)`) is looked through, so a path names fields and
/// indices only. Every step must exist: a field missing from a struct, an index beyond a list,
/// a field of a plain value are errors that say what is there instead.
pub fn find(root: &Node, steps: &[(usize, Step)]) -> Result<Vec<usize>, PathError> {
    let mut at = root;
    let mut route = vec![];
    for (k, (offset, step)) in steps.iter().enumerate() {
        while let Node::Tuple(_, items) = at
            && items.len() == 1
        {
            route.push(0);
            at = &items[0];
        }
        let prefix = show_path(&steps[..k]);
        let here = show_path(&steps[..=k]);
        let fail = |message: String| {
            Err(PathError {
                at: *offset,
                message,
            })
        };
        // What `prefix` is, when a step cannot go into it.
        let not_into = |node: &Node| -> String {
            match node {
                Node::Atom(a) if a == "None" => format!(
                    "`{prefix}` is not set in the base scenario (it is None): set it there to \
                     sweep what is inside it"
                ),
                Node::Atom(a) => format!("`{prefix}` is a single value ({a}), with nothing inside"),
                Node::Map(_) => format!("`{prefix}` is a map: sweep paths cannot go inside maps"),
                other => format!("`{prefix}` is {}", short(other)),
            }
        };
        let next = match (step, at) {
            (Step::Field(name), Node::Struct(_, fields)) => {
                match fields.iter().position(|(f, _)| f == name) {
                    Some(p) => p,
                    None => {
                        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                        let dym = crate::scenario::validate::did_you_mean(name, names.clone());
                        return fail(if prefix.is_empty() {
                            format!(
                                "the scenario has no field `{name}`{dym}; its fields are: {}",
                                names.join(", ")
                            )
                        } else {
                            format!(
                                "the scenario has no field `{name}` under `{prefix}`{dym}; the \
                                 fields there are: {}",
                                names.join(", ")
                            )
                        });
                    }
                }
            }
            (Step::Field(name), Node::List(_)) => {
                return fail(format!(
                    "`{prefix}` is a list: pick an item by its index, as in `{prefix}[0].{name}`"
                ));
            }
            (Step::Field(_), Node::Tuple(..)) => {
                return fail(format!(
                    "`{prefix}` is {}, which has no named fields (its items are `{prefix}[0]`, \
                     `{prefix}[1]`, ...)",
                    short(at)
                ));
            }
            (Step::Field(_), other) => return fail(not_into(other)),
            (Step::Index(i), Node::List(items) | Node::Tuple(_, items)) => {
                if *i < items.len() {
                    *i
                } else {
                    let noun = match steps[..k].last() {
                        Some((_, Step::Field(f))) => f.as_str(),
                        _ => "items",
                    };
                    let n = items.len();
                    let has = match n {
                        0 => format!("has no {noun}"),
                        1 if noun.len() > 1 && noun.ends_with('s') => {
                            format!("has 1 {} (`{prefix}[0]`)", &noun[..noun.len() - 1])
                        }
                        1 => format!("has 1 item in `{prefix}` (`{prefix}[0]`)"),
                        _ if matches!(at, Node::List(_)) => {
                            format!("has {n} {noun} (`{prefix}[0]` to `{prefix}[{}]`)", n - 1)
                        }
                        _ => format!(
                            "has {n} items in `{prefix}` (`{prefix}[0]` to `{prefix}[{}]`)",
                            n - 1
                        ),
                    };
                    let lead = if k + 1 < steps.len() {
                        format!("{here}: ")
                    } else {
                        String::new()
                    };
                    return fail(format!("{lead}the base scenario {has}"));
                }
            }
            (Step::Index(_), Node::Struct(_, fields)) => {
                let first = fields.first().map_or("field", |(f, _)| f.as_str());
                return fail(format!(
                    "`{prefix}` has named fields, not numbered items: write `{prefix}.{first}`"
                ));
            }
            (Step::Index(_), Node::Atom(a)) if a != "None" => {
                return fail(format!("`{prefix}` is a single value ({a}), not a list"));
            }
            (Step::Index(_), other) => return fail(not_into(other)),
        };
        route.push(next);
        at = child(at, next).unwrap_or(at);
    }
    Ok(route)
}

fn child(n: &Node, i: usize) -> Option<&Node> {
    match n {
        Node::Struct(_, fields) => fields.get(i).map(|f| &f.1),
        Node::Tuple(_, items) | Node::List(items) => items.get(i),
        _ => None,
    }
}

/// The value at the end of a route from [`find`].
pub fn at_route_mut<'a>(root: &'a mut Node, route: &[usize]) -> Option<&'a mut Node> {
    let mut at = root;
    for &i in route {
        at = match at {
            Node::Struct(_, fields) => &mut fields.get_mut(i)?.1,
            Node::Tuple(_, items) | Node::List(items) => items.get_mut(i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Sets the value at a path (`protocol.fanout`, `network.latency`, `faults[0].at`). A one-item
/// tuple on the way (a newtype variant such as `Gossip(..)`, or `Some(..)`) is looked through,
/// so paths name fields and indices only. Every step must exist (see [`find`]).
pub fn set(root: &mut Node, path: &str, value: Node) -> Result<(), String> {
    let steps = parse_path(path).map_err(|e| e.message)?;
    let route = find(root, &steps).map_err(|e| e.message)?;
    let slot = at_route_mut(root, &route).ok_or("the path does not lead to a value")?;
    *slot = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sets_through_newtypes() {
        let text = r#"(name: "a, b", protocol: Gossip((direction: Push, k: 2, fanout: 1)), latency: Uniform("1ms", "5ms"), xs: [1, -2.5e3], m: {"a": 1}, o: Some((x: 1)))"#;
        let mut n = parse(text).unwrap();
        assert_eq!(parse(&n.to_string()).unwrap(), n);
        set(&mut n, "protocol.direction", parse("PushPull").unwrap()).unwrap();
        set(&mut n, "o.x", parse("7").unwrap()).unwrap();
        set(&mut n, "protocol.fanout", parse("3").unwrap()).unwrap();
        set(&mut n, "xs[1]", parse("4").unwrap()).unwrap();
        set(&mut n, "latency[0]", parse("\"2ms\"").unwrap()).unwrap();
        let out = n.to_string();
        assert!(
            out.contains("Gossip((direction: PushPull, k: 2, fanout: 3))"),
            "{out}"
        );
        assert!(out.contains("o: Some((x: 7))"), "{out}");
        assert!(out.contains("xs: [1, 4]"), "{out}");
        assert!(out.contains(r#"latency: Uniform("2ms", "5ms")"#), "{out}");
        assert!(set(&mut n, "name.x", parse("1").unwrap()).is_err());
        assert!(set(&mut n, "nope.x", parse("1").unwrap()).is_err());
        // A field the tree does not have is not added: paths must exist.
        assert!(set(&mut n, "protocol.fanot", parse("1").unwrap()).is_err());
        assert!(parse("(a: [1, 2)").is_err());
    }

    #[test]
    fn located_values_know_where_they_were_written() {
        let text = "Sweep(\n  params: [(path: \"a.b\", values: [1, Uniform(\"1ms\", \"2ms\")])], // c\n  /* x /* nested */ y */ s: r#\"q\"#,\n)";
        let l = parse_located(text).unwrap();
        let params = &l.field("params").unwrap().value;
        let p = &params.items()[0];
        let path = &p.field("path").unwrap().value;
        assert_eq!(&text[path.start..path.end], "\"a.b\"");
        let values = p.field("values").unwrap().value.items();
        assert_eq!(
            &text[values[1].start..values[1].end],
            "Uniform(\"1ms\", \"2ms\")"
        );
        let s = l.field("s").unwrap();
        assert_eq!(&text[s.key_at..s.value.end], "s: r#\"q\"#");
        assert_eq!(
            parse_located("(a: [1, 2)").unwrap_err(),
            ParseError {
                at: 9,
                message: "unexpected ')' where ']' should be".into()
            }
        );
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&deep).unwrap_err().contains("nested more than 64"));
        assert!(parse("\"abc\\").is_err());
        assert!(parse("/* open").is_err());
        assert_eq!(parse("é"), Ok(Node::Atom("é".into())));
        assert_eq!(
            parse_located("[1, @]").unwrap_err().message,
            "unexpected '@' where a value should be"
        );
    }

    #[test]
    fn paths_index_lists_and_say_what_is_missing() {
        let root = parse(
            r#"(protocol: Gossip((fanout: 1, period: "1s")), faults: [(at: "1s"), (at: "2s")], checks: Some([A, B]), nemesis: None, nodes: 3, timeout: ("1ms", "2ms"))"#,
        )
        .unwrap();
        let walk = |p: &str| find(&root, &parse_path(p).unwrap());
        assert_eq!(walk("faults[1].at"), Ok(vec![1, 1, 0]));
        assert_eq!(walk("checks[1]"), Ok(vec![2, 0, 1]));
        assert_eq!(walk("protocol.period"), Ok(vec![0, 0, 1]));
        assert_eq!(
            walk("faults[3].at").unwrap_err(),
            PathError {
                at: 6,
                message: "faults[3]: the base scenario has 2 faults (`faults[0]` to `faults[1]`)"
                    .into()
            }
        );
        let e = walk("protocol.fanot").unwrap_err();
        assert_eq!(e.at, 9);
        assert!(
            e.message.starts_with(
                "the scenario has no field `fanot` under `protocol` (did you mean `fanout`?)"
            ),
            "{e}"
        );
        assert!(
            walk("nemesis.faults")
                .unwrap_err()
                .message
                .contains("not set")
        );
        assert!(
            walk("faults.at")
                .unwrap_err()
                .message
                .contains("`faults[0].at`")
        );
        assert!(
            walk("nodes[0]")
                .unwrap_err()
                .message
                .contains("single value (3)")
        );
        assert!(
            walk("protocol[0]")
                .unwrap_err()
                .message
                .contains("named fields")
        );
        assert_eq!(walk("timeout[1]"), Ok(vec![5, 1]));
        for (bad, at) in [
            ("", 0),
            ("a..b", 2),
            ("a.", 2),
            ("a[x]", 1),
            ("a[1", 1),
            ("a b", 1),
            (".a", 0),
        ] {
            assert_eq!(parse_path(bad).unwrap_err().at, at, "{bad:?}");
        }
        assert!(parse_path("a[99999999999999999999999]").is_err());
    }
}
