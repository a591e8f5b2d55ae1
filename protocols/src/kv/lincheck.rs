//! The linearizability check of a KV history: converts the workload's [`KvHistory`] into the
//! shared checker's history (`crate::linearizability`, Wing–Gong–Lowe per key) and turns its
//! verdict into a pass or a readable failure.
//!
//! `fail` operations did not happen; `info` and pending ones may take effect at any time
//! after their invocation, or never. Running out of budget (`Unknown`) is NOT a pass: it is
//! reported as a failure whose message says the checker ran out of budget.

use super::history::{KvHistory, OpStatus};
use super::{KvOp, KvRet};
use crate::linearizability::{Budget, CheckResult, History, Op, Outcome, Ret};

/// The shared checker's history for a KV history, replayed in time order (invocations
/// before completions at the same instant, so touching intervals count as concurrent).
pub fn to_history(h: &KvHistory) -> History {
    let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * h.ops.len());
    for (i, r) in h.ops.iter().enumerate() {
        events.push((r.invoked_ns, false, i));
        if r.status != OpStatus::Pending {
            events.push((r.completed_ns, true, i));
        }
    }
    events.sort_unstable();
    let mut out = History::new();
    let mut ids = vec![None; h.ops.len()];
    for (t, done, i) in events {
        let r = &h.ops[i];
        if !done {
            let op = match r.op {
                KvOp::Put(v) => Op::Put(v),
                KvOp::Get => Op::Get,
                KvOp::Cas { expected, new } => Op::Cas { expected, new },
            };
            ids[i] = Some(out.invoke(r.process, r.key, op, t));
            continue;
        }
        let outcome = match r.status {
            OpStatus::Pending => unreachable!("pending operations have no completion event"),
            OpStatus::Ok(KvRet::Put) => Outcome::Ok(Ret::Put),
            OpStatus::Ok(KvRet::Get(v)) => Outcome::Ok(Ret::Get(v)),
            OpStatus::Ok(KvRet::Cas(b)) => Outcome::Ok(Ret::Cas(b)),
            OpStatus::Fail => Outcome::Fail,
            OpStatus::Info => Outcome::Info,
        };
        // The invocation sorts first: its time is not later than the completion's.
        out.complete(ids[i].expect("invoked first"), outcome, t);
    }
    out
}

/// `Ok(())` if linearizable; otherwise a readable reason (including "out of budget").
pub fn check(h: &KvHistory, budget: u64) -> Result<(), String> {
    match crate::linearizability::check(&to_history(h), Budget { steps_max: budget }) {
        CheckResult::Linearizable => Ok(()),
        CheckResult::NotLinearizable { key, explanation } => {
            Err(format!("key {key} has no linearization: {explanation}"))
        }
        CheckResult::Unknown { reason } => Err(format!(
            "the linearizability checker ran out of budget ({budget} steps), so the history is not known to be linearizable: {reason}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(ops: &[(u64, u64, KvOp, OpStatus)]) -> KvHistory {
        let mut h = KvHistory::default();
        for (p, &(a, b, op, st)) in ops.iter().enumerate() {
            let id = h.invoke(p as u64, 0, op, a);
            h.complete(id, st, b);
        }
        h
    }

    #[test]
    fn stale_read_is_caught_and_concurrent_read_is_allowed() {
        let put = |v| KvOp::Put(v);
        let ok_get = |v| OpStatus::Ok(KvRet::Get(Some(v)));
        // put 1, then put 2 completes, then a read returns 1: stale.
        let bad = h(&[
            (0, 10, put(1), OpStatus::Ok(KvRet::Put)),
            (20, 30, put(2), OpStatus::Ok(KvRet::Put)),
            (40, 50, KvOp::Get, ok_get(1)),
        ]);
        assert!(
            check(&bad, 10_000)
                .unwrap_err()
                .contains("no linearization")
        );
        // The same read overlapping the second put is fine.
        let good = h(&[
            (0, 10, put(1), OpStatus::Ok(KvRet::Put)),
            (20, 45, put(2), OpStatus::Ok(KvRet::Put)),
            (40, 50, KvOp::Get, ok_get(1)),
        ]);
        assert_eq!(check(&good, 10_000), Ok(()));
        // An indeterminate put may explain a later read.
        let info = h(&[
            (0, 10, put(1), OpStatus::Info),
            (40, 50, KvOp::Get, ok_get(1)),
        ]);
        assert_eq!(check(&info, 10_000), Ok(()));
    }
}
