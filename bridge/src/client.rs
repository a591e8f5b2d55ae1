//! Key-value clients of a bridged cluster, on madsim's simulator or on real sockets.
//!
//! A [`Session`] is one client: it sends a request to the node it believes leads, follows
//! "not leader" hints, tries the next node after a timeout or a refusal without a hint, and
//! re-sends the same `(client, seq)` until the operation completes or is given up
//! (indeterminate, recorded as `info`). [`run_client`] is the closed-loop client of a
//! scenario's `Kv` workload: think, invoke, repeat, recording every operation in the same
//! [`History`] the engine's clients fill, for the same linearizability checker.

use crate::net::{Outbox, listen};
use crate::wire::{Wire, decode, encode};
use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use protocols::kv::{KvReply, KvRequest, KvResult, KvWorkloadConfig, Op, Ret, draw_op};
use protocols::linearizability::{History, Outcome};
use sim::rng::{StreamRng, uniform_u64};
use sim::{ClientId, NodeId};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// A client frame: the node messages never reach a client, so they are `()`.
type ClientFrame = Wire<(), KvRequest, KvReply>;

/// What every client of a run shares.
pub struct Clients {
    /// The nodes' addresses, by node id.
    pub nodes: Rc<Vec<SocketAddr>>,
    /// Time zero of the history (true time).
    pub epoch: madsim::time::Instant,
    /// Every operation, as the clients saw it.
    pub history: Rc<RefCell<History>>,
    /// The next value a put or cas writes (unique across clients).
    pub next_value: Cell<u64>,
}

impl Clients {
    /// Nanoseconds since the epoch.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// How a session retries.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// One attempt's wait for an answer.
    pub timeout: Duration,
    /// The pause before trying another node after a refusal without a hint.
    pub backoff: Duration,
    /// How long after invoking an unanswered operation is given up.
    pub give_up: Duration,
}

impl Patience {
    /// A workload's retry settings.
    pub fn of(cfg: &KvWorkloadConfig) -> Patience {
        Patience {
            timeout: cfg.timeout.0,
            backoff: cfg.backoff.0,
            give_up: cfg.give_up.0,
        }
    }
}

/// One client session.
pub struct Session {
    id: ClientId,
    seq: u64,
    me: SocketAddr,
    nodes: Rc<Vec<SocketAddr>>,
    inbox: UnboundedReceiver<Vec<u8>>,
    out: Outbox,
    /// The node believed to lead.
    pub target: usize,
    patience: Patience,
}

impl Session {
    /// A session `id` receiving answers on `bind`.
    pub async fn open(
        id: ClientId,
        bind: SocketAddr,
        nodes: Rc<Vec<SocketAddr>>,
        patience: Patience,
    ) -> std::io::Result<Session> {
        let (ep, inbox) = listen(bind).await?;
        let nodes_len = nodes.len().max(1);
        Ok(Session {
            id,
            seq: 0,
            me: ep.local_addr()?,
            out: Outbox::new(&ep),
            nodes,
            inbox,
            target: id as usize % nodes_len,
            patience,
        })
    }

    /// Performs one operation: `Ok((ret, node))` with the node that answered, or the
    /// outcome it ended with otherwise (`Fail`: definitely not applied; `Info`: unknown).
    pub async fn call(&mut self, key: u64, op: Op) -> Result<(Ret, NodeId), Outcome> {
        self.seq += 1;
        let req = KvRequest {
            client: self.id,
            seq: self.seq,
            op,
            key,
        };
        let give_up = madsim::time::Instant::now() + self.patience.give_up;
        loop {
            let now = madsim::time::Instant::now();
            if now >= give_up {
                return Err(Outcome::Info);
            }
            let frame: ClientFrame = Wire::Request {
                client: self.id,
                reply_to: self.me,
                req,
            };
            let n = self.nodes.len();
            self.out.send(self.nodes[self.target], encode(&frame));
            let deadline = (now + self.patience.timeout).min(give_up);
            match self.answer(deadline).await {
                None => self.target = (self.target + 1) % n,
                Some(KvResult::Ok(ret)) => return Ok((ret, NodeId(self.target as u32))),
                Some(KvResult::Fail) => return Err(Outcome::Fail),
                Some(KvResult::NotLeader { hint: Some(h) }) if h.index() != self.target => {
                    self.target = h.index() % n;
                }
                Some(KvResult::NotLeader { .. }) => {
                    self.target = (self.target + 1) % n;
                    madsim::time::sleep(self.patience.backoff).await;
                }
            }
        }
    }

    /// The answer to the current request, if one comes before `deadline`.
    async fn answer(&mut self, deadline: madsim::time::Instant) -> Option<KvResult> {
        loop {
            let left = deadline.checked_duration_since(madsim::time::Instant::now())?;
            let bytes = madsim::time::timeout(left, self.inbox.next())
                .await
                .ok()??;
            if let Ok(Wire::Reply { reply, .. }) = decode::<ClientFrame>(&bytes)
                && reply.seq == self.seq
            {
                return Some(reply.result);
            }
        }
    }
}

/// Closed-loop client `index` of a `Kv` workload: from `cfg.start` until `until` (time since
/// the epoch) it thinks, invokes a random operation and waits for it, recording each in the
/// history. After an indeterminate operation it continues as a new process.
pub async fn run_client(
    index: u32,
    cfg: KvWorkloadConfig,
    shared: Rc<Clients>,
    bind: SocketAddr,
    mut rng: StreamRng,
    until: Duration,
) {
    let mut session = Session::open(
        u64::from(index),
        bind,
        shared.nodes.clone(),
        Patience::of(&cfg),
    )
    .await
    .unwrap_or_else(|e| panic!("client {index} cannot listen on {bind}: {e}"));
    let mut process = u64::from(index);
    madsim::time::sleep_until(shared.epoch + cfg.start.0).await;
    let mean_ns = (1e9 / cfg.rate.max(1e-9)) as u64;
    loop {
        let think = uniform_u64(&mut rng, 0, 2 * mean_ns);
        madsim::time::sleep(Duration::from_nanos(think)).await;
        if shared.epoch.elapsed() >= until {
            return;
        }
        let mut next = shared.next_value.get();
        let (key, op) = draw_op(&mut rng, &cfg, &mut next);
        shared.next_value.set(next);
        let id = shared
            .history
            .borrow_mut()
            .invoke(process, key, op, shared.now_ns());
        let outcome = match session.call(key, op).await {
            Ok((ret, _)) => Outcome::Ok(ret),
            Err(outcome) => outcome,
        };
        shared
            .history
            .borrow_mut()
            .complete(id, outcome, shared.now_ns());
        if outcome == Outcome::Info {
            process += u64::from(cfg.clients.max(1));
        }
    }
}
