//! Node clocks through a `Simulation`: drift makes timers fire early or late by exactly the
//! drift, `now()` reads offset plus drift, a jump moves `now()` but not pending timers, and a
//! drift change applies to timers set after it.

mod common;

use common::{Node, Script, config, link, ms, node, with_clocks};
use sim::{Clock, Fault, Latency, LinkKind, NodeId, Simulation, Target, Time};

/// Every node sets a 1 s timer at start.
fn one_second(_: &mut Node, ctx: &mut sim::Context<'_, Node>) {
    ctx.set_timer(ms(1000), 0);
}

fn cluster(clocks: Vec<Clock>, script: Script) -> Simulation<Node> {
    let n = clocks.len();
    let cfg = config(
        n,
        1,
        link(Latency::Constant(1_000_000), LinkKind::Stream),
        ms(5000),
    );
    Simulation::new(with_clocks(cfg, clocks), script)
}

#[test]
fn drift_fires_timers_early_or_late_by_the_drift() {
    let script = Script {
        start: one_second,
        ..Script::default()
    };
    let mut sim = cluster(
        vec![
            Clock::default(),
            Clock::new(0, 1_000),
            Clock::new(0, -1_000),
            Clock::new(5_000_000, 0),
        ],
        script,
    );
    sim.run();
    let fired = |i| node(&sim, i).fired[0];
    // Ideal clock: exactly 1 s.
    assert_eq!(fired(0).at, Time::from_secs(1));
    // +1000 ppm: one local second takes ceil(10^15 / 1 001 000) = 999 001 000 true ns (the exact
    // quotient is 999 000 999.000999, rounded up so a timer never fires before its deadline).
    assert_eq!(fired(1).at, Time(999_001_000));
    // -1000 ppm: ceil(10^15 / 999 000) = 1 001 001 002 ns, late by 1.001 ms.
    assert_eq!(fired(2).at, Time(1_001_001_002));
    // The drifted nodes read (at least) one local second when their timer fires, and not more
    // than a nanosecond of rounding past it.
    for i in 1..3 {
        let local = fired(i).local.as_nanos();
        assert!(
            (1_000_000_000..=1_000_000_001).contains(&local),
            "n{i} read {local}"
        );
    }
    // An offset clock reads offset + true time; its timers are unaffected by the offset.
    assert_eq!(fired(3).at, Time::from_secs(1));
    assert_eq!(fired(3).local, Time(1_005_000_000));
}

#[test]
fn now_reflects_offset_and_drift() {
    // n1 runs 250 ppm fast from an offset of -2 ms; it reads its clock at true 4 s.
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(4000), 0);
        },
        ..Script::default()
    };
    let mut sim = cluster(vec![Clock::default(), Clock::new(-2_000_000, 250)], script);
    sim.run();
    let f = node(&sim, 1).fired[0];
    // The timer fires at ceil(4e9 / 1.00025) true ns; the reading then is -2 ms plus that
    // span times 1.00025, i.e. 4 s - 2 ms (to within the nanosecond of rounding).
    assert_eq!(f.at, Time(3_999_000_250));
    assert_eq!(f.local, Time(3_998_000_000));
}

#[test]
fn clock_jump_moves_now_but_not_pending_timers() {
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(100), 1);
        },
        ..Script::default()
    };
    let mut sim = cluster(vec![Clock::default(), Clock::default()], script);
    sim.schedule_fault(
        Time::from_millis(50),
        Fault::ClockJump {
            target: Target::Node(NodeId(1)),
            by: sim::units::SignedDur(1_000_000_000),
        },
    );
    sim.run();
    let jumped = node(&sim, 1).fired[0];
    assert_eq!(
        jumped.at,
        Time::from_millis(100),
        "timers follow a monotonic clock"
    );
    assert_eq!(
        jumped.local,
        Time::from_millis(1100),
        "now() moved by the jump"
    );
    assert_eq!(node(&sim, 0).fired[0].local, Time::from_millis(100));
}

#[test]
fn set_drift_applies_to_timers_set_after_it() {
    // Timer 1 (1 s) is set at 0; the drift becomes +1000 ppm at 10 ms; timer 2 (1 s) is set at
    // 20 ms by timer 3.
    let script = Script {
        start: |_, ctx| {
            ctx.set_timer(ms(1000), 1);
            ctx.set_timer(ms(20), 3);
        },
        timer: |_, ctx, tag| {
            if tag == 3 {
                ctx.set_timer(ms(1000), 2);
            }
        },
        ..Script::default()
    };
    let mut sim = cluster(vec![Clock::default()], script);
    sim.schedule_fault(
        Time::from_millis(10),
        Fault::SetDrift {
            target: Target::All,
            ppm: 1_000,
        },
    );
    sim.run();
    let fired = node(&sim, 0).fired;
    let at = |tag| fired.iter().find(|f| f.tag == tag).unwrap().at;
    assert_eq!(
        at(1),
        Time::from_secs(1),
        "set before the change: unaffected"
    );
    assert_eq!(
        at(2),
        Time(20_000_000 + 999_001_000),
        "set after: early by the drift"
    );
    // The clock itself runs fast from 10 ms on: at 20 ms it reads 20 ms + 10 us.
    let t3 = fired.iter().find(|f| f.tag == 3).unwrap();
    assert_eq!(t3.local, Time(20_010_000));
}
