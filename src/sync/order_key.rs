//! Order-preserving byte keys for JSON values: comparing two keys bytewise gives the order
//! in which `--order-by` ranks the values ([`super::query::compare_values`]), and values that
//! `--where` finds equal get equal keys. Secondary indexes store these keys, so a range of
//! values is a range of keys.
//!
//! A key is a type tag (the type order of `compare_values`: null, bool, number, string,
//! array, object, then missing) followed by the value:
//! - numbers: the f64 in sign-flipped big-endian form (negatives first), then the exact
//!   integer as an offset i128, so integers beyond 2^53 that share an f64 still order;
//! - strings: the UTF-8 bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x00 (so a
//!   prefix sorts first);
//! - arrays and objects: their JSON text, escaped like a string (what `compare_values`
//!   compares them by).

use serde_json::{Number, Value};

/// Type tags, in the order of [`super::query::compare_values`].
const NULL: u8 = 0;
const BOOL: u8 = 1;
const NUMBER: u8 = 2;
const STRING: u8 = 3;
const ARRAY: u8 = 4;
const OBJECT: u8 = 5;
/// The path holds no value: sorts after every value, as `--order-by` puts it last.
const MISSING: u8 = 6;

/// The key of the value at a path (`None`: the path holds none).
pub fn encode(value: Option<&Value>) -> Vec<u8> {
    let Some(value) = value else { return vec![MISSING] };
    let mut key = vec![tag(value)];
    match value {
        Value::Null => {}
        Value::Bool(b) => key.push(u8::from(*b)),
        Value::Number(n) => number(n, &mut key),
        Value::String(s) => escaped(s.as_bytes(), &mut key),
        Value::Array(_) | Value::Object(_) => escaped(value.to_string().as_bytes(), &mut key),
    }
    key
}

/// The type tag of a value.
fn tag(value: &Value) -> u8 {
    match value {
        Value::Null => NULL,
        Value::Bool(_) => BOOL,
        Value::Number(_) => NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

/// The first key of `value`'s type: no key of that type sorts before it.
pub fn type_start(value: &Value) -> Vec<u8> {
    vec![tag(value)]
}

/// The first key after every key of `value`'s type.
pub fn type_end(value: &Value) -> Vec<u8> {
    vec![tag(value) + 1]
}

/// The first key after `key` and any key equal to it: `key` followed by a zero byte (no
/// key lies between, since keys are self-delimiting).
pub fn after(mut key: Vec<u8>) -> Vec<u8> {
    key.push(0);
    key
}

fn number(n: &Number, key: &mut Vec<u8>) {
    let f = n.as_f64().unwrap_or(0.0);
    // -0.0 equals 0 in queries: one key for both.
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
    key.extend_from_slice(&ordered.to_be_bytes());
    let exact: i128 = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i.into(),
        (_, Some(u)) => u.into(),
        // A float is exact where it shares an f64 with an integer (it is integral there).
        _ => f as i128,
    };
    key.extend_from_slice(&((exact as u128) ^ (1 << 127)).to_be_bytes());
}

fn escaped(bytes: &[u8], key: &mut Vec<u8>) {
    for &b in bytes {
        key.push(b);
        if b == 0 {
            key.push(0xFF);
        }
    }
    key.extend_from_slice(&[0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::query::compare_values;
    use serde_json::json;
    use std::cmp::Ordering;

    #[test]
    fn keys_order_like_the_query_order() {
        let values = [
            json!(null),
            json!(false),
            json!(true),
            json!(-1e300),
            json!(-3),
            json!(-2.5),
            json!(-0.0),
            json!(0),
            json!(0.5),
            json!(1),
            json!(9_007_199_254_740_993u64),
            json!(u64::MAX),
            json!(1e300),
            json!(""),
            json!("a"),
            json!("a\u{0}"),
            json!("ab"),
            json!("b"),
            json!([1]),
            json!({"a": 1}),
        ];
        let keys: Vec<Vec<u8>> = values.iter().map(|v| encode(Some(v))).collect();
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                let by_query = compare_values(Some(a), Some(b));
                if by_query != Ordering::Equal {
                    assert_eq!(keys[i].cmp(&keys[j]), by_query, "{a} vs {b}");
                }
            }
            assert!(keys[i] < encode(None), "missing sorts last");
        }
        assert_eq!(encode(Some(&json!(-0.0))), encode(Some(&json!(0))));
        assert_eq!(encode(Some(&json!(3.0))), encode(Some(&json!(3))));
    }
}
