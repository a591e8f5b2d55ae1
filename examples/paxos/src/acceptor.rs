//! The acceptor: phase 1b (Prepare → Promise or Nack) and phase 2b (Accept → Accepted or
//! Nack), and the durable promise they rest on.
//!
//! Paxos Made Simple §2.2 states the rules this file implements:
//! - P1a: "an acceptor can accept a proposal numbered n iff it has not responded to a prepare
//!   request having a number greater than n";
//! - phase 1b: on a prepare request with n greater than any it answered, the acceptor promises
//!   never again to accept a proposal numbered less than n, and replies with the
//!   highest-numbered proposal it has accepted (here: per slot, for every slot from the
//!   leader's first undecided one, PMMC §3's `accepted` set);
//! - §2.3: "an acceptor must remember this information even if it fails and then restarts":
//!   the promise and every accepted value are written to durable storage *before* the reply is
//!   sent (faultline's `durable_mut` writes are durable when the handler returns, and the
//!   reply leaves after that).
//!
//! Re-sent Prepares and Accepts of the ballot already promised are answered again (the
//! comparison is `>=`), which makes retransmission safe. The known bugs `AcceptIgnoresPromise`
//! and `ForgetPromise` break exactly these two rules.

use crate::config::PaxosBug;
use crate::messages::{Ballot, Message, Value};
use crate::node::Paxos;
use faultline::{Context, NodeId};

/// What an acceptor did with an Accept: the slots it accepted, and the values of the slots it
/// already knew decided (for those it accepts nothing).
pub(crate) struct Acceptance {
    pub(crate) slots: Vec<u64>,
    pub(crate) decided: Vec<(u64, Value)>,
}

impl Paxos {
    /// Phase 1b: promise `ballot` for every slot from `first` on, reporting what was accepted
    /// and decided there; or refuse with the higher ballot already promised.
    pub(crate) fn on_prepare(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        first: u64,
    ) {
        if ballot < self.promised {
            let promised = self.promised;
            ctx.send(from, Message::Nack { ballot, promised });
            return;
        }
        self.promise(ctx, ballot);
        // Our own candidacy or leadership at a lower ballot is over: our acceptor just
        // promised to refuse it.
        if self.ballot < ballot {
            self.step_down(ctx, None);
        }
        if self.leader.is_some_and(|(_, b)| b < ballot) {
            self.leader = None;
        }
        self.reset_deadline(ctx);
        let durable = ctx.durable();
        let accepted = durable
            .accepted
            .range(first..)
            .map(|(&s, (b, v))| (s, *b, v.clone()))
            .collect();
        let decided = durable
            .decided
            .range(first..)
            .map(|(&s, v)| (s, v.clone()))
            .collect();
        ctx.send(
            from,
            Message::Promise {
                ballot,
                accepted,
                decided,
            },
        );
    }

    /// Raises the promise to `ballot` (never lowers it) and persists it, unless the
    /// `ForgetPromise` bug keeps it in memory only.
    pub(crate) fn promise(&mut self, ctx: &mut Context<'_, Self>, ballot: Ballot) {
        if ballot > self.promised {
            self.promised = ballot;
            if !self.has_bug(PaxosBug::ForgetPromise) {
                ctx.durable_mut().promised = ballot;
            }
        }
    }

    /// Phase 2b at this acceptor, for a remote leader's Accept or the leader's own proposal:
    /// `None` if `ballot` is below the promise (P1a). Accepting `ballot` also promises it.
    /// The promise and the values are persisted in one durable write.
    pub(crate) fn accept(
        &mut self,
        ctx: &mut Context<'_, Self>,
        ballot: Ballot,
        entries: Vec<(u64, Value)>,
    ) -> Option<Acceptance> {
        if ballot < self.promised && !self.has_bug(PaxosBug::AcceptIgnoresPromise) {
            return None;
        }
        let raise = ballot > self.promised;
        if raise {
            self.promised = ballot;
        }
        let mut done = Acceptance {
            slots: vec![],
            decided: vec![],
        };
        let mut new = vec![];
        for (slot, value) in entries {
            match ctx.durable().decided.get(&slot) {
                Some(v) => done.decided.push((slot, v.clone())),
                None => {
                    done.slots.push(slot);
                    new.push((slot, value));
                }
            }
        }
        let persist_promise = raise && !self.has_bug(PaxosBug::ForgetPromise);
        if persist_promise || !new.is_empty() {
            let durable = ctx.durable_mut();
            if persist_promise {
                durable.promised = ballot;
            }
            for (slot, value) in new {
                durable.accepted.insert(slot, (ballot, value));
            }
        }
        Some(done)
    }

    /// An Accept from the leader of `ballot`: accept and answer, or refuse with our promise.
    pub(crate) fn on_accept(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        entries: Vec<(u64, Value)>,
    ) {
        match self.accept(ctx, ballot, entries) {
            None => {
                let promised = self.promised;
                ctx.send(from, Message::Nack { ballot, promised });
            }
            Some(Acceptance { slots, decided }) => {
                if ballot >= self.promised {
                    self.follow(ctx, from, ballot);
                }
                ctx.send(
                    from,
                    Message::Accepted {
                        ballot,
                        slots,
                        decided,
                    },
                );
            }
        }
    }
}
