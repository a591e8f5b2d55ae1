//! The network model measured end to end through a `Simulation`: loss and duplication rates,
//! stream links' reliability and FIFO order, partition shapes and heal, delay spikes.

mod common;

use common::{Node, Script, config, link, ms, node};
use sim::{Context, Fault, Latency, LinkKind, LinkParams, NodeId, Simulation, Target, Time};
use std::collections::BTreeSet;

const STREAM_N: u64 = 20_000;

/// Node 0 sends `STREAM_N` numbered messages to node 1 at time zero.
fn stream_to_one(_: &mut Node, ctx: &mut Context<'_, Node>) {
    if ctx.id() == NodeId(0) {
        for i in 0..STREAM_N {
            ctx.send(NodeId(1), i);
        }
    }
}

/// Runs the two-node stream over `p` and returns what node 1 received, in arrival order.
fn stream_over(p: LinkParams, seed: u64) -> (Vec<u64>, sim::Metrics) {
    let script = Script {
        start: stream_to_one,
        ..Script::default()
    };
    let mut sim = Simulation::<Node>::new(config(2, seed, p, ms(10_000)), script);
    let report = sim.run();
    assert_eq!(report.verdict, sim::Verdict::Completed);
    let got = node(&sim, 1).got.iter().map(|g| g.msg).collect();
    (got, report.metrics)
}

/// Asserts a binomial count lies within 5 standard deviations of its expectation (a correct
/// engine fails this with probability below 10^-6 per seed).
fn binomial(what: &str, count: u64, n: u64, p: f64) {
    let want = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (count as f64 - want).abs() <= 5.0 * sd,
        "{what}: {count} of {n}, want {want:.0} ± {:.0}",
        5.0 * sd
    );
}

#[test]
fn datagram_loss_rate() {
    let p = LinkParams {
        loss: 0.1,
        ..link(Latency::Constant(1_000_000), LinkKind::Datagram)
    };
    let (got, m) = stream_over(p, 1);
    binomial("delivered", got.len() as u64, STREAM_N, 0.9);
    assert_eq!(m.counter("net.lost") + got.len() as u64, STREAM_N);
    assert_eq!(m.counter("net.delivered"), got.len() as u64);
}

#[test]
fn datagram_duplication_rate() {
    let p = LinkParams {
        duplicate: 0.2,
        ..link(Latency::Uniform(1_000_000, 2_000_000), LinkKind::Datagram)
    };
    let (got, m) = stream_over(p, 2);
    let extra = got.len() as u64 - STREAM_N;
    binomial("duplicates", extra, STREAM_N, 0.2);
    assert_eq!(m.counter("net.duplicated"), extra);
    // Every message arrives at least once and at most twice.
    let mut per = vec![0u32; STREAM_N as usize];
    for g in got {
        per[g as usize] += 1;
    }
    assert!(per.iter().all(|&c| c == 1 || c == 2));
}

#[test]
fn datagram_reorder_rate() {
    // With a constant 1 ms latency, a message held back by one more latency draw arrives at
    // 2 ms instead of 1 ms, so the late arrivals count the reordered messages.
    let script = Script {
        start: stream_to_one,
        ..Script::default()
    };
    let p = LinkParams {
        reorder: 0.3,
        ..link(Latency::Constant(1_000_000), LinkKind::Datagram)
    };
    let mut sim = Simulation::<Node>::new(config(2, 4, p, ms(100)), script);
    sim.run();
    let got = node(&sim, 1).got;
    assert_eq!(got.len() as u64, STREAM_N);
    let late = got.iter().filter(|g| g.at == Time::from_millis(2)).count();
    let on_time = got.iter().filter(|g| g.at == Time::from_millis(1)).count();
    assert_eq!(late + on_time, STREAM_N as usize);
    binomial("reordered", late as u64, STREAM_N, 0.3);
}

#[test]
fn stream_links_never_lose_or_duplicate() {
    let p = LinkParams {
        loss: 0.5,
        duplicate: 0.5,
        reorder: 0.5,
        ..link(Latency::Exponential { mean: 5_000_000 }, LinkKind::Stream)
    };
    let (got, m) = stream_over(p, 3);
    assert_eq!(
        got,
        (0..STREAM_N).collect::<Vec<_>>(),
        "all, once, in order"
    );
    assert_eq!(m.counter("net.lost"), 0);
    assert_eq!(m.counter("net.duplicated"), 0);
}

/// Counts pairs received out of send order (adjacent inversions).
fn inversions(got: &[u64]) -> usize {
    got.windows(2).filter(|w| w[0] > w[1]).count()
}

#[test]
fn stream_links_are_fifo_under_heavy_tailed_latency() {
    for (i, lat) in [
        Latency::Exponential { mean: 5_000_000 },
        Latency::Pareto {
            scale: 1_000_000,
            shape: 1.2,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let (stream, _) = stream_over(link(lat, LinkKind::Stream), 10 + i as u64);
        assert_eq!(stream.len() as u64, STREAM_N);
        assert_eq!(inversions(&stream), 0, "{lat:?}: a stream link reordered");
        // The same latency on datagram links reorders plenty: the check above can fail.
        let (datagram, _) = stream_over(link(lat, LinkKind::Datagram), 10 + i as u64);
        assert!(
            inversions(&datagram) > STREAM_N as usize / 10,
            "{lat:?}: datagrams should reorder, got {} inversions",
            inversions(&datagram)
        );
    }
}

/// Every node sends `round` to every peer at 20 ms (during the cut) and 60 ms (after heal).
fn probe_start(_: &mut Node, ctx: &mut Context<'_, Node>) {
    ctx.set_timer(ms(20), 1);
    ctx.set_timer(ms(60), 2);
}

fn probe_timer(_: &mut Node, ctx: &mut Context<'_, Node>, round: u64) {
    for p in ctx.peers() {
        ctx.send(p, round);
    }
}

/// Runs the probe under `fault` (at 10 ms, healed at 40 ms) and returns the `(from, to)` pairs
/// that got through in each round.
fn probe(fault: Fault, kind: LinkKind) -> [BTreeSet<(u32, u32)>; 2] {
    let script = Script {
        start: probe_start,
        timer: probe_timer,
        ..Script::default()
    };
    let cfg = config(5, 4, link(Latency::Constant(1_000_000), kind), ms(100));
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(Time::from_millis(10), fault);
    sim.schedule_fault(Time::from_millis(40), Fault::Heal);
    assert_eq!(sim.run().verdict, sim::Verdict::Completed);
    let mut rounds = [BTreeSet::new(), BTreeSet::new()];
    for to in 0..5 {
        for g in &node(&sim, to).got {
            rounds[g.msg as usize - 1].insert((g.from.0, to));
        }
    }
    rounds
}

/// Every ordered pair of distinct nodes of 5, minus `blocked`.
fn all_but(blocked: &[(u32, u32)]) -> BTreeSet<(u32, u32)> {
    let mut s = BTreeSet::new();
    for a in 0..5 {
        for b in 0..5 {
            if a != b && !blocked.contains(&(a, b)) {
                s.insert((a, b));
            }
        }
    }
    s
}

#[test]
fn partitions_block_exactly_the_cut_links_and_heal_restores_them() {
    let n = |i| Target::Node(NodeId(i));
    // (name, fault, the directed links it blocks)
    type Case = (&'static str, Fault, Vec<(u32, u32)>);
    let cases: Vec<Case> = vec![
        (
            // Groups {0,1}, {2,3}, and the implicit {4}.
            "groups",
            Fault::Partition(vec![vec![n(0), n(1)], vec![n(2), n(3)]]),
            {
                let g = |x: u32| match x {
                    0 | 1 => 0,
                    2 | 3 => 1,
                    _ => 2,
                };
                let mut v = vec![];
                for a in 0..5 {
                    for b in 0..5 {
                        if a != b && g(a) != g(b) {
                            v.push((a, b));
                        }
                    }
                }
                v
            },
        ),
        (
            "isolate n2",
            Fault::Isolate(n(2)),
            vec![
                (2, 0),
                (2, 1),
                (2, 3),
                (2, 4),
                (0, 2),
                (1, 2),
                (3, 2),
                (4, 2),
            ],
        ),
        (
            "one-way n0 -> {n1, n2}",
            Fault::OneWay {
                from: n(0),
                to: Target::Nodes(vec![NodeId(1), NodeId(2)]),
            },
            vec![(0, 1), (0, 2)],
        ),
        (
            // The bridge: n0 sees n1, n1 sees n2, n0 does not see n2.
            "bridge",
            Fault::CutLink(Target::Node(NodeId(0)), Target::Node(NodeId(2))),
            vec![(0, 2), (2, 0)],
        ),
        (
            "cut between {n0, n1} and {n3, n4}",
            Fault::CutLink(
                Target::Nodes(vec![NodeId(0), NodeId(1)]),
                Target::Nodes(vec![NodeId(3), NodeId(4)]),
            ),
            vec![
                (0, 3),
                (0, 4),
                (1, 3),
                (1, 4),
                (3, 0),
                (3, 1),
                (4, 0),
                (4, 1),
            ],
        ),
        (
            // n2 is the only way between {n0, n1} and {n3, n4}.
            "bridge via n2",
            Fault::Bridge(n(2)),
            vec![
                (0, 3),
                (0, 4),
                (1, 3),
                (1, 4),
                (3, 0),
                (3, 1),
                (4, 0),
                (4, 1),
            ],
        ),
        (
            "bridge via n4: the halves are {n0, n1} and {n2, n3}",
            Fault::Bridge(n(4)),
            vec![
                (0, 2),
                (0, 3),
                (1, 2),
                (1, 3),
                (2, 0),
                (2, 1),
                (3, 0),
                (3, 1),
            ],
        ),
    ];
    for kind in [LinkKind::Stream, LinkKind::Datagram] {
        for (name, fault, blocked) in &cases {
            let [during, after] = probe(fault.clone(), kind);
            assert_eq!(during, all_but(blocked), "{name} ({kind:?}) during the cut");
            assert_eq!(after, all_but(&[]), "{name} ({kind:?}) after heal");
        }
    }
}

#[test]
fn a_cut_drops_messages_in_flight_even_if_healed_before_arrival() {
    // n0 sends to n1 and n2 at 0 with 10 ms latency; n0–n1 is cut at 2 ms and healed at 4 ms.
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.send(NodeId(1), 7);
                ctx.send(NodeId(2), 8);
            }
        },
        ..Script::default()
    };
    let cfg = config(
        3,
        5,
        link(Latency::Constant(10_000_000), LinkKind::Stream),
        ms(50),
    );
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(
        Time::from_millis(2),
        Fault::CutLink(Target::Node(NodeId(0)), Target::Node(NodeId(1))),
    );
    sim.schedule_fault(Time::from_millis(4), Fault::Heal);
    let report = sim.run();
    assert!(node(&sim, 1).got.is_empty());
    assert_eq!(node(&sim, 2).got.len(), 1, "the uncut link delivers");
    assert_eq!(report.metrics.counter("net.dropped_in_flight"), 1);
}

#[test]
fn delay_spikes_slow_only_affected_links_during_the_spike() {
    // Every 10 ms each node sends its send time (in ms) to every peer; latency is 1 ms. A spike
    // adds 5 ms to messages from or to n2 sent in [25 ms, 45 ms).
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(10), 0);
        },
        timer: |_, ctx, _| {
            let now_ms = ctx.true_time().as_nanos() / 1_000_000;
            for p in ctx.peers() {
                ctx.send(p, now_ms);
            }
            ctx.set_timer(ms(10), 0);
        },
        ..Script::default()
    };
    let cfg = config(
        4,
        6,
        link(Latency::Constant(1_000_000), LinkKind::Datagram),
        ms(75),
    );
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(
        Time::from_millis(25),
        Fault::DelaySpike {
            target: Target::Node(NodeId(2)),
            extra: Latency::Constant(5_000_000),
            duration: sim::units::Dur::ms(20),
        },
    );
    sim.run();
    let mut checked = 0;
    for to in 0..4u32 {
        for g in &node(&sim, to).got {
            let sent = g.msg;
            let in_spike = (25..45).contains(&sent);
            let touches = g.from.0 == 2 || to == 2;
            let want = if in_spike && touches { 6 } else { 1 };
            let took = g.at.as_nanos() - sent * 1_000_000;
            assert_eq!(
                took,
                want * 1_000_000,
                "{:?} -> n{to} sent at {sent} ms",
                g.from
            );
            checked += 1;
        }
    }
    // Seven rounds (10 ms to 70 ms) of 12 messages each.
    assert_eq!(checked, 7 * 12);
}
