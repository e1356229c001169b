//! Column codecs: pure functions that turn one column of a block (timestamps, floats,
//! integers, unsigned integers, booleans, strings; typically up to 1024 values) into bytes
//! and back.
//!
//! Every encoder tries the candidate schemes that fit the column and keeps the smallest
//! output. The value count `n` is stored by the caller, not here: `decode_*(buf, n, out)`
//! appends exactly `n` values to `out` or returns a [`DecodeError`] (and then leaves `out`
//! as it was). `buf` must be exactly the bytes the encoder appended.
//!
//! # Scheme byte
//!
//! Every encoding starts with one scheme byte. Bit 7 (`0x80`) set means that the rest of the
//! encoding is one zstd frame (level 3, content size recorded) whose content is the payload
//! of the scheme in the low seven bits; it is used only when it makes the column smaller.
//! The schemes (all multi-byte fixed-width integers little-endian; *varint* is LEB128,
//! *zvarint* a zigzag varint, see [`crate::encoding`]):
//!
//! | byte | column kinds | scheme |
//! |------|--------------|--------|
//! | `0x01` | integer stream | constant: `zvarint` value |
//! | `0x02` | integer stream | frame of reference, bit-packed |
//! | `0x03` | integer stream | frame of reference, high bits rANS-coded, low bits packed |
//! | `0x04` | integer stream | run-length |
//! | `0x05` | integer stream | constant step: first value and interval |
//! | `0x10` | float | decimal (ALP-like) with exceptions, then an integer stream |
//! | `0x11` | float | Gorilla XOR |
//! | `0x12` | float | raw IEEE bits |
//! | `0x13` | float | constant bits |
//! | `0x20` / `0x21` / `0x22` | bool | bitmap / runs / constant |
//! | `0x30` / `0x31` | string | plain / dictionary (indices as an integer stream) |
//!
//! Timestamps, integers and unsigned integers (bit-cast to `i64`) are *integer streams*.
//! The integer-stream candidates are the constant, run-length, and four transforms — raw
//! values, deltas, delta-of-deltas, and residuals from a straight line `x[i] − i·D` (the
//! least-squares slope, which turns grid-aligned jittered timestamps into their bare jitter) —
//! each made non-negative by subtracting the minimum (frame of reference) and divided by the
//! residuals' greatest common divisor (timestamps in µs or ms, decimals with trailing zeros),
//! then either bit-packed at the largest width or split into low bits (packed) and high bits
//! (at most 8, entropy-coded with a static rANS coder, see `rans`).
//! The full byte layouts are in `FORMAT.md`.
//!
//! # Invariants
//!
//! * Every input round-trips bit-exactly: any `i64`/`u64` (all arithmetic wraps), any `f64`
//!   bit pattern (NaN payloads, `-0.0`, subnormals, infinities), any `str`.
//! * Decoders never panic and never read outside `buf`; any malformed input is a
//!   `DecodeError`. Allocations are bounded by `n` (at most [`MAX_VALUES`]) and by the length of
//!   `buf` (zstd frames must declare a content size within a limit derived from `n` or, for
//!   strings, from the frame's length).
//! * Encoders are deterministic: the same column always gives the same bytes.
//! * The float decoder computes `(m as f64) / 10^e` exactly as the encoder checked it.

mod bitpack;
mod bits;
mod boolean;
mod float;
mod int;
mod rans;
mod string;
mod zst;

#[cfg(test)]
mod tests;

pub use crate::encoding::DecodeError;

/// Largest `n` a decoder accepts (a defence against corrupt counts; blocks hold 1024 values).
pub const MAX_VALUES: usize = 1 << 24;

/// Runs `f`, checks that it appended exactly `n` values, and restores `out` on error.
fn guarded<T>(
    n: usize,
    out: &mut Vec<T>,
    f: impl FnOnce(&mut Vec<T>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    if n > MAX_VALUES {
        return Err(DecodeError {
            offset: 0,
            reason: "value count above the limit",
        });
    }
    let start = out.len();
    out.reserve(n.min(int::CHUNK * 4));
    let res = f(out).and_then(|()| {
        if out.len() - start == n {
            Ok(())
        } else {
            Err(DecodeError {
                offset: 0,
                reason: "decoded count differs from n",
            })
        }
    });
    if res.is_err() {
        out.truncate(start);
    }
    res
}

fn decode_i64s(buf: &[u8], n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    guarded(n, out, |out| {
        int::decode(buf, n, &mut |v: &[u64]| {
            out.extend(v.iter().map(|&x| x as i64))
        })
    })
}

/// Encodes a timestamp column (ns since the epoch, any order, any values).
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) {
    int::encode(ts, out);
}

/// Decodes `n` timestamps written by [`encode_timestamps`], appending them to `out`.
pub fn decode_timestamps(buf: &[u8], n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    decode_i64s(buf, n, out)
}

/// Encodes a float column; every bit pattern round-trips.
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) {
    float::encode(v, out);
}

/// Decodes `n` floats written by [`encode_floats`], appending them to `out`.
pub fn decode_floats(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    guarded(n, out, |out| float::decode(buf, n, out))
}

/// Encodes a signed integer column.
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) {
    int::encode(v, out);
}

/// Decodes `n` integers written by [`encode_integers`], appending them to `out`.
pub fn decode_integers(buf: &[u8], n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    decode_i64s(buf, n, out)
}

/// Encodes an unsigned integer column (bit-cast to `i64`, then as [`encode_integers`]).
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) {
    let x: Vec<i64> = v.iter().map(|&u| u as i64).collect();
    int::encode(&x, out);
}

/// Decodes `n` unsigned integers written by [`encode_unsigned`], appending them to `out`.
pub fn decode_unsigned(buf: &[u8], n: usize, out: &mut Vec<u64>) -> Result<(), DecodeError> {
    guarded(n, out, |out| {
        int::decode(buf, n, &mut |v: &[u64]| out.extend_from_slice(v))
    })
}

/// Encodes a boolean column.
pub fn encode_bools(v: &[bool], out: &mut Vec<u8>) {
    boolean::encode(v, out);
}

/// Decodes `n` booleans written by [`encode_bools`], appending them to `out`.
pub fn decode_bools(buf: &[u8], n: usize, out: &mut Vec<bool>) -> Result<(), DecodeError> {
    guarded(n, out, |out| boolean::decode(buf, n, out))
}

/// Encodes a string column.
pub fn encode_strings<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    string::encode(v, out);
}

/// Decodes `n` strings written by [`encode_strings`], appending them to `out`.
pub fn decode_strings(buf: &[u8], n: usize, out: &mut Vec<String>) -> Result<(), DecodeError> {
    guarded(n, out, |out| string::decode(buf, n, out))
}
