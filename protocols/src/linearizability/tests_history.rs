//! Tests of the pieces around the search: the KV model's step table, the history's bookkeeping
//! and assertions, and its JSON lines.

use super::*;

/// Records a completed operation on a fresh process (the operation index).
fn record(h: &mut History, key: u64, op: Op, call_ns: u64, return_ns: u64, outcome: Outcome) {
    let id = h.invoke(h.len() as u64, key, op, call_ns);
    h.complete(id, outcome, return_ns);
}

/// (state, input, output, the state `step` returns).
type StepRow = (Option<u64>, Op, Option<Ret>, Option<Option<u64>>);

#[test]
fn kv_register_step_table() {
    let m = KvRegister;
    let cas_1_2 = Op::Cas {
        expected: 1,
        new: 2,
    };
    #[rustfmt::skip]
    let table: [StepRow; 14] = [
        (None,    Op::Put(5), Some(Ret::Put),           Some(Some(5))),
        (Some(1), Op::Put(5), None,                     Some(Some(5))),
        (None,    Op::Get,    Some(Ret::Get(None)),     Some(None)),
        (None,    Op::Get,    Some(Ret::Get(Some(0))),  None),
        (Some(3), Op::Get,    Some(Ret::Get(Some(3))),  Some(Some(3))),
        (Some(3), Op::Get,    Some(Ret::Get(None)),     None),
        (Some(3), Op::Get,    None,                     Some(Some(3))),
        (Some(1), cas_1_2,    Some(Ret::Cas(true)),     Some(Some(2))),
        (Some(3), cas_1_2,    Some(Ret::Cas(true)),     None),
        (None,    cas_1_2,    Some(Ret::Cas(true)),     None),
        (Some(3), cas_1_2,    Some(Ret::Cas(false)),    Some(Some(3))),
        (Some(1), cas_1_2,    Some(Ret::Cas(false)),    None),
        (Some(1), cas_1_2,    None,                     Some(Some(2))),
        (None,    cas_1_2,    None,                     Some(None)),
    ];
    for (state, input, output, expected) in table {
        assert_eq!(
            m.step(&state, &input, output.as_ref()),
            expected,
            "{state:?} {input:?} {output:?}"
        );
    }
    assert!(m.is_read_only(&Op::Get) && !m.is_read_only(&Op::Put(1)));
}

/// The search moves an operation the model says never changes the state to the front of any
/// linearization (a forced move), which is only sound if that holds in every state: a put of
/// the value already there does not qualify.
#[test]
fn kv_register_never_changes_state_for_reads_and_failed_cas_only() {
    let m = KvRegister;
    let states = [None, Some(1), Some(2), Some(3)];
    let cas = |expected, new| Op::Cas { expected, new };
    let operations = [
        (Op::Put(1), Ret::Put),
        (Op::Get, Ret::Get(None)),
        (Op::Get, Ret::Get(Some(1))),
        (cas(1, 2), Ret::Cas(true)),
        (cas(1, 1), Ret::Cas(true)),
        (cas(1, 2), Ret::Cas(false)),
    ];
    for (input, output) in operations {
        let changes_somewhere = states.iter().any(|s| {
            m.step(s, &input, Some(&output))
                .is_some_and(|next| next != *s)
        });
        let claimed = m.never_changes_state(&input, &output);
        // Sound: never claimed of an operation that changes some state. (A cas of 1 to 1
        // never does either, but saying so is not required.)
        assert!(!(claimed && changes_somewhere), "{input:?} -> {output:?}");
        let read_or_mismatch = matches!(output, Ret::Get(_) | Ret::Cas(false));
        assert_eq!(claimed, read_or_mismatch, "{input:?} -> {output:?}");
    }
}

#[test]
fn summary_counts_outcomes_and_latencies() {
    let mut h = History::new();
    record(&mut h, 1, Op::Put(1), 0, 10, Outcome::Ok(Ret::Put));
    record(&mut h, 1, Op::Put(2), 20, 50, Outcome::Fail);
    record(&mut h, 1, Op::Get, 20, 70, Outcome::Info);
    h.invoke(7, 1, Op::Get, 80);
    let summary = h.summary();
    assert_eq!(
        summary,
        HistorySummary {
            ops: 4,
            ok: 1,
            fail: 1,
            info: 2,
            pending: 1
        }
    );
    let latencies: Vec<Option<u64>> = h.operations().map(Operation::latency_ns).collect();
    assert_eq!(latencies, [Some(10), Some(30), Some(50), None]);
    assert_eq!(h.get(OpId(3)).outcome(), Outcome::Info);
}

#[test]
#[should_panic(expected = "while Some(OpId(0)) is pending")]
fn a_process_has_at_most_one_pending_operation() {
    let mut h = History::new();
    h.invoke(1, 1, Op::Get, 0);
    h.invoke(1, 1, Op::Get, 5);
}

#[test]
#[should_panic(expected = "does not answer")]
fn a_completion_must_answer_its_operation() {
    let mut h = History::new();
    let id = h.invoke(1, 1, Op::Get, 0);
    h.complete(id, Outcome::Ok(Ret::Put), 5);
}

fn small_mixed_history() -> History {
    let mut h = History::new();
    let a = h.invoke(3, 1, Op::Put(7), 100);
    let b = h.invoke(1, 1, Op::Get, 150);
    h.complete(a, Outcome::Ok(Ret::Put), 200);
    h.complete(b, Outcome::Ok(Ret::Get(None)), 200);
    let c = h.invoke(
        2,
        1,
        Op::Cas {
            expected: 7,
            new: 8,
        },
        300,
    );
    h.complete(c, Outcome::Ok(Ret::Cas(false)), 310);
    let d = h.invoke(
        2,
        1,
        Op::Cas {
            expected: 7,
            new: 8,
        },
        400,
    );
    h.complete(d, Outcome::Fail, 410);
    h.invoke(4, 2, Op::Put(1), 500);
    let e = h.invoke(5, 2, Op::Get, 500);
    h.complete(e, Outcome::Info, 900);
    h
}

#[test]
fn jsonl_export_has_the_knossos_like_format() {
    let expected = [
        r#"{"process":3,"type":"invoke","f":"put","key":1,"value":7,"time":100}"#,
        r#"{"process":1,"type":"invoke","f":"get","key":1,"value":null,"time":150}"#,
        r#"{"process":3,"type":"ok","f":"put","key":1,"value":7,"time":200}"#,
        r#"{"process":1,"type":"ok","f":"get","key":1,"value":null,"time":200}"#,
        r#"{"process":2,"type":"invoke","f":"cas","key":1,"value":[7,8],"time":300}"#,
        r#"{"process":2,"type":"fail","f":"cas","key":1,"value":[7,8],"time":310,"error":"cas-mismatch"}"#,
        r#"{"process":2,"type":"invoke","f":"cas","key":1,"value":[7,8],"time":400}"#,
        r#"{"process":2,"type":"fail","f":"cas","key":1,"value":[7,8],"time":410}"#,
        r#"{"process":4,"type":"invoke","f":"put","key":2,"value":1,"time":500}"#,
        r#"{"process":5,"type":"invoke","f":"get","key":2,"value":null,"time":500}"#,
        r#"{"process":5,"type":"info","f":"get","key":2,"value":null,"time":900}"#,
    ];
    assert_eq!(small_mixed_history().to_jsonl(), expected.join("\n") + "\n");
}

#[test]
fn jsonl_round_trips_and_reports_bad_lines() {
    let h = small_mixed_history();
    let text = h.to_jsonl();
    assert_eq!(History::from_jsonl(&text), Ok(h));

    let bad = [
        (
            r#"{"process":1,"type":"ok","f":"get","key":1,"value":null,"time":5}"#,
            "no pending operation",
        ),
        (
            r#"{"process":1,"type":"invoke","f":"cas","key":1,"value":7,"time":5}"#,
            "expected [expected, new]",
        ),
        (
            r#"{"process":1,"type":"invoke","f":"put","key":1,"value":-1,"time":5}"#,
            "unsigned integer",
        ),
        (
            r#"{"process":1,"type":"sometimes","f":"put","key":1,"value":1,"time":5}"#,
            "unknown variant",
        ),
    ];
    for (line, reason) in bad {
        let text = format!("\n{line}\n");
        let error = History::from_jsonl(&text).expect_err(line);
        assert_eq!(error.line, 2, "{error}");
        assert!(error.reason.contains(reason), "{error}");
    }
}

#[test]
fn the_history_as_jepsen_edn() {
    let mut h = History::new();
    let w = h.invoke(7, 2, Op::Put(17), 1_000);
    let r = h.invoke(8, 2, Op::Get, 1_500);
    h.complete(w, Outcome::Ok(Ret::Put), 3_000);
    h.complete(r, Outcome::Ok(Ret::Get(Some(17))), 3_500);
    record(
        &mut h,
        4,
        Op::Cas {
            expected: 1,
            new: 2,
        },
        4_000,
        5_000,
        Outcome::Ok(Ret::Cas(false)),
    );
    record(
        &mut h,
        4,
        Op::Get,
        6_000,
        7_000,
        Outcome::Ok(Ret::Get(None)),
    );
    record(&mut h, 5, Op::Put(9), 8_000, 9_000, Outcome::Info);
    let pending = h.invoke(
        9,
        5,
        Op::Cas {
            expected: 9,
            new: 10,
        },
        9_500,
    );
    let _ = pending;
    let expected = "\
{:process 7, :type :invoke, :f :write, :value [2 17], :time 1000}
{:process 8, :type :invoke, :f :read, :value [2 nil], :time 1500}
{:process 7, :type :ok, :f :write, :value [2 17], :time 3000}
{:process 8, :type :ok, :f :read, :value [2 17], :time 3500}
{:process 2, :type :invoke, :f :cas, :value [4 [1 2]], :time 4000}
{:process 2, :type :fail, :f :cas, :value [4 [1 2]], :time 5000, :error :cas-mismatch}
{:process 3, :type :invoke, :f :read, :value [4 nil], :time 6000}
{:process 3, :type :ok, :f :read, :value [4 nil], :time 7000}
{:process 4, :type :invoke, :f :write, :value [5 9], :time 8000}
{:process 4, :type :info, :f :write, :value [5 9], :time 9000}
{:process 9, :type :invoke, :f :cas, :value [5 [9 10]], :time 9500}
";
    assert_eq!(h.to_edn(), expected);
    // Every line of the JSON lines has its EDN line, in the same order.
    assert_eq!(h.to_jsonl().lines().count(), expected.lines().count());
}
