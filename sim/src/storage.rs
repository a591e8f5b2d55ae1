//! A node's disk: an append-only log of records and one metadata record, written into a page
//! cache and made durable by a sync that takes time and can fail.
//!
//! This is the storage model of docs/storage.md. A node writes with [`Disk::append`] and
//! [`Disk::write_meta`]; reads see every write at once (the page cache). Nothing is durable
//! until the node asks `Context::sync` and the sync completes: at once when the node's sync
//! latency is zero (the default, which keeps every scenario without a disk section as it
//! was), otherwise as a later event that calls `Protocol::on_synced`. Syncs complete in the
//! order they were asked for (one disk queue per node), and each covers every write made
//! before it.
//!
//! What survives which fault:
//!
//! | fault | what happens |
//! |---|---|
//! | crash (`Crash`) | synced writes survive; of the unsynced ones, a prefix chosen by the seed survives (possibly none, possibly all) |
//! | torn write (`TornWrite`) | a crash that keeps the unsynced writes up to a log append chosen by the seed and cuts that append short; the metadata record is one sector, written whole or not at all |
//! | corruption (`Corrupt`) | one bit of one stored record flips; a read returns the changed bytes |
//! | latent read error (`ReadError`) | one stored record can no longer be read ([`DiskError::Unreadable`]) |
//! | fsync failure (`FsyncFail`) | the node's next sync fails and every unsynced write is dropped; a later sync succeeds (Linux's behaviour that PostgreSQL's "fsyncgate" met) |
//! | slow disk (`SlowDisk`) | syncs take an extra drawn latency for a while |
//!
//! The disk stores bytes: it does not know what a record means and adds no checksum. A
//! protocol that wants to notice a torn or corrupted record frames its records with
//! [`seal`] (length, CRC-32, payload) and reads them back with [`unseal`].

mod codec;

pub use codec::{RecordError, seal, unseal, unseal_unchecked};

use crate::latency::Latency;
use crate::rng::{index, uniform_u64};
use crate::time::Time;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Names one sync a node asked for (increasing per node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SyncId(pub u64);

/// What `Context::sync` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synced {
    /// Every earlier write is durable now (zero sync latency).
    Done,
    /// The sync failed at once: every unsynced write was dropped (zero latency, `FsyncFail`).
    Failed,
    /// The sync completes later: `Protocol::on_synced` is called with this id.
    Pending(SyncId),
}

/// Why a read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskError {
    /// No such record.
    Missing,
    /// A latent sector error: the record's bytes cannot be read.
    Unreadable,
}

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DiskError::Missing => "no such record",
            DiskError::Unreadable => "the record cannot be read (latent sector error)",
        })
    }
}

/// How long syncs take, per node (the scenario's `storage:` section).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StorageConfig {
    /// Every node's sync latency; `None` is zero (a sync completes at once).
    pub sync: Option<Latency>,
    /// Per-node overrides.
    pub nodes: BTreeMap<u32, Latency>,
}

impl StorageConfig {
    /// Node `i`'s sync latency, if it has one.
    pub fn latency(&self, node: u32) -> Option<&Latency> {
        self.nodes.get(&node).or(self.sync.as_ref())
    }
}

/// An unsynced write, in the order it was made.
#[derive(Clone, Debug)]
enum Dirty {
    /// The log record at this position.
    Append(usize),
    /// The metadata record's new bytes.
    Meta(Vec<u8>),
}

/// One node's disk (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Disk {
    /// Every log record, as reads see them; the first `durable_len` are durable.
    log: Vec<Vec<u8>>,
    durable_len: usize,
    /// The metadata record as reads see it, and as it is durable.
    meta: Option<Vec<u8>>,
    durable_meta: Option<Vec<u8>>,
    /// Unsynced writes, oldest first.
    dirty: VecDeque<Dirty>,
    /// Writes made so far, and how many of them are durable or dropped (`dirty` holds the rest).
    written: u64,
    settled: u64,
    /// Syncs asked for and not completed: each covers the writes before its mark.
    pending: VecDeque<(SyncId, u64)>,
    next_sync: u64,
    /// Log positions (and the metadata record, `usize::MAX`) that fail to read.
    unreadable: BTreeSet<usize>,
    /// The next sync to complete fails.
    fail_next: bool,
    /// When the disk's queue is free again (syncs complete in order).
    pub(crate) busy_until: Time,
    /// A slow-disk fault: until when, and the extra latency each sync draws.
    pub(crate) slow: Option<(Time, Latency)>,
    /// Counters: syncs asked, syncs failed, bytes written.
    pub(crate) syncs: u64,
    pub(crate) failed: u64,
    pub(crate) bytes: u64,
}

const META: usize = usize::MAX;

/// What a disk durably holds, as plain data: for a runtime that keeps a node's disk in a file
/// (the bridge's real cluster) and restores it into a fresh [`Disk`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskImage {
    /// The metadata record.
    pub meta: Option<Vec<u8>>,
    /// The log records.
    pub log: Vec<Vec<u8>>,
}

impl Disk {
    /// What survives a crash now: the durable metadata record and log.
    pub fn image(&self) -> DiskImage {
        DiskImage {
            meta: self.durable_meta.clone(),
            log: self.log[..self.durable_len].to_vec(),
        }
    }

    /// A disk holding `image`, all of it durable.
    pub fn from_image(image: DiskImage) -> Disk {
        Disk {
            durable_len: image.log.len(),
            log: image.log,
            meta: image.meta.clone(),
            durable_meta: image.meta,
            ..Disk::default()
        }
    }

    /// Appends a record to the log; returns its position. Not durable until a sync completes.
    pub fn append(&mut self, record: Vec<u8>) -> usize {
        let at = self.log.len();
        self.bytes += record.len() as u64;
        self.log.push(record);
        self.unreadable.remove(&at);
        self.dirty.push_back(Dirty::Append(at));
        self.written += 1;
        at
    }

    /// Replaces the metadata record. Not durable until a sync completes.
    pub fn write_meta(&mut self, record: Vec<u8>) {
        self.bytes += record.len() as u64;
        self.meta = Some(record.clone());
        self.unreadable.remove(&META);
        self.dirty.push_back(Dirty::Meta(record));
        self.written += 1;
    }

    /// The number of log records.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// Whether the log has no records.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Reads the log record at `pos`.
    pub fn read(&self, pos: usize) -> Result<&[u8], DiskError> {
        if self.unreadable.contains(&pos) {
            return Err(DiskError::Unreadable);
        }
        self.log
            .get(pos)
            .map(Vec::as_slice)
            .ok_or(DiskError::Missing)
    }

    /// Reads the metadata record (`None` if it was never written).
    pub fn read_meta(&self) -> Result<Option<&[u8]>, DiskError> {
        if self.unreadable.contains(&META) {
            return Err(DiskError::Unreadable);
        }
        Ok(self.meta.as_deref())
    }

    /// Whether some write is not yet durable.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Log records that are durable (the rest would not survive a crash now).
    pub fn durable_len(&self) -> usize {
        self.durable_len
    }

    /// Unsynced writes.
    pub(crate) fn dirty_writes(&self) -> usize {
        self.dirty.len()
    }

    /// Whether a sync is queued and not completed.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Asks for a sync covering every write so far; the engine completes it.
    pub(crate) fn issue(&mut self) -> SyncId {
        let id = SyncId(self.next_sync);
        self.next_sync += 1;
        self.syncs += 1;
        self.pending.push_back((id, self.written));
        id
    }

    /// Completes the oldest pending sync (which must be `id`): `true` if it succeeded. A
    /// failure (an armed `FsyncFail`) drops every unsynced write.
    pub(crate) fn complete(&mut self, id: SyncId) -> bool {
        let Some(&(first, mark)) = self.pending.front() else {
            return false;
        };
        debug_assert_eq!(first, id, "syncs complete in order");
        self.pending.pop_front();
        if std::mem::take(&mut self.fail_next) {
            self.failed += 1;
            self.drop_dirty();
            return false;
        }
        self.promote(mark);
        true
    }

    /// Completes a sync at once (zero latency): `true` if it succeeded.
    pub(crate) fn sync_now(&mut self) -> bool {
        self.syncs += 1;
        if std::mem::take(&mut self.fail_next) {
            self.failed += 1;
            self.drop_dirty();
            return false;
        }
        self.promote(self.written);
        true
    }

    /// Makes the writes before `mark` durable.
    fn promote(&mut self, mark: u64) {
        while self.settled < mark {
            let Some(w) = self.dirty.pop_front() else {
                break;
            };
            self.settled += 1;
            match w {
                Dirty::Append(pos) => self.durable_len = pos + 1,
                Dirty::Meta(bytes) => self.durable_meta = Some(bytes),
            }
        }
    }

    /// Drops every unsynced write: reads see the durable image again.
    fn drop_dirty(&mut self) {
        self.settled += self.dirty.len() as u64;
        self.dirty.clear();
        self.log.truncate(self.durable_len);
        self.meta = self.durable_meta.clone();
    }

    /// The power goes out: a prefix of the unsynced writes, chosen by `rng`, survives (with
    /// `torn`, it ends with a log append, cut short); the rest is lost, and pending syncs with
    /// it.
    /// Draws nothing when every write is durable.
    pub(crate) fn crash<R: Rng + ?Sized>(&mut self, rng: &mut R, torn: bool) {
        self.pending.clear();
        self.busy_until = Time::ZERO;
        // An armed fsync failure belonged to the page cache the crash just emptied.
        self.fail_next = false;
        if self.dirty.is_empty() {
            return;
        }
        let n = self.dirty.len() as u64;
        // A torn write cuts short one log append: the last that reaches the disk. The metadata
        // record is one sector, written whole or not at all (as a superblock is).
        let appends: Vec<u64> = (0..n)
            .filter(|&i| matches!(self.dirty[i as usize], Dirty::Append(_)))
            .collect();
        let keep = if torn && !appends.is_empty() {
            appends[index(rng, appends.len())] + 1
        } else {
            uniform_u64(rng, 0, n)
        };
        let tear = torn && !appends.is_empty();
        self.promote(self.settled + keep);
        if tear {
            let bytes = &mut self.log[self.durable_len - 1];
            let cut = uniform_u64(rng, 0, bytes.len().saturating_sub(1) as u64);
            bytes.truncate(cut as usize);
        }
        self.drop_dirty();
    }

    /// A bit flips in one stored record (log or metadata) chosen by `rng`; `false` if the
    /// disk holds nothing.
    pub(crate) fn corrupt<R: Rng + ?Sized>(&mut self, rng: &mut R) -> bool {
        let Some(pos) = self.pick(rng, |b| !b.is_empty()) else {
            return false;
        };
        let flip = |bytes: &mut Vec<u8>, bit: u64| {
            bytes[(bit / 8) as usize] ^= 1 << (bit % 8);
        };
        if pos == META {
            let Some(meta) = self.durable_meta.as_mut() else {
                return false;
            };
            let bit = uniform_u64(rng, 0, meta.len() as u64 * 8 - 1);
            let same = self.meta.as_ref() == Some(meta);
            flip(meta, bit);
            if same {
                self.meta = self.durable_meta.clone();
            }
        } else {
            let bytes = &mut self.log[pos];
            let bit = uniform_u64(rng, 0, bytes.len() as u64 * 8 - 1);
            flip(bytes, bit);
        }
        true
    }

    /// One stored record (chosen by `rng`) becomes unreadable; `false` if the disk holds
    /// nothing.
    pub(crate) fn lose_sector<R: Rng + ?Sized>(&mut self, rng: &mut R) -> bool {
        match self.pick(rng, |_| true) {
            Some(pos) => {
                self.unreadable.insert(pos);
                true
            }
            None => false,
        }
    }

    /// A durable record chosen uniformly: a log position, or `META`.
    fn pick<R: Rng + ?Sized>(&self, rng: &mut R, ok: impl Fn(&[u8]) -> bool) -> Option<usize> {
        let mut choices: Vec<usize> = (0..self.durable_len)
            .filter(|&p| ok(&self.log[p]))
            .collect();
        if self.durable_meta.as_deref().is_some_and(&ok) {
            choices.push(META);
        }
        (!choices.is_empty()).then(|| choices[index(rng, choices.len())])
    }

    /// Arms a failure of the next sync to complete.
    pub(crate) fn fail_next_sync(&mut self) {
        self.fail_next = true;
    }
}
