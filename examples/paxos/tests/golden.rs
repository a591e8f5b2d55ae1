//! Golden one-node tests: one Paxos node driven by hand through faultline's `Harness`, with
//! the inputs and the outputs they must give in `tests/testdata/*.txt`.
//!
//! Commands (one per case; messages and requests are written in RON):
//! - `start me=0 nodes=3 [bug=AcceptIgnoresPromise]`: a new node, started on empty storage;
//! - `deliver from=1` + a `Message`; `request client=7` + a `KvRequest`;
//! - `fire timer=Election|Heartbeat`: the earliest pending timer of that kind;
//! - `recover`: crash, then restart from durable storage;
//! - `state`: the node's role, ballots, applied slot and durable storage.
//!
//! The output of an input is what the node did, one action per line (faultline's `Step`
//! format), then its durable writes. `FAULTLINE_REWRITE=1 cargo test -p paxos --test golden`
//! rewrites the expected outputs; review the diff against the paper before committing it.

use faultline::kv::KvRequest;
use faultline::testing::{Harness, golden};
use faultline::{NodeId, Protocol};
use paxos::{Message, Paxos, PaxosBug, PaxosConfig, Timer};

/// Parses a case's input lines as RON.
fn input<T: serde::de::DeserializeOwned>(case: &golden::Case) -> T {
    ron::from_str(&case.input)
        .unwrap_or_else(|e| panic!("line {}: bad input {:?}: {e}", case.line, case.input))
}

/// The node's state, one fact per line.
fn state(h: &Harness<Paxos>) -> String {
    let mut out = String::new();
    if let Some(p) = h.node() {
        out += &format!(
            "role {:?}, ballot {:?}, leader {:?}, promised {:?}, applied {}\n",
            p.role, p.ballot, p.leader, p.promised, p.applied
        );
    } else {
        out += "crashed\n";
    }
    let d = h.durable();
    out += &format!("durable promised {:?}\n", d.promised);
    for (slot, (ballot, value)) in &d.accepted {
        out += &format!("durable accepted {slot}: {ballot:?} {value:?}\n");
    }
    for (slot, value) in &d.decided {
        out += &format!("durable decided {slot}: {value:?}\n");
    }
    out
}

/// Runs the cases of one golden file against one node.
fn run(file: &str) {
    let mut h: Option<Harness<Paxos>> = None;
    let path = format!("{}/tests/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    golden::run(path, |case| {
        if case.command == "start" {
            let bug = case
                .arg("bug")
                .map(|b| ron::from_str::<PaxosBug>(b).expect("a bug"));
            let cfg = PaxosConfig {
                bug,
                ..PaxosConfig::default()
            };
            let me = NodeId(case.parse_arg("me"));
            let node = h.insert(Harness::new(cfg, me, case.parse_arg("nodes"), 1));
            return format!("{:?}", node.start());
        }
        let h = h.as_mut().expect("`start` first");
        let step = match case.command.as_str() {
            "deliver" => h.deliver(NodeId(case.parse_arg("from")), input::<Message>(case)),
            "request" => h.request(case.parse_arg("client"), input::<KvRequest>(case)),
            "fire" => {
                let timer: Timer = ron::from_str(case.arg("timer").expect("timer=")).unwrap();
                h.fire_where(|t| *t == timer)
                    .expect("no such timer pending")
            }
            "recover" => h.recover(),
            "state" => return state(h),
            other => panic!("line {}: unknown command {other}", case.line),
        };
        format!("{step:?}")
    });
}

#[test]
fn acceptor_keeps_its_promises() {
    run("acceptor.txt");
}

#[test]
fn acceptor_bug_accepts_below_its_promise() {
    run("accept_ignores_promise.txt");
}

#[test]
fn acceptor_bug_forgets_its_promise_on_restart() {
    run("forget_promise.txt");
}

#[test]
fn leader_adopts_the_highest_ballot_values() {
    run("leader.txt");
}

#[test]
fn leader_bug_ignores_promised_values() {
    run("ignore_promised_values.txt");
}

#[test]
fn learner_applies_in_slot_order() {
    run("learner.txt");
}

/// The harness and the engine drive the same code: a node's `leader_term` is what faults
/// aimed at `Leader` use.
#[test]
fn a_single_node_elects_itself_and_decides_alone() {
    let mut h = Harness::<Paxos>::new(PaxosConfig::default(), NodeId(0), 1, 1);
    h.start();
    h.fire_where(|t| *t == Timer::Election)
        .expect("an election timer");
    let node = h.node().expect("running");
    assert_eq!(node.leader_term(), Some(1));
    let req = KvRequest {
        client: 1,
        seq: 1,
        op: faultline::kv::Op::Put(5),
        key: 0,
    };
    let step = h.request(1, req);
    assert_eq!(step.replies().count(), 1, "{step:?}");
    assert_eq!(h.node().expect("running").applied, 1);
}
