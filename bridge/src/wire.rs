//! What crosses the network between bridged nodes and their clients, and how it is encoded:
//! serde with postcard (a compact, self-delimiting binary format), one frame per message,
//! all under one endpoint tag.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sim::ClientId;
use std::net::SocketAddr;

/// The endpoint tag every frame is sent under.
pub const TAG: u64 = 0xFA17_0001;

/// The largest frame a receiver accepts (a Raft snapshot of a large store fits).
pub const MAX_FRAME: usize = 16 << 20;

/// One frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Wire<M, Q, R> {
    /// A protocol message from node `from`.
    Peer { from: u32, msg: M },
    /// A client request; the answer goes to `reply_to`.
    Request {
        client: ClientId,
        reply_to: SocketAddr,
        req: Q,
    },
    /// A node's answer to a client.
    Reply {
        from: u32,
        client: ClientId,
        reply: R,
    },
}

/// Encodes a frame.
pub fn encode<T: Serialize>(frame: &T) -> Vec<u8> {
    postcard::to_allocvec(frame).expect("protocol types serialize")
}

/// Decodes a frame; a malformed frame is an error, never a panic.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocols::kv::{KvReply, KvRequest};
    use protocols::raft::Message;

    type RaftWire = Wire<Message, KvRequest, KvReply>;

    #[test]
    fn a_frame_survives_the_round_trip_and_garbage_is_refused() {
        let frame: RaftWire = Wire::Peer {
            from: 3,
            msg: Message::RequestVote {
                term: 7,
                last_log_index: 12,
                last_log_term: 6,
                pre_vote: false,
            },
        };
        let bytes = encode(&frame);
        assert!(bytes.len() < 16, "compact: {} bytes", bytes.len());
        let back: RaftWire = decode(&bytes).unwrap();
        assert_eq!(format!("{back:?}"), format!("{frame:?}"));
        assert!(decode::<RaftWire>(&[9, 9, 9]).is_err());
        assert!(decode::<RaftWire>(&bytes[..bytes.len() - 1]).is_err());
    }
}
