//! Randomized tests of the linearizability checker against a dumb reference, and a performance
//! sanity check.
//!
//! The reference tries every subset of the indeterminate operations and every permutation of
//! the chosen operations, keeps those consistent with real time, and replays them on a map of
//! all keys (so it checks the whole history at once and also tests the partition by key). It
//! shares no code with the checker or with [`KvRegister`].

use std::collections::BTreeMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// One generated operation, before it is recorded.
#[derive(Debug, Clone)]
struct Spec {
    key: u64,
    op: Op,
    call_ns: u64,
    return_ns: u64,
    /// `Info` with `pending`: never completed.
    outcome: Outcome,
    pending: bool,
}

fn to_history(specs: &[Spec]) -> History {
    let mut h = History::new();
    for (process, spec) in specs.iter().enumerate() {
        let id = h.invoke(process as u64, spec.key, spec.op, spec.call_ns);
        if !spec.pending {
            h.complete(id, spec.outcome, spec.return_ns);
        }
    }
    h
}

/// The reference: is there a subset of the indeterminate operations and an order of it and of
/// the `ok` operations that respects real time and replays correctly?
fn brute_force_linearizable(specs: &[Spec]) -> bool {
    let kept: Vec<&Spec> = specs
        .iter()
        .filter(|s| s.outcome != Outcome::Fail)
        .collect();
    let info: Vec<usize> = (0..kept.len())
        .filter(|&i| kept[i].outcome == Outcome::Info)
        .collect();
    (0..1u32 << info.len()).any(|mask| {
        let mut chosen: Vec<usize> = (0..kept.len())
            .filter(|i| {
                info.iter()
                    .position(|j| j == i)
                    .is_none_or(|bit| mask & (1 << bit) != 0)
            })
            .collect();
        any_permutation(&mut chosen, 0, &mut |order| replays(&kept, order))
    })
}

/// Calls `accept` on every permutation of `items[k..]` (after `items[..k]`) until it accepts one.
fn any_permutation(
    items: &mut Vec<usize>,
    k: usize,
    accept: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    if k == items.len() {
        return accept(items);
    }
    for i in k..items.len() {
        items.swap(k, i);
        let found = any_permutation(items, k + 1, accept);
        items.swap(k, i);
        if found {
            return true;
        }
    }
    false
}

fn replays(specs: &[&Spec], order: &[usize]) -> bool {
    // Real time: nothing later in the order may have returned strictly before an earlier one
    // was called. Indeterminate operations never return.
    for (a, &earlier) in order.iter().enumerate() {
        for &later in &order[a + 1..] {
            let later_returned = specs[later].outcome != Outcome::Info;
            if later_returned && specs[later].return_ns < specs[earlier].call_ns {
                return false;
            }
        }
    }
    let mut store: BTreeMap<u64, u64> = BTreeMap::new();
    for &i in order {
        let spec = specs[i];
        let current = store.get(&spec.key).copied();
        let (effect, result) = apply(current, spec.op);
        if let Some(value) = effect {
            store.insert(spec.key, value);
        }
        if matches!(spec.outcome, Outcome::Ok(ret) if ret != result) {
            return false;
        }
    }
    true
}

/// Sequential semantics: the value written, if any, and the return.
fn apply(current: Option<u64>, op: Op) -> (Option<u64>, Ret) {
    match op {
        Op::Put(value) => (Some(value), Ret::Put),
        Op::Get => (None, Ret::Get(current)),
        Op::Cas { expected, new } if current == Some(expected) => (Some(new), Ret::Cas(true)),
        Op::Cas { .. } => (None, Ret::Cas(false)),
    }
}

fn random_op(rng: &mut ChaCha8Rng) -> Op {
    match rng.random_range(0..3) {
        0 => Op::Put(rng.random_range(1..3)),
        1 => Op::Get,
        _ => Op::Cas {
            expected: rng.random_range(1..3),
            new: rng.random_range(1..4),
        },
    }
}

/// A history from a real execution: each operation takes effect at a random instant inside its
/// interval (an indeterminate one maybe never, maybe long after), in that order. Times are
/// small so that equal times are common.
fn executed(rng: &mut ChaCha8Rng, ops: usize, keys: u64) -> Vec<Spec> {
    let mut specs = Vec::with_capacity(ops);
    let mut effects: Vec<(u64, usize)> = Vec::new();
    for i in 0..ops {
        let call_ns = rng.random_range(0..12);
        let return_ns = call_ns + rng.random_range(0..6);
        let (outcome, effect_ns) = match rng.random_range(0..10) {
            0 => (Outcome::Fail, None),
            1 | 2 => (
                Outcome::Info,
                rng.random_bool(0.5).then(|| rng.random_range(call_ns..30)),
            ),
            _ => (
                Outcome::Ok(Ret::Put),
                Some(rng.random_range(call_ns..=return_ns)),
            ),
        };
        let pending = outcome == Outcome::Info && rng.random_bool(0.5);
        let key = rng.random_range(1..=keys);
        specs.push(Spec {
            key,
            op: random_op(rng),
            call_ns,
            return_ns,
            outcome,
            pending,
        });
        if let Some(effect_ns) = effect_ns {
            effects.push((effect_ns, i));
        }
    }
    effects.sort_unstable();
    let mut store: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, i) in effects {
        let spec = &mut specs[i];
        let (effect, result) = apply(store.get(&spec.key).copied(), spec.op);
        if let Some(value) = effect {
            store.insert(spec.key, value);
        }
        if let Outcome::Ok(_) = spec.outcome {
            spec.outcome = Outcome::Ok(result);
        }
    }
    specs
}

/// An executed history with one `ok` operation's return or times changed: often not
/// linearizable, and often by a single inconsistency, which is what finds off-by-one bugs.
fn corrupted(rng: &mut ChaCha8Rng, ops: usize, keys: u64) -> Vec<Spec> {
    let mut specs = executed(rng, ops, keys);
    let ok: Vec<usize> = (0..specs.len())
        .filter(|&i| matches!(specs[i].outcome, Outcome::Ok(_)))
        .collect();
    let i = if ok.is_empty() {
        rng.random_range(0..specs.len())
    } else {
        ok[rng.random_range(0..ok.len())]
    };
    let spec = &mut specs[i];
    match (spec.outcome, rng.random_range(0..3)) {
        (Outcome::Ok(Ret::Get(read)), 0 | 1) => {
            let others: Vec<Option<u64>> = [None, Some(1), Some(2), Some(3)]
                .into_iter()
                .filter(|&v| v != read)
                .collect();
            spec.outcome = Outcome::Ok(Ret::Get(others[rng.random_range(0..others.len())]));
        }
        (Outcome::Ok(Ret::Cas(ok)), 0 | 1) => spec.outcome = Outcome::Ok(Ret::Cas(!ok)),
        _ => {
            let shift = rng.random_range(0..10);
            spec.call_ns += shift;
            spec.return_ns += shift + rng.random_range(0..3);
        }
    }
    specs
}

/// Operations with random returns: mostly not linearizable.
fn arbitrary(rng: &mut ChaCha8Rng, ops: usize, keys: u64) -> Vec<Spec> {
    let mut specs = executed(rng, ops, keys);
    for spec in &mut specs {
        if let Outcome::Ok(_) = spec.outcome {
            let read = rng.random_range(0..3);
            spec.outcome = Outcome::Ok(match spec.op {
                Op::Put(_) => Ret::Put,
                Op::Get => Ret::Get((read > 0).then_some(read)),
                Op::Cas { .. } => Ret::Cas(rng.random_bool(0.5)),
            });
        }
    }
    specs
}

#[test]
fn random_small_histories_agree_with_brute_force() {
    // Thousands of rounds, not hundreds: they take milliseconds, and a bug that needs a single
    // inconsistency to show (an unchecked failed cas, an off-by-one interval end) was measured
    // to show in only about one round in 100-200.
    let mut rng = ChaCha8Rng::seed_from_u64(0x11ea);
    let (mut linearizable, mut not_linearizable) = (0, 0);
    for round in 0..3000 {
        let ops = rng.random_range(1..=7);
        let keys = rng.random_range(1..=2);
        let specs = match round % 3 {
            0 => executed(&mut rng, ops, keys),
            1 => corrupted(&mut rng, ops, keys),
            _ => arbitrary(&mut rng, ops, keys),
        };
        let history = to_history(&specs);
        let expected = brute_force_linearizable(&specs);
        let result = check(&history, Budget::default());
        assert!(
            !matches!(result, CheckResult::Unknown { .. }),
            "round {round}: {result:?}"
        );
        assert_eq!(
            result.is_linearizable(),
            expected,
            "round {round}: {specs:#?}\n{result:?}"
        );
        if round % 3 == 0 {
            assert!(
                expected,
                "round {round}: an executed history must be linearizable: {specs:#?}"
            );
        }
        if expected {
            linearizable += 1;
        } else {
            not_linearizable += 1;
        }
    }
    // Sometimes-properties: both verdicts were exercised, each often.
    assert!(
        linearizable > 1500 && not_linearizable > 750,
        "{linearizable} / {not_linearizable}"
    );
}

/// A run of `clients` sequential clients against one store over `keys` keys: each operation
/// takes effect at a random instant of its interval, so the history is linearizable. About 1 in
/// 100 operations times out (and may or may not take effect); the client then continues under
/// a new process id, as Knossos requires.
fn concurrent_run(rng: &mut ChaCha8Rng, ops: usize, keys: u64, clients: usize) -> History {
    let mut free_ns = vec![0u64; clients];
    let mut process: Vec<u64> = (0..clients as u64).collect();
    let mut next_process = clients as u64;
    // (effect time, op index, client, process, key, op, call, return, timed out)
    let mut planned = Vec::with_capacity(ops);
    for i in 0..ops {
        let client = (0..clients)
            .min_by_key(|&c| (free_ns[c], c))
            .expect("clients > 0");
        let call_ns = free_ns[client];
        let return_ns = call_ns + rng.random_range(1..100);
        let timed_out = rng.random_range(0..100) == 0;
        let effect_ns = rng.random_range(call_ns..=return_ns);
        let key = rng.random_range(0..keys);
        let op = match rng.random_range(0..10) {
            0..4 => Op::Put(i as u64),
            4..8 => Op::Get,
            _ => Op::Cas {
                expected: rng.random_range(i.saturating_sub(30)..=i) as u64,
                new: i as u64,
            },
        };
        let takes_effect = !timed_out || rng.random_bool(0.5);
        planned.push((
            effect_ns,
            takes_effect,
            process[client],
            key,
            op,
            call_ns,
            return_ns,
            timed_out,
        ));
        free_ns[client] = return_ns + rng.random_range(0..20);
        if timed_out {
            process[client] = next_process;
            next_process += 1;
        }
    }
    let mut order: Vec<usize> = (0..ops).filter(|&i| planned[i].1).collect();
    order.sort_by_key(|&i| (planned[i].0, i));
    let mut results: Vec<Option<Ret>> = vec![None; ops];
    let mut store: BTreeMap<u64, u64> = BTreeMap::new();
    for i in order {
        let (_, _, _, key, op, ..) = planned[i];
        let (effect, result) = apply(store.get(&key).copied(), op);
        if let Some(value) = effect {
            store.insert(key, value);
        }
        results[i] = Some(result);
    }
    // Record in time order, as a harness would.
    let mut events: Vec<(u64, bool, usize)> = (0..ops)
        .flat_map(|i| [(planned[i].5, false, i), (planned[i].6, true, i)])
        .collect();
    events.sort_unstable_by_key(|&(time, is_completion, i)| (time, !is_completion, i));
    let mut h = History::new();
    let mut ids = vec![OpId(0); ops];
    for (time_ns, is_completion, i) in events {
        let (_, _, process, key, op, _, _, timed_out) = planned[i];
        if !is_completion {
            ids[i] = h.invoke(process, key, op, time_ns);
        } else if timed_out {
            h.complete(ids[i], Outcome::Info, time_ns);
        } else {
            let ret = results[i].expect("an operation that did not time out took effect");
            h.complete(ids[i], Outcome::Ok(ret), time_ns);
        }
    }
    h
}

#[test]
fn two_thousand_operation_history_checks_well_within_the_default_budget() {
    let mut rng = ChaCha8Rng::seed_from_u64(2000);
    let history = concurrent_run(&mut rng, 2000, 10, 5);
    let summary = history.summary();
    assert_eq!(summary.ops, 2000);
    assert!(summary.info > 5, "{summary:?}");
    let report = check_report(&history, Budget::default());
    assert_eq!(report.result, CheckResult::Linearizable);
    assert_eq!(report.keys.len(), 10);
    assert!(
        report.steps < Budget::default().steps_max / 20,
        "{} steps: {report:#?}",
        report.steps
    );

    // The same history with one read made stale is caught, on its key.
    let victim = history
        .operations()
        .rev()
        .find(|o| matches!(o.outcome(), Outcome::Ok(Ret::Get(Some(_)))))
        .expect("some read saw a value");
    let mut corrupted = History::new();
    for operation in history.operations() {
        let id = corrupted.invoke(
            operation.process,
            operation.key,
            operation.op,
            operation.invoke_ns,
        );
        if let Some(completion) = operation.completion {
            let outcome = if operation.id == victim.id {
                Outcome::Ok(Ret::Get(None))
            } else {
                completion.outcome
            };
            corrupted.complete(id, outcome, completion.time_ns);
        }
    }
    let result = check(&corrupted, Budget::default());
    assert!(
        matches!(result, CheckResult::NotLinearizable { key, .. } if key == victim.key),
        "{result:?}"
    );
}
