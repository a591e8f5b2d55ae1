//! One bridged node: a task that runs a [`Protocol`](sim::Protocol) unchanged on an async
//! runtime.
//!
//! The loop waits for the next frame or the node's earliest timer, whichever comes first,
//! steps the node through its [`Cluster`] (the same `Context` contract the engine provides),
//! then carries out what the node asked for: frames to peers and to clients, timers set and
//! cancelled on the runtime's clock (`madsim::time`). Clients are answered at the address
//! their request came from. Nodes' clocks are the runtime's: no offset, no drift.

use crate::Bridged;
use crate::cluster::Shared;
use crate::net::{Outbox, listen};
use crate::wire::{Wire, decode, encode};
use futures::StreamExt;
use sim::{Action, ClientId, EventKind, NodeId, Time};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;

/// The frames a node of `P` exchanges.
pub type Frame<P> =
    Wire<<P as sim::Protocol>::Message, <P as sim::Protocol>::Request, <P as sim::Protocol>::Reply>;

/// Pending timers: by deadline (ties by id), and by id for cancelling.
struct Timers<T> {
    by_due: BTreeMap<(Time, u64), T>,
    due_of: BTreeMap<u64, Time>,
}

impl<T> Timers<T> {
    fn set(&mut self, id: u64, due: Time, timer: T) {
        self.by_due.insert((due, id), timer);
        self.due_of.insert(id, due);
    }

    fn cancel(&mut self, id: u64) {
        if let Some(due) = self.due_of.remove(&id) {
            self.by_due.remove(&(due, id));
        }
    }

    fn next_due(&self) -> Option<Time> {
        self.by_due.keys().next().map(|&(due, _)| due)
    }

    fn pop(&mut self) -> Option<T> {
        let ((_, id), timer) = self.by_due.pop_first()?;
        self.due_of.remove(&id);
        Some(timer)
    }
}

/// Runs node `me` of `cluster`, listening on `addrs[me]`, until its endpoint closes or the
/// runtime kills it. A node that started before recovers from its durable state.
pub async fn run_node<P: Bridged>(cluster: Shared<P>, me: NodeId, addrs: Rc<Vec<SocketAddr>>) {
    let i = me.index();
    let (ep, mut inbox) = listen(addrs[i])
        .await
        .unwrap_or_else(|e| panic!("node {me} cannot listen on {}: {e}", addrs[i]));
    let mut out = Outbox::new(&ep);
    let mut timers = Timers {
        by_due: BTreeMap::new(),
        due_of: BTreeMap::new(),
    };
    let mut clients: BTreeMap<ClientId, SocketAddr> = BTreeMap::new();
    let boot = cluster.borrow_mut().boot(i);
    let mut actions = boot.unwrap_or_else(|e| panic!("node {me} cannot read its state: {e}"));
    loop {
        carry_out::<P>(
            me,
            &cluster,
            &addrs,
            &clients,
            &mut timers,
            &mut out,
            actions,
        );
        let now = cluster.borrow().now();
        // A timer already due fires before waiting for anything.
        let due = timers.next_due();
        let input = match due {
            Some(due) if due <= now => None,
            Some(due) => {
                let wait = std::time::Duration::from_nanos(due.0 - now.0);
                match madsim::time::timeout(wait, inbox.next()).await {
                    Ok(Some(frame)) => Some(frame),
                    Ok(None) => return,
                    Err(_) => None,
                }
            }
            None => match inbox.next().await {
                Some(frame) => Some(frame),
                None => return,
            },
        };
        let mut c = cluster.borrow_mut();
        let stepped = match input {
            None => {
                if timers.next_due().is_none_or(|d| d > c.now()) {
                    actions = Vec::new();
                    continue;
                }
                let timer = timers.pop().expect("a due timer");
                c.step(i, EventKind::Timer, None, |h, call| h.fire(call, timer))
            }
            Some(bytes) => match decode::<Frame<P>>(&bytes) {
                Ok(Wire::Peer { from, msg }) if (from as usize) < addrs.len() => {
                    c.delivered += 1;
                    let from = NodeId(from);
                    c.step(i, EventKind::Deliver, Some(from), |h, call| {
                        h.deliver(call, from, msg)
                    })
                }
                Ok(Wire::Request {
                    client,
                    reply_to,
                    req,
                }) => {
                    clients.insert(client, reply_to);
                    c.step(i, EventKind::Request, None, |h, call| {
                        h.request(call, client, req)
                    })
                }
                // Replies are for clients; frames that do not decode, or name no node, are
                // dropped like any corrupt packet.
                _ => Ok(Vec::new()),
            },
        };
        drop(c);
        actions = stepped.unwrap_or_else(|e| panic!("node {me} cannot save its state: {e}"));
    }
}

/// Carries out a step's actions, in the order the node asked for them.
fn carry_out<P: Bridged>(
    me: NodeId,
    cluster: &Shared<P>,
    addrs: &[SocketAddr],
    clients: &BTreeMap<ClientId, SocketAddr>,
    timers: &mut Timers<P::Timer>,
    out: &mut Outbox,
    actions: Vec<Action<P>>,
) {
    if actions.is_empty() {
        return;
    }
    // Timers count from the moment the node acted (nodes read the runtime's clock as theirs).
    let now = cluster.borrow().now();
    for action in actions {
        match action {
            Action::Send { to, msg } => {
                let frame: Frame<P> = Wire::Peer { from: me.0, msg };
                out.send(addrs[to.index()], encode(&frame));
            }
            Action::SetTimer { id, after, timer } => timers.set(id.0, now + after, timer),
            Action::CancelTimer(id) => timers.cancel(id.0),
            Action::Reply { client, reply } => {
                if let Some(&addr) = clients.get(&client) {
                    let frame: Frame<P> = Wire::Reply {
                        from: me.0,
                        client,
                        reply,
                    };
                    out.send(addr, encode(&frame));
                }
            }
        }
    }
}
