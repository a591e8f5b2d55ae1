//! Fuzz campaigns end to end: each known-bug Raft variant is found within a fixed seed budget,
//! the saved failure file replays to the same violation and trace hash, the shrunk file keeps
//! only a few faults; the correct protocol under the same campaign finds nothing; a restarted
//! campaign neither loses nor duplicates failures; shards cover the range exactly once.

use faultline::fuzz::campaign::{CampaignConfig, CampaignReport, Shard, run_campaign};
use faultline::fuzz::targets::{BugTarget, TARGETS, target};
use faultline::runner::{RunOptions, run};
use faultline::scenario::{self, load};
use std::path::{Path, PathBuf};

/// The one-fault-at-a-time Raft nemesis; `BUG` is replaced by the variant.
fn raft_nemesis() -> &'static str {
    target("raft NoTruncate").template
}

/// `name` with everything but letters and digits made `_`, for file names.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let name = slug(name);
    let dir = std::env::temp_dir().join(format!("faultline-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the scenario with `bug` into `dir` and returns its path.
fn scenario_file(dir: &Path, template: &str, bug: &str) -> PathBuf {
    let path = dir.join(format!("case_{}.ron", slug(bug)));
    std::fs::write(&path, template.replace("BUG", bug)).unwrap();
    path
}

fn campaign(
    file: &Path,
    seeds: u64,
    out: Option<&Path>,
    shrink: usize,
    shard: Shard,
) -> CampaignReport {
    run_campaign(&config(file, seeds, out, shrink, shard)).unwrap()
}

fn config(
    file: &Path,
    seeds: u64,
    out: Option<&Path>,
    shrink: usize,
    shard: Shard,
) -> CampaignConfig {
    CampaignConfig {
        registry: faultline::builtin::registry(),
        file: file.to_path_buf(),
        scenario: load(file).unwrap_or_else(|e| panic!("{e}")),
        start: 0,
        end: seeds,
        shard,
        jobs: 2,
        out: out.map(Path::to_path_buf),
        budget: None,
        shrink,
        shrink_runs: faultline::fuzz::shrink::DEFAULT_MAX_RUNS,
        progress: false,
        max_failures: None,
        check_determinism: 0,
        guided: false,
    }
}

/// Finds the target's bug within its seed budget, checks the saved and shrunk files, and that
/// the correct variant under the same campaign finds nothing.
fn finds_replays_and_shrinks(t: &BugTarget) {
    let BugTarget {
        name,
        template,
        bug,
        correct,
        seeds,
        invariants,
        max_faults: max_faults_after,
    } = *t;
    let dir = scratch(bug);
    let file = scenario_file(&dir, template, bug);
    let out = dir.join("failures");
    // Up to the first failure in seed order (the rarest bug's is near its budget's end).
    let report = run_campaign(&CampaignConfig {
        max_failures: Some(1),
        ..config(&file, seeds, Some(&out), 1, Shard::ALL)
    })
    .unwrap();
    assert!(report.seeds_run <= seeds);
    let first = report
        .failures
        .first()
        .unwrap_or_else(|| panic!("{bug}: no failure in {seeds} seeds"));
    assert!(
        invariants.contains(&first.key.as_str()),
        "{bug} caught as {}",
        first.key
    );

    // The saved file is a valid scenario without a nemesis that replays exactly.
    let saved_path = first.file.clone().expect("saved");
    assert_eq!(
        saved_path,
        out.join(format!("case_{}.seed{}.ron", slug(bug), first.seed))
    );
    let saved = load(&saved_path).unwrap_or_else(|e| panic!("{e}"));
    assert!(saved.nemesis.is_none() && !saved.faults.is_empty());
    let replay = run(
        &saved_path.display().to_string(),
        &saved,
        &RunOptions::default(),
    );
    assert!(!replay.matched);
    assert_eq!(
        replay.violations.first().map(|v| v.invariant.as_str()),
        Some(first.key.as_str())
    );
    assert_eq!(
        replay.trace_hash, first.trace_hash,
        "{bug}: the saved file replays to another trace"
    );

    // The shrunk file fails the same way with only a few faults.
    let shrunk = first.shrunk.clone().expect("the first failure is shrunk");
    eprintln!(
        "{name}: seed {} ({}), shrunk {} -> {} faults",
        first.seed, first.key, shrunk.faults_before, shrunk.faults_after
    );
    let small = load(&shrunk.file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(small.faults.len(), shrunk.faults_after);
    assert!(
        shrunk.faults_after <= max_faults_after,
        "{bug}: shrunk to {} faults",
        shrunk.faults_after
    );
    assert!(
        shrunk.faults_after < shrunk.faults_before || shrunk.faults_before <= 4,
        "{bug}: the shrinker removed nothing from {} faults",
        shrunk.faults_before
    );
    let text = std::fs::read_to_string(&shrunk.file).unwrap();
    assert!(
        text.starts_with("// Shrunk by `faultline shrink`"),
        "{text}"
    );
    // Its Lamport diagram is drawn beside it, up to the violation it shows.
    let svg = std::fs::read_to_string(faultline::trace::diagram_path(&shrunk.file))
        .unwrap_or_else(|e| panic!("{bug}: no diagram beside the shrunk file: {e}"));
    assert!(
        svg.starts_with("<svg") && svg.contains(&first.key),
        "{bug}: {svg:.300}"
    );
    assert!(
        svg.contains("class=\"message\""),
        "{bug}: the diagram draws messages"
    );
    assert!(text.contains(&format!(
        "Faults {} -> {}",
        shrunk.faults_before, shrunk.faults_after
    )));
    let again = run("shrunk", &small, &RunOptions::default());
    assert_eq!(
        again.violations.first().map(|v| v.invariant.as_str()),
        Some(first.key.as_str())
    );

    // The correct variant under the same campaign finds nothing.
    let correct_file = scenario_file(&dir, template, correct);
    let clean = campaign(&correct_file, seeds, None, 0, Shard::ALL);
    assert!(
        clean.failures.is_empty(),
        "correct {correct} failed: {:?}",
        clean.by_invariant
    );
    assert_eq!(clean.seeds_run, seeds);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn finds_vote_without_log_check() {
    finds_replays_and_shrinks(target("raft VoteWithoutLogCheck"));
}

#[test]
fn finds_no_truncate() {
    finds_replays_and_shrinks(target("raft NoTruncate"));
}

#[test]
fn finds_local_reads() {
    finds_replays_and_shrinks(target("raft LocalReads"));
}

#[test]
fn finds_forget_vote_with_overlapping_faults() {
    finds_replays_and_shrinks(target("raft ForgetVote"));
}

#[test]
fn finds_commit_previous_term_with_overlapping_faults() {
    finds_replays_and_shrinks(target("raft CommitPreviousTerm"));
}

#[test]
fn finds_ack_before_sync_with_overlapping_faults() {
    finds_replays_and_shrinks(target("raft AckBeforeSync"));
}

#[test]
fn finds_a_failed_fsync_taken_for_a_success() {
    finds_replays_and_shrinks(target("raft FsyncRetry"));
}

#[test]
fn finds_a_corrupted_record_read_without_checksums() {
    finds_replays_and_shrinks(target("raft NoChecksum"));
}

#[test]
fn finds_stale_digests_that_a_digest_trusting_checker_missed() {
    finds_replays_and_shrinks(target("raft StaleDigests"));
}

#[test]
fn finds_a_snapshot_that_keeps_a_conflicting_suffix() {
    finds_replays_and_shrinks(target("raft SnapshotKeepsSuffix"));
}

#[test]
fn finds_a_backup_accepting_a_fenced_primary() {
    finds_replays_and_shrinks(target("failover AcceptStaleEpoch"));
}

#[test]
fn finds_a_primary_acknowledging_with_one_backup() {
    finds_replays_and_shrinks(target("failover AckOneBackup"));
}

#[test]
fn finds_gossip_forgetting_its_store_on_restart() {
    finds_replays_and_shrinks(target("gossip ForgetOnRestart"));
}

#[test]
fn finds_a_failover_backup_acknowledging_before_its_sync() {
    finds_replays_and_shrinks(target("failover AckBeforeSync"));
}

#[test]
fn finds_naive_failover_split_brain() {
    finds_replays_and_shrinks(target("failover Naive"));
}

#[test]
fn finds_async_replication_losing_acknowledged_writes() {
    finds_replays_and_shrinks(target("failover async replication"));
}

#[test]
fn finds_lease_failover_splitting_the_brain_beyond_its_drift_bound() {
    finds_replays_and_shrinks(target("failover Lease beyond its drift bound"));
}

#[test]
fn finds_gossip_digest_keys_only() {
    finds_replays_and_shrinks(target("gossip DigestKeysOnly"));
}

#[test]
fn finds_gossip_overwrite_older() {
    finds_replays_and_shrinks(target("gossip OverwriteOlder"));
}

#[test]
fn finds_gossip_version_only() {
    finds_replays_and_shrinks(target("gossip VersionOnly"));
}

#[test]
fn finds_kafka_acknowledging_with_a_lone_isr_leader() {
    finds_replays_and_shrinks(target("kafka lone ISR leader"));
}

#[test]
fn finds_kafka_high_watermark_truncation_without_leader_epochs() {
    finds_replays_and_shrinks(target("kafka no leader epochs"));
}

#[test]
fn finds_kafka_unclean_leader_election() {
    finds_replays_and_shrinks(target("kafka unclean election"));
}

#[test]
fn finds_kafka_acks_one_losing_writes_on_failover() {
    finds_replays_and_shrinks(target("kafka acks=1"));
}

#[test]
fn finds_swim_alive_messages_applied_without_an_incarnation_check() {
    finds_replays_and_shrinks(target("swim NoIncarnationCheck"));
}

#[test]
fn finds_swim_suspicions_that_never_time_out() {
    finds_replays_and_shrinks(target("swim SuspicionNoTimeout"));
}

#[test]
fn seed_hopping_shrinks_a_rare_failure_further_and_deterministically() {
    use faultline::fuzz::shrink::{ShrinkOptions, shrink};
    let t = target("raft AckBeforeSync");
    let s = t.scenario(t.bug);
    let mut found = None;
    for seed in 0..t.seeds {
        let m = faultline::fuzz::campaign::materialize(&s, seed).unwrap();
        if !run("t", &m, &RunOptions::default()).matched {
            found = Some(m);
            break;
        }
    }
    let failing = found.expect("a failure within the target's budget");
    let one_seed = ShrinkOptions {
        hop_seeds: 0,
        ..ShrinkOptions::default()
    };
    let fixed = shrink(&faultline::builtin::registry(), "t", &failing, one_seed).unwrap();
    let hopped = shrink(
        &faultline::builtin::registry(),
        "t",
        &failing,
        ShrinkOptions::default(),
    )
    .unwrap();
    assert!(
        hopped.faults_after < fixed.faults_after,
        "hopping kept {} faults, the failing seed alone {}",
        hopped.faults_after,
        fixed.faults_after
    );
    assert_ne!(
        hopped.scenario.seed, failing.seed,
        "the shrunk file keeps the seed that failed"
    );
    assert!(hopped.removed.iter().any(|r| r.starts_with("seed ")));
    let again = shrink(
        &faultline::builtin::registry(),
        "t",
        &failing,
        ShrinkOptions::default(),
    )
    .unwrap();
    assert_eq!(again.file_text("t"), hopped.file_text("t"));
    assert_eq!(again.runs, hopped.runs);
}

#[test]
fn every_raft_and_failover_bug_variant_and_only_known_targets_have_a_campaign() {
    for (i, bug) in protocols::raft::RaftBug::ALL.into_iter().enumerate() {
        assert_eq!(bug.index(), i, "RaftBug::ALL lists every variant once");
        let name = format!("raft {bug:?}");
        assert!(
            TARGETS
                .iter()
                .any(|t| t.name == name && t.bug == format!("{bug:?}")),
            "{name} has no campaign in fuzz::targets"
        );
    }
    for bug in protocols::failover::FailoverBug::ALL {
        let name = format!("failover {bug:?}");
        assert!(
            TARGETS
                .iter()
                .any(|t| t.name == name && t.bug.contains(&format!("bug: {bug:?}"))),
            "{name} has no campaign in fuzz::targets"
        );
    }
    let tested = include_str!("fuzz.rs");
    for t in TARGETS {
        assert!(
            tested.contains(&format!("target(\"{}\"))", t.name)),
            "{} has no test here",
            t.name
        );
    }
}

#[test]
fn a_restarted_campaign_neither_loses_nor_duplicates_failures() {
    let dir = scratch("restart");
    let file = scenario_file(&dir, raft_nemesis(), "NoTruncate");
    let out = dir.join("failures");
    let listing = |out: &Path| {
        let mut v: Vec<(String, String)> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let a = campaign(&file, 40, Some(&out), 0, Shard::ALL);
    let first = listing(&out);
    assert_eq!(first.len(), a.failures.len());
    assert!(!first.is_empty());
    // A second run of a part of the range (as if the first was killed), then the whole range.
    campaign(&file, 20, Some(&out), 0, Shard::ALL);
    let b = campaign(&file, 40, Some(&out), 0, Shard::ALL);
    assert_eq!(
        listing(&out),
        first,
        "same files, same bytes, nothing extra"
    );
    assert_eq!(a.by_invariant, b.by_invariant);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_together_find_exactly_what_the_whole_range_finds() {
    let dir = scratch("shards");
    let file = scenario_file(&dir, raft_nemesis(), "VoteWithoutLogCheck");
    let whole = campaign(&file, 12, None, 0, Shard::ALL);
    let mut seeds = vec![];
    let mut run_total = 0;
    for index in 0..3 {
        let part = campaign(&file, 12, None, 0, Shard { index, count: 3 });
        run_total += part.seeds_run;
        seeds.extend(part.failures.iter().map(|f| (f.seed, f.trace_hash.clone())));
    }
    seeds.sort();
    let want: Vec<(u64, String)> = whole
        .failures
        .iter()
        .map(|f| (f.seed, f.trace_hash.clone()))
        .collect();
    assert_eq!(run_total, 12);
    assert!(!want.is_empty());
    assert_eq!(seeds, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn swarm_failures_are_saved_with_the_drawn_knobs_and_replay() {
    let dir = scratch("swarm");
    let template = raft_nemesis().replace(
        "network: (latency: Uniform(\"1ms\", \"10ms\")),",
        "network: (links: Datagram),\n    swarm: (latency: [Constant(\"2ms\"), Uniform(\"1ms\", \"20ms\")], loss: (0.0, 0.05), \
         faults: [Crash, CrashLeader, IsolateLeader, Partition, PauseLeader]),",
    );
    let file = scenario_file(&dir, &template, "NoTruncate");
    let out = dir.join("failures");
    let report = campaign(&file, 60, Some(&out), 0, Shard::ALL);
    let f = report
        .failures
        .first()
        .expect("swarm finds NoTruncate within 60 seeds");
    let path = f.file.clone().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("swarm:"), "{text}");
    assert!(text.contains("// Swarm knobs drawn for this seed"));
    let saved = scenario::parse("saved", &text).unwrap_or_else(|e| panic!("{e}"));
    let replay = run("saved", &saved, &RunOptions::default());
    assert_eq!(replay.trace_hash, f.trace_hash);
    // Knobs vary between seeds: not every saved file has the same network.
    let networks: std::collections::BTreeSet<String> = (0..8)
        .map(|seed| {
            format!(
                "{:?}",
                faultline::fuzz::campaign::materialize(&load(&file).unwrap(), seed)
                    .unwrap()
                    .network
            )
        })
        .collect();
    assert!(networks.len() > 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_and_shrink_commands_write_junit_and_shrunk_files_with_their_exit_codes() {
    use faultline::fuzz::{FuzzArgs, ShrinkArgs, cmd_fuzz, cmd_shrink};
    let dir = scratch("cli");
    let buggy = scenario_file(&dir, raft_nemesis(), "NoTruncate");
    let out = dir.join("failures");
    let junit = dir.join("fuzz.xml");
    let args = FuzzArgs {
        file: buggy.clone(),
        seeds: (0, 40),
        jobs: 2,
        shard: None,
        out: Some(out.clone()),
        budget: None,
        shrink: 0,
        shrink_runs: 100,
        junit: Some(junit.clone()),
        max_failures: None,
        fail_fast: false,
        check_determinism: None,
        guided: false,
        json: true,
        quiet: true,
    };
    assert_eq!(
        cmd_fuzz(&faultline::builtin::registry(), &args),
        1,
        "failures found"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let saved: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!saved.is_empty());
    // One failing test case per group of failures with one signature; the groups' counts
    // add up to the failures saved.
    let groups = xml.matches("<failure ").count();
    assert!(groups >= 1 && groups <= saved.len(), "{xml}");
    let counted: usize = xml
        .split(" seed(s))\"")
        .filter_map(|part| part.rsplit('(').next()?.trim().parse::<usize>().ok())
        .sum();
    assert_eq!(counted, saved.len(), "{xml}");
    assert!(xml.contains("replay: faultline run "));

    // `faultline shrink` on a saved failure writes `<name>.shrunk.ron` beside it.
    let failure = saved.iter().min().unwrap().clone();
    let shrink = ShrinkArgs {
        file: failure.clone(),
        out: None,
        max_runs: 100,
        hop_seeds: 0,
        json: false,
    };
    assert_eq!(cmd_shrink(&faultline::builtin::registry(), &shrink), 0);
    let shrunk = failure.with_file_name(format!(
        "{}.shrunk.ron",
        failure.file_stem().unwrap().to_string_lossy()
    ));
    let text = std::fs::read_to_string(&shrunk).unwrap();
    scenario::parse("shrunk", &text).unwrap_or_else(|e| panic!("{e}"));

    // The correct protocol: no failure, exit 0; a file that does not fail cannot be shrunk.
    let correct = scenario_file(&dir, raft_nemesis(), "None");
    let clean = FuzzArgs {
        file: correct.clone(),
        out: None,
        junit: None,
        ..args.clone()
    };
    assert_eq!(cmd_fuzz(&faultline::builtin::registry(), &clean), 0);
    assert_eq!(
        cmd_shrink(
            &faultline::builtin::registry(),
            &ShrinkArgs {
                file: correct,
                ..shrink.clone()
            }
        ),
        1
    );
    // A file that does not parse is bad input.
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, "Scenario(name: \"x\", protocol: Raft(()), nodez: 3)").unwrap();
    assert_eq!(
        cmd_fuzz(
            &faultline::builtin::registry(),
            &FuzzArgs {
                file: bad.clone(),
                ..clean
            }
        ),
        2
    );
    assert_eq!(
        cmd_shrink(
            &faultline::builtin::registry(),
            &ShrinkArgs {
                file: bad,
                ..shrink
            }
        ),
        2
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fuzzing a known-bug scenario (`expect: Violates(X)`) counts and saves the seeds where X
/// shows as hits; the seeds where the run held are neither failures nor saved.
#[test]
fn a_known_bug_scenario_reports_how_often_its_bug_shows() {
    let dir = scratch("known bug hits");
    let text = r#"Scenario(
    name: "gossip bug: merge by arrival",
    protocol: Gossip((period: "50ms", bug: OverwriteOlder)),
    nodes: 12,
    duration: "3s",
    network: (latency: Uniform("1ms", "10ms")),
    workload: Updates((updates: [], rate: RATE, keys: 2, start: "100ms", stop: "2s")),
    checks: [VersionsMonotonic],
    expect: Violates(VersionsMonotonic),
)"#;
    // Writes at 40 per second collide often; at 1 per second, rarely or never.
    let busy = dir.join("busy.ron");
    std::fs::write(&busy, text.replace("RATE", "40.0")).unwrap();
    let out = dir.join("out");
    let r = campaign(&busy, 12, Some(&out), 0, Shard::ALL);
    assert!(
        r.failures.is_empty(),
        "hits are not failures: {:?}",
        r.groups
    );
    let hits = r.hits.clone().expect("a known-bug scenario reports hits");
    assert_eq!(hits.invariant, "VersionsMonotonic");
    assert!(
        hits.count >= 6,
        "the bug shows on most busy seeds: {hits:?}"
    );
    assert_eq!(hits.saved.len() as u64, hits.count.min(100));
    let files = std::fs::read_dir(&out).unwrap().count() as u64;
    assert_eq!(files, hits.count, "only the hits are saved");
    assert!(!r.failed());
    let calm = dir.join("calm.ron");
    std::fs::write(&calm, text.replace("RATE", "0.5")).unwrap();
    let r = campaign(&calm, 4, None, 0, Shard::ALL);
    let hits = r.hits.clone().unwrap();
    assert!(r.failures.is_empty());
    if hits.count == 0 {
        assert!(
            r.failed(),
            "a known bug that never shows fails the campaign"
        );
        assert!(faultline::fuzz::campaign::summary_text(&r).contains("was never found"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Failures group by signature (the invariant and the message with numbers masked); each
/// group's first failure is shrunk, and the report records the build.
#[test]
fn failures_are_grouped_by_signature_with_one_shrunk_reproducer_each() {
    let dir = scratch("groups");
    let file = scenario_file(&dir, raft_nemesis(), "NoTruncate");
    let out = dir.join("failures");
    let r = campaign(&file, 40, Some(&out), 8, Shard::ALL);
    assert!(!r.failures.is_empty());
    let total: u64 = r.groups.iter().map(|g| g.count).sum();
    assert_eq!(total, r.failures.len() as u64);
    for g in &r.groups {
        assert!(
            g.shrunk.is_some(),
            "{} has a shrunk reproducer",
            g.signature
        );
        assert!(
            !g.signature.chars().any(|c| c.is_ascii_digit()),
            "{}",
            g.signature
        );
        let members: Vec<_> = r
            .failures
            .iter()
            .filter(|f| f.signature == g.signature)
            .collect();
        assert_eq!(members.len() as u64, g.count);
        assert_eq!(
            members[0].seed, g.seeds[0],
            "the first failure represents the group"
        );
    }
    assert!(r.build.starts_with("faultline "), "{}", r.build);
    let saved = std::fs::read_to_string(r.failures[0].file.as_ref().unwrap()).unwrap();
    assert!(
        saved.contains(&format!("// Build: {}.", r.build)),
        "{saved}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
