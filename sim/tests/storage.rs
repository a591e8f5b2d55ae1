//! The disk model through a `Simulation`: syncs complete after their latency and in order,
//! a crash keeps what was synced and a seeded prefix of the rest, and each storage fault
//! (torn write, corruption, latent read error, fsync failure, slow disk) does what
//! docs/storage.md says, the same way for the same seed.

use serde::Serialize;
use sim::storage::{RecordError, seal, unseal};
use sim::{
    Context, Fault, Latency, NodeId, Protocol, SimConfig, Simulation, StorageConfig, SyncId,
    Synced, Target, Time,
};
use std::time::Duration;

/// Appends one sealed record (its sequence number) every 10 ms and syncs it at once; writes
/// its metadata record (the last number) with each. Records what its syncs answered and what
/// it read back when it (re)started.
#[derive(Clone, Debug, Default)]
struct Journal {
    next: u64,
    /// (true time, sync id if pending, ok) of every sync answer: inline or `on_synced`.
    syncs: Vec<(Time, Option<u64>, bool)>,
    /// What the log held when the node started: each record decoded or its error.
    read: Vec<Result<u64, String>>,
    /// The metadata record when the node started.
    meta: Option<Result<u64, String>>,
}

#[derive(Clone, Debug, Serialize)]
struct Tick;

fn decode(bytes: Result<&[u8], sim::storage::DiskError>) -> Result<u64, String> {
    let bytes = bytes.map_err(|e| format!("read: {e}"))?;
    unseal::<u64>(bytes).map_err(|e| match e {
        RecordError::Torn => "torn".to_string(),
        RecordError::Corrupt => "corrupt".to_string(),
        RecordError::Undecodable => "undecodable".to_string(),
    })
}

impl Protocol for Journal {
    type Config = ();
    type Message = ();
    type Timer = Tick;
    type Request = ();
    type Reply = ();
    type Durable = ();

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let disk = ctx.disk();
        let read: Vec<Result<u64, String>> =
            (0..disk.len()).map(|i| decode(disk.read(i))).collect();
        let meta = match disk.read_meta() {
            Ok(None) => None,
            Ok(Some(b)) => Some(decode(Ok(b))),
            Err(e) => Some(Err(format!("read: {e}"))),
        };
        let next = read.len() as u64;
        ctx.set_timer(Duration::from_millis(10), Tick);
        Journal {
            next,
            read,
            meta,
            ..Journal::default()
        }
    }

    fn on_message(&mut self, _: &mut Context<'_, Self>, _: NodeId, _: ()) {}

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: Tick) {
        let n = self.next;
        self.next += 1;
        ctx.disk().append(seal(&n));
        ctx.disk().write_meta(seal(&n));
        let at = ctx.true_time();
        match ctx.sync() {
            Synced::Done => self.syncs.push((at, None, true)),
            Synced::Failed => self.syncs.push((at, None, false)),
            Synced::Pending(_) => {}
        }
        ctx.set_timer(Duration::from_millis(10), Tick);
    }

    fn on_synced(&mut self, ctx: &mut Context<'_, Self>, id: SyncId, ok: bool) {
        self.syncs.push((ctx.true_time(), Some(id.0), ok));
    }

    fn on_client_request(&mut self, _: &mut Context<'_, Self>, _: u64, _: ()) {}
}

fn run(
    seed: u64,
    sync: Option<Latency>,
    faults: &[(u64, Fault)],
    ms: u64,
) -> (Simulation<Journal>, sim::RunReport) {
    let cfg = SimConfig {
        nodes: 1,
        seed,
        storage: StorageConfig {
            sync,
            ..StorageConfig::default()
        },
        limits: sim::Limits {
            duration: Some(Duration::from_millis(ms)),
            ..sim::Limits::default()
        },
        ..SimConfig::default()
    };
    let mut s = Simulation::<Journal>::new(cfg, ());
    for (at, f) in faults {
        s.schedule_fault(Time(at * 1_000_000), f.clone());
    }
    let report = s.run();
    (s, report)
}

fn node(s: &Simulation<Journal>) -> Journal {
    s.view().node(NodeId(0)).expect("the node is up").clone()
}

fn n0() -> Target {
    Target::Node(NodeId(0))
}

fn crash_restart(at: u64) -> Vec<(u64, Fault)> {
    vec![(at, Fault::Crash(n0())), (at + 1, Fault::Restart(n0()))]
}

#[test]
fn zero_latency_syncs_at_once_and_a_crash_keeps_every_synced_write() {
    let (s, _) = run(1, None, &crash_restart(55), 60);
    let j = node(&s);
    // Five records were written and synced inline (at 10..50 ms); the restart reads all five.
    assert_eq!(j.read, (0..5).map(Ok).collect::<Vec<_>>());
    assert_eq!(j.meta, Some(Ok(4)));
    assert!(j.syncs.is_empty(), "the restarted node has not synced yet");
}

#[test]
fn syncs_complete_after_their_latency_in_order() {
    // A 25 ms sync every 10 ms: the disk queue makes each complete 25 ms after the previous.
    let (s, report) = run(1, Some(Latency::Constant(25_000_000)), &[], 101);
    let j = node(&s);
    let got: Vec<(u64, u64)> = j
        .syncs
        .iter()
        .map(|&(t, id, ok)| {
            assert!(ok);
            (t.0 / 1_000_000, id.expect("pending syncs have ids"))
        })
        .collect();
    assert_eq!(got, vec![(35, 0), (60, 1), (85, 2)]);
    assert_eq!(report.metrics.counters["storage.syncs"], 10);
}

#[test]
fn a_crash_keeps_synced_writes_and_a_seeded_prefix_of_the_rest() {
    // Syncs take 100 ms, so at the 95 ms crash records 0..9 are all unsynced.
    let kept = |seed| {
        let (s, _) = run(
            seed,
            Some(Latency::Constant(100_000_000)),
            &crash_restart(95),
            96,
        );
        let j = node(&s);
        assert!(j.read.iter().all(Result::is_ok), "{:?}", j.read);
        j.read.len()
    };
    let lens: Vec<usize> = (0..40).map(kept).collect();
    // Deterministic per seed.
    assert_eq!(lens, (0..40).map(kept).collect::<Vec<_>>());
    // Two writes per tick (record, metadata): the kept prefix ends anywhere in 0..=9 records.
    assert!(lens.iter().all(|&l| l <= 9));
    assert!(lens.contains(&0), "{lens:?}");
    assert!(lens.iter().any(|&l| l >= 5), "{lens:?}");

    // Synced writes always survive: with 15 ms syncs queued behind each other, the syncs of
    // records 0..=4 completed (at 25, 40, 55, 70 and 85 ms) before the crash.
    for seed in 0..20 {
        let (s, _) = run(
            seed,
            Some(Latency::Constant(15_000_000)),
            &crash_restart(95),
            96,
        );
        assert!(node(&s).read.len() >= 5, "seed {seed}");
    }
}

#[test]
fn a_torn_write_leaves_a_short_last_record() {
    let mut torn = 0;
    for seed in 0..20 {
        let faults = vec![(95, Fault::TornWrite(n0())), (96, Fault::Restart(n0()))];
        let (s, _) = run(seed, Some(Latency::Constant(100_000_000)), &faults, 97);
        let j = node(&s);
        // Every record but possibly the last reads back; the metadata or the last record is torn.
        let (last, rest) = j
            .read
            .split_last()
            .map_or((None, &[][..]), |(l, r)| (Some(l), r));
        assert!(rest.iter().all(Result::is_ok), "seed {seed}: {:?}", j.read);
        if last == Some(&Err("torn".into())) || j.meta == Some(Err("torn".into())) {
            torn += 1;
        }
    }
    assert_eq!(torn, 20, "every torn write shows as a torn record");
}

#[test]
fn corruption_and_read_errors_hit_one_durable_record() {
    let damage = |f: Fault, seed| {
        let mut faults = vec![(55, f)];
        faults.extend(crash_restart(56));
        let (s, _) = run(seed, None, &faults, 57);
        let j = node(&s);
        let mut errors: Vec<String> = j.read.iter().filter_map(|r| r.clone().err()).collect();
        if let Some(Err(e)) = j.meta {
            errors.push(e);
        }
        errors
    };
    for seed in 0..20 {
        assert_eq!(damage(Fault::Corrupt(n0()), seed), vec!["corrupt"]);
        assert_eq!(
            damage(Fault::ReadError(n0()), seed),
            vec!["read: the record cannot be read (latent sector error)"]
        );
    }
}

#[test]
fn a_failed_fsync_is_reported_and_drops_the_unsynced_writes() {
    // 30 ms syncs queued one behind the other: the first (asked at 10 ms) fails at 40 ms.
    let faults = vec![(5, Fault::FsyncFail(n0()))];
    let (s, _) = run(1, Some(Latency::Constant(30_000_000)), &faults, 75);
    let j = node(&s);
    let outcome: Vec<(u64, bool)> = j
        .syncs
        .iter()
        .map(|&(t, _, ok)| (t.0 / 1_000_000, ok))
        .collect();
    // The failure dropped records 0..=2 (written at 10, 20, 30 ms). The sync asked at 20 ms
    // then succeeds at 70 ms, though the writes it covered are gone: fsyncgate.
    assert_eq!(outcome, vec![(40, false), (70, true)]);
    let disk = s.view().disk(NodeId(0)).cloned().unwrap();
    // Records 3..=6 (written from 40 ms on) are all the log holds, and none is durable: the
    // sync that covers them was asked at 40 ms and completes at 130 ms.
    assert_eq!((disk.durable_len(), disk.len()), (0, 4));
    assert_eq!(unseal::<u64>(disk.read(0).unwrap()), Ok(3));

    // Inline (zero latency): the next sync answers Failed at once, and the one after succeeds.
    let (s, _) = run(1, None, &[(15, Fault::FsyncFail(n0()))], 35);
    let oks: Vec<bool> = node(&s).syncs.iter().map(|s| s.2).collect();
    assert_eq!(oks, vec![true, false, true]);
}

#[test]
fn a_slow_disk_adds_latency_for_its_duration() {
    let faults = vec![(
        15,
        Fault::SlowDisk {
            target: n0(),
            extra: Latency::Constant(50_000_000),
            duration: sim::units::Dur::ms(20),
        },
    )];
    let (s, _) = run(1, Some(Latency::Constant(1_000_000)), &faults, 150);
    let done: Vec<u64> = node(&s).syncs.iter().map(|s| s.0.0 / 1_000_000).collect();
    // Syncs asked at 20 and 30 ms take 51 ms (completing at 71 and 122, queued behind the
    // first); the one at 40 ms queues behind them; from 50 ms on they are back to 1 ms.
    assert_eq!(&done[..4], &[11, 71, 122, 123]);
}

#[test]
fn storage_faults_replay_to_the_same_hash() {
    let faults = vec![
        (25, Fault::FsyncFail(n0())),
        (45, Fault::TornWrite(n0())),
        (46, Fault::Restart(n0())),
        (60, Fault::Corrupt(n0())),
        (70, Fault::Crash(n0())),
        (71, Fault::Restart(n0())),
    ];
    let latency = Some(Latency::Uniform(1_000_000, 30_000_000));
    let a = run(7, latency, &faults, 200).1.trace_hash;
    let b = run(7, latency, &faults, 200).1.trace_hash;
    let c = run(8, latency, &faults, 200).1.trace_hash;
    assert_eq!(a, b);
    assert_ne!(a, c);
}
