//! The client history of a KV run: every operation's invocation and completion, in the
//! Knossos/Jepsen vocabulary (REFERENCES.md §6): `ok` (happened, with this return), `fail`
//! (definitely did not happen) and `info` (indeterminate: the client gave up waiting).
//!
//! The workload records here as it goes; at the end the history is handed to the
//! Wing–Gong–Lowe checker (`crate::linearizability`) and can be exported as JSON lines.

use super::{KvOp, KvRet};
use serde::Serialize;

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OpStatus {
    /// Still waiting when the run ended (treated like `Info`).
    Pending,
    /// Completed with a return value.
    Ok(KvRet),
    /// Definitely not applied.
    Fail,
    /// Indeterminate: the client gave up after its retry bound.
    Info,
}

/// One operation of one client process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpRecord {
    /// The process (a client session incarnation: a new one after every `info`).
    pub process: u64,
    /// The key.
    pub key: u64,
    /// The operation.
    pub op: KvOp,
    /// True time of invocation, ns.
    pub invoked_ns: u64,
    /// True time of completion, ns (the give-up time for `Info`, 0 while pending).
    pub completed_ns: u64,
    /// How it ended.
    pub status: OpStatus,
}

/// Every operation of a run, in invocation order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KvHistory {
    /// The operations; an op's id is its index.
    pub ops: Vec<OpRecord>,
}

impl KvHistory {
    /// Records an invocation; returns its id.
    pub fn invoke(&mut self, process: u64, key: u64, op: KvOp, now_ns: u64) -> usize {
        self.ops.push(OpRecord {
            process,
            key,
            op,
            invoked_ns: now_ns,
            completed_ns: 0,
            status: OpStatus::Pending,
        });
        self.ops.len() - 1
    }

    /// Records a completion.
    pub fn complete(&mut self, id: usize, status: OpStatus, now_ns: u64) {
        let r = &mut self.ops[id];
        assert_eq!(r.status, OpStatus::Pending, "op {id} completed twice");
        r.status = status;
        r.completed_ns = now_ns;
    }

    /// Counts of (ok, fail, info or pending).
    pub fn tally(&self) -> (u64, u64, u64) {
        let mut t = (0, 0, 0);
        for r in &self.ops {
            match r.status {
                OpStatus::Ok(_) => t.0 += 1,
                OpStatus::Fail => t.1 += 1,
                OpStatus::Info | OpStatus::Pending => t.2 += 1,
            }
        }
        t
    }

    /// The history as JSON lines, one invoke and one completion per operation, sorted by time.
    pub fn to_json_lines(&self) -> String {
        let mut lines: Vec<(u64, usize, String)> = Vec::new();
        for (i, r) in self.ops.iter().enumerate() {
            let (f, value) = match r.op {
                KvOp::Put(v) => ("put", serde_json::json!(v)),
                KvOp::Get => ("get", serde_json::Value::Null),
                KvOp::Cas { expected, new } => ("cas", serde_json::json!([expected, new])),
            };
            let line = |kind: &str, value: serde_json::Value, t: u64| {
                serde_json::json!({"process": r.process, "type": kind, "f": f, "key": r.key,
                    "value": value, "time": t})
                .to_string()
            };
            lines.push((
                r.invoked_ns,
                2 * i,
                line("invoke", value.clone(), r.invoked_ns),
            ));
            let (kind, v) = match r.status {
                OpStatus::Ok(KvRet::Get(g)) => ("ok", serde_json::json!(g)),
                OpStatus::Ok(KvRet::Cas(false)) => ("fail", value),
                OpStatus::Ok(_) => ("ok", value),
                OpStatus::Fail => ("fail", value),
                OpStatus::Info | OpStatus::Pending => ("info", value),
            };
            if r.status != OpStatus::Pending {
                lines.push((r.completed_ns, 2 * i + 1, line(kind, v, r.completed_ns)));
            }
        }
        lines.sort();
        let mut out = String::new();
        for (_, _, l) in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }
}
