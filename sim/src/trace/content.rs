//! Folding an event's content into the trace hash: a serde `Serializer` that mixes every
//! primitive it is given into a running 64-bit hash, without allocating.
//!
//! Every field of a message, timer, request, reply or fault reaches the hash through the
//! type's own `Serialize` implementation — the one the recorded trace uses too — so two runs
//! whose messages differ in any field have different hashes. Field and type names are not
//! mixed in (they are fixed by the type); enum variant indices, sequence lengths and every
//! value are. Floats are mixed by their bit patterns.

use serde::ser::{self, Serialize};
use std::fmt;

/// Why content could not be hashed: never happens for plain data, but serde's contract lets a
/// `Serialize` impl fail, and then the event is hashed by its kind alone.
#[derive(Debug)]
pub struct Unhashable(String);

impl fmt::Display for Unhashable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unhashable {}

impl ser::Error for Unhashable {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unhashable(msg.to_string())
    }
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// The running hash, fed by serializing values into it.
pub struct Mixer<'a> {
    hash: &'a mut u64,
}

impl<'a> Mixer<'a> {
    /// A mixer that folds into `hash`.
    pub fn new(hash: &'a mut u64) -> Mixer<'a> {
        Mixer { hash }
    }

    #[inline]
    fn mix(&mut self, w: u64) {
        *self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(MUL);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.mix(b.len() as u64);
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.mix(u64::from_le_bytes(last));
    }
}

/// Folds `value` into `hash`.
pub fn fold<T: Serialize + ?Sized>(hash: &mut u64, value: &T) {
    let mut m = Mixer::new(hash);
    if value.serialize(&mut m).is_err() {
        // A failing `Serialize` impl: mark the event so it still differs from an empty one.
        m.mix(0xdead_beef);
    }
}

type R = Result<(), Unhashable>;

impl ser::Serializer for &mut Mixer<'_> {
    type Ok = ();
    type Error = Unhashable;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        self.mix(u64::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.mix(v as u64);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.mix(v as u64);
        self.mix((v >> 64) as u64);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.mix(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.mix(v as u64);
        self.mix((v >> 64) as u64);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.mix(u64::from(v.to_bits()));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.mix(v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.mix(u64::from(v));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.mix(0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        self.mix(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> R {
        self.mix(u64::from(index));
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        self.mix(u64::from(index));
        v.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, Unhashable> {
        self.mix(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Unhashable> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Unhashable> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Unhashable> {
        self.mix(u64::from(index));
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, Unhashable> {
        self.mix(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Unhashable> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Unhashable> {
        self.mix(u64::from(index));
        Ok(self)
    }
}

macro_rules! compound {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut Mixer<'_> {
            type Ok = ();
            type Error = Unhashable;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
                value.serialize(&mut **self)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    )*};
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Mixer<'_> {
    type Ok = ();
    type Error = Unhashable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Mixer<'_> {
    type Ok = ();
    type Error = Unhashable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Mixer<'_> {
    type Ok = ();
    type Error = Unhashable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Clone, Serialize)]
    enum Kind {
        A,
        B(u32),
    }

    #[derive(Clone, Serialize)]
    struct Msg {
        term: u64,
        ok: bool,
        ratio: f64,
        name: String,
        entries: Vec<(u64, Kind)>,
        hint: Option<u32>,
    }

    fn hash(m: &Msg) -> u64 {
        let mut h = 7;
        fold(&mut h, m);
        h
    }

    #[test]
    fn changing_any_field_changes_the_hash() {
        let base = Msg {
            term: 3,
            ok: true,
            ratio: 0.5,
            name: "n1".into(),
            entries: vec![(1, Kind::A), (2, Kind::B(7))],
            hint: None,
        };
        let h = hash(&base);
        assert_eq!(h, hash(&base.clone()), "the same content, the same hash");
        type Edit = Box<dyn Fn(&mut Msg)>;
        let edits: Vec<(&str, Edit)> = vec![
            ("term", Box::new(|m| m.term += 1)),
            ("ok", Box::new(|m| m.ok = false)),
            ("ratio", Box::new(|m| m.ratio = 0.25)),
            ("name", Box::new(|m| m.name.push('x'))),
            ("entry value", Box::new(|m| m.entries[1].1 = Kind::B(8))),
            ("entry variant", Box::new(|m| m.entries[0].1 = Kind::B(0))),
            (
                "entry count",
                Box::new(|m| m.entries.pop().map(drop).unwrap()),
            ),
            ("option", Box::new(|m| m.hint = Some(0))),
        ];
        for (what, edit) in edits {
            let mut m = base.clone();
            edit(&mut m);
            assert_ne!(hash(&m), h, "changing {what} must change the hash");
        }
    }
}
