//! The scenario library tells stories whose point is a number, not a verdict: PreVote stops a
//! partitioned follower from inflating terms, CheckQuorum makes an isolated leader step down,
//! fencing rejects stale writes, rumor mongering leaves a residue that anti-entropy repairs.
//! These tests hold the library to those numbers.

use faultline::runner::{Outcome, RunOptions, run};
use faultline::scenario::load;

fn outcome(file: &str) -> Outcome {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let s = load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let o = run(&path, &s, &RunOptions::default());
    assert!(
        o.matched,
        "{file}: {} (expected {}) {:?}",
        o.verdict, o.expected, o.violations
    );
    o
}

fn metric(o: &Outcome, name: &str) -> f64 {
    match o.metrics.get(name) {
        Some(v) => v
            .as_f64()
            .or_else(|| v.get("mean").and_then(|m| m.as_f64()))
            .unwrap(),
        None => 0.0,
    }
}

#[test]
fn pre_vote_prevents_term_inflation_and_disruption() {
    let without = outcome("raft/isolated_follower.ron");
    let with = outcome("raft/isolated_follower_pre_vote.ron");
    assert!(
        metric(&without, "raft.terms") >= 8.0,
        "an isolated follower without PreVote inflates terms"
    );
    assert!(
        metric(&without, "raft.leaders") >= 2.0,
        "and forces a new election when it rejoins"
    );
    assert!(metric(&with, "raft.terms") <= 2.0, "PreVote keeps the term");
    assert_eq!(
        metric(&with, "raft.leaders"),
        1.0,
        "and the leader keeps its place"
    );
}

#[test]
fn check_quorum_makes_an_isolated_leader_step_down() {
    let without = outcome("raft/isolated_leader.ron");
    let with = outcome("raft/isolated_leader_check_quorum.ron");
    assert_eq!(metric(&without, "raft.check_quorum_step_downs"), 0.0);
    assert!(metric(&with, "raft.check_quorum_step_downs") >= 1.0);
}

#[test]
fn fencing_rejects_the_old_primarys_writes() {
    for file in [
        "failover/fencing_partition.ron",
        "failover/fencing_pause.ron",
    ] {
        let o = outcome(file);
        let rejected = metric(&o, protocols::failover::metric::STALE_WRITES_REJECTED);
        assert!(
            rejected > 0.0,
            "{file}: stale writes must be rejected, not silently absent"
        );
        assert!(
            metric(&o, protocols::failover::metric::DUAL_BELIEF_MS) > 0.0,
            "{file}: the old primary believed"
        );
    }
}

#[test]
fn quorum_reports_its_unavailability_window() {
    let o = outcome("failover/quorum_minority.ron");
    let window = metric(&o, protocols::failover::metric::UNAVAILABLE_MS);
    assert!(
        (100.0..3000.0).contains(&window),
        "unavailability {window} ms"
    );
}

#[test]
fn rumor_mongering_leaves_a_residue_that_anti_entropy_repairs() {
    let rumor = outcome("gossip/partition_heal_rumor.ron");
    let residue = metric(&rumor, "gossip.residue");
    assert!(
        (0.4..0.6).contains(&residue),
        "rumor residue after a half/half partition: {residue}"
    );
    let ae = outcome("gossip/partition_heal_anti_entropy.ron");
    assert_eq!(metric(&ae, "gossip.residue"), 0.0);
}

#[test]
fn push_pull_beats_push_on_a_thousand_nodes() {
    let push = metric(
        &outcome("gossip/anti_entropy_push.ron"),
        "gossip.update.rounds_to_100",
    );
    let push_pull = metric(
        &outcome("gossip/anti_entropy_push_pull.ron"),
        "gossip.update.rounds_to_100",
    );
    // log2 n + ln n = 16.9 and log3 n = 6.3 (+ O(ln ln n)) for n = 1000.
    assert!((13.0..=24.0).contains(&push), "push rounds {push}");
    assert!(
        (7.0..=12.0).contains(&push_pull),
        "push-pull rounds {push_pull}"
    );
}

#[test]
fn the_storage_stories_show_their_fault_and_what_the_server_did() {
    // A crash with writes in flight: nothing acknowledged is lost (the file checks it), and the
    // restarted follower is back in the majority.
    let crash = outcome("storage/crash_loses_unsynced.ron");
    assert_eq!(metric(&crash, "raft.recoveries"), 1.0);
    // The torn last record is dropped at the restart.
    let torn = outcome("storage/torn_write.ron");
    assert_eq!(metric(&torn, "raft.torn_records_dropped"), 1.0);
    // Damage found at a restart halts exactly the damaged server; the others carry on.
    for file in ["storage/corrupt_record.ron", "storage/read_error.ron"] {
        let o = outcome(file);
        assert_eq!(metric(&o, "raft.halted_on_disk_damage"), 1.0, "{file}");
        assert!(metric(&o, "kv.ok") > 800.0, "{file}: clients kept going");
    }
    // The failed fsync is met and survived by rewriting.
    let fsync = outcome("storage/fsync_fail.ron");
    assert_eq!(metric(&fsync, "raft.sync_failures"), 1.0);
    assert_eq!(metric(&fsync, "storage.sync_failures"), 1.0);
    // A slow leader disk: followers' acknowledgements keep commits fast. Its syncs queued
    // behind each other show as one slow client operation at most a sync or two long.
    let slow = outcome("storage/slow_disk.ron");
    assert!(metric(&slow, "raft.commit_latency_ms") < 20.0);
    assert!(metric(&slow, "kv.ok") > 900.0);
}
