//! Zones and the faults aimed at them, end to end through a `Simulation`: the zone-to-zone
//! matrix sets each link's latency, per-link overrides still win, `Zone` targets resolve to
//! the zone's nodes, and `Degrade` slows and loses messages between two sets of nodes for its
//! duration only.

mod common;

use common::{Node, Script, config, link, ms, node};
use sim::units::Dur;
use sim::{
    Fault, Latency, LinkKind, LinkParams, NetConfig, NodeId, Simulation, Target, Time, ZoneInfo,
    Zones,
};

fn zone(name: &str, nodes: std::ops::Range<u32>) -> ZoneInfo {
    ZoneInfo {
        name: name.into(),
        nodes,
    }
}

fn constant(ms: u64, kind: LinkKind) -> LinkParams {
    link(Latency::Constant(ms * 1_000_000), kind)
}

/// Two zones `a` (the first `split` nodes) and `b` (the rest): `inside` ms inside either,
/// `a_to_b` ms from a to b and `b_to_a` back.
fn two_zones(n: u32, split: u32, inside: u64, a_to_b: u64, b_to_a: u64, kind: LinkKind) -> Zones {
    Zones::new(vec![zone("a", 0..split), zone("b", split..n)], |x, y| {
        let ms = match (x, y) {
            (0, 1) => a_to_b,
            (1, 0) => b_to_a,
            _ => inside,
        };
        constant(ms, kind)
    })
}

/// Every 10 ms from 10 ms on, each node sends its send time (in ms) to every peer.
fn chatter() -> Script {
    Script {
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
    }
}

/// `(sent ms, from, to, took ms)` of every message delivered.
fn deliveries(sim: &Simulation<Node>, n: u32) -> Vec<(u64, u32, u32, u64)> {
    let mut out = vec![];
    for to in 0..n {
        for g in &node(sim, to).got {
            let took = g.at.as_nanos() - g.msg * 1_000_000;
            out.push((g.msg, g.from.0, to, took / 1_000_000));
        }
    }
    out
}

#[test]
fn links_take_their_zones_latency_and_per_link_overrides_win() {
    let mut cfg = config(6, 1, constant(50, LinkKind::Stream), ms(35));
    cfg.network.zones = two_zones(6, 3, 1, 10, 20, LinkKind::Stream);
    // n0 -> n4 has its own latency; n4 -> n0 keeps the zones' 20 ms.
    cfg.network
        .links
        .insert((NodeId(0), NodeId(4)), constant(3, LinkKind::Stream));
    let mut sim = Simulation::<Node>::new(cfg, chatter());
    sim.run();
    let got = deliveries(&sim, 6);
    assert!(!got.is_empty());
    for (sent, from, to, took) in got {
        let want = match (from < 3, to < 3) {
            _ if (from, to) == (0, 4) => 3,
            (true, true) | (false, false) => 1,
            (true, false) => 10,
            (false, true) => 20,
        };
        assert_eq!(took, want, "n{from} -> n{to} sent at {sent} ms");
    }
}

#[test]
fn no_zones_means_the_default_link() {
    let net = NetConfig::default();
    assert!(net.zones.is_empty());
    assert!(net.zones.zone_of(NodeId(0)).is_none());
    let z = two_zones(4, 1, 1, 2, 3, LinkKind::Stream);
    assert_eq!(z.zone_of(NodeId(0)).map(|z| z.name.as_str()), Some("a"));
    assert_eq!(z.zone_of(NodeId(3)).map(|z| z.name.as_str()), Some("b"));
    assert_eq!(z.params(1, 0).latency, Latency::Constant(3_000_000));
    assert_eq!(z.get("b").map(|z| z.nodes.clone()), Some(1..4));
}

#[test]
fn zone_targets_resolve_to_every_node_of_the_zone() {
    let mut cfg = config(6, 2, constant(1, LinkKind::Stream), ms(45));
    cfg.network.zones = two_zones(6, 2, 1, 1, 1, LinkKind::Stream);
    let mut sim = Simulation::<Node>::new(cfg, chatter());
    let zone = |z: &str| Target::Zone(z.into());
    // Cut a from b at 15 ms, heal at 25 ms, crash zone a at 35 ms.
    sim.schedule_fault(
        Time::from_millis(15),
        Fault::Partition(vec![vec![zone("a")], vec![zone("b")]]),
    );
    sim.schedule_fault(Time::from_millis(25), Fault::Heal);
    sim.schedule_fault(Time::from_millis(35), Fault::Crash(zone("a")));
    let report = sim.run();
    // Applied faults name the nodes the zones resolved to.
    let applied: Vec<&Fault> = report.applied_faults.iter().map(|(_, f)| f).collect();
    let nodes = |ids: &[u32]| Target::Nodes(ids.iter().map(|&i| NodeId(i)).collect());
    assert_eq!(
        applied[0],
        &Fault::Partition(vec![vec![nodes(&[0, 1])], vec![nodes(&[2, 3, 4, 5])]])
    );
    assert_eq!(applied[2], &Fault::Crash(nodes(&[0, 1])));
    assert!(sim.view().node(NodeId(0)).is_none() && sim.view().node(NodeId(1)).is_none());
    // During the cut (the round sent at 20 ms) nothing crossed between the zones.
    for to in 2..6 {
        for g in &node(&sim, to).got {
            assert!(
                !(g.msg == 20 && g.from.0 < 2),
                "n{} -> n{to} crossed the cut",
                g.from.0
            );
        }
    }
    let inside = node(&sim, 3).got.iter().filter(|g| g.msg == 20).count();
    assert_eq!(inside, 3, "inside zone b the round at 20 ms went through");
}

#[test]
fn an_unknown_zone_ends_the_run_with_a_clear_message() {
    let mut cfg = config(2, 2, constant(1, LinkKind::Stream), ms(10));
    cfg.network.zones = two_zones(2, 1, 1, 1, 1, LinkKind::Stream);
    let mut sim = Simulation::<Node>::new(cfg, Script::default());
    sim.schedule_fault(
        Time::from_millis(1),
        Fault::Crash(Target::Zone("nowhere".into())),
    );
    match sim.run().verdict {
        sim::Verdict::Panicked(m) => assert!(
            m.contains("zone \"nowhere\"") && m.contains("[\"a\", \"b\"]"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn degrade_adds_its_extra_between_the_two_sets_both_ways_and_only_while_it_lasts() {
    // Zones a = {n0, n1}, b = {n2, n3}; 1 ms everywhere. Degraded from 25 ms to 45 ms with a
    // constant 5 ms extra and no loss.
    let mut cfg = config(4, 3, constant(1, LinkKind::Datagram), ms(75));
    cfg.network.zones = two_zones(4, 2, 1, 1, 1, LinkKind::Datagram);
    let mut sim = Simulation::<Node>::new(cfg, chatter());
    sim.schedule_fault(
        Time::from_millis(25),
        Fault::Degrade {
            a: Target::Zone("a".into()),
            b: Target::Zone("b".into()),
            extra: Some(Latency::Constant(5_000_000)),
            loss: 0.0,
            duration: Dur::ms(20),
        },
    );
    let report = sim.run();
    let got = deliveries(&sim, 4);
    assert_eq!(got.len(), 7 * 12, "nothing lost");
    for (sent, from, to, took) in got {
        let crosses = (from < 2) != (to < 2);
        let want = if crosses && (25..45).contains(&sent) {
            6
        } else {
            1
        };
        assert_eq!(took, want, "n{from} -> n{to} sent at {sent} ms");
    }
    assert_eq!(report.metrics.counter("net.lost"), 0);
}

const N: u64 = 20_000;

/// n0 (zone a) sends `N` numbered messages to n1 (zone b) at 1 ms, under a `Degrade` with
/// `loss` from 0 on; returns what n1 got, in arrival order, and the metrics.
fn degraded_stream(
    kind: LinkKind,
    loss: f64,
    seed: u64,
) -> (Vec<sim::Time>, Vec<u64>, sim::Metrics) {
    let script = Script {
        start: |_, ctx| {
            if ctx.id() == NodeId(0) {
                ctx.set_timer(ms(1), 0);
            }
        },
        timer: |_, ctx, _| {
            for i in 0..N {
                ctx.send(NodeId(1), i);
            }
        },
        ..Script::default()
    };
    let mut cfg = config(2, seed, constant(1, kind), ms(60_000));
    cfg.network.zones = two_zones(2, 1, 1, 1, 1, kind);
    let mut sim = Simulation::<Node>::new(cfg, script);
    sim.schedule_fault(
        Time::ZERO,
        Fault::Degrade {
            a: Target::Zone("a".into()),
            b: Target::Zone("b".into()),
            extra: None,
            loss,
            duration: Dur::secs(10),
        },
    );
    let report = sim.run();
    let n1 = node(&sim, 1);
    (
        n1.got.iter().map(|g| g.at).collect(),
        n1.got.iter().map(|g| g.msg).collect(),
        report.metrics,
    )
}

#[test]
fn degrade_loses_datagrams_at_its_rate() {
    let (_, got, m) = degraded_stream(LinkKind::Datagram, 0.1, 4);
    let (want, sd) = (N as f64 * 0.9, (N as f64 * 0.9 * 0.1).sqrt());
    assert!(
        (got.len() as f64 - want).abs() <= 5.0 * sd,
        "{} of {N} delivered",
        got.len()
    );
    assert_eq!(m.counter("net.lost") + got.len() as u64, N);
}

#[test]
fn degrade_on_a_stream_retransmits_instead_of_losing() {
    let (at, got, m) = degraded_stream(LinkKind::Stream, 0.5, 5);
    // Everything arrives, in order, none lost.
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    assert_eq!(m.counter("net.lost"), 0);
    // Sent at 1 ms over 1 ms links: each arrival is 2 ms plus whole retransmission timeouts
    // (FIFO holds later messages behind a retransmitted one).
    for t in &at {
        let extra = t.as_nanos() - 2_000_000;
        assert_eq!(extra % sim::network::RETRANSMIT_NS, 0, "arrival at {t:?}");
    }
    // Half the first messages are retransmitted at least once; loss 0.5 caps at 15 tries.
    assert!(at.last().unwrap().as_nanos() >= 2_000_000 + 2 * sim::network::RETRANSMIT_NS);
    assert!(
        at.last().unwrap().as_nanos()
            <= 2_000_000 + u64::from(sim::network::MAX_RETRANSMITS) * sim::network::RETRANSMIT_NS
    );
}
