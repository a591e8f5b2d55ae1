//! Recording a client history, and its JSON-lines form.
//!
//! Owns [`History`]: every client operation's invocation and completion, in the Knossos/Jepsen
//! style (`jepsen-io/knossos` README, docs/references.md §6). An operation is invoked, then completes
//! `ok` (it took effect and returned this), `fail` (it definitely did not take effect) or `info`
//! (indeterminate: a timeout or a crash; it may take effect at any time after its invocation).
//! An operation that is never completed counts as `info` when the history is checked.
//!
//! Invariants, asserted because only a bug in the recording harness can break them: an operation
//! completes at most once, no earlier than its invocation, with a return of the same kind as the
//! operation; a process has at most one pending operation (clients are sequential, which is also
//! what lets the JSON lines pair an invocation with its completion by process).
//!
//! JSON lines follow the docs/references.md §6 recommendation with numeric keys and values. A cas that
//! ran and found another value (`Ok(Ret::Cas(false))`) is written as Jepsen writes it, a `fail`
//! line, marked `"error":"cas-mismatch"` so that reading it back keeps the information.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::checker::{Entry, Returned};

/// Index of an operation in its [`History`], in invocation-recording order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub usize);

/// A client operation on one key of the key-value store. Keys and values are `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Write the value.
    Put(u64),
    /// Read the value; an absent key reads as `None`.
    Get,
    /// Write `new` if the current value is `Some(expected)`.
    Cas { expected: u64, new: u64 },
}

impl Op {
    /// Whether the operation only reads (and so may be served without the log).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get)
    }
}

/// What an operation returned when it completed `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ret {
    /// The put took effect.
    Put,
    /// The value read (`None`: the key was absent).
    Get(Option<u64>),
    /// `true`: the cas found `expected` and wrote `new`; `false`: it found another value and
    /// wrote nothing.
    Cas(bool),
}

impl Ret {
    /// Whether this return is of the same kind as `op`.
    pub fn matches(&self, op: &Op) -> bool {
        matches!(
            (op, self),
            (Op::Put(_), Ret::Put) | (Op::Get, Ret::Get(_)) | (Op::Cas { .. }, Ret::Cas(_))
        )
    }
}

/// How an operation completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// It took effect, once, between its invocation and completion, and returned this.
    Ok(Ret),
    /// It definitely did not take effect. The checker drops such operations.
    Fail,
    /// Indeterminate: it may or may not take effect, at any time after its invocation. The
    /// checker treats its return as +infinity and allows any output. Knossos then retires the
    /// process; this history does not require it, but a harness whose JSON lines should also
    /// load in Knossos invokes the client's next operation under a fresh process id.
    Info,
}

/// The completion of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub outcome: Outcome,
    pub time_ns: u64,
}

/// One recorded operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: OpId,
    pub process: u64,
    pub key: u64,
    pub op: Op,
    pub invoke_ns: u64,
    /// `None` while pending; a pending operation is indeterminate at check time.
    pub completion: Option<Completion>,
}

impl Operation {
    /// The outcome as the checker sees it: a pending operation is [`Outcome::Info`].
    pub fn outcome(&self) -> Outcome {
        self.completion.map_or(Outcome::Info, |c| c.outcome)
    }

    /// Whether the operation was never completed.
    pub fn is_pending(&self) -> bool {
        self.completion.is_none()
    }

    /// Invocation to completion, for any completed operation. For `fail` and `info` this is the
    /// time the client waited before giving up; filter on [`Operation::outcome`] for ok latency.
    pub fn latency_ns(&self) -> Option<u64> {
        self.completion.map(|c| c.time_ns - self.invoke_ns)
    }
}

/// Operation counts of a history. `info` includes the `pending` (never completed) operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HistorySummary {
    pub ops: usize,
    pub ok: usize,
    pub fail: usize,
    pub info: usize,
    pub pending: usize,
}

/// A client history: invocations and completions of operations on a key-value store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    ops: Vec<Operation>,
    /// The pending operation of each process that has one.
    pending: BTreeMap<u64, OpId>,
    /// Invocations (`false`) and completions (`true`) in recording order; the JSON export sorts
    /// them stably by time, so equal times keep the order in which they were recorded.
    events: Vec<(OpId, bool)>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `process` invoked `op` on `key` at `time_ns`.
    pub fn invoke(&mut self, process: u64, key: u64, op: Op, time_ns: u64) -> OpId {
        let id = OpId(self.ops.len());
        let previous = self.pending.insert(process, id);
        assert!(
            previous.is_none(),
            "process {process} invoked {op:?} while {previous:?} is pending"
        );
        self.ops.push(Operation {
            id,
            process,
            key,
            op,
            invoke_ns: time_ns,
            completion: None,
        });
        self.events.push((id, false));
        id
    }

    /// Records the completion of operation `id` at `time_ns`.
    pub fn complete(&mut self, id: OpId, outcome: Outcome, time_ns: u64) {
        let operation = &mut self.ops[id.0];
        assert!(operation.completion.is_none(), "{id:?} completed twice");
        assert!(
            time_ns >= operation.invoke_ns,
            "{id:?} completed before it was invoked"
        );
        if let Outcome::Ok(ret) = outcome {
            assert!(
                ret.matches(&operation.op),
                "{id:?}: {ret:?} does not answer {:?}",
                operation.op
            );
        }
        operation.completion = Some(Completion { outcome, time_ns });
        let removed = self.pending.remove(&operation.process);
        assert_eq!(removed, Some(id), "pending-operation table out of step");
        self.events.push((id, true));
    }

    /// The operations, in invocation-recording order (by [`OpId`]).
    pub fn operations(&self) -> std::slice::Iter<'_, Operation> {
        self.ops.iter()
    }

    /// The operation `id`.
    pub fn get(&self, id: OpId) -> &Operation {
        &self.ops[id.0]
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Counts of operations by outcome.
    pub fn summary(&self) -> HistorySummary {
        let mut summary = HistorySummary {
            ops: self.ops.len(),
            ..HistorySummary::default()
        };
        for operation in &self.ops {
            match operation.outcome() {
                Outcome::Ok(_) => summary.ok += 1,
                Outcome::Fail => summary.fail += 1,
                Outcome::Info => summary.info += 1,
            }
            summary.pending += usize::from(operation.is_pending());
        }
        summary
    }

    /// The operations as checker entries: `fail` operations are dropped (they did not take
    /// effect), `info` and pending ones become entries that never returned.
    pub fn entries(&self) -> Vec<Entry<Op, Ret>> {
        let mut entries = Vec::with_capacity(self.ops.len());
        for operation in &self.ops {
            let returned = match operation.completion {
                Some(Completion {
                    outcome: Outcome::Fail,
                    ..
                }) => continue,
                Some(Completion {
                    outcome: Outcome::Ok(output),
                    time_ns,
                }) => Some(Returned { output, time_ns }),
                Some(Completion {
                    outcome: Outcome::Info,
                    ..
                })
                | None => None,
            };
            entries.push(Entry {
                id: operation.id,
                process: operation.process,
                key: operation.key,
                input: operation.op,
                call_ns: operation.invoke_ns,
                returned,
            });
        }
        entries
    }

    /// Writes the history as JSON lines, one per invocation and per completion, in time order.
    pub fn write_jsonl<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        for (id, is_completion) in self.in_time_order() {
            let line = to_line(&self.ops[id.0], is_completion);
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes the history as Jepsen EDN, one map per line, in the same order as
    /// [`History::write_jsonl`]: `{:process 3, :type :invoke, :f :write, :value [2 17], :time
    /// 12000}`. Operations are on independent keys, written as Jepsen's `independent` tuples
    /// `[key value]`; `:f` is `:read`, `:write` or `:cas` (value `[expected new]`); a read's
    /// invocation has value `nil`; a cas that found another value completes as `:fail` with
    /// `:error :cas-mismatch`. Knossos, Elle and Porcupine users can check it themselves.
    pub fn write_edn<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        for (id, is_completion) in self.in_time_order() {
            let line = to_line(&self.ops[id.0], is_completion);
            let kind = match line.kind {
                LineKind::Invoke => "invoke",
                LineKind::Ok => "ok",
                LineKind::Fail => "fail",
                LineKind::Info => "info",
            };
            let f = match line.f {
                LineFn::Put => "write",
                LineFn::Get => "read",
                LineFn::Cas => "cas",
            };
            write!(
                out,
                "{{:process {}, :type :{kind}, :f :{f}, :value [{} {}], :time {}",
                line.process,
                line.key,
                edn_value(&line.value),
                line.time
            )?;
            if line.error.is_some() {
                write!(out, ", :error :cas-mismatch")?;
            }
            out.write_all(b"}\n")?;
        }
        Ok(())
    }

    /// The history as Jepsen EDN (see [`History::write_edn`]).
    pub fn to_edn(&self) -> String {
        let mut out = Vec::new();
        self.write_edn(&mut out).expect("writing to a Vec");
        String::from_utf8(out).expect("EDN text is ASCII")
    }

    /// The history as JSON lines (see [`History::write_jsonl`]).
    pub fn to_jsonl(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail, and serde_json only emits UTF-8.
        self.write_jsonl(&mut out).expect("writing to a Vec");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Invocations and completions in time order (ties keep recording order).
    fn in_time_order(&self) -> Vec<(OpId, bool)> {
        let mut events = self.events.clone();
        events.sort_by_key(|&(id, is_completion)| {
            let operation = &self.ops[id.0];
            match (is_completion, operation.completion) {
                (true, Some(c)) => c.time_ns,
                _ => operation.invoke_ns,
            }
        });
        events
    }

    /// Reads a history written by [`History::write_jsonl`]. Blank lines are skipped; operation
    /// ids follow the order of the invocation lines.
    pub fn from_jsonl(text: &str) -> Result<History, JsonlError> {
        let mut history = History::new();
        for (index, text_line) in text.lines().enumerate() {
            if text_line.trim().is_empty() {
                continue;
            }
            let error = |reason: String| JsonlError {
                line: index + 1,
                reason,
            };
            let line: Line = serde_json::from_str(text_line).map_err(|e| error(e.to_string()))?;
            history.apply_line(&line).map_err(error)?;
        }
        Ok(history)
    }

    fn apply_line(&mut self, line: &Line) -> Result<(), String> {
        let pending = self.pending.get(&line.process).copied();
        if line.kind == LineKind::Invoke {
            if let Some(id) = pending {
                return Err(format!(
                    "process {} invokes while {id:?} is pending",
                    line.process
                ));
            }
            let op = match line.f {
                LineFn::Put => Op::Put(value_u64(&line.value)?),
                LineFn::Get => Op::Get,
                LineFn::Cas => {
                    let (expected, new) = value_pair(&line.value)?;
                    Op::Cas { expected, new }
                }
            };
            self.invoke(line.process, line.key, op, line.time);
            return Ok(());
        }
        let id =
            pending.ok_or_else(|| format!("process {} has no pending operation", line.process))?;
        let operation = &self.ops[id.0];
        if line.f != fn_of(&operation.op) || line.key != operation.key {
            return Err(format!(
                "completion does not match the pending {:?}",
                operation.op
            ));
        }
        if line.time < operation.invoke_ns {
            return Err(format!(
                "completion at {} precedes invocation at {}",
                line.time, operation.invoke_ns
            ));
        }
        let cas_mismatch = line.error.as_deref() == Some(CAS_MISMATCH);
        let outcome = match (line.kind, line.f) {
            (LineKind::Ok, LineFn::Put) => Outcome::Ok(Ret::Put),
            (LineKind::Ok, LineFn::Get) => Outcome::Ok(Ret::Get(value_option(&line.value)?)),
            (LineKind::Ok, LineFn::Cas) => Outcome::Ok(Ret::Cas(true)),
            (LineKind::Fail, LineFn::Cas) if cas_mismatch => Outcome::Ok(Ret::Cas(false)),
            (LineKind::Fail, _) => Outcome::Fail,
            (LineKind::Info, _) => Outcome::Info,
            (LineKind::Invoke, _) => unreachable!("handled above"),
        };
        self.complete(id, outcome, line.time);
        Ok(())
    }
}

/// A line of a JSON-lines history that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonlError {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for JsonlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "history line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for JsonlError {}

/// Jepsen's marker for a cas that ran and found another value.
const CAS_MISMATCH: &str = "cas-mismatch";

/// One JSON line; field order is the output order.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    process: u64,
    #[serde(rename = "type")]
    kind: LineKind,
    f: LineFn,
    key: u64,
    value: Value,
    time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LineKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LineFn {
    Put,
    Get,
    Cas,
}

fn fn_of(op: &Op) -> LineFn {
    match op {
        Op::Put(_) => LineFn::Put,
        Op::Get => LineFn::Get,
        Op::Cas { .. } => LineFn::Cas,
    }
}

/// The invocation's `value`: what was written, `null` for a read, `[expected, new]` for a cas.
fn invoke_value(op: &Op) -> Value {
    match *op {
        Op::Put(value) => json!(value),
        Op::Get => Value::Null,
        Op::Cas { expected, new } => json!([expected, new]),
    }
}

/// An EDN rendering of a line's value: `nil`, a number, or a vector of them.
fn edn_value(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(edn_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Null => "nil".to_string(),
        other => other.to_string(),
    }
}

fn to_line(operation: &Operation, is_completion: bool) -> Line {
    let mut line = Line {
        process: operation.process,
        kind: LineKind::Invoke,
        f: fn_of(&operation.op),
        key: operation.key,
        value: invoke_value(&operation.op),
        time: operation.invoke_ns,
        error: None,
    };
    let Some(completion) = operation.completion.filter(|_| is_completion) else {
        return line;
    };
    line.time = completion.time_ns;
    line.kind = match completion.outcome {
        Outcome::Ok(Ret::Get(read)) => {
            line.value = json!(read);
            LineKind::Ok
        }
        Outcome::Ok(Ret::Cas(false)) => {
            line.error = Some(CAS_MISMATCH.to_string());
            LineKind::Fail
        }
        Outcome::Ok(Ret::Put | Ret::Cas(true)) => LineKind::Ok,
        Outcome::Fail => LineKind::Fail,
        Outcome::Info => LineKind::Info,
    };
    line
}

fn value_u64(value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("expected an unsigned integer value, found {value}"))
}

fn value_option(value: &Value) -> Result<Option<u64>, String> {
    if value.is_null() {
        Ok(None)
    } else {
        value_u64(value).map(Some)
    }
}

fn value_pair(value: &Value) -> Result<(u64, u64), String> {
    match value.as_array().map(Vec::as_slice) {
        Some([expected, new]) => Ok((value_u64(expected)?, value_u64(new)?)),
        _ => Err(format!("expected [expected, new], found {value}")),
    }
}
