//! `faultline-node`: one Raft KV node of faultline's protocol code on a real network, and a
//! client to talk to such a cluster. See `faultline-node --help`.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Runs faultline's Raft KV node on real TCP sockets (madsim's std mode on tokio), or talks
/// to a cluster of them.
///
/// A 3-node cluster on one machine, one command per terminal:
///
///   faultline-node serve --id 0 --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
///   faultline-node serve --id 1 --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
///   faultline-node serve --id 2 --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
///
/// then: faultline-node kv --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 put 1 42
#[derive(Parser)]
#[command(name = "faultline-node", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one node until killed (Ctrl-C); its state survives a restart with the same --data.
    Serve {
        /// This node's index in --peers (0-based).
        #[arg(long)]
        id: usize,
        /// Every node's address, comma-separated, in the same order on every node.
        #[arg(long, value_delimiter = ',', required = true)]
        peers: Vec<SocketAddr>,
        /// Directory for the node's durable state [default: faultline-node-<id>]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Raft settings in scenario syntax, the same on every node, e.g. "(pre_vote: true)".
        #[arg(long, default_value = "()")]
        raft: String,
    },
    /// One key-value operation against a running cluster; prints the result and which node
    /// answered.
    Kv {
        /// Every node's address, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        peers: Vec<SocketAddr>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
        #[command(subcommand)]
        op: KvOp,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum KvOp {
    /// Write VALUE under KEY.
    Put { key: u64, value: u64 },
    /// Read KEY.
    Get { key: u64 },
    /// Write NEW under KEY if it holds EXPECTED.
    Cas { key: u64, expected: u64, new: u64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("faultline-node: {msg}");
            ExitCode::from(code)
        }
    }
}

#[cfg(not(madsim))]
fn run(command: Command) -> Result<(), (u8, String)> {
    use faultline_bridge::client::{Patience, Session};
    use faultline_bridge::real::{NodeOptions, quiet_transport_panics, runtime, serve};
    use protocols::kv::Op;
    use protocols::linearizability::Outcome;
    use protocols::raft::RaftConfig;
    use std::rc::Rc;
    use std::time::Duration;

    quiet_transport_panics();
    let (rt, local) = runtime().map_err(|e| (1, format!("cannot start a runtime: {e}")))?;
    match command {
        Command::Serve {
            id,
            peers,
            data,
            raft,
        } => {
            if id >= peers.len() {
                return Err((
                    2,
                    format!("--id {id} is not an index into the {} --peers", peers.len()),
                ));
            }
            let raft: RaftConfig = faultline::scenario::ron_options()
                .from_str(&raft)
                .map_err(|e| (2, format!("--raft {raft:?}: {e}")))?;
            let data = data.unwrap_or_else(|| PathBuf::from(format!("faultline-node-{id}")));
            let opts = NodeOptions {
                id,
                peers,
                data,
                raft,
            };
            eprintln!(
                "faultline-node: node {id} of {} on {}, state in {}",
                opts.peers.len(),
                opts.peers.get(id).map_or("?".into(), |a| a.to_string()),
                opts.data.display()
            );
            local
                .block_on(&rt, serve(opts))
                .map_err(|e| (1, e.to_string()))
        }
        Command::Kv { peers, timeout, op } => {
            let patience = Patience {
                timeout: Duration::from_millis(500),
                backoff: Duration::from_millis(50),
                give_up: Duration::from_secs_f64(timeout.max(0.001)),
            };
            let (key, op) = match op {
                KvOp::Put { key, value } => (key, Op::Put(value)),
                KvOp::Get { key } => (key, Op::Get),
                KvOp::Cas { key, expected, new } => (key, Op::Cas { expected, new }),
            };
            // A random session id: each invocation is a new client.
            let client: u64 = madsim::rand::random::<u64>() >> 1;
            local.block_on(&rt, async move {
                let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
                let mut s = Session::open(client, bind, Rc::new(peers), patience)
                    .await
                    .map_err(|e| (1, format!("cannot open a client endpoint: {e}")))?;
                match s.call(key, op).await {
                    Ok((ret, node)) => {
                        println!("{ret:?} (answered by node {})", node.0);
                        Ok(())
                    }
                    Err(Outcome::Fail) => Err((3, "refused: the operation did not take effect".into())),
                    Err(_) => Err((
                        3,
                        format!(
                            "no answer within {timeout} s: the operation may or may not have taken effect"
                        ),
                    )),
                }
            })
        }
    }
}

#[cfg(madsim)]
fn run(_: Command) -> Result<(), (u8, String)> {
    Err((
        2,
        "this build is for madsim's simulator (--cfg madsim); build without it for real sockets"
            .into(),
    ))
}
