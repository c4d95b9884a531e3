//! Whether a value carries a big byte string through serde's bytes path
//! (`serialize_bytes`: a `#[serde(with = "serde_bytes")]` field, a
//! `serde_bytes::ByteBuf`, a `bytes::Bytes` inside a struct). Bitcode's serde
//! mode writes such a string as a sequence of `u8`, visiting each byte
//! (about 7 ns a byte there and back), where postcard copies it in one go;
//! so a message whose value has one goes as postcard ([`super::message`]).
//!
//! The probe is a serializer that writes nothing and gives up early: after
//! [`LOOK_AT`] values, or at the first big byte string. So it costs at most
//! a few hundred visits, whatever the value's size; a byte string that only
//! comes after that many other values is not seen, and the value goes as
//! bitcode, whole and correct, only slower.
//!
//! The same walk finds a *small* value: one of at most [`SMALL`] values in
//! all, each a number, a string, or a tuple, sequence or option of them
//! (no struct, enum or map: their `Deserialize` may refuse a value with a
//! message of its own, as a primitive made for another backend does, and
//! postcard keeps no such message where bitcode does). Bitcode's setup (its encoders, their
//! allocations) costs a tiny value about 140 ns there and back where
//! postcard costs about 20, a good part of a round trip to an MPI rank or a
//! worker process; from a few dozen integers up, bitcode's packing wins.

use std::fmt;

use serde::Serialize;
use serde::ser;

/// From how many bytes a byte string is worth postcard: below this,
/// bitcode's visits cost less than what postcard's variable-length
/// integers cost the rest of the value.
const BIG: usize = 16 * 1024;

/// How many values the probe looks at before it gives up.
const LOOK_AT: usize = 256;

/// Up to how many values (integers, strings, ...) a value is small.
const SMALL: usize = 16;

/// What the probe says of a value, for its encoder to pick a format.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// A byte string of [`BIG`] bytes or more among its first [`LOOK_AT`]
    /// values: postcard's, once no field is found skipped.
    BigBytes,
    /// At most [`SMALL`] values in all, numbers and strings in tuples,
    /// sequences and options only: postcard's.
    Small,
    /// Anything else: bitcode's.
    Other,
}

/// Looks at up to [`LOOK_AT`] of `value`'s values.
pub(super) fn shape<T: Serialize + ?Sized>(value: &T) -> Shape {
    let mut probe = Probe {
        seen: 0,
        look_at: LOOK_AT,
        big: BIG,
        plain: true,
    };
    match value.serialize(&mut probe) {
        Err(Stop::Found) => Shape::BigBytes,
        Ok(()) if probe.plain && probe.seen <= SMALL => Shape::Small,
        _ => Shape::Other,
    }
}

/// Whether `value` has a byte string of [`BIG`] bytes or more among its
/// first [`LOOK_AT`] values.
#[cfg(test)]
fn carries_big_bytes<T: Serialize + ?Sized>(value: &T) -> bool {
    shape(value) == Shape::BigBytes
}

/// Whether `value` skips a struct field as it serializes
/// (`skip_serializing_if`), which postcard, not describing itself, cannot
/// read back: it would take the next field's bytes for the skipped one. A
/// walk of the whole value, so for small ones (a queue's inline items).
pub(crate) fn skips_a_field<T: Serialize + ?Sized>(value: &T) -> bool {
    let mut probe = Probe {
        seen: 0,
        look_at: usize::MAX,
        big: usize::MAX,
        plain: true,
    };
    matches!(value.serialize(&mut probe), Err(Stop::Skipped))
}

struct Probe {
    seen: usize,
    /// How many values to look at before giving up.
    look_at: usize,
    /// From how many bytes a byte string ends the walk.
    big: usize,
    /// Whether every value seen so far was a number, a string, a unit or
    /// a tuple, sequence or option: no struct, enum or map.
    plain: bool,
}

impl Probe {
    fn visit(&mut self) -> Result<(), Stop> {
        self.seen += 1;
        if self.seen > self.look_at {
            Err(Stop::Enough)
        } else {
            Ok(())
        }
    }
}

/// Why the probe stopped: always an "error", so that serde stops walking.
#[derive(Debug)]
enum Stop {
    Found,
    Enough,
    /// The value's own `Serialize` failed; the real encoder will say why.
    Failed,
    /// A struct skips a field (`skip_serializing_if`): postcard, which does
    /// not describe itself, would write it without the field and read the
    /// next field's bytes in its place, so it must not go as postcard.
    Skipped,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(_message: M) -> Self {
        Stop::Failed
    }
}

/// A primitive: one value seen.
macro_rules! primitives {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(fn $name(self, _value: $ty) -> Result<(), Stop> {
            self.visit()
        })*
    };
}

impl ser::Serializer for &mut Probe {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    // As both real encoders say: a type may take its byte path only in a
    // compact format.
    fn is_human_readable(&self) -> bool {
        false
    }

    primitives! {
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str,
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Stop> {
        if value.len() >= self.big {
            return Err(Stop::Found);
        }
        self.visit()
    }

    fn serialize_none(self) -> Result<(), Stop> {
        self.visit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Stop> {
        self.visit()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Stop> {
        self.plain = false;
        self.visit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<(), Stop> {
        self.plain = false;
        self.visit()
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.plain = false;
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.plain = false;
        value.serialize(self)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, Stop> {
        self.plain = false;
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self, Stop> {
        self.plain = false;
        Ok(self)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self, Stop> {
        self.plain = false;
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, Stop> {
        self.plain = false;
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self, Stop> {
        self.plain = false;
        Ok(self)
    }
}

/// Every compound's parts are values to look at, in order.
macro_rules! compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for &mut Probe {
            type Ok = ();
            type Error = Stop;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}

compound! {
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
}

impl ser::SerializeMap for &mut Probe {
    type Ok = ();
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

/// A struct's fields, named or not, are values to look at, in order.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(impl ser::$trait for &mut Probe {
            type Ok = ();
            type Error = Stop;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                value.serialize(&mut **self)
            }

            fn skip_field(&mut self, _key: &'static str) -> Result<(), Stop> {
                Err(Stop::Skipped)
            }

            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Frame {
        id: u32,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn big_byte_strings_are_found_and_little_values_cost_little() {
        assert!(carries_big_bytes(&Frame {
            id: 1,
            data: vec![0; BIG]
        }));
        assert!(!carries_big_bytes(&Frame {
            id: 1,
            data: vec![0; BIG - 1]
        }));
        assert!(carries_big_bytes(&(7_u8, bytes::Bytes::from(vec![1; BIG]))));
        assert!(carries_big_bytes(&Some(vec![Frame {
            id: 2,
            data: vec![0; 1 << 20]
        }])));
        // A plain Vec<u8> is a sequence, not a byte string: bitcode's.
        assert!(!carries_big_bytes(&vec![0_u8; 1 << 20]));
        // Past the values looked at, a byte string is not seen.
        let late = (vec![0_u32; LOOK_AT + 1], bytes::Bytes::from(vec![1; BIG]));
        assert!(!carries_big_bytes(&late));
        assert!(!carries_big_bytes(&String::from("x")));
    }

    #[derive(Serialize)]
    struct Skips {
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<u32>,
        a: u8,
    }

    #[test]
    fn small_values_are_few_numbers_and_strings_in_plain_shapes() {
        assert_eq!(shape(&(7_u64,)), Shape::Small);
        assert_eq!(shape(&(String::from("x"), 1_u32, 2.5_f64)), Shape::Small);
        assert_eq!(shape(&vec![1_u32; SMALL]), Shape::Small);
        assert_eq!(shape(&vec![1_u32; SMALL + 1]), Shape::Other);
        assert_eq!(shape(&vec![1_u32; LOOK_AT + 1]), Shape::Other);
        assert_eq!(shape(&(Some(1_u8), None::<u8>, ())), Shape::Small);
        // A struct, an enum or a map may refuse itself with a message of
        // its own on the way in, which postcard would not keep.
        assert_eq!(shape(&Skips { note: None, a: 1 }), Shape::Other);
        assert_eq!(
            shape(&Skips {
                note: Some(2),
                a: 1
            }),
            Shape::Other
        );
        assert_eq!(shape(&Ok::<u8, u8>(1)), Shape::Other);
        assert_eq!(
            shape(&std::collections::BTreeMap::from([(1_u8, 2_u8)])),
            Shape::Other
        );
    }
}
