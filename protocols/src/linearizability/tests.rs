//! Hand-built histories for the linearizability checker, the KV model's step table, and the
//! history's bookkeeping and JSON lines. Each history is drawn as intervals `[call, return]`.

use super::*;

/// Records a completed operation on a fresh process (the operation index), and returns its id.
fn record(
    h: &mut History,
    key: u64,
    op: Op,
    call_ns: u64,
    return_ns: u64,
    outcome: Outcome,
) -> OpId {
    let id = h.invoke(h.len() as u64, key, op, call_ns);
    h.complete(id, outcome, return_ns);
    id
}

fn put(h: &mut History, key: u64, value: u64, call_ns: u64, return_ns: u64) -> OpId {
    record(
        h,
        key,
        Op::Put(value),
        call_ns,
        return_ns,
        Outcome::Ok(Ret::Put),
    )
}

fn get(h: &mut History, key: u64, read: Option<u64>, call_ns: u64, return_ns: u64) -> OpId {
    record(
        h,
        key,
        Op::Get,
        call_ns,
        return_ns,
        Outcome::Ok(Ret::Get(read)),
    )
}

fn cas(h: &mut History, key: u64, expected: u64, new: u64, ok: bool, call_ns: u64, return_ns: u64) {
    record(
        h,
        key,
        Op::Cas { expected, new },
        call_ns,
        return_ns,
        Outcome::Ok(Ret::Cas(ok)),
    );
}

fn verdict(h: &History) -> CheckResult {
    check(h, Budget::default())
}

fn explanation(h: &History) -> String {
    match verdict(h) {
        CheckResult::NotLinearizable { explanation, .. } => explanation,
        other => panic!("expected NotLinearizable, got {other:?}"),
    }
}

#[test]
fn empty_history_is_linearizable() {
    let report = check_report(&History::new(), Budget::default());
    assert_eq!(report.result, CheckResult::Linearizable);
    assert!(report.keys.is_empty());
}

#[test]
fn sequential_history_with_every_kind_of_operation_is_linearizable() {
    let mut h = History::new();
    get(&mut h, 1, None, 0, 10);
    put(&mut h, 1, 4, 20, 30);
    cas(&mut h, 1, 4, 5, true, 40, 50);
    cas(&mut h, 1, 4, 6, false, 60, 70);
    get(&mut h, 1, Some(5), 80, 90);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
}

#[test]
fn concurrent_writes_may_land_in_either_order() {
    for read in [1, 2] {
        let mut h = History::new();
        put(&mut h, 1, 1, 0, 100);
        put(&mut h, 1, 2, 10, 90);
        get(&mut h, 1, Some(read), 110, 120);
        get(&mut h, 1, Some(read), 130, 140);
        assert_eq!(verdict(&h), CheckResult::Linearizable, "read {read}");
    }
}

#[test]
fn stale_read_after_a_completed_write_is_not_linearizable() {
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    put(&mut h, 1, 2, 20, 30);
    get(&mut h, 1, Some(1), 40, 50);
    let text = explanation(&h);
    assert!(
        text.contains("#2 p2 get -> 1 [40, 50]: impossible in state 2"),
        "{text}"
    );
    assert!(text.contains("#1 p1 put 2 -> ok [20, 30]"), "{text}");
}

#[test]
fn reads_seeing_two_concurrent_writes_in_opposite_orders_are_not_linearizable() {
    // Reader A sees 1 then 2, so put 1 landed first; reader B, at the same times, sees 2 then 1.
    let reader_a = |h: &mut History| {
        get(h, 1, Some(1), 10, 20);
        get(h, 1, Some(2), 30, 40);
    };
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 100);
    put(&mut h, 1, 2, 0, 100);
    reader_a(&mut h);
    get(&mut h, 1, Some(2), 10, 20);
    get(&mut h, 1, Some(1), 30, 40);
    assert!(matches!(
        verdict(&h),
        CheckResult::NotLinearizable { key: 1, .. }
    ));
    // Reader A alone is fine: the writes may land in its order.
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 100);
    put(&mut h, 1, 2, 0, 100);
    reader_a(&mut h);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
}

#[test]
fn cas_success_on_the_wrong_value_is_not_linearizable() {
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    cas(&mut h, 1, 2, 3, true, 20, 30);
    assert!(explanation(&h).contains("cas 2->3 -> ok [20, 30]: impossible in state 1"));
    // A cas that reports a mismatch while the value matched is just as wrong.
    let mut h = History::new();
    put(&mut h, 1, 2, 0, 10);
    cas(&mut h, 1, 2, 3, false, 20, 30);
    assert!(!verdict(&h).is_linearizable());
    // A cas on an absent key cannot succeed.
    let mut h = History::new();
    cas(&mut h, 1, 0, 3, true, 20, 30);
    assert!(!verdict(&h).is_linearizable());
}

#[test]
fn indeterminate_put_may_take_effect_later() {
    for complete_as_info in [true, false] {
        let mut h = History::new();
        put(&mut h, 1, 1, 0, 10);
        let id = h.invoke(99, 1, Op::Put(2), 20);
        if complete_as_info {
            h.complete(id, Outcome::Info, 25);
        }
        // The put has not landed yet at [30, 40], and has long after its timeout.
        get(&mut h, 1, Some(1), 30, 40);
        get(&mut h, 1, Some(2), 1_000, 1_010);
        get(&mut h, 1, Some(2), 2_000, 2_010);
        assert_eq!(
            verdict(&h),
            CheckResult::Linearizable,
            "completed as info: {complete_as_info}"
        );
    }
}

#[test]
fn indeterminate_put_may_never_take_effect() {
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    record(&mut h, 1, Op::Put(2), 20, 30, Outcome::Info);
    get(&mut h, 1, Some(1), 40, 50);
    get(&mut h, 1, Some(1), 1_000, 1_010);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
}

#[test]
fn indeterminate_put_cannot_take_effect_before_its_invocation() {
    let mut h = History::new();
    get(&mut h, 1, Some(2), 0, 10);
    record(&mut h, 1, Op::Put(2), 20, 30, Outcome::Info);
    assert!(matches!(
        verdict(&h),
        CheckResult::NotLinearizable { key: 1, .. }
    ));
}

#[test]
fn indeterminate_put_takes_effect_at_most_once() {
    let mut h = History::new();
    record(&mut h, 1, Op::Put(2), 0, 5, Outcome::Info);
    get(&mut h, 1, Some(2), 10, 20);
    put(&mut h, 1, 3, 30, 40);
    get(&mut h, 1, Some(2), 50, 60);
    assert!(!verdict(&h).is_linearizable());
}

#[test]
fn failed_operations_are_dropped() {
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    record(&mut h, 1, Op::Put(2), 20, 30, Outcome::Fail);
    let read = get(&mut h, 1, Some(1), 40, 50);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
    assert_eq!(check_report(&h, Budget::default()).keys[0].ops, 2);
    // Had the failed put been kept as a possible write, this read would pass.
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    record(&mut h, 1, Op::Put(2), 20, 30, Outcome::Fail);
    get(&mut h, 1, Some(2), 40, 50);
    assert!(!verdict(&h).is_linearizable(), "{read:?}");
}

#[test]
fn only_the_bad_key_is_named() {
    let mut h = History::new();
    for key in 1..=5 {
        put(&mut h, key, key, 0, 10);
        let read = if key == 3 { Some(99) } else { Some(key) };
        get(&mut h, key, read, 20, 30);
    }
    let report = check_report(&h, Budget::default());
    let CheckResult::NotLinearizable { key, explanation } = &report.result else {
        panic!("expected NotLinearizable, got {:?}", report.result);
    };
    assert_eq!(*key, 3);
    assert!(explanation.starts_with("key 3:"), "{explanation}");
    let verdicts: Vec<(u64, KeyVerdict)> = report.keys.iter().map(|k| (k.key, k.verdict)).collect();
    use KeyVerdict::{Linearizable as L, NotChecked as N, NotLinearizable as X};
    assert_eq!(verdicts, [(1, L), (2, L), (3, X), (4, N), (5, N)]);
}

#[test]
fn equal_invoke_and_return_times_are_concurrent() {
    // The read is invoked at the instant the put returns, so it may be ordered first.
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    get(&mut h, 1, None, 10, 20);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
    // One nanosecond later it may not.
    let mut h = History::new();
    put(&mut h, 1, 1, 0, 10);
    get(&mut h, 1, None, 11, 20);
    assert!(!verdict(&h).is_linearizable());
    // A zero-length operation is concurrent with one that starts and ends at its instant.
    let mut h = History::new();
    put(&mut h, 1, 1, 5, 5);
    get(&mut h, 1, None, 5, 5);
    get(&mut h, 1, Some(1), 5, 5);
    assert_eq!(verdict(&h), CheckResult::Linearizable);
}

/// `writers` puts of distinct values, all concurrent, then a read of a value never written:
/// the search must try every subset of the writers before it can say no.
fn concurrent_writers_then_impossible_read(writers: u64) -> History {
    let mut h = History::new();
    for value in 1..=writers {
        put(&mut h, 1, value, 0, 1_000);
    }
    get(&mut h, 1, Some(0), 2_000, 2_010);
    h
}

#[test]
fn exhausted_budget_is_unknown_never_a_pass() {
    // Small enough to decide: with the budget it needs, the answer is definite.
    let small = concurrent_writers_then_impossible_read(8);
    let report = check_report(&small, Budget::default());
    assert!(matches!(report.result, CheckResult::NotLinearizable { .. }));
    let needed = report.steps;
    let short = check_report(&small, Budget::steps(needed - 1));
    assert!(
        matches!(short.result, CheckResult::Unknown { .. }),
        "{:?}",
        short.result
    );
    assert_eq!(short.steps, needed - 1);
    assert_eq!(short.keys[0].verdict, KeyVerdict::Unknown);

    // A linearizable history is not passed on exhaustion either.
    let mut h = History::new();
    for i in 0..20 {
        put(&mut h, 1, i, 10 * i, 10 * i + 5);
    }
    assert!(matches!(
        check(&h, Budget::steps(5)),
        CheckResult::Unknown { .. }
    ));
    assert_eq!(check(&h, Budget::steps(20)), CheckResult::Linearizable);

    // Large enough to exhaust the default budget (about 24 * 2^23 configurations).
    let CheckResult::Unknown { reason } = verdict(&concurrent_writers_then_impossible_read(24))
    else {
        panic!("expected Unknown");
    };
    assert!(reason.contains("exhausted on key 1"), "{reason}");
}

#[test]
fn memory_and_wall_time_budgets_end_a_search_as_unknown() {
    let hard = concurrent_writers_then_impossible_read(20);
    let small_memory = Budget {
        memo_bytes_max: 64 * 1024,
        ..Budget::default()
    };
    let CheckResult::Unknown { reason } = check(&hard, small_memory) else {
        panic!("a 64 KiB memo table cannot hold this search");
    };
    assert!(reason.contains("memory budget"), "{reason}");
    #[allow(clippy::disallowed_methods)] // A deadline in the past, for the test.
    let past = std::time::Instant::now();
    let late = Budget {
        deadline: Some(past),
        ..Budget::default()
    };
    let CheckResult::Unknown { reason } = check(&hard, late) else {
        panic!("a deadline that has passed stops the search");
    };
    assert!(reason.contains("wall-time limit"), "{reason}");
    // A history the checker decides quickly is decided, deadline or not.
    let mut easy = History::new();
    put(&mut easy, 1, 5, 0, 10);
    assert_eq!(check(&easy, late), CheckResult::Linearizable);
}

#[test]
fn explanation_shows_the_stuck_window_with_times() {
    let mut h = History::new();
    put(&mut h, 7, 1, 0, 10);
    put(&mut h, 7, 2, 20, 30);
    get(&mut h, 7, Some(1), 40, 50);
    put(&mut h, 7, 3, 45, 60);
    get(&mut h, 7, Some(3), 70, 80);
    let text = explanation(&h);
    assert!(
        text.starts_with("key 7: no linearization of its 5 operations exists."),
        "{text}"
    );
    // put 3 can still be linearized after put 2; the stale read then cannot.
    assert!(
        text.contains("The longest linearizable prefix found orders 3 operations"),
        "{text}"
    );
    assert!(text.contains("It leaves the state 3."), "{text}");
    assert!(
        text.contains("Then #2 p2 get -> 1 [40, 50] returned first"),
        "{text}"
    );
    assert!(
        text.contains("  #2 p2 get -> 1 [40, 50]: impossible in state 3\n"),
        "{text}"
    );
    assert!(
        text.contains("  #3 p3 put 3 -> ok [45, 60]: in the prefix\n"),
        "{text}"
    );
    assert!(
        !text.contains("#4 p4"),
        "an operation outside the window is listed: {text}"
    );
}

#[test]
fn report_counts_operations_and_steps_per_key() {
    let mut h = History::new();
    put(&mut h, 2, 1, 0, 10);
    get(&mut h, 2, Some(1), 20, 30);
    record(&mut h, 2, Op::Get, 40, 50, Outcome::Info);
    record(&mut h, 2, Op::Put(3), 40, 50, Outcome::Info);
    get(&mut h, 1, None, 0, 10);
    let report = check_report(&h, Budget::default());
    assert_eq!(report.result, CheckResult::Linearizable);
    let keys: Vec<(u64, usize, usize)> = report
        .keys
        .iter()
        .map(|k| (k.key, k.ops, k.ops_indeterminate))
        .collect();
    // The indeterminate get is dropped; the indeterminate put is searched.
    assert_eq!(keys, [(1, 1, 0), (2, 3, 1)]);
    assert!(
        report
            .keys
            .iter()
            .all(|k| k.steps >= k.ops as u64 - k.ops_indeterminate as u64)
    );
    assert_eq!(
        report.steps,
        report.keys.iter().map(|k| k.steps).sum::<u64>()
    );
}

#[test]
fn memoisation_collapses_orders_that_reach_the_same_configuration() {
    // Without Lowe's memo table the search would try all 10! orders of the writers; with it,
    // each (set of writers applied, last value) configuration is searched once: 10 * 2^9.
    let report = check_report(
        &concurrent_writers_then_impossible_read(10),
        Budget::default(),
    );
    assert!(matches!(
        report.result,
        CheckResult::NotLinearizable { key: 1, .. }
    ));
    assert_eq!(report.keys[0].configurations, 10 * (1 << 9));
    assert!(report.steps < 100_000, "{} steps", report.steps);
}
