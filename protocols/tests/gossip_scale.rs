//! Scale: bytes per node, and push-pull to full spread on 10^5 and 10^6 nodes.
//!
//! The large runs are ignored tests, meant for a release build:
//! `CARGO_TARGET_DIR=... cargo test --release -p protocols --test gossip_scale -- --ignored scale`
//! (wrap in `/usr/bin/time -v` for the peak memory). They print wall time and events.

#[path = "gossip_support.rs"]
mod support;

use protocols::gossip::{Direction, GossipConfig, GossipNode, Hot, Message, Store};
use sim::Verdict;
use support::{Run, one};

#[test]
fn a_node_costs_few_bytes() {
    // The engine keeps, per node, the protocol state and the Durable store (plus its own RNG
    // and metadata); an uninformed or single-rumor node allocates nothing on the heap.
    assert!(std::mem::size_of::<GossipNode>() <= 32);
    assert!(std::mem::size_of::<Store>() <= 32);
    assert!(std::mem::size_of::<Hot>() <= 16);
    // Messages are stored inline in the event queue.
    assert!(
        std::mem::size_of::<Message>() <= 40,
        "{}",
        std::mem::size_of::<Message>()
    );
}

fn push_pull_to_full_spread(n: usize) {
    let cfg = GossipConfig {
        direction: Direction::PushPull,
        ..GossipConfig::default()
    };
    #[allow(clippy::disallowed_methods)] // Measures the test, never steers the run.
    let t0 = std::time::Instant::now();
    let r = Run::spread(n, 1, cfg).run();
    let wall = t0.elapsed();
    assert_eq!(r.verdict, Verdict::Completed);
    let rounds = one(&r, "gossip.update.rounds_to_100");
    eprintln!(
        "push-pull n={n}: {rounds} rounds, {} events, {:.2} msgs/node, {:.0} bytes/node, wall {:.2}s ({:.2} M events/s)",
        r.events,
        one(&r, "gossip.messages_per_node"),
        one(&r, "gossip.bytes_per_node"),
        wall.as_secs_f64(),
        r.events as f64 / wall.as_secs_f64() / 1e6
    );
    let log3 = protocols::gossip::theory::push_pull_rounds(n);
    assert!(rounds > log3 && rounds < log3 + 6.0, "{rounds} rounds");
}

#[test]
#[ignore = "release build: cargo test --release -- --ignored scale"]
fn scale_push_pull_100k() {
    push_pull_to_full_spread(100_000);
}

#[test]
#[ignore = "release build: cargo test --release -- --ignored scale"]
fn scale_push_pull_1m() {
    push_pull_to_full_spread(1_000_000);
}
