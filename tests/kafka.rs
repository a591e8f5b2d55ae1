//! The Kafka-style family's library stories, held to their numbers: each historical data-loss
//! bug loses acknowledged writes and its safe counterpart, under the same faults, loses none
//! and pays in availability instead; acks=1 is faster than acks=all and loses writes on
//! failover; the consumers drain, so `Unseen` is judged, and restarted consumers resume from
//! their committed offsets.

use faultline::runner::{Outcome, RunOptions, run};
use faultline::scenario::load;

fn outcome(file: &str) -> Outcome {
    outcome_seed(file, None)
}

fn outcome_seed(file: &str, seed: Option<u64>) -> Outcome {
    let path = format!("{}/scenarios/kafka/{file}", env!("CARGO_MANIFEST_DIR"));
    let s = load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        &path,
        &s,
        &RunOptions {
            seed,
            history: true,
            ..RunOptions::default()
        },
    );
    assert!(
        o.matched,
        "{file}: {} (expected {}) {:?}",
        o.verdict, o.expected, o.violations
    );
    o
}

fn metric(o: &Outcome, name: &str, stat: &str) -> f64 {
    match o.metrics.get(name) {
        Some(v) => v
            .as_f64()
            .or_else(|| v.get(stat).and_then(|m| m.as_f64()))
            .unwrap_or_else(|| panic!("{name}: {v}")),
        None => 0.0,
    }
}

fn count(o: &Outcome, name: &str) -> f64 {
    metric(o, name, "mean")
}

fn violation(o: &Outcome) -> &str {
    &o.violations.first().expect("a violation").message
}

#[test]
fn the_jepsen_2013_partition_loses_acknowledged_writes_only_with_the_unsafe_settings() {
    let unsafe_ = outcome("jepsen_2013.ron");
    let missing = count(&unsafe_, "kafka.acked_missing_from_log");
    assert!(missing >= 100.0, "{missing} acknowledged writes lost");
    assert!(
        violation(&unsafe_).contains("n4's log holds value"),
        "{}",
        violation(&unsafe_)
    );
    // The same faults with min.insync.replicas 2 and clean election: nothing lost; writes are
    // refused while the ISR is n3 alone, and the partition waits offline for it.
    let safe = outcome("jepsen_2013_safe.ron");
    assert_eq!(count(&safe, "kafka.acked_missing_from_log"), 0.0);
    assert_eq!(count(&safe, "kafka.acked_unread"), 0.0);
    assert!(count(&safe, "kafka.failed") + count(&safe, "kafka.info") > 0.0);
    let window = metric(&safe, "kafka.unavailable_ms", "max");
    assert!(window > 2000.0, "the longest unavailability: {window} ms");
    assert!(count(&unsafe_, "kafka.acked") > 2.0 * count(&safe, "kafka.acked"));
}

#[test]
fn kip101_truncation_to_the_high_watermark_loses_then_diverges_and_leader_epochs_fix_it() {
    let lost = outcome("kip101_scenario1.ron");
    assert!(count(&lost, "kafka.acked_missing_from_log") >= 1.0);
    assert!(count(&lost, "kafka.truncated_records") >= 1.0);
    // The fix: the same faults, truncation by leader epoch, no loss and no truncation.
    let fixed = outcome("kip101_fixed.ron");
    assert_eq!(count(&fixed, "kafka.acked_missing_from_log"), 0.0);
    // Scenario 2: the old leader comes back and keeps the records the new one replaced.
    let diverged = outcome("kip101_scenario2.ron");
    let v = violation(&diverged);
    assert!(
        v.contains("n3 holds value") && v.contains("n4 holds value"),
        "{v}"
    );
}

#[test]
fn unclean_election_loses_committed_records_and_clean_election_waits_for_them() {
    let unclean = outcome("unclean_election.ron");
    assert!(violation(&unclean).contains("was committed there"));
    let clean = outcome("unclean_election_off.ron");
    assert_eq!(count(&clean, "kafka.acked_missing_from_log"), 0.0);
    // n3 and n4, the ISR, are down from 5 s to 7 s: no leader for about 2 s.
    let window = metric(&clean, "kafka.unavailable_ms", "max");
    assert!(window > 1500.0, "the longest unavailability: {window} ms");
}

#[test]
fn acks_one_is_faster_than_acks_all_and_loses_writes_on_failover() {
    let one = outcome("acks1_failover.ron");
    let all = outcome("steady.ron");
    assert!(count(&one, "kafka.acked_missing_from_log") >= 1.0);
    assert_eq!(count(&all, "kafka.acked_missing_from_log"), 0.0);
    let (p50_one, p50_all) = (
        metric(&one, "kafka.produce_ms.acks1", "p50"),
        metric(&all, "kafka.produce_ms.acks_all", "p50"),
    );
    assert!(
        p50_one * 2.0 < p50_all,
        "acks=1 p50 {p50_one} ms, acks=all p50 {p50_all} ms"
    );
    // One leader change for partition 0's crash, and its ISR drops to 2 and comes back.
    assert!(count(&all, "kafka.leader_changes") >= 1.0);
    assert_eq!(metric(&all, "kafka.isr_size.p0", "min"), 2.0);
    assert_eq!(metric(&all, "kafka.isr_size.p0", "max"), 3.0);
}

#[test]
fn consumers_drain_under_the_nemesis_so_unseen_is_judged_and_restarts_resume() {
    let mut drained = 0;
    let mut resumed = 0;
    for seed in 1..=20 {
        let o = outcome_seed("nemesis.ron", Some(seed));
        drained += count(&o, "kafka.drained") as u32;
        assert_eq!(count(&o, "kafka.acked_unread"), 0.0, "seed {seed}");
        let polls = &o
            .exports
            .iter()
            .find(|(f, _)| *f == "jsonl")
            .expect("the queue history")
            .1;
        // A restarted consumer (session 1 and on) reads again from its committed offsets.
        resumed += u32::from(polls.contains("\"session\":1"));
    }
    assert!(drained >= 18, "{drained} of 20 runs drained");
    assert!(
        resumed >= 18,
        "{resumed} of 20 runs had a restarted consumer reading"
    );
}
