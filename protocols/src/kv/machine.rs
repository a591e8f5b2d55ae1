//! The sequential key-value state machine with client sessions, applied in log order by Raft
//! and in primary order by failover.
//!
//! Invariant: for each client only the last sequence number and its return value are kept;
//! clients have one operation outstanding at a time, so an older sequence number can only be a
//! late duplicate, and a duplicate of the last one is answered from the session (Raft thesis
//! §6.3: "the state machine tracks the latest serial number processed for each client, along
//! with the associated response").

use super::{KvRequest, Op, Ret};
use serde::{Deserialize, Serialize};
use sim::ClientId;
use std::collections::BTreeMap;

/// The result of applying one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Executed now, with this return value.
    Executed(Ret),
    /// Already executed earlier: the session's stored return value.
    Duplicate(Ret),
    /// Older than the session's last sequence number: the client no longer waits for it.
    Stale,
}

impl Applied {
    /// The return value to send to the client, if any.
    pub fn ret(self) -> Option<Ret> {
        match self {
            Applied::Executed(r) | Applied::Duplicate(r) => Some(r),
            Applied::Stale => None,
        }
    }
}

/// Key-value registers plus client sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvStore {
    values: BTreeMap<u64, u64>,
    sessions: BTreeMap<ClientId, (u64, Ret)>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// Applies a request exactly once per `(client, seq)`.
    pub fn apply(&mut self, req: &KvRequest) -> Applied {
        if let Some(&(last, ret)) = self.sessions.get(&req.client) {
            if req.seq == last {
                return Applied::Duplicate(ret);
            }
            if req.seq < last {
                return Applied::Stale;
            }
        }
        let ret = self.execute(req.key, req.op);
        self.sessions.insert(req.client, (req.seq, ret));
        Applied::Executed(ret)
    }

    /// Reads a key without touching sessions (ReadIndex and lease reads).
    pub fn read(&self, key: u64) -> Option<u64> {
        self.values.get(&key).copied()
    }

    /// Runs an operation on the registers.
    fn execute(&mut self, key: u64, op: Op) -> Ret {
        match op {
            Op::Put(v) => {
                self.values.insert(key, v);
                Ret::Put
            }
            Op::Get => Ret::Get(self.read(key)),
            Op::Cas { expected, new } => {
                if self.read(key) == Some(expected) {
                    self.values.insert(key, new);
                    Ret::Cas(true)
                } else {
                    Ret::Cas(false)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: u64, seq: u64, key: u64, op: Op) -> KvRequest {
        KvRequest {
            client,
            seq,
            op,
            key,
        }
    }

    #[test]
    fn retries_apply_once_and_stale_requests_are_refused() {
        let mut s = KvStore::new();
        assert_eq!(
            s.apply(&req(1, 1, 7, Op::Put(10))),
            Applied::Executed(Ret::Put)
        );
        let cas = req(
            1,
            2,
            7,
            Op::Cas {
                expected: 10,
                new: 11,
            },
        );
        assert_eq!(s.apply(&cas), Applied::Executed(Ret::Cas(true)));
        // The retry must not run the CAS again (it would now fail and report false).
        assert_eq!(s.apply(&cas), Applied::Duplicate(Ret::Cas(true)));
        assert_eq!(s.apply(&req(1, 1, 7, Op::Put(99))), Applied::Stale);
        assert_eq!(s.read(7), Some(11));
        assert_eq!(
            s.apply(&req(2, 1, 7, Op::Get)),
            Applied::Executed(Ret::Get(Some(11)))
        );
    }
}
