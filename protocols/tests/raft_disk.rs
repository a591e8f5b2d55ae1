//! Raft on a disk that lies: with a sync latency and storage faults (torn writes, corrupted
//! records, latent read errors, failed fsyncs, slow disks) the correct server keeps every
//! safety invariant, halting rather than trusting a damaged record; and each persistence
//! known bug — acknowledging before the sync completes, taking a failed fsync for a success,
//! reading records without checksums — is caught under the same schedules.

use protocols::checks::{Check, Checks, Invariant};
use protocols::family::{Family, Setup};
use protocols::kv::KvWorkloadConfig;
use protocols::raft::{RaftBug, RaftConfig, RaftFamily};
use protocols::units::Dur;
use sim::rng::{index, splitmix64, uniform_u64};
use sim::{
    Fault, Latency, Limits, NetConfig, NodeId, SimConfig, StorageConfig, Target, Time, Verdict,
};
use std::time::Duration;

const SAFETY: &[Check] = &[
    Check::of(Invariant::ELECTION_SAFETY),
    Check::of(Invariant::LEADER_APPEND_ONLY),
    Check::of(Invariant::LOG_MATCHING),
    Check::of(Invariant::LEADER_COMPLETENESS),
    Check::of(Invariant::STATE_MACHINE_SAFETY),
    Check::of(Invariant::MONOTONIC_TERM),
    Check::of(Invariant::MONOTONIC_COMMIT),
    Check::of(Invariant::LINEARIZABLE),
];

const NODES: usize = 5;

/// Which storage faults a schedule draws besides crashes, restarts and partitions.
#[derive(Clone, Copy, PartialEq)]
enum Disk {
    /// Only crashes (which lose unsynced writes) and torn writes.
    Crashes,
    /// Failed fsyncs too.
    Fsync,
    /// Corrupted records and latent read errors found at a restart too.
    Damage,
}

/// A deterministic fault schedule (independent of the engine's streams): every 100-500 ms
/// one of crash a random node or the leader (sometimes tearing its last write), bounce a
/// node, restart everything, isolate the leader, a storage fault of the menu `disk`, or
/// heal; everything heals and restarts at 8 s.
fn schedule(seed: u64, disk: Disk) -> Vec<(Time, Fault)> {
    let mut g = sim::rng::stream(splitmix64(seed ^ 0xd15c), sim::rng::Purpose::Faults);
    let node = |g: &mut sim::rng::StreamRng| Target::Node(NodeId(index(g, NODES) as u32));
    let mut t = 300_000_000u64;
    let mut out = Vec::new();
    while t < 8_000_000_000 {
        let f = match index(&mut g, 10) {
            0 => Fault::Crash(Target::Leader),
            1 => Fault::Crash(node(&mut g)),
            2 => Fault::TornWrite(node(&mut g)),
            3 => {
                // A bounce: down for 5-60 ms.
                let n = node(&mut g);
                out.push((Time(t), Fault::Crash(n.clone())));
                t += uniform_u64(&mut g, 5_000_000, 60_000_000);
                Fault::Restart(n)
            }
            4 | 5 => Fault::Restart(Target::Crashed),
            6 => Fault::Isolate(Target::Leader),
            7 => match disk {
                Disk::Crashes => Fault::TornWrite(Target::Leader),
                Disk::Fsync => Fault::FsyncFail(Target::Random),
                Disk::Damage => {
                    // Damage is found when the server reads its disk: at its restart.
                    let n = node(&mut g);
                    let damage = if index(&mut g, 2) == 0 {
                        Fault::Corrupt(n.clone())
                    } else {
                        Fault::ReadError(n.clone())
                    };
                    out.push((Time(t), damage));
                    out.push((Time(t), Fault::Crash(n.clone())));
                    t += 1_000_000;
                    Fault::Restart(n)
                }
            },
            8 => Fault::SlowDisk {
                target: node(&mut g),
                extra: Latency::Uniform(20_000_000, 200_000_000),
                duration: sim::units::Dur::ms(500),
            },
            _ => Fault::Heal,
        };
        out.push((Time(t), f));
        t += uniform_u64(&mut g, 100_000_000, 500_000_000);
    }
    out.push((Time(8_000_000_000), Fault::Heal));
    out.push((Time(8_000_000_000), Fault::Restart(Target::Crashed)));
    out
}

/// One run of 10 s with syncs of 2-20 ms and links of 1-10 ms.
fn run(seed: u64, cfg: &RaftConfig, faults: Vec<(Time, Fault)>) -> (Verdict, sim::Metrics) {
    let setup = Setup {
        nodes: NODES,
        duration: Duration::from_secs(10),
        quiet_from: Time(8_000_000_000),
        seed,
        zones: vec![],
    };
    let workload = KvWorkloadConfig {
        clients: 4,
        rate: 40.0,
        keys: 6,
        timeout: Dur::ms(300),
        ..KvWorkloadConfig::default()
    };
    let checks = Checks(SAFETY.to_vec());
    RaftFamily
        .check(&setup, cfg, &workload, &checks)
        .expect("valid config");
    let mut network = NetConfig::default();
    network.default.latency = Latency::uniform(Duration::from_millis(1), Duration::from_millis(10));
    let sim = SimConfig {
        nodes: NODES,
        seed,
        network,
        storage: StorageConfig {
            sync: Some(Latency::uniform(
                Duration::from_millis(2),
                Duration::from_millis(20),
            )),
            ..StorageConfig::default()
        },
        limits: Limits {
            duration: Some(Duration::from_secs(10)),
            max_events: Some(5_000_000),
            ..Limits::default()
        },
        ..SimConfig::default()
    };
    let rep = RaftFamily
        .build(&setup, cfg, &workload, &checks)
        .simulate(sim, faults)
        .run();
    (rep.verdict, rep.metrics)
}

/// The first seed below `seeds` whose run violates a check, with the violation.
fn hunt(cfg: &RaftConfig, disk: Disk, seeds: u64) -> Option<(u64, String)> {
    (0..seeds).find_map(|seed| match run(seed, cfg, schedule(seed, disk)).0 {
        Verdict::Completed => None,
        Verdict::Violated(v) => Some((seed, format!("{}: {}", v.invariant, v.message))),
        other => panic!("seed {seed}: unexpected verdict {other:?}"),
    })
}

fn with_bug(bug: RaftBug) -> RaftConfig {
    RaftConfig {
        bug: Some(bug),
        ..RaftConfig::default()
    }
}

/// The bug is found within `seeds` seeds as one of `any_of`, and the correct server holds
/// on that schedule.
fn expect_bug(bug: RaftBug, disk: Disk, seeds: u64, any_of: &[&str]) {
    let (seed, msg) = hunt(&with_bug(bug), disk, seeds)
        .unwrap_or_else(|| panic!("{bug:?} not found in {seeds} seeds"));
    eprintln!("{bug:?} found with seed {seed}: {msg}");
    assert!(
        any_of.iter().any(|n| msg.starts_with(n)),
        "{bug:?} caught as {msg}"
    );
    let (v, _) = run(seed, &RaftConfig::default(), schedule(seed, disk));
    assert_eq!(v, Verdict::Completed, "the correct server on seed {seed}");
}

#[test]
fn correct_raft_keeps_safety_on_a_lying_disk() {
    let (mut halted, mut failed, mut syncs) = (0, 0, 0);
    for disk in [Disk::Crashes, Disk::Fsync, Disk::Damage] {
        for seed in 0..8 {
            let (v, m) = run(seed, &RaftConfig::default(), schedule(seed, disk));
            assert_eq!(v, Verdict::Completed, "seed {seed}");
            halted += m.counter("raft.halted_on_disk_damage");
            failed += m.counter("raft.sync_failures");
            syncs += m.counter("storage.syncs");
            assert!(m.counter("kv.ok") > 50, "seed {seed}: too little progress");
        }
    }
    // The faults happened: servers halted on damage and met failed fsyncs.
    assert!(
        halted > 0 && failed > 0 && syncs > 1000,
        "{halted} {failed} {syncs}"
    );
}

#[test]
fn bug_ack_before_sync_loses_acknowledged_entries() {
    expect_bug(
        RaftBug::AckBeforeSync,
        Disk::Crashes,
        // 8 of 400 seeds, the first 23: the follower must crash inside its sync window and
        // the leader soon after.
        400,
        &[
            "LeaderCompleteness",
            "StateMachineSafety",
            "Linearizable",
            "LogMatching",
        ],
    );
}

#[test]
fn bug_fsync_retry_acknowledges_dropped_writes() {
    expect_bug(
        RaftBug::FsyncRetry,
        Disk::Fsync,
        60,
        &[
            // A synced term taken back by a restart: the dropped metadata write.
            "MonotonicTerm",
            "LeaderCompleteness",
            "StateMachineSafety",
            "Linearizable",
            "LogMatching",
            "ElectionSafety",
        ],
    );
}

#[test]
fn bug_no_checksum_trusts_a_corrupted_record() {
    expect_bug(
        RaftBug::NoChecksum,
        Disk::Damage,
        60,
        &[
            "LeaderCompleteness",
            "StateMachineSafety",
            "Linearizable",
            "LogMatching",
            "MonotonicTerm",
            "ElectionSafety",
        ],
    );
}

/// Measures each persistence bug's detection rate on these schedules (`cargo test --release
/// -p protocols --test raft_disk -- --ignored rates --nocapture`).
#[test]
#[ignore]
fn rates() {
    let seeds: u64 = std::env::var("SEEDS").map_or(200, |s| s.parse().unwrap());
    for (bug, disk) in [
        (RaftBug::AckBeforeSync, Disk::Crashes),
        (RaftBug::FsyncRetry, Disk::Fsync),
        (RaftBug::NoChecksum, Disk::Damage),
    ] {
        let mut found = vec![];
        for seed in 0..seeds {
            if let Verdict::Violated(v) = run(seed, &with_bug(bug), schedule(seed, disk)).0 {
                found.push((seed, v.invariant));
            }
        }
        eprintln!(
            "{bug:?}: {} of {seeds} seeds; first {:?}",
            found.len(),
            &found[..found.len().min(5)]
        );
    }
}
