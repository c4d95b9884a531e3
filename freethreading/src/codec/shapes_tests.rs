//! Serde shapes through [`message`](super::message): a small value now goes
//! as postcard where it went as bitcode, so whatever bitcode read back must
//! still be read back, and nothing may come back as another value.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::message::{Route, decode, encode};

/// What bitcode alone made of `value`, and what a message makes of it now.
fn both<T: Serialize + DeserializeOwned + 'static>(value: &T) -> (Option<T>, Option<T>) {
    let bitcode = super::encode(value)
        .ok()
        .and_then(|bytes| super::decode::<T>(&bytes).ok());
    let message = encode(value, Route::InlineOnly).ok().and_then(|message| {
        message.lent.hand_over();
        decode::<T>(&message.wire).ok()
    });
    (bitcode, message)
}

/// Whatever bitcode read back a message reads back; never another value.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug + 'static>(value: &T) {
    let (bitcode, message) = both(value);
    if let Some(back) = &message {
        assert_eq!(back, value, "a message read back another value");
    }
    if bitcode.is_some() {
        assert_eq!(message.as_ref(), Some(value), "bitcode read it back");
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Unit;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Plain {
    A,
    B(u8),
    C(u8, String),
    D { x: i32, y: Option<()> },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    A,
    B(u8),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
enum Internal {
    A { x: u8 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Untagged {
    A(u8),
    B(String),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Inner {
    b: u8,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Flat {
    a: u8,
    #[serde(flatten)]
    inner: Inner,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TupleSkips(
    u8,
    u8,
    #[serde(skip_serializing_if = "Option::is_none", default)] Option<u8>,
);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct AlwaysSkipped {
    #[serde(skip_serializing, default)]
    a: u8,
    b: u8,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum VariantSkips {
    S {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        a: Option<u8>,
        b: u8,
    },
}

#[test]
fn small_values_of_every_shape_read_back_as_with_bitcode() {
    check(&'é');
    check(&(char::MAX, '\0'));
    check(&(i128::MIN, u128::MAX));
    check(&Some(()));
    check(&Option::<()>::None);
    check(&Some(Some(0_u8)));
    check(&Unit);
    check(&());
    check(&PhantomData::<u64>);
    check(&[0_u8; 0]);
    check(&vec![Plain::A, Plain::B(3)]);
    check(&Plain::C(1, "x".to_owned()));
    check(&Plain::D { x: -5, y: Some(()) });
    check(&Adjacent::A);
    check(&Adjacent::B(4));
    check(&Internal::A { x: 1 });
    check(&Untagged::A(2));
    check(&Untagged::B("u".to_owned()));
    check(&Flat {
        a: 1,
        inner: Inner { b: 2 },
    });
    check(&TupleSkips(1, 2, None));
    check(&(TupleSkips(1, 2, None), Some(5_u8)));
    check(&TupleSkips(1, 2, Some(0)));
    check(&AlwaysSkipped { a: 0, b: 7 });
    check(&VariantSkips::S { a: None, b: 3 });
    check(&Duration::new(3, 7));
    check(&IpAddr::V4(Ipv4Addr::LOCALHOST));
    check(&String::from("ünïcode").into_boxed_str());
    check(&BTreeMap::from([
        (1_u8, "a".to_owned()),
        (2, "b".to_owned()),
    ]));
    check(&HashSet::from([1_u16, 2, 3]));
    check(&(1_u8..9));
    check(&Result::<u8, String>::Err("no".to_owned()));
    check(&(f32::MIN_POSITIVE, f64::MAX, -0.0_f64));
}

/// A small value may still be big in bytes: one long string is one value.
/// It goes through shared memory as a big value of any other shape does,
/// not through the socket.
#[cfg(process_backend)]
#[test]
fn a_long_string_goes_through_shared_memory() {
    let text = "ab".repeat(super::message::SHARED_FROM);
    for value in [(text.clone(), 1_u8), (String::new(), 2)] {
        let message = encode(&value, Route::MayShare).unwrap();
        let shared = message.lent.is_shared();
        message.lent.hand_over();
        assert_eq!(
            shared,
            !value.0.is_empty(),
            "shared memory for a long string"
        );
        assert_eq!(decode::<(String, u8)>(&message.wire).unwrap(), value);
    }
}
