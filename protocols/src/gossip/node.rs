//! The gossip node: one round timer, anti-entropy and rumor-mongering exchanges.
//!
//! Owns the [`sim::Protocol`] implementation, the message and timer types, and the rules for
//! when a rumor stops being hot. Follows Demers et al. 1987: anti-entropy (§1.3) and rumor
//! mongering (§1.4) with feedback/blind and counter/coin loss of interest.
//!
//! ```text
//!  anti-entropy, A calls B        rumor mongering, A calls B
//!  A ── Digest(pull, push) ─► B   A ── Rumor(hot entries, digest if pull) ─► B
//!  A ◄─ DigestReply(newer, want)  A ◄─ RumorReply(known keys, useful keys,
//!  A ── Entries(wanted) ──────► B          B's hot newer than the digest)
//!                                      (no reply for blind push)
//! ```
//!
//! A contact that finds nothing to exchange ends after its first message (no empty replies).
//! With `counter: Demers` a feedback push is always answered: a useful contact resets the
//! caller's counter, so the caller must hear about it.
//! The store is the node's `Durable` state (one copy, surviving crashes when `persist` is on);
//! the node itself only holds its hot rumors, so an uninformed node costs 32 bytes of state.

use super::peers::pick;
use super::store::{Applied, Digest, Entry, Small, Store, StoreExt, next_version};
use super::{CounterRule, Interest, Params, Rounds, Stop, Style};
use sim::rng::{chance, uniform_u64};
use sim::{ClientId, Context, NodeId, Protocol, Time};
use std::time::Duration;

/// A client's update: write `value` under `key`; the receiving node assigns the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Update {
    /// The key.
    pub key: u32,
    /// The value (the workload makes every value unique).
    pub value: u64,
}

/// Messages between gossip nodes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Message {
    /// Anti-entropy opening: the caller's digest. `pull`: send me what you have newer;
    /// `push`: tell me which of my entries you want.
    Digest {
        digest: Small<Digest>,
        pull: bool,
        push: bool,
    },
    /// Anti-entropy answer: entries the caller lacks, and keys the callee wants.
    DigestReply(Box<DigestReplyBody>),
    /// Anti-entropy closing: the entries the callee asked for.
    Entries { entries: Small<Entry> },
    /// Rumor mongering: the caller's hot entries (push), its digest (pull), and whether it
    /// wants feedback on the pushed entries.
    Rumor(Box<RumorBody>),
    /// Rumor answer: keys of pushed entries the callee already knew, and its hot entries the
    /// caller lacks.
    RumorReply(Box<RumorReplyBody>),
}

// Messages with two lists are boxed: the engine stores messages inline in its event heap, so
// the largest variant sets the size of every queued event (40 bytes instead of 72 here).

/// The body of [`Message::DigestReply`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DigestReplyBody {
    /// Entries the caller lacks (pull).
    pub entries: Small<Entry>,
    /// Keys the callee wants from the caller (push).
    pub want: Small<u32>,
}

/// The body of [`Message::Rumor`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RumorBody {
    /// Hot entries pushed.
    pub entries: Small<Entry>,
    /// The caller's digest (pull).
    pub digest: Small<Digest>,
    /// Whether the callee should answer with its hot entries the caller lacks.
    pub pull: bool,
    /// Whether the caller wants to hear which pushed entries were already known.
    pub feedback: bool,
}

/// The body of [`Message::RumorReply`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RumorReplyBody {
    /// Keys of pushed entries the callee already knew (an unnecessary contact).
    pub known: Small<u32>,
    /// Keys of pushed entries the callee did not know (a useful contact; sent only with
    /// `counter: Demers`, where it resets the caller's counter).
    pub useful: Small<u32>,
    /// The callee's hot entries the caller lacks.
    pub entries: Small<Entry>,
}

/// Estimated wire sizes, in bytes: a header (addresses, type, lengths), 12 per digest item
/// (key + version), 20 per entry (key + version + value), 4 per key.
pub const HEADER_BYTES: u64 = 16;

impl Message {
    /// The estimated encoded size of the message.
    pub fn bytes(&self) -> u64 {
        let n = |x: usize| x as u64;
        HEADER_BYTES
            + match self {
                Message::Digest { digest, .. } => 12 * n(digest.len()),
                Message::DigestReply(b) => 20 * n(b.entries.len()) + 4 * n(b.want.len()),
                Message::Entries { entries } => 20 * n(entries.len()),
                Message::Rumor(b) => 20 * n(b.entries.len()) + 12 * n(b.digest.len()),
                Message::RumorReply(b) => {
                    4 * n(b.known.len() + b.useful.len()) + 20 * n(b.entries.len())
                }
            }
    }
}

/// The node's only timer: the start of its next round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Round;

/// A rumor this node is still spreading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hot {
    /// The key.
    pub key: u32,
    /// Counted contacts so far: all of them with blind; with feedback, unnecessary ones
    /// (`counter: Demers`: since the last useful one).
    pub contacts: u32,
    /// The version being spread.
    pub version: u64,
}

/// A gossip node's volatile state: its hot rumors. The store lives in `Durable`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GossipNode {
    /// Rumors being spread (rumor mongering only).
    pub hot: Small<Hot>,
}

/// The round a true or local time falls in.
pub fn round_of(t: Time, period_ns: u64) -> u32 {
    u32::try_from(t.0 / period_ns).unwrap_or(u32::MAX)
}

impl Protocol for GossipNode {
    type Config = Params;
    type Message = Message;
    type Timer = Round;
    type Request = Update;
    type Reply = ();
    type Durable = Store;

    fn start(ctx: &mut Context<'_, Self>) -> Self {
        let p = ctx.config();
        let after = match p.cfg.rounds {
            Rounds::Synchronous => p.period_ns - ctx.now().0 % p.period_ns,
            // A random phase in (0, period]: unsynchronized timers.
            Rounds::Unsynchronized { .. } => {
                let period = p.period_ns;
                uniform_u64(ctx.rng(), 1, period)
            }
        };
        ctx.set_timer(Duration::from_nanos(after), Round);
        GossipNode::default()
    }

    fn recover(ctx: &mut Context<'_, Self>) -> Self {
        let cfg = &ctx.config().cfg;
        let amnesia = !cfg.persist || cfg.bug == Some(super::Bug::ForgetOnRestart);
        if !ctx.durable().is_empty() {
            ctx.cover(if amnesia {
                "gossip.restart.store_lost"
            } else {
                "gossip.restart.store_kept"
            });
        }
        if amnesia && !ctx.durable().is_empty() {
            // Without persistence a restarted node comes back empty (amnesia); anti-entropy
            // must refill it.
            *ctx.durable_mut() = Store::default();
        }
        Self::start(ctx)
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Self>, from: NodeId, msg: Message) {
        match msg {
            Message::Digest { digest, pull, push } => {
                self.on_digest(ctx, from, &digest, pull, push);
            }
            Message::DigestReply(b) => {
                self.on_digest_reply(ctx, from, &b.entries, &b.want);
            }
            Message::Entries { entries } => {
                self.absorb(ctx, entries.as_slice());
            }
            Message::Rumor(b) => {
                self.on_rumor(ctx, from, &b.entries, &b.digest, b.pull, b.feedback)
            }
            Message::RumorReply(b) => {
                self.on_rumor_reply(ctx, &b.known, &b.useful, &b.entries);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Self>, _: Round) {
        let p = ctx.config();
        let after = match p.cfg.rounds {
            Rounds::Synchronous => p.period_ns - ctx.now().0 % p.period_ns,
            Rounds::Unsynchronized { jitter } => {
                let (period, j) = (p.period_ns, jitter.nanos().min(p.period_ns - 1));
                uniform_u64(ctx.rng(), period - j, period + j)
            }
        };
        ctx.set_timer(Duration::from_nanos(after), Round);
        self.on_round(ctx);
    }

    /// Keys known, and rumors still being spread.
    fn annotate(&self, store: &Store, out: &mut sim::Annotations) {
        out.set("keys", store.len());
        out.set("hot", self.hot.len());
    }

    fn on_client_request(&mut self, ctx: &mut Context<'_, Self>, client: ClientId, u: Update) {
        let version = next_version(ctx.durable().version_of(u.key), ctx.id().0);
        let round = self.round(ctx);
        ctx.durable_mut().put(Entry {
            key: u.key,
            round,
            version,
            value: u.value,
        });
        ctx.count("gossip.updates_written", 1);
        if ctx.config().cfg.style == Style::RumorMongering {
            self.make_hot(u.key, version);
        }
        ctx.reply(client, ());
    }
}

impl GossipNode {
    /// This node's current round by its local clock.
    fn round(&self, ctx: &Context<'_, Self>) -> u32 {
        round_of(ctx.now(), ctx.config().period_ns)
    }

    /// What this node shows to others now: in synchronous rounds, the state at the start of
    /// the current round (entries learned before it); otherwise everything.
    fn visible(&self, ctx: &Context<'_, Self>) -> impl Fn(&Entry) -> bool + 'static {
        let sync = ctx.config().cfg.rounds == Rounds::Synchronous;
        let round = self.round(ctx);
        move |e: &Entry| !sync || e.round < round
    }

    fn send(ctx: &mut Context<'_, Self>, to: NodeId, msg: Message) {
        ctx.count("gossip.messages", 1);
        ctx.count("gossip.bytes", msg.bytes());
        ctx.send(to, msg);
    }

    /// One round: call `fanout` partners (Demers' "cycle").
    fn on_round(&mut self, ctx: &mut Context<'_, Self>) {
        let p = ctx.config();
        let (fanout, style, dir, interest) =
            (p.cfg.fanout, p.cfg.style, p.cfg.direction, p.cfg.interest);
        let (view, seed, n) = (p.cfg.view, p.view_seed, ctx.node_count() as u32);
        if n < 2 {
            return;
        }
        let visible = self.visible(ctx);
        for _ in 0..fanout {
            let msg = match style {
                Style::AntiEntropy => Message::Digest {
                    digest: ctx.durable().digest(&visible),
                    pull: dir.pulls(),
                    push: dir.pushes(),
                },
                Style::RumorMongering => {
                    let entries = if dir.pushes() {
                        self.hot_entries(ctx, &visible)
                    } else {
                        Small::Empty
                    };
                    if entries.is_empty() && !dir.pulls() {
                        // Push rumor mongering: a node with nothing hot stays silent.
                        return;
                    }
                    if interest == Interest::Blind {
                        // Blind: every push counts against the rumor, whatever the partner knew.
                        for e in entries.as_slice() {
                            self.count_contact(ctx, e.key);
                        }
                    }
                    Message::Rumor(Box::new(RumorBody {
                        digest: if dir.pulls() {
                            ctx.durable().digest(&visible)
                        } else {
                            Small::Empty
                        },
                        pull: dir.pulls(),
                        feedback: interest == Interest::Feedback && !entries.is_empty(),
                        entries,
                    }))
                }
            };
            let to = pick(view, seed, ctx.id(), n, ctx.rng());
            Self::send(ctx, to, msg);
        }
    }

    fn on_digest(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        digest: &Small<Digest>,
        pull: bool,
        push: bool,
    ) {
        let bug = ctx.config().cfg.bug;
        let visible = self.visible(ctx);
        let entries = if pull {
            ctx.durable().newer_than(digest.as_slice(), visible, bug)
        } else {
            Small::Empty
        };
        let want = if push {
            ctx.durable().wanted_from(digest.as_slice(), bug)
        } else {
            Small::Empty
        };
        if !entries.is_empty() {
            ctx.cover("gossip.digest.newer_sent");
        }
        if !want.is_empty() {
            ctx.cover("gossip.digest.older_requested");
        }
        if !entries.is_empty() || !want.is_empty() {
            Self::send(
                ctx,
                from,
                Message::DigestReply(Box::new(DigestReplyBody { entries, want })),
            );
        }
    }

    fn on_digest_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        entries: &Small<Entry>,
        want: &Small<u32>,
    ) {
        self.absorb(ctx, entries.as_slice());
        if want.is_empty() {
            return;
        }
        let visible = self.visible(ctx);
        let store = ctx.durable();
        let send: Small<Entry> = want
            .as_slice()
            .iter()
            .filter_map(|&k| store.get(k).copied())
            .filter(|e| visible(e))
            .collect();
        if !send.is_empty() {
            Self::send(ctx, from, Message::Entries { entries: send });
        }
    }

    fn on_rumor(
        &mut self,
        ctx: &mut Context<'_, Self>,
        from: NodeId,
        entries: &Small<Entry>,
        digest: &Small<Digest>,
        pull: bool,
        feedback: bool,
    ) {
        let arrived_known = self.absorb(ctx, entries.as_slice());
        let (known, useful) = if !feedback {
            (Small::Empty, Small::Empty)
        } else if Self::resets(ctx) {
            self.judge_at_cycle_start(ctx, entries.as_slice())
        } else {
            (arrived_known, Small::Empty)
        };
        let mut reply = Small::Empty;
        if pull {
            let visible = self.visible(ctx);
            let blind = ctx.config().cfg.interest == Interest::Blind;
            let hot: Vec<Hot> = self.hot.as_slice().to_vec();
            for h in hot {
                let Some(e) = ctx.durable().get(h.key).copied() else {
                    continue;
                };
                if !visible(&e) || e.version != h.version {
                    continue;
                }
                let theirs = digest
                    .as_slice()
                    .binary_search_by_key(&h.key, |d| d.key)
                    .map_or(0, |i| digest.as_slice()[i].version);
                if theirs < e.version {
                    reply.push(e);
                }
                // Pull feedback: the caller's digest (its state at the start of its round, in
                // synchronous rounds) tells the callee whether the contact was unnecessary;
                // blind counts every contact.
                if blind || theirs >= e.version {
                    self.count_contact(ctx, h.key);
                } else {
                    self.useful_contact(ctx, h.key);
                }
            }
        }
        if !known.is_empty() || !useful.is_empty() || !reply.is_empty() {
            Self::send(
                ctx,
                from,
                Message::RumorReply(Box::new(RumorReplyBody {
                    known,
                    useful,
                    entries: reply,
                })),
            );
        }
    }

    /// Whether useful contacts reset the counter (`interest: Feedback, stop: Counter,
    /// counter: Demers`).
    fn resets(ctx: &Context<'_, Self>) -> bool {
        let cfg = &ctx.config().cfg;
        cfg.interest == Interest::Feedback
            && cfg.stop == Stop::Counter
            && cfg.counter == CounterRule::Demers
    }

    /// Splits pushed entries (already absorbed) into (known, useful) by what this node held at
    /// the start of the cycle: an entry it learned in the current round, from this push or
    /// from another caller's, was not known then. In unsynchronized rounds every entry is
    /// visible, so this is the state on arrival. (A key of which a newer version arrived in
    /// this round counts as useful even if the node held the pushed version before: the
    /// store keeps one version per key. Rare: it needs concurrent writes of one key.)
    fn judge_at_cycle_start(
        &self,
        ctx: &Context<'_, Self>,
        entries: &[Entry],
    ) -> (Small<u32>, Small<u32>) {
        let visible = self.visible(ctx);
        let store = ctx.durable();
        let (mut known, mut useful) = (Small::Empty, Small::Empty);
        for e in entries {
            let held = store
                .get(e.key)
                .is_some_and(|s| visible(s) && s.version >= e.version);
            if held {
                known.push(e.key);
            } else {
                useful.push(e.key);
            }
        }
        (known, useful)
    }

    fn on_rumor_reply(
        &mut self,
        ctx: &mut Context<'_, Self>,
        known: &Small<u32>,
        useful: &Small<u32>,
        entries: &Small<Entry>,
    ) {
        for &k in known.as_slice() {
            self.count_contact(ctx, k);
        }
        for &k in useful.as_slice() {
            self.useful_contact(ctx, k);
        }
        self.absorb(ctx, entries.as_slice());
    }

    /// Applies incoming entries; returns the keys that were already known (redundant).
    fn absorb(&mut self, ctx: &mut Context<'_, Self>, entries: &[Entry]) -> Small<u32> {
        if entries.is_empty() {
            return Small::Empty;
        }
        let (bug, style) = (ctx.config().cfg.bug, ctx.config().cfg.style);
        let round = self.round(ctx);
        let mut known = Small::Empty;
        let mut adopted = 0;
        for &e in entries {
            let outcome = if ctx.durable().would_adopt(&e, bug) {
                ctx.durable_mut().apply(e, round, bug)
            } else {
                Applied::Redundant
            };
            match outcome {
                Applied::Adopted => {
                    adopted += 1;
                    if style == Style::RumorMongering {
                        self.make_hot(e.key, e.version);
                    }
                }
                Applied::Redundant => known.push(e.key),
            }
        }
        ctx.count("gossip.entry_messages", 1);
        ctx.count("gossip.entries_received", entries.len() as u64);
        ctx.count("gossip.entries_adopted", adopted);
        if adopted == 0 {
            ctx.count("gossip.redundant_messages", 1);
            ctx.cover("gossip.entries.all_redundant");
        } else if (adopted as usize) < entries.len() {
            ctx.cover("gossip.entries.partly_adopted");
        } else {
            ctx.cover("gossip.entries.all_adopted");
        }
        known
    }

    /// The entries of hot rumors, as this node shows them now.
    fn hot_entries(
        &self,
        ctx: &Context<'_, Self>,
        visible: &impl Fn(&Entry) -> bool,
    ) -> Small<Entry> {
        let store = ctx.durable();
        self.hot
            .as_slice()
            .iter()
            .filter_map(|h| store.get(h.key).filter(|e| e.version == h.version))
            .filter(|e| visible(e))
            .copied()
            .collect()
    }

    fn make_hot(&mut self, key: u32, version: u64) {
        if let Some(h) = self.hot.as_mut_slice().iter_mut().find(|h| h.key == key) {
            *h = Hot {
                key,
                contacts: 0,
                version,
            };
        } else {
            self.hot.push(Hot {
                key,
                contacts: 0,
                version,
            });
        }
    }

    /// A useful contact for a hot rumor: with `counter: Demers` the feedback counter starts
    /// again from 0 (Demers et al. 1987 Table 1 counts consecutive unnecessary contacts).
    fn useful_contact(&mut self, ctx: &Context<'_, Self>, key: u32) {
        if !Self::resets(ctx) {
            return;
        }
        if let Some(h) = self.hot.as_mut_slice().iter_mut().find(|h| h.key == key) {
            h.contacts = 0;
        }
    }

    /// One counted contact for a hot rumor: with a counter it dies after `k`, with a coin it
    /// dies with probability 1/k (Demers et al. 1987 §1.4).
    fn count_contact(&mut self, ctx: &mut Context<'_, Self>, key: u32) {
        let (stop, k) = (ctx.config().cfg.stop, ctx.config().cfg.k);
        let Some(i) = self.hot.as_slice().iter().position(|h| h.key == key) else {
            return;
        };
        let h = &mut self.hot.as_mut_slice()[i];
        h.contacts += 1;
        let dies = match stop {
            Stop::Counter => h.contacts >= k,
            Stop::Coin => chance(ctx.rng(), 1.0 / f64::from(k)),
        };
        if dies {
            self.hot.retain(|h| h.key != key);
        }
    }
}
