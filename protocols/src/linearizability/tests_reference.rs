//! The checker against a plain Wing & Gong search on random histories too large for the brute
//! force of `tests_random` (8 to 24 operations on one key, most of them concurrent, up to half
//! of them indeterminate): the pruning of the real search (forced moves, subsumption of
//! indeterminate operations, failed configurations) must never change a verdict.
//!
//! The reference tries every minimal operation in every configuration, remembering the
//! configurations it has seen as a whole bit set and state: nothing more. It shares only the
//! [`KvRegister`] model with the checker, whose step table `tests_history` checks.

use std::collections::BTreeSet;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// Whether `entries` (one key) have a linearization: plain depth-first search.
fn reference(entries: &[Entry<Op, Ret>]) -> bool {
    fn go(
        entries: &[Entry<Op, Ret>],
        done: &mut Vec<bool>,
        state: Option<u64>,
        seen: &mut BTreeSet<(Vec<bool>, Option<u64>)>,
    ) -> bool {
        // The earliest return among the determinate operations left.
        let Some(first_return) = (0..entries.len())
            .filter(|&i| !done[i])
            .filter_map(|i| entries[i].returned.as_ref().map(|r| r.time_ns))
            .min()
        else {
            return true;
        };
        if !seen.insert((done.clone(), state)) {
            return false;
        }
        for i in 0..entries.len() {
            if done[i] || entries[i].call_ns > first_return {
                continue;
            }
            let output = entries[i].returned.as_ref().map(|r| &r.output);
            if let Some(next) = KvRegister.step(&state, &entries[i].input, output) {
                done[i] = true;
                let found = go(entries, done, next, seen);
                done[i] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    go(
        entries,
        &mut vec![false; entries.len()],
        None,
        &mut BTreeSet::new(),
    )
}

/// `ops` operations on one key by `ops` processes, invoked in `[0, 40)` and lasting up to 25
/// (so most overlap), each taking effect at a random instant of its interval; one in
/// `info_one_in` times out (`info`, taking effect or not, maybe much later). With `corrupt`, one `ok` return in ten is
/// then changed, which often makes the history not linearizable.
fn random_history(rng: &mut ChaCha8Rng, ops: usize, info_one_in: u32, corrupt: bool) -> History {
    let mut planned = Vec::with_capacity(ops);
    for i in 0..ops {
        let call = rng.random_range(0..40u64);
        let ret = call + rng.random_range(0..25);
        let value = rng.random_range(1..5u64);
        let op = match rng.random_range(0..10) {
            0..4 => Op::Put(value),
            4..7 => Op::Get,
            _ => Op::Cas {
                expected: rng.random_range(1..5),
                new: value,
            },
        };
        let info = rng.random_range(0..info_one_in) == 0;
        let effect = if info {
            rng.random_bool(0.5)
                .then(|| rng.random_range(call..call + 60))
        } else {
            Some(rng.random_range(call..=ret))
        };
        planned.push((i, call, ret, op, info, effect));
    }
    let mut order: Vec<usize> = (0..ops).filter(|&i| planned[i].5.is_some()).collect();
    order.sort_by_key(|&i| (planned[i].5, i));
    let mut results = vec![None; ops];
    let mut value = None;
    for i in order {
        let ret = match planned[i].3 {
            Op::Put(v) => {
                value = Some(v);
                Ret::Put
            }
            Op::Get => Ret::Get(value),
            Op::Cas { expected, new } if value == Some(expected) => {
                value = Some(new);
                Ret::Cas(true)
            }
            Op::Cas { .. } => Ret::Cas(false),
        };
        results[i] = Some(ret);
    }
    if corrupt {
        let ok: Vec<usize> = (0..ops).filter(|&i| !planned[i].4).collect();
        for _ in 0..1 + ops / 10 {
            let Some(&i) = ok.get(rng.random_range(0..ok.len().max(1))) else {
                break;
            };
            results[i] = results[i].map(|r| match r {
                Ret::Get(v) => Ret::Get(v.map_or(Some(1), |v| (v > 1).then_some(v - 1))),
                Ret::Cas(ok) => Ret::Cas(!ok),
                Ret::Put => Ret::Put,
            });
        }
    }
    let mut h = History::new();
    for (process, call, ret, op, info, _) in planned {
        let id = h.invoke(process as u64, 0, op, call);
        let outcome = if info {
            Outcome::Info
        } else {
            Outcome::Ok(results[process].expect("an ok operation took effect"))
        };
        if !(info && rng.random_bool(0.5)) {
            h.complete(id, outcome, ret);
        }
    }
    h
}

#[test]
fn random_concurrent_histories_agree_with_a_plain_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5ea4c4);
    let (mut linearizable, mut not_linearizable) = (0, 0);
    for round in 0..2000 {
        // Half the rounds with many indeterminate operations, which the reference is slow on.
        let (ops, info_one_in) = if round % 2 == 0 {
            (rng.random_range(8..=24), 5)
        } else {
            (rng.random_range(8..=14), 2)
        };
        let history = random_history(&mut rng, ops, info_one_in, round % 3 != 0);
        let expected = reference(&history.entries());
        let result = check(&history, Budget::default());
        assert!(
            !matches!(result, CheckResult::Unknown { .. }),
            "round {round}: {result:?}"
        );
        assert_eq!(
            result.is_linearizable(),
            expected,
            "round {round}:\n{}\n{result:?}",
            history.to_jsonl()
        );
        if round % 3 == 0 {
            assert!(
                expected,
                "round {round}: an executed history is linearizable"
            );
        }
        if expected {
            linearizable += 1;
        } else {
            not_linearizable += 1;
        }
    }
    // Both verdicts were exercised, each often.
    assert!(
        linearizable > 800 && not_linearizable > 400,
        "{linearizable} / {not_linearizable}"
    );
}
