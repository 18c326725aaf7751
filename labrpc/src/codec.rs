//! The wire codec. Every argument and reply crosses the network as bytes made
//! here, so nothing shared (no `Arc`, no pointer) can leak between peers and the
//! byte counters measure what a real network would carry.
//!
//! The codec is postcard (compact, maintained, serde-based). Keeping it behind
//! this one module means it can be swapped without touching callers.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes `value` into a fresh byte vector.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| e.to_string())
}

/// Decodes a `T` from `bytes`, requiring that every byte is consumed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| e.to_string())?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(format!("{} trailing bytes after the value", rest.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_struct() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct S {
            a: u64,
            b: String,
            c: Vec<u8>,
        }
        let s = S {
            a: 7,
            b: "x".into(),
            c: vec![1, 2, 3],
        };
        let bytes = encode(&s).expect("encode");
        assert_eq!(decode::<S>(&bytes).expect("decode"), s);
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = encode(&5u32).expect("encode");
        bytes.push(0);
        assert!(decode::<u32>(&bytes).is_err());
    }
}
