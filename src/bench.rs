//! `faultline bench`: the engine against a bare binary-heap event loop doing the same work
//! (events per second and their ratio, measured in the same run), gossip at scale (a
//! push-pull spread to every node: wall time and peak memory), SWIM at scale (60 s of a
//! membership pool with two crashes), and Raft's replication cost
//! (messages per committed entry under rising load). [`linearizability`] times the
//! linearizability checker on a 10^5-operation history.

pub mod linearizability;

use crate::runner::{RunOptions, run};
use crate::scenario::parse;
use serde::Serialize;

/// One gossip scale measurement.
#[derive(Clone, Debug, Serialize)]
pub struct GossipScale {
    pub nodes: usize,
    pub events: u64,
    pub rounds_to_100: Option<f64>,
    pub wall_secs: f64,
    /// CPU time the process spent during the run (user + system, Linux only), in seconds: on
    /// a loaded machine wall time also counts other processes' turns.
    pub cpu_secs: Option<f64>,
    pub events_per_sec: f64,
    /// The process's peak resident memory after the run (Linux `VmHWM`), in MiB.
    pub peak_rss_mib: Option<f64>,
    /// That peak divided by the node count, in bytes.
    pub peak_rss_bytes_per_node: Option<f64>,
    pub verdict: &'static str,
}

/// A push-pull anti-entropy spread of one update to `nodes` nodes, stopping at full spread.
/// Rounds are 100 ms up to 10^6 nodes and 1 s above, so that the scenario stays within the
/// event-rate limit (`protocols::limits::MAX_EVENTS_PER_SECOND`); the work per node and the
/// rounds to spread do not depend on the period.
pub fn gossip_scale(nodes: usize) -> GossipScale {
    let period = if nodes > 1_000_000 { "1s" } else { "100ms" };
    let text = format!(
        "Scenario(name: \"bench: push-pull spread to {nodes} nodes\", protocol: Gossip((style: AntiEntropy, direction: PushPull, period: \"{period}\")),
          nodes: {nodes}, seed: 1, duration: \"60s\", network: (latency: Uniform(\"1ms\", \"20ms\"), links: Datagram),
          workload: Updates((updates: [(at: \"0s\", node: 0, key: 0)], stop_when_spread: true)),
          checks: [NoInventedValues, VersionsMonotonic])"
    );
    let (o, cpu, peak) = timed_run(&text);
    let rounds_to_100 = o
        .metrics
        .get("gossip.update.rounds_to_100")
        .and_then(|v| v.as_f64());
    GossipScale {
        nodes,
        events: o.events,
        rounds_to_100,
        wall_secs: o.wall_ms / 1e3,
        cpu_secs: cpu,
        events_per_sec: o.events as f64 / (o.wall_ms / 1e3),
        peak_rss_mib: peak,
        peak_rss_bytes_per_node: peak.map(|m| m * 1024.0 * 1024.0 / nodes as f64),
        verdict: o.verdict,
    }
}

/// One SWIM scale measurement.
#[derive(Clone, Debug, Serialize)]
pub struct SwimScale {
    pub members: usize,
    pub events: u64,
    /// Virtual seconds simulated.
    pub virtual_secs: f64,
    pub wall_secs: f64,
    /// CPU time of the process during the run (Linux only), in seconds.
    pub cpu_secs: Option<f64>,
    pub events_per_sec: f64,
    /// The process's peak resident memory after the run (Linux `VmHWM`), in MiB.
    pub peak_rss_mib: Option<f64>,
    pub messages_per_member_s: Option<f64>,
    /// Periods from the first death declaration to the last, mean over the two crashes.
    pub dissemination_periods: Option<f64>,
    pub verdict: &'static str,
}

/// `members` SWIM members on memberlist's LAN preset with Lifeguard, 60 s of virtual time,
/// two crashes (at 10 s and 20 s) that every member must declare within 40 s: the issue's
/// "10^4 members for 60 s virtual" measurement.
pub fn swim_scale(members: usize) -> SwimScale {
    let text = format!(
        "Scenario(name: \"bench: SWIM, {members} members\", protocol: Swim((preset: Lan)),
          nodes: {members}, seed: 1, duration: \"60s\",
          network: (latency: Uniform(\"1ms\", \"3ms\"), links: Datagram),
          faults: [(at: \"10s\", do: Crash(1)), (at: \"20s\", do: Crash(Random))],
          checks: [FalsePositiveRate, NoFlapping, DeadWithin(\"40s\")])"
    );
    let (o, cpu, peak) = timed_run(&text);
    let metric = |name: &str| {
        o.metrics.get(name).and_then(|v| {
            v.as_f64()
                .or_else(|| v.get("mean").and_then(|m| m.as_f64()))
        })
    };
    SwimScale {
        members,
        events: o.events,
        virtual_secs: o.virtual_time_ns as f64 / 1e9,
        wall_secs: o.wall_ms / 1e3,
        cpu_secs: cpu,
        events_per_sec: o.events as f64 / (o.wall_ms / 1e3),
        peak_rss_mib: peak,
        messages_per_member_s: metric("swim.messages_per_member_s"),
        dissemination_periods: metric("swim.dissemination_periods"),
        verdict: o.verdict,
    }
}

/// Runs a benchmark scenario given as text: its outcome, the process's CPU seconds during
/// the run (Linux only) and the peak resident memory after it, in MiB.
fn timed_run(text: &str) -> (crate::runner::Outcome, Option<f64>, Option<f64>) {
    let s = parse("<bench>", text).expect("the benchmark scenario is valid");
    let cpu_before = cpu_secs();
    let o = run("<bench>", &s, &RunOptions::default());
    let cpu = cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    (o, cpu, peak_rss_mib())
}

/// CPU time this thread has used, in seconds (`CLOCK_THREAD_CPUTIME_ID`): per-phase costs
/// that other processes on a busy machine do not inflate the way they inflate wall time.
pub fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through a valid, exclusive pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The process's peak resident set size in MiB, where the OS tells it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The client loads of the Raft replication table: (clients, operations per second each).
pub const RAFT_LOADS: [(u32, f64); 4] = [(1, 5.0), (4, 50.0), (4, 500.0), (16, 500.0)];

/// Raft's replication cost at one client load: 5 servers, puts only, 10 s virtual.
#[derive(Clone, Debug, Serialize)]
pub struct RaftReplication {
    pub clients: u32,
    /// Operations per second per client (closed loop: think time between one reply and the
    /// next request).
    pub rate: f64,
    /// `max_entries_per_message` (1: no batching, so every entry has its own messages).
    pub max_entries: u64,
    pub committed: u64,
    /// AppendEntries carrying entries, and the replies to them.
    pub append_msgs: u64,
    pub append_replies: u64,
    /// AppendEntries without entries (heartbeats and probes), not counted per entry.
    pub heartbeats: u64,
    /// `(append_msgs + append_replies) / committed`: 2(n-1) = 8 when every entry travels
    /// alone, less when entries share messages.
    pub msgs_per_entry: f64,
    /// Entry copies sent per committed entry per follower: 1 when nothing is resent.
    pub copies_per_entry: f64,
    pub wall_secs: f64,
}

/// Runs Raft at each of [`RAFT_LOADS`], with batching (`max_entries_per_message` 64, the
/// default) and without (1).
pub fn raft_replication() -> Vec<RaftReplication> {
    let mut rows = vec![];
    for max_entries in [1u64, 64] {
        for (clients, rate) in RAFT_LOADS {
            rows.push(raft_replication_at(clients, rate, max_entries));
        }
    }
    rows
}

fn raft_replication_at(clients: u32, rate: f64, max_entries: u64) -> RaftReplication {
    let text = format!(
        "Scenario(name: \"bench: raft replication, {clients} clients x {rate} ops/s\",
          protocol: Raft((max_entries_per_message: {max_entries})), nodes: 5, seed: 1, duration: \"10s\",
          network: (latency: Uniform(\"1ms\", \"10ms\")),
          workload: Kv((clients: {clients}, rate: {rate:?}, reads: 0.0, cas: 0.0)),
          checks: [ElectionSafety, LogMatching])"
    );
    let s = parse("<bench>", &text).expect("the benchmark scenario is valid");
    let o = run("<bench>", &s, &RunOptions::default());
    let counter = |name: &str| o.metrics.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
    let committed = counter("raft.committed_entries");
    let append_msgs = counter("raft.append_msgs");
    let append_replies = counter("raft.append_replies");
    let per = |x: u64, d: u64| {
        if d == 0 {
            f64::NAN
        } else {
            x as f64 / d as f64
        }
    };
    RaftReplication {
        clients,
        rate,
        max_entries,
        committed,
        append_msgs,
        append_replies,
        heartbeats: counter("raft.heartbeats"),
        msgs_per_entry: per(append_msgs + append_replies, committed),
        copies_per_entry: per(counter("raft.entries_sent"), committed * 4),
        wall_secs: o.wall_ms / 1e3,
    }
}

/// The table of [`raft_replication`], for the terminal.
pub fn raft_replication_text(rows: &[RaftReplication]) -> String {
    let mut out = String::from(
        "raft replication (5 servers, puts only, 10 s; heartbeats excluded; 2(n-1) = 8):\n  \
         batch  clients x rate   committed  msgs/entry  copies/entry/follower  heartbeats\n",
    );
    for r in rows {
        out.push_str(&format!(
            "  {:>5}  {:>7} x {:<6} {:>9}  {:>10.2}  {:>21.3}  {:>10}\n",
            r.max_entries,
            r.clients,
            r.rate,
            r.committed,
            r.msgs_per_entry,
            r.copies_per_entry,
            r.heartbeats
        ));
    }
    out
}

/// CPU time used by the process so far (user + system), in seconds, where the OS tells it.
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
