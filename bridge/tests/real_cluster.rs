//! Three real Raft KV nodes on loopback (std mode: madsim's `Endpoint` is TCP on tokio), each
//! its own `faultline-node` process: the test waits for a leader, writes and reads through
//! two clients, kills the leader's process, waits for a new leader, and checks the recorded
//! real-time history with the engine's linearizability checker. Everything stops by itself
//! within a minute.
#![cfg(not(madsim))]

use faultline_bridge::client::{Patience, Session};
use faultline_bridge::real::{quiet_transport_panics, runtime};
use protocols::kv::Op;
use protocols::linearizability::{self, Budget, History, Outcome};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The node processes; killed when the test ends, however it ends.
struct Cluster(Vec<Option<Child>>);

impl Cluster {
    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.0[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.0.len() {
            self.kill(i);
        }
    }
}

fn free_ports(n: usize) -> Vec<SocketAddr> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap()).collect()
}

/// One client: `ops` operations on keys 0 and 1, recorded in `history` (process `id`, or a
/// fresh process after an indeterminate one). Returns the node that answered last.
async fn client(
    id: u64,
    peers: Rc<Vec<SocketAddr>>,
    history: Rc<RefCell<History>>,
    start: Instant,
    ops: u64,
    not_from: Option<usize>,
) -> Option<usize> {
    let patience = Patience {
        timeout: Duration::from_millis(300),
        backoff: Duration::from_millis(30),
        give_up: Duration::from_secs(4),
    };
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut s = Session::open(id * 1000 + ops, bind, peers, patience)
        .await
        .unwrap();
    let mut process = id;
    let mut last = None;
    let now = || start.elapsed().as_nanos() as u64;
    let mut done = 0;
    let deadline = Instant::now() + Duration::from_secs(25);
    while done < ops && Instant::now() < deadline {
        let key = done % 2;
        let op = match done % 3 {
            0 => Op::Put(id * 100_000 + done),
            1 => Op::Get,
            _ => Op::Cas {
                expected: id * 100_000 + done - 2,
                new: id * 100_000 + done,
            },
        };
        let op_id = history.borrow_mut().invoke(process, key, op, now());
        let outcome = match s.call(key, op).await {
            Ok((ret, node)) => {
                last = Some(node.index());
                // Count progress only from the node we were told to move away from.
                if not_from != Some(node.index()) {
                    done += 1;
                }
                Outcome::Ok(ret)
            }
            Err(o) => o,
        };
        history.borrow_mut().complete(op_id, outcome, now());
        if outcome == Outcome::Info {
            process += 10;
        }
    }
    last
}

#[test]
fn a_real_three_node_cluster_survives_losing_its_leader_linearizably() {
    quiet_transport_panics();
    let peers = free_ports(3);
    let list = peers
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let data = std::env::temp_dir().join(format!("faultline-real-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut cluster = Cluster(
        (0..3)
            .map(|i| {
                Some(
                    Command::new(env!("CARGO_BIN_EXE_faultline-node"))
                        .args(["serve", "--id", &i.to_string(), "--peers", &list])
                        .arg("--data")
                        .arg(data.join(i.to_string()))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("start faultline-node"),
                )
            })
            .collect(),
    );
    let (rt, local) = runtime().unwrap();
    let history = Rc::new(RefCell::new(History::new()));
    let start = Instant::now();
    let peers = Rc::new(peers);
    // Phase 1: a leader is elected and serves two concurrent clients.
    let (a, b) = local.block_on(&rt, async {
        futures::join!(
            client(1, peers.clone(), history.clone(), start, 30, None),
            client(2, peers.clone(), history.clone(), start, 30, None),
        )
    });
    let leader = a.or(b).expect("a leader answered");
    // Its state is on disk: the node wrote its term and log before acting.
    assert!(
        data.join(leader.to_string())
            .join("node-".to_string() + &leader.to_string() + ".state")
            .exists()
    );
    cluster.kill(leader);
    // Phase 2: the two survivors elect a new leader, which serves the clients.
    let (a, b) = local.block_on(&rt, async {
        futures::join!(
            client(3, peers.clone(), history.clone(), start, 20, Some(leader)),
            client(4, peers.clone(), history.clone(), start, 20, Some(leader)),
        )
    });
    let new_leader = a.or(b).expect("a new leader answered");
    assert_ne!(new_leader, leader);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data);
    let history = history.borrow();
    let summary = history.summary();
    assert!(summary.ok >= 100, "{summary:?}");
    let verdict = linearizability::check(&history, Budget::steps(5_000_000));
    assert!(
        verdict.is_linearizable(),
        "{verdict:?}\n{}",
        history.to_jsonl()
    );
}
