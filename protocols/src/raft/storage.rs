//! How a Raft server keeps its state on the engine's disk (docs/storage.md), and what it
//! does when the disk lies.
//!
//! **Layout.** `currentTerm` and `votedFor` are the metadata record ([`HardState`]); the log
//! is a write-ahead log of [`WalRecord`]s, each sealed with a checksum: entries from an index
//! on (replacing whatever the log held from there, as etcd's WAL does), and snapshots. A
//! restart replays the records in order.
//!
//! **Acting on durable state only.** Writes are not durable until a sync completes. Every
//! message that depends on what was just written (a vote, an acknowledgement of entries, any
//! answer carrying a newly adopted term) goes
//! through [`Raft::send_durable`], which syncs and holds the message until that sync has
//! completed. Two things may go out while their own write is syncing, because they depend on
//! nothing durable: a leader's entries (thesis §10.2.1; it counts its own log toward
//! commitment only up to what it knows is durable, `synced_index`) and a candidate's vote
//! requests (it counts its own vote only once its term and vote are durable). With zero sync latency every sync completes at once and nothing waits.
//!
//! **When the disk lies.**
//! - A torn record (a write cut short by a crash) was never synced, so never acknowledged:
//!   it is dropped, at the restart that finds it and at every later one.
//! - A record or metadata record that fails its checksum, does not decode, or cannot be read,
//!   or entries that do not follow the log replayed so far (records between them were
//!   lost), may hold something this server acknowledged or voted for: it halts (fail-stop, as etcd
//!   does on a WAL checksum mismatch) rather than run on a state it cannot trust. A halted
//!   server does nothing; the cluster goes on without it.
//! - A failed sync dropped every write not yet durable: the server writes its whole state
//!   again and syncs that, and messages waiting for the failed sync wait for the new one.
//!   Syncs asked before the failure that report success afterwards are not trusted (the
//!   writes they covered are gone).
//!
//! Known bugs: `AckBeforeSync` acknowledges entries before their sync completes,
//! `FsyncRetry` treats a failed sync as a success, `NoChecksum` reads records without
//! checking their checksums.

use super::config::RaftBug;
use super::log::{Command, RaftLog};
use super::node::{Message, Raft, Snapshot};
use serde::{Deserialize, Serialize};
use sim::storage::{RecordError, seal, unseal, unseal_unchecked};
use sim::{Context, Disk, NodeId, SyncId, Synced};

/// `currentTerm` and `votedFor`: the metadata record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// currentTerm.
    pub term: u64,
    /// votedFor in `term`.
    pub voted_for: Option<NodeId>,
}

/// One record of the write-ahead log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WalRecord {
    /// Entries `(term, command)` from `index` on, replacing whatever the log held from there.
    Entries {
        index: u64,
        entries: Vec<(u64, Command)>,
    },
    /// A snapshot: taken locally (`install: false`, compacting the log up to it) or installed
    /// from a leader (`install: true`, keeping the entries after it only if the log holds its
    /// very entry; `chain` is that entry's prefix digest).
    Snapshot {
        snapshot: Snapshot,
        chain: u64,
        install: bool,
    },
}

/// What a server finds on its disk when it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct OnDisk {
    /// currentTerm and votedFor.
    pub hard: HardState,
    /// The log, replayed.
    pub log: RaftLog,
    /// The latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// Why the disk cannot be trusted (the server halts), if it cannot.
    pub damage: Option<String>,
    /// Whether a torn record was dropped.
    pub torn_tail: bool,
}

/// Syncs in flight and messages waiting for them; the mark is (last log index, term).
pub(super) type DiskState = crate::durability::SyncGate<Message>;

/// Reads the server's state back from its disk.
pub(super) fn load(ctx: &mut Context<'_, Raft>) -> OnDisk {
    let cfg = ctx.config().clone();
    let found = replay(ctx.disk(), &cfg);
    if found.torn_tail {
        ctx.count("raft.torn_records_dropped", 1);
        ctx.cover("raft.disk.torn_tail_dropped");
    }
    found
}

/// Replays a server's disk: what a server with configuration `cfg` (its known bugs decide how
/// it reads) finds there when it starts.
pub fn replay(disk: &Disk, cfg: &super::RaftConfig) -> OnDisk {
    let unchecked = cfg.has_bug(RaftBug::NoChecksum);
    let decode = |bytes: &[u8]| -> Result<WalRecord, RecordError> {
        if unchecked {
            unseal_unchecked(bytes)
        } else {
            unseal(bytes)
        }
    };
    let keeps_suffix = cfg.has_bug(RaftBug::SnapshotKeepsSuffix);
    let mut out = OnDisk {
        hard: HardState::default(),
        log: RaftLog::default(),
        snapshot: None,
        damage: None,
        torn_tail: false,
    };
    match disk.read_meta() {
        Ok(None) => {}
        Ok(Some(bytes)) => {
            let hard = if unchecked {
                unseal_unchecked(bytes)
            } else {
                unseal(bytes)
            };
            match hard {
                Ok(h) => out.hard = h,
                Err(e) => {
                    out.damage = Some(format!("term and vote: {e}"));
                    return out;
                }
            }
        }
        Err(e) => {
            out.damage = Some(format!("term and vote: {e}"));
            return out;
        }
    }
    let n = disk.len();
    for pos in 0..n {
        let record = match disk.read(pos) {
            Ok(bytes) => decode(bytes),
            Err(e) => {
                out.damage = Some(format!("log record {pos}: {e}"));
                return out;
            }
        };
        match record {
            Ok(WalRecord::Entries { index, entries }) => {
                if index > out.log.last_index() + 1 {
                    // Records between were lost: what follows cannot be placed.
                    out.damage = Some(format!(
                        "log record {pos}: entries from {index} follow a log that ends at {}",
                        out.log.last_index()
                    ));
                    return out;
                }
                out.log.truncate_from(index);
                for (t, c) in entries {
                    out.log.append(t, c);
                }
            }
            Ok(WalRecord::Snapshot {
                snapshot,
                chain,
                install,
            }) => {
                if !install {
                    out.log.compact(snapshot.index);
                } else if keeps_suffix {
                    out.log
                        .install_keeping_suffix(snapshot.index, snapshot.term, chain);
                } else {
                    out.log.install(snapshot.index, snapshot.term, chain);
                }
                out.snapshot = Some(snapshot);
            }
            // A torn record was the last write before a crash, never synced: drop it. (It is
            // not the last record if the server appended more after restarting. A flipped bit
            // never reads as torn: the length has its own checksum. Without checksums a record
            // that does not decode is taken for torn.)
            Err(RecordError::Torn) => out.torn_tail = true,
            Err(RecordError::Undecodable) if unchecked => break,
            Err(e) => {
                out.damage = Some(format!("log record {pos}: {e}"));
                return out;
            }
        }
    }
    out
}

impl Raft {
    /// The highest term this server knows is durable: a restart comes back at least there.
    pub fn synced_term(&self) -> u64 {
        self.disk.synced.1
    }

    /// The last log index this server knows is durable (its own vote toward commitment).
    pub(super) fn synced_index(&self) -> u64 {
        self.disk.synced.0
    }

    /// Writes `term` and `voted_for` (the metadata record).
    pub(super) fn persist_meta(&mut self, ctx: &mut Context<'_, Self>) {
        let forget = Self::cfg(ctx).has_bug(RaftBug::ForgetVote);
        let hard = HardState {
            term: self.term,
            voted_for: if forget { None } else { self.voted_for },
        };
        ctx.disk().write_meta(seal(&hard));
        ctx.count("storage.writes", 1);
        self.disk.wrote();
    }

    /// Writes the log's entries from index `from` on (they replace what the disk's log held
    /// from there).
    pub(super) fn persist_log(&mut self, ctx: &mut Context<'_, Self>, from: u64) {
        let entries: Vec<(u64, Command)> = self
            .log
            .slice(from, self.log.last_index())
            .iter()
            .map(|e| (e.term, e.command))
            .collect();
        ctx.disk().append(seal(&WalRecord::Entries {
            index: from,
            entries,
        }));
        ctx.count("storage.writes", 1);
        // Entries from `from` on are new: not durable until a later sync completes.
        self.disk.rewrote_log_after(from.saturating_sub(1));
    }

    /// Writes a snapshot record.
    pub(super) fn persist_snapshot(
        &mut self,
        ctx: &mut Context<'_, Self>,
        snapshot: Snapshot,
        chain: u64,
        install: bool,
    ) {
        let record = WalRecord::Snapshot {
            snapshot,
            chain,
            install,
        };
        ctx.disk().append(seal(&record));
        ctx.count("storage.writes", 1);
        self.disk.wrote();
    }

    /// Asks for a sync of what was written since the last one, if anything was.
    pub(super) fn flush(&mut self, ctx: &mut Context<'_, Self>) {
        if !self.disk.take_dirty() {
            return;
        }
        let covered = (self.log.last_index(), self.term);
        match ctx.sync() {
            Synced::Done => self.synced(ctx, None, covered),
            Synced::Pending(id) => self.disk.asked(id, covered),
            Synced::Failed => self.sync_failed(ctx, None),
        }
    }

    /// Sends `msg` once everything written so far is durable: now if it is, else when the
    /// sync that covers it completes.
    pub(super) fn send_durable(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, msg: Message) {
        self.flush(ctx);
        if let Some((to, msg)) = self.disk.hold(to, msg) {
            ctx.send(to, msg);
        }
    }

    /// A sync asked with [`Synced::Pending`] completed.
    pub(super) fn on_sync(&mut self, ctx: &mut Context<'_, Self>, id: SyncId, ok: bool) {
        let covered = match self.disk.completed(id) {
            Some(covered) => covered,
            None => {
                // Asked before a failed sync (forgotten then): what it covered was dropped,
                // whatever it says now.
                ctx.cover("raft.disk.sync_after_failure_ignored");
                return;
            }
        };
        if ok {
            self.synced(ctx, Some(id), covered);
        } else {
            self.sync_failed(ctx, Some(id));
        }
    }

    /// Everything up to sync `id` (all of it, for `None`) is durable: release what waited.
    fn synced(&mut self, ctx: &mut Context<'_, Self>, id: Option<SyncId>, covered: (u64, u64)) {
        for (to, msg) in self.disk.release(id, covered, self.log.last_index()) {
            ctx.send(to, msg);
        }
        if id.is_none() {
            return;
        }
        match self.role {
            super::node::Role::Leader => {
                self.maybe_commit(ctx);
            }
            // The candidate's own vote just became durable: it may complete a majority.
            super::node::Role::Candidate if self.has_vote_quorum() => {
                self.on_quorum_of_votes(ctx, false);
            }
            _ => {}
        }
    }

    /// A sync failed: every write not yet durable was dropped.
    fn sync_failed(&mut self, ctx: &mut Context<'_, Self>, id: Option<SyncId>) {
        ctx.count("raft.sync_failures", 1);
        ctx.cover("raft.disk.sync_failed");
        if Self::cfg(ctx).has_bug(RaftBug::FsyncRetry) {
            // Known bug: take the failure for a success and sync again (which "succeeds":
            // nothing is dirty any more).
            let covered = (self.log.last_index(), self.term);
            self.synced(ctx, id, covered);
            let _ = ctx.sync();
            return;
        }
        // Write the whole state again, sync it, and make everything that waited wait for it.
        self.persist_meta(ctx);
        if let Some(s) = self.snapshot.clone() {
            let chain = self.log.offset_chain();
            self.persist_snapshot(ctx, s, chain, true);
        }
        let first = self.log.offset() + 1;
        self.persist_log(ctx, first);
        self.disk.take_dirty();
        let covered = (self.log.last_index(), self.term);
        match ctx.sync() {
            Synced::Done => self.synced(ctx, None, covered),
            Synced::Failed => self.sync_failed(ctx, None),
            Synced::Pending(new) => self.disk.restart_after_failure(new, covered),
        }
    }
}
