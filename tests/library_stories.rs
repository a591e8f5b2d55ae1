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

/// A run of a library scenario with its trace and samples, matched against its expectation.
fn traced(file: &str) -> Outcome {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let s = load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let o = run(&path, &s, &opts);
    assert!(o.matched, "{file}: {} {:?}", o.verdict, o.violations);
    o
}

/// Every `(time, node)` at which a node announced itself leader.
fn leaders(o: &Outcome) -> Vec<(f64, u32)> {
    o.trace
        .iter()
        .filter(|r| r.key.as_deref() == Some("role"))
        .filter(|r| r.value.as_ref().and_then(|v| v.as_str()) == Some("leader"))
        .map(|r| (r.time_ns as f64 / 1e9, r.node.unwrap()))
        .collect()
}

/// The summary field `stat` (`min`, `p50`, ...) of a sampled metric.
fn stat(o: &Outcome, name: &str, stat: &str) -> f64 {
    o.metrics[name][stat].as_f64().unwrap()
}

#[test]
fn raft_across_three_zones_pays_the_wan_round_trip_and_survives_losing_the_leaders_zone() {
    // Zones: dc1 = n0-n2, dc2 = n3-n5, dc3 = n6-n8; 30-80 ms one way between zones.
    let o = traced("topology/raft_three_zones.ron");
    let zone = |n: u32| n / 3;
    let led = leaders(&o);
    let (first_at, first) = led[0];
    assert!(
        first_at < 4.0 && zone(first) == 0,
        "the first leader is in dc1: {led:?}"
    );
    // A commit needs five of nine servers, so two acknowledgements from another zone: never
    // faster than the 60 ms inter-zone round trip, typically one round trip to the nearer of
    // two zones plus the inside of a zone.
    let min = stat(&o, "raft.commit_latency_ms", "min");
    let p50 = stat(&o, "raft.commit_latency_ms", "p50");
    assert!(
        min >= 60.0,
        "commit latency {min} ms under the inter-zone round trip"
    );
    assert!(
        p50 < 170.0,
        "median commit latency {p50} ms above the slowest round trip"
    );
    // Cut off at 4s, dc1 has three of nine: the six servers of dc2 and dc3 elect a leader
    // among them after an election timeout (500 ms to 1 s) plus an inter-zone vote round.
    let (new_at, new) = *led
        .iter()
        .find(|(t, _)| *t > 4.0)
        .unwrap_or_else(|| panic!("no leader after the cut: {led:?}"));
    assert!(
        zone(new) != 0,
        "the new leader is in the majority side: {led:?}"
    );
    let took = new_at - 4.0;
    assert!(
        (0.5..1.5).contains(&took),
        "a new leader {took:.3} s after the cut"
    );
    // The old leader, alone with its zone, steps down (CheckQuorum), and no third leader is
    // needed after the heal: dc1 rejoins as followers.
    assert_eq!(metric(&o, "raft.check_quorum_step_downs"), 1.0);
    assert_eq!(metric(&o, "raft.leaders"), 2.0);
    // Clients stall for about the election, never for the whole 5 s cut.
    let worst = stat(&o, "kv.latency_ms", "max");
    assert!(worst < 2500.0, "an operation took {worst} ms");
}

#[test]
fn a_wan_brownout_is_routed_around_until_it_hits_every_quorum() {
    let o = traced("topology/raft_wan_brownout.ron");
    assert!(
        leaders(&o).iter().all(|(_, n)| *n < 3),
        "the leader stays in dc1"
    );
    let samples = &o.samples["raft.commit_latency_ms"];
    let mean_in = |from: f64, to: f64| {
        let v: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| (from..to).contains(&(*t as f64 / 1e9)))
            .map(|(_, v)| *v)
            .collect();
        assert!(v.len() >= 5, "{} commits in [{from}, {to})", v.len());
        v.iter().sum::<f64>() / v.len() as f64
    };
    let calm = mean_in(1.0, 3.0);
    let one_link = mean_in(3.5, 6.0);
    let every_link = mean_in(8.5, 11.0);
    // dc1-dc2 degraded: dc3's acknowledgements complete the majority.
    assert!(
        one_link < calm * 1.3,
        "one degraded link: {one_link:.1} ms against {calm:.1} ms"
    );
    // dc1 degraded to both zones: every commit waits for a degraded round trip (at least
    // 2 x 100 ms extra, more with retransmissions).
    assert!(
        every_link > calm + 200.0,
        "every link degraded: {every_link:.1} ms against {calm:.1} ms"
    );
}

#[test]
fn a_slow_leader_is_deposed_although_it_never_failed() {
    let path = format!(
        "{}/scenarios/slow/slow_leader.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let s = load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let o = run(&path, &s, &opts);
    assert!(o.matched, "{} {:?}", o.verdict, o.violations);
    // Who announced itself leader, and when.
    let leaders: Vec<(f64, u32)> = o
        .trace
        .iter()
        .filter(|r| r.key.as_deref() == Some("role"))
        .filter(|r| r.value.as_ref().and_then(|v| v.as_str()) == Some("leader"))
        .map(|r| (r.time_ns as f64 / 1e9, r.node.unwrap()))
        .collect();
    // The first leader is slowed at 3 s; another node takes over while it is slow, and
    // nobody else after it.
    assert_eq!(leaders.len(), 2, "{leaders:?}");
    assert!(leaders[0].0 < 1.0, "{leaders:?}");
    assert!((3.0..4.0).contains(&leaders[1].0), "{leaders:?}");
    assert_ne!(leaders[0].1, leaders[1].1);
    assert_eq!(metric(&o, "raft.terms"), 2.0);
    // The slow leader's events queued up to about a second; an entry it was committing waited
    // far longer than any commit takes otherwise.
    let max = |name: &str| o.metrics[name]["max"].as_f64().unwrap();
    assert!(max("node.queue_delay_ms") > 500.0);
    assert!(max("raft.commit_latency_ms") > 100.0);
    assert!(o.metrics["raft.commit_latency_ms"]["p99"].as_f64().unwrap() < 20.0);
    // The same run without the fault: one leader, no commit slower than 20 ms.
    let mut calm = s.clone();
    calm.faults.clear();
    let c = run(&path, &calm, &RunOptions::default());
    assert!(c.matched, "{} {:?}", c.verdict, c.violations);
    assert_eq!(metric(&c, "raft.leaders"), 1.0);
    assert!(c.metrics["raft.commit_latency_ms"]["max"].as_f64().unwrap() < 20.0);
    assert!(c.metrics["node.queue_delay_ms"]["max"].as_f64().unwrap() < 10.0);
}
