//! std mode: one Raft KV node on a real port, and a client of such a cluster.
//!
//! Built without `--cfg madsim`, madsim's `Endpoint` is real TCP on tokio: [`serve`] runs
//! node `id` of the cluster whose nodes listen at `peers` (the same list, in the same order,
//! on every node), exactly the state machine the engine runs, with its durable state in
//! `data/node-<id>.state` (written and synced before the node acts on it). [`runtime`] is the
//! single-threaded runtime nodes and clients run on (bridged tasks share state through
//! `Rc`, so they stay on one thread).

use crate::cluster::Cluster;
use crate::node::run_node;
use protocols::raft::{Raft, RaftConfig};
use sim::NodeId;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;

/// What `faultline-node serve` is told.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// This node's index in `peers`.
    pub id: usize,
    /// Every node's address, the same list on every node.
    pub peers: Vec<SocketAddr>,
    /// Where the node keeps its durable state.
    pub data: PathBuf,
    /// The Raft configuration (the same on every node).
    pub raft: RaftConfig,
}

/// A single-threaded tokio runtime with its local task set: bridged nodes and clients run
/// inside `LocalSet::block_on`.
pub fn runtime() -> std::io::Result<(tokio::runtime::Runtime, tokio::task::LocalSet)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok((rt, tokio::task::LocalSet::new()))
}

/// madsim's std `Endpoint` reports a refused or broken connection by panicking inside the
/// task that sends; the bridge turns those panics into lost frames ([`crate::net`]), so they
/// are not printed. Every other panic goes to the previous hook.
pub fn quiet_transport_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_transport = info
            .location()
            .is_some_and(|l| l.file().contains("madsim") && l.file().contains("net"));
        if !in_transport {
            previous(info);
        }
    }));
}

/// Runs the node until the process ends; errors only if it cannot start.
pub async fn serve(opts: NodeOptions) -> std::io::Result<()> {
    if opts.id >= opts.peers.len() {
        return Err(std::io::Error::other(format!(
            "--id {} is not an index into the {} peers",
            opts.id,
            opts.peers.len()
        )));
    }
    std::fs::create_dir_all(&opts.data)?;
    // A real node's random stream comes from the operating system's entropy.
    let seed: u64 = madsim::rand::random();
    let mut cluster = Cluster::<Raft>::new(opts.raft, opts.peers.len(), seed);
    cluster.store = Some(opts.data.clone());
    let peers = Rc::new(opts.peers);
    // Bind errors surface here, before the node runs, so the caller can report them.
    let me = peers[opts.id];
    drop(
        std::net::TcpListener::bind(me)
            .map_err(|e| std::io::Error::other(format!("cannot listen on {me}: {e}")))?,
    );
    run_node(cluster.shared(), NodeId(opts.id as u32), peers).await;
    Ok(())
}
