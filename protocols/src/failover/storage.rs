//! How a failover node keeps its epoch, its grant and its log on the engine's disk
//! (docs/storage.md), by the same rules as Raft's (`raft/storage.rs`).
//!
//! **Layout.** The epoch and the grant are the metadata record ([`Hard`]); the log is a
//! write-ahead log of sealed [`LogRecord`]s, each replacing the log from a position on. A
//! restart replays them into the in-memory copy, `FailoverNode::d`.
//!
//! **Acting on durable state only.** Answers that depend on what was just written (an
//! acknowledged Append, a grant, any answer carrying a newly adopted epoch) go through
//! [`FailoverNode::send_durable`]: held until the sync covering the write completes. A
//! primary counts its own copy toward commitment only up to what is synced; a candidate counts
//! its own grant, and a Naive or Fencing backup promotes itself, only once its new epoch is
//! durable (a primary must never reuse an epoch a crash took back).
//!
//! **When the disk lies**, as Raft: a torn record (never synced) is dropped; a record that
//! fails its checksum, does not decode, cannot be read, or leaves a gap halts the node; a
//! failed sync makes it write its whole state again and wait for that.

use super::node::{Durable, Entry, FailoverNode, Message, Role};
use serde::{Deserialize, Serialize};
use sim::storage::{RecordError, seal, unseal};
use sim::{Context, Disk, NodeId, SyncId, Synced};

/// The epoch and the grant: the metadata record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hard {
    /// The highest epoch seen (the fencing token).
    pub epoch: u64,
    /// The candidate granted in `epoch`.
    pub granted: Option<(u64, NodeId)>,
}

/// Entries from position `from` on (0-based), replacing what the log held from there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub from: usize,
    pub entries: Vec<Entry>,
}

/// What a node finds on its disk when it starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnDisk {
    /// Epoch, grant and log, replayed.
    pub durable: Durable,
    /// Why the disk cannot be trusted (the node halts), if it cannot.
    pub damage: Option<String>,
}

/// Replays a node's disk.
pub fn replay(disk: &Disk) -> OnDisk {
    let mut out = OnDisk::default();
    match disk.read_meta() {
        Ok(None) => {}
        Ok(Some(bytes)) => match unseal::<Hard>(bytes) {
            Ok(h) => {
                out.durable.epoch = h.epoch;
                out.durable.granted = h.granted;
            }
            Err(e) => {
                out.damage = Some(format!("epoch and grant: {e}"));
                return out;
            }
        },
        Err(e) => {
            out.damage = Some(format!("epoch and grant: {e}"));
            return out;
        }
    }
    for pos in 0..disk.len() {
        let record = match disk.read(pos) {
            Ok(bytes) => unseal::<LogRecord>(bytes),
            Err(e) => {
                out.damage = Some(format!("log record {pos}: {e}"));
                return out;
            }
        };
        match record {
            Ok(r) if r.from <= out.durable.log.len() => {
                out.durable.log.truncate(r.from);
                out.durable.log.extend(r.entries);
            }
            Ok(r) => {
                out.damage = Some(format!(
                    "log record {pos}: entries from {} follow a log of {}",
                    r.from,
                    out.durable.log.len()
                ));
                return out;
            }
            // The last write before a crash, never synced.
            Err(RecordError::Torn) => {}
            Err(e) => {
                out.damage = Some(format!("log record {pos}: {e}"));
                return out;
            }
        }
    }
    out
}

/// Syncs in flight and messages waiting for them; the mark is (log length, epoch).
pub(super) type DiskState = crate::durability::SyncGate<Message>;

impl FailoverNode {
    /// The log prefix known durable: what a crash cannot take back.
    pub fn durable_log(&self) -> &[Entry] {
        &self.d.log[..self.synced_len()]
    }

    /// The log length known durable.
    pub(super) fn synced_len(&self) -> usize {
        (self.disk.synced.0 as usize).min(self.d.log.len())
    }

    /// Writes the epoch and the grant.
    pub(super) fn persist_meta(&mut self, ctx: &mut Context<'_, Self>) {
        let hard = Hard {
            epoch: self.d.epoch,
            granted: self.d.granted,
        };
        ctx.disk().write_meta(seal(&hard));
        ctx.count("storage.writes", 1);
        self.disk.wrote();
    }

    /// Writes the log from position `from` on.
    pub(super) fn persist_log(&mut self, ctx: &mut Context<'_, Self>, from: usize) {
        let record = LogRecord {
            from,
            entries: self.d.log[from..].to_vec(),
        };
        ctx.disk().append(seal(&record));
        ctx.count("storage.writes", 1);
        self.disk.rewrote_log_after(from as u64);
    }

    /// Asks for a sync of what was written since the last one, if anything was.
    pub(super) fn flush(&mut self, ctx: &mut Context<'_, Self>) {
        if !self.disk.take_dirty() {
            return;
        }
        let covered = self.mark();
        match ctx.sync() {
            Synced::Done => self.synced(ctx, None, covered),
            Synced::Pending(id) => self.disk.asked(id, covered),
            Synced::Failed => self.sync_failed(ctx),
        }
    }

    /// Sends `msg` once everything written so far is durable.
    pub(super) fn send_durable(&mut self, ctx: &mut Context<'_, Self>, to: NodeId, msg: Message) {
        self.flush(ctx);
        if let Some((to, msg)) = self.disk.hold(to, msg) {
            ctx.send(to, msg);
        }
    }

    /// What a sync asked now covers: the log length and the epoch.
    fn mark(&self) -> crate::durability::Mark {
        (self.d.log.len() as u64, self.d.epoch)
    }

    /// Whether epoch `epoch` (and the grant written with it) is durable.
    pub(super) fn epoch_durable(&self, epoch: u64) -> bool {
        self.disk.synced.1 >= epoch
    }

    /// A sync asked with [`Synced::Pending`] completed.
    pub(super) fn on_sync(&mut self, ctx: &mut Context<'_, Self>, id: SyncId, ok: bool) {
        let Some(covered) = self.disk.completed(id) else {
            // Asked before a failed sync: its writes are gone, whatever it says.
            return;
        };
        if ok {
            self.synced(ctx, Some(id), covered);
        } else {
            self.sync_failed(ctx);
        }
    }

    /// Everything up to sync `id` (all of it, for `None`) is durable: release what waited.
    fn synced(
        &mut self,
        ctx: &mut Context<'_, Self>,
        id: Option<SyncId>,
        covered: crate::durability::Mark,
    ) {
        let end = self.d.log.len() as u64;
        for (to, msg) in self.disk.release(id, covered, end) {
            ctx.send(to, msg);
        }
        if id.is_none() {
            return;
        }
        if let Some(epoch) = self.promote_in
            && self.epoch_durable(epoch)
        {
            self.promote_in = None;
            if epoch == self.d.epoch && self.state.role != Role::Primary {
                self.become_primary(ctx);
            }
        }
        match self.state.role {
            Role::Primary => {
                self.maybe_commit(ctx);
            }
            Role::Candidate => {
                self.maybe_win(ctx);
            }
            Role::Backup => {}
        }
    }

    /// A sync failed: every write not yet durable was dropped. Write the whole state again,
    /// sync it, and make everything that waited wait for it.
    fn sync_failed(&mut self, ctx: &mut Context<'_, Self>) {
        ctx.count("failover.sync_failures", 1);
        ctx.cover("failover.disk.sync_failed");
        // The same content again: what was durable before the failure still is, so nothing
        // is clamped (`persist_log` would count the rewritten log as new).
        self.persist_meta(ctx);
        let record = LogRecord {
            from: 0,
            entries: self.d.log.clone(),
        };
        ctx.disk().append(seal(&record));
        ctx.count("storage.writes", 1);
        self.disk.take_dirty();
        let covered = self.mark();
        match ctx.sync() {
            Synced::Done => self.synced(ctx, None, covered),
            Synced::Failed => self.sync_failed(ctx),
            Synced::Pending(new) => self.disk.restart_after_failure(new, covered),
        }
    }
}
