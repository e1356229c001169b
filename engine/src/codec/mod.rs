//! Column codecs: pure functions that turn one column of a block (timestamps, floats,
//! integers, unsigned integers, booleans, strings; blocks hold up to 1024 values, but any
//! length works) into bytes and back.
//!
//! Every encoder tries the candidate schemes that fit the column and keeps the smallest
//! output (integer streams: give or take a small penalty for slower decoding, below). The value count `n` is stored by the caller, not here: `decode_*(buf, n, out)`
//! appends exactly `n` values to `out` or returns a [`DecodeError`] and leaves `out` as it
//! was. `buf` must be exactly the bytes the encoder appended (trailing bytes are an error).
//!
//! # Scheme byte
//!
//! Every encoding starts with one scheme byte, so the format can evolve. Bit 7 (`0x80`) set
//! means that the rest is one zstd frame (level 3, content size recorded) holding the
//! payload of the scheme in the low seven bits; encoders set it only when it makes the
//! column smaller (packed integer streams, raw floats, booleans, strings).
//!
//! | byte | column kinds | scheme |
//! |------|--------------|--------|
//! | `0x01` | integer stream | constant |
//! | `0x02` | integer stream | transform + frame of reference + bit packing |
//! | `0x03` | integer stream | same, high parts Huffman-coded, low bits packed ("split") |
//! | `0x04` | integer stream | run-length |
//! | `0x05` | integer stream | constant step (first value, interval) |
//! | `0x06` | integer stream | same, packed narrow, the few wider values listed ("patched") |
//! | `0x10` | float | decimal (ALP-like) with exceptions, mantissas as an integer stream |
//! | `0x11` | float | Gorilla XOR |
//! | `0x12` | float | raw IEEE-754 bits |
//! | `0x13` | float | constant bits |
//! | `0x20` / `0x21` / `0x22` | bool | bitmap / runs / constant |
//! | `0x30` / `0x31` | string | plain / dictionary (indices as an integer stream) |
//!
//! The byte layouts are in `FORMAT.md` ("Column codecs").
//!
//! # Candidates
//!
//! *Integer streams* carry timestamps, integers, unsigned integers (bit-cast to `i64`), the
//! mantissas of decimal floats and dictionary indices. Besides constant, constant step and
//! run-length, an integer stream applies one of four transforms — raw values, deltas,
//! delta-of-deltas, or residuals from a line `x[i] − i·D` (`D` the least-squares slope,
//! rounded to the values' common divisor; it turns grid-aligned jittered timestamps into
//! their bare jitter, which has less entropy than their deltas) — subtracts the minimum
//! (frame of reference) and divides by the residuals' greatest common divisor (ns
//! timestamps taken in ms, decimals ending in zeros). The residuals `u` (or, for tails on
//! both sides, `zigzag(u − median)`) are then
//!
//! * bit-packed at the largest width (fastest to decode: 1–2 G values/s), or
//! * *split*: the low `k` bits packed, the high parts coded with a static canonical Huffman
//!   code (`huffman`: lengths ≤ 11 bits, one table lookup per symbol, eight interleaved
//!   streams); high parts at or above a cap are *escaped* (the cap's symbol, then the excess
//!   in a packed list) — for peaky distributions and heavy tails, or
//! * *patched*: every value's low `b` bits packed, the few wider values listed with their
//!   positions — for rare outliers over a narrow bulk, and for one dominant value (Huffman
//!   spends at least a bit on every value).
//!
//! Entropy coding exists because sensor residuals are peaky: bit packing spends the width of
//! the rarest value on every value, while zstd (tried as a wrapper, and measured over
//! byte-aligned residuals) costs 2–3× the order-0 entropy on blocks of a few hundred values.
//! Huffman rather than an arithmetic coder (rANS, earlier): on the smart-city data it is
//! 1.5 % larger overall (0.2 % on floats, 6 % on timestamps, whose very peaky jitter loses
//! most to whole-bit code lengths) and decodes 3–4× faster. Candidates are ranked by estimates from one histogram per variant,
//! the best few are measured, and the smallest *score* wins: bytes plus a small penalty for
//! what decodes slowly (a zstd frame, a large Huffman alphabet, escapes).
//!
//! Decoding runs as tight passes over chunks of 1024 values that the compiler vectorises:
//! Huffman symbols, low-bit unpacking, high parts + zigzag + base in one pass, prefix sums,
//! then the sink's conversion (for floats the division by `10^e`, which dominates). On
//! x86-64 CPUs with AVX2, three hot functions run copies of themselves compiled for AVX2
//! (`has_avx2`); the results are identical.
//!
//! *Floats*: the decimal scheme finds the exponent `e ≤ 18` for which most values are
//! `m / 10^e` with an integer `|m| < 2^51` (checked bit-exactly with the decoder's own
//! arithmetic: an exact integer-to-double conversion, then one correctly rounded
//! division), codes the `m` as an integer stream and stores the other values (NaN, ±∞,
//! `-0.0`, non-decimals) as exceptions with their positions. With too many exceptions,
//! Gorilla XOR or raw bits (optionally zstd) are tried.
//!
//! *Booleans*: constant, bitmap or runs. *Strings*: plain or dictionary, optionally zstd.
//!
//! # Invariants
//!
//! * Every input round-trips bit-exactly: any `i64`/`u64` (all arithmetic wraps), any `f64`
//!   bit pattern (NaN payloads, `-0.0`, subnormals, infinities), any `str`.
//! * Decoders never panic and never read outside `buf`; any malformed input is a
//!   `DecodeError`. Allocations are bounded by `n` (at most [`MAX_VALUES`]) and by the
//!   length of `buf`: a zstd frame must declare a content size within a limit derived from
//!   `n` (or, for strings, from the frame's length), and the encoder never exceeds it.
//! * Encoders are deterministic: the same column always gives the same bytes.
//! * `unsafe` only to call the AVX2 copies of safe functions (`#[target_feature]`), right
//!   after checking that the CPU has AVX2.

mod bitpack;
mod bits;
mod boolean;
mod float;
mod huffman;
mod int;
mod string;
mod zst;

#[cfg(test)]
mod tests;

pub use crate::encoding::DecodeError;
pub use int::LinearBound;

/// Whether the decoders' hot loops may run their AVX2 builds: the CPU has AVX2 (tests can
/// force the portable builds).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2() -> bool {
    unless_portable(std::arch::is_x86_feature_detected!("avx2"))
}

/// Whether the CPU has BMI2 (single-instruction variable shifts; tests can force the portable
/// builds).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_bmi2() -> bool {
    unless_portable(std::arch::is_x86_feature_detected!("bmi2"))
}

/// Whether the CPU has fused multiply-add (tests can force the portable builds).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_fma() -> bool {
    unless_portable(std::arch::is_x86_feature_detected!("fma"))
}

/// `detected`, unless a test forces the portable builds.
#[cfg(target_arch = "x86_64")]
#[inline]
fn unless_portable(detected: bool) -> bool {
    #[cfg(test)]
    if tests::PORTABLE.with(std::cell::Cell::get) {
        return false;
    }
    detected
}

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

/// How hard an encoder looks for the smallest encoding. Either effort writes the same format,
/// which the same decoders read.
///
/// `Thorough` tries every candidate (see the module documentation). `Fast` bit-packs integer
/// streams as raw values or deltas, whichever packs smaller (or as runs), and leaves out the
/// other transforms, zstd and entropy coding: several times the encoding speed, for columns
/// that a compaction rewrites soon after (flushes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Effort {
    #[default]
    Thorough,
    Fast,
}

/// Encodes a timestamp column (ns since the epoch, any order, any values).
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) {
    encode_timestamps_with(ts, Effort::Thorough, out);
}

/// [`encode_timestamps`] at the given effort.
pub fn encode_timestamps_with(ts: &[i64], effort: Effort, out: &mut Vec<u8>) {
    int::encode(ts, effort, out);
}

/// Decodes `n` timestamps written by [`encode_timestamps`], appending them to `out`.
pub fn decode_timestamps(buf: &[u8], n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    decode_i64s(buf, n, out)
}

/// A line bounding `n` timestamps written by [`encode_timestamps`], read from the column's
/// header without decoding it: `lo + i·step ≤ ts[i] ≤ hi + i·step` for every index `i`.
/// `None` where the encoding gives no such line within the `i64` range (deltas, runs, zstd)
/// or the header is malformed (decoding reports that). Sensor timestamps on a jittered grid
/// get a band as wide as their jitter, so a window edge usually falls between two indices
/// the band alone tells apart.
pub fn timestamp_bound(buf: &[u8], n: usize) -> Option<LinearBound> {
    int::linear_bound(buf, n)
}

/// Encodes a float column; every bit pattern round-trips.
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) {
    encode_floats_with(v, Effort::Thorough, out);
}

/// [`encode_floats`] at the given effort.
pub fn encode_floats_with(v: &[f64], effort: Effort, out: &mut Vec<u8>) {
    float::encode(v, effort, out);
}

/// Decodes `n` floats written by [`encode_floats`], appending them to `out`.
pub fn decode_floats(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    guarded(n, out, |out| float::decode(buf, n, out))
}

/// Encodes a signed integer column.
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) {
    encode_integers_with(v, Effort::Thorough, out);
}

/// [`encode_integers`] at the given effort.
pub fn encode_integers_with(v: &[i64], effort: Effort, out: &mut Vec<u8>) {
    int::encode(v, effort, out);
}

/// Decodes `n` integers written by [`encode_integers`], appending them to `out`.
pub fn decode_integers(buf: &[u8], n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    decode_i64s(buf, n, out)
}

/// Encodes an unsigned integer column (bit-cast to `i64`, then as [`encode_integers`]).
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) {
    encode_unsigned_with(v, Effort::Thorough, out);
}

/// [`encode_unsigned`] at the given effort.
pub fn encode_unsigned_with(v: &[u64], effort: Effort, out: &mut Vec<u8>) {
    let x: Vec<i64> = v.iter().map(|&u| u as i64).collect();
    int::encode(&x, effort, out);
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
