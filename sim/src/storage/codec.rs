//! Framing records so that a torn or corrupted one is noticed: `[length u32][CRC-32 of the
//! length u32][CRC-32 of the payload u32][payload]`, little-endian, the payload being the
//! value in postcard's serde encoding.
//!
//! A record shorter than its (intact) header says is torn (a write cut short by a crash); a
//! record whose length check or payload checksum does not match was corrupted. The length
//! has its own checksum so that a flipped bit there reads as corruption, not as a torn write. Telling the two apart is what
//! lets a log drop a torn tail (it was never synced, so never acknowledged) but refuse to
//! trust a corrupted record it may have acknowledged (etcd's WAL draws the same line).

use serde::Serialize;
use serde::de::DeserializeOwned;

const HEADER: usize = 12;

/// Why a record could not be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than its header says: a write cut short.
    Torn,
    /// The checksum does not match the payload: the bytes changed after they were written.
    Corrupt,
    /// The checksum matched (or was not checked) but the payload is not a value of the type.
    Undecodable,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecordError::Torn => "torn record (shorter than its header says)",
            RecordError::Corrupt => "corrupted record (checksum mismatch)",
            RecordError::Undecodable => "record does not decode",
        })
    }
}

/// Encodes `value` as a framed, checksummed record.
pub fn seal<T: Serialize>(value: &T) -> Vec<u8> {
    let payload = postcard::to_allocvec(value).expect("a serde value encodes");
    let mut out = Vec::with_capacity(HEADER + payload.len());
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32fast::hash(&len).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// The payload of a framed record and its stored checksum, if it is whole.
fn payload(bytes: &[u8]) -> Result<(&[u8], u32), RecordError> {
    if bytes.len() < HEADER {
        return Err(RecordError::Torn);
    }
    let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[0..4]) != word(4) {
        return Err(RecordError::Corrupt);
    }
    let len = word(0) as usize;
    let body = &bytes[HEADER..];
    if body.len() < len {
        return Err(RecordError::Torn);
    }
    // Bytes past an intact length: only corruption explains them.
    if body.len() > len {
        return Err(RecordError::Corrupt);
    }
    Ok((body, word(8)))
}

/// Decodes a framed record, checking its length and checksum.
pub fn unseal<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let (body, crc) = payload(bytes)?;
    if crc32fast::hash(body) != crc {
        return Err(RecordError::Corrupt);
    }
    postcard::from_bytes(body).map_err(|_| RecordError::Undecodable)
}

/// Decodes a framed record without checking its checksum: what a log without checksums
/// does. A corrupted payload that still decodes comes back as a different value. Exists for
/// known-bug variants that show what checksums are for.
pub fn unseal_unchecked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    if bytes.len() < HEADER {
        return Err(RecordError::Torn);
    }
    postcard::from_bytes(&bytes[HEADER..]).map_err(|_| RecordError::Undecodable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_damage_is_named() {
        let v = (7u64, "put k=v".to_string());
        let bytes = seal(&v);
        assert_eq!(unseal::<(u64, String)>(&bytes), Ok(v.clone()));
        // Torn: any cut short of the whole record.
        for cut in 0..bytes.len() {
            assert_eq!(
                unseal::<(u64, String)>(&bytes[..cut]),
                Err(RecordError::Torn),
                "cut at {cut}"
            );
        }
        // A flipped bit in the payload: the checksum notices; without it, a different value.
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(unseal::<(u64, String)>(&flipped), Err(RecordError::Corrupt));
        let unchecked = unseal_unchecked::<(u64, String)>(&flipped).unwrap();
        assert_ne!(unchecked, v);
        // Any single flipped bit anywhere reads as corruption, never as a torn write.
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                unseal::<(u64, String)>(&b),
                Err(RecordError::Corrupt),
                "bit {bit}"
            );
        }
    }
}
