//! Float columns: decimal (ALP-like) with exceptions, Gorilla XOR, raw, constant.

use crate::encoding::{put_uvarint, DecodeError, Reader};

use super::bits::{BitReader, BitWriter};
use super::Effort;
use super::{int, zst};

pub(crate) const DECIMAL: u8 = 0x10;
pub(crate) const GORILLA: u8 = 0x11;
pub(crate) const RAW: u8 = 0x12;
pub(crate) const CONST_BITS: u8 = 0x13;

/// Largest exponent tried: 10^18 is exact in an `f64`.
pub(crate) const MAX_EXP: usize = 18;
/// Decimal integers must stay below this magnitude (2^51), so [`int_to_f64`] is exact.
const MAX_M: f64 = 2_251_799_813_685_248.0;

/// `2^52 + 2^51` as bits and as a value: for `|m| < 2^51`, adding `m` to the bits gives the
/// double `2^52 + 2^51 + m` exactly, and subtracting the constant leaves `m`. Unlike
/// `m as f64` (a scalar `cvtsi2sd` on x86-64 without AVX-512), this vectorises.
const MAGIC_BITS: u64 = 0x4338_0000_0000_0000;
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// `m as f64` for `|m| < 2^51` (any other input gives some value, never a panic).
#[inline(always)]
fn int_to_f64(m: u64) -> f64 {
    f64::from_bits(MAGIC_BITS.wrapping_add(m)) - MAGIC
}

pub(crate) const POW10: [f64; MAX_EXP + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// The decoder's arithmetic, used verbatim by the encoder's check.
#[inline(always)]
pub(crate) fn from_decimal(m: i64, e: usize) -> f64 {
    int_to_f64(m as u64) / POW10[e]
}

/// `Some(m)` if `v` is exactly `from_decimal(m, e)` with `|m| < 2^51`.
#[inline]
fn to_decimal(v: f64, e: usize) -> Option<i64> {
    let m = (v * POW10[e]).round();
    // Also rejects NaN.
    if m.abs().partial_cmp(&MAX_M) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let m = m as i64;
    (from_decimal(m, e).to_bits() == v.to_bits()).then_some(m)
}

/// Smallest exponent at which `v` is decimal, if any.
fn min_exponent(v: f64) -> Option<usize> {
    if !v.is_finite() || (v == 0.0 && v.is_sign_negative()) {
        return None;
    }
    (0..=MAX_EXP).find(|&e| to_decimal(v, e).is_some())
}

fn encode_decimal(v: &[f64], effort: Effort, out: &mut Vec<u8>) -> Option<usize> {
    let n = v.len();
    // Sample to skip hopeless columns cheaply (each failing value costs 19 tries).
    let step = (n / 32).max(1);
    let sampled: Vec<Option<usize>> = v.iter().step_by(step).map(|&x| min_exponent(x)).collect();
    let hits = sampled.iter().filter(|e| e.is_some()).count();
    if hits * 2 < sampled.len() {
        return None;
    }
    let mut hist = [0usize; MAX_EXP + 1];
    let exps: Vec<Option<usize>> = v.iter().map(|&x| min_exponent(x)).collect();
    for e in exps.iter().flatten() {
        hist[*e] += 1;
    }
    // Cost model: an exception costs ~9.5 bytes, each exponent step ~log2(10) bits a value.
    let mut covered = 0usize;
    let mut best = (f64::INFINITY, 0usize);
    for (e, &h) in hist.iter().enumerate() {
        covered += h;
        let cost = (n - covered) as f64 * 76.0 + n as f64 * 3.32 * e as f64;
        if cost < best.0 {
            best = (cost, e);
        }
    }
    let e = best.1;
    let mut ms = Vec::with_capacity(n);
    let mut exc: Vec<usize> = Vec::new();
    let mut first_ok = None;
    for (i, (&x, &ex)) in v.iter().zip(&exps).enumerate() {
        let m = match ex {
            Some(ex) if ex <= e => to_decimal(x, e),
            _ => None,
        };
        match m {
            Some(m) => {
                first_ok.get_or_insert(m);
                ms.push(m);
            }
            None => {
                exc.push(i);
                // Placeholder: the previous value, so deltas stay small.
                ms.push(ms.last().copied().unwrap_or(0));
            }
        }
    }
    // Leading exceptions take the first decimal value instead of 0.
    let lead = exc.iter().enumerate().take_while(|&(j, &p)| j == p).count();
    let fill = first_ok.unwrap_or(0);
    for m in &mut ms[..lead] {
        *m = fill;
    }
    out.push(DECIMAL);
    out.push(e as u8);
    put_uvarint(out, exc.len() as u64);
    let mut prev = 0usize;
    for (j, &p) in exc.iter().enumerate() {
        put_uvarint(out, (if j == 0 { p } else { p - prev - 1 }) as u64);
        prev = p;
    }
    for &p in &exc {
        out.extend_from_slice(&v[p].to_bits().to_le_bytes());
    }
    int::encode(&ms, effort, out);
    Some(exc.len())
}

// ---------------------------------------------------------------------------------------
// Gorilla

fn encode_gorilla(v: &[f64]) -> Vec<u8> {
    let mut w = BitWriter::new(vec![GORILLA]);
    let Some(first) = v.first() else {
        return w.finish();
    };
    let mut prev = first.to_bits();
    w.put(prev, 64);
    let (mut lz_prev, mut tz_prev) = (65u32, 65u32);
    for x in &v[1..] {
        let bits = x.to_bits();
        let xor = bits ^ prev;
        prev = bits;
        if xor == 0 {
            w.put(0, 1);
            continue;
        }
        let lz = xor.leading_zeros();
        let tz = xor.trailing_zeros();
        if lz_prev <= 64 && lz >= lz_prev && tz >= tz_prev {
            w.put(0b01, 2);
            w.put(xor >> tz_prev, 64 - lz_prev - tz_prev);
        } else {
            let len = 64 - lz - tz;
            w.put(0b11, 2);
            w.put(u64::from(lz), 6);
            w.put(u64::from(len - 1), 6);
            w.put(xor >> tz, len);
            lz_prev = lz;
            tz_prev = tz;
        }
    }
    w.finish()
}

fn decode_gorilla(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    let mut r = BitReader::new(buf);
    if n == 0 {
        return Ok(());
    }
    let mut prev = r.get(64)?;
    out.push(f64::from_bits(prev));
    let (mut lz, mut len) = (0u32, 0u32);
    let mut have_window = false;
    for _ in 1..n {
        if r.get(1)? == 0 {
            out.push(f64::from_bits(prev));
            continue;
        }
        if r.get(1)? == 1 {
            lz = r.get(6)? as u32;
            len = r.get(6)? as u32 + 1;
            if lz + len > 64 {
                return Err(DecodeError {
                    offset: r.position() / 8,
                    reason: "bad XOR window",
                });
            }
            have_window = true;
        } else if !have_window {
            return Err(DecodeError {
                offset: r.position() / 8,
                reason: "XOR window reused before set",
            });
        }
        let tz = 64 - lz - len;
        prev ^= r.get(len)? << tz;
        out.push(f64::from_bits(prev));
    }
    if r.position().div_ceil(8) != buf.len() {
        return Err(DecodeError {
            offset: r.position().div_ceil(8),
            reason: "trailing bytes after the column",
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

pub(crate) fn encode(v: &[f64], effort: Effort, out: &mut Vec<u8>) {
    let n = v.len();
    if n > 0 && v.iter().all(|x| x.to_bits() == v[0].to_bits()) {
        out.push(CONST_BITS);
        out.extend_from_slice(&v[0].to_bits().to_le_bytes());
        return;
    }
    let mut best = Vec::new();
    let exceptions = encode_decimal(v, effort, &mut best);
    if let Some(exc) = exceptions {
        // Few exceptions: the decimal path wins without trying the others.
        if exc * 8 <= n {
            out.extend_from_slice(&best);
            return;
        }
    }
    let gorilla = encode_gorilla(v);
    if best.is_empty() || gorilla.len() < best.len() {
        best = gorilla;
    }
    if best.len() > 8 * n + 1 {
        best.clear();
        best.push(RAW);
        for x in v {
            best.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }
    if best[0] == RAW && best.len() > 24 && effort == Effort::Thorough {
        zst::wrap_if_smaller(&mut best, int::ZSTD, |_, _| true);
    }
    out.extend_from_slice(&best);
}

pub(crate) fn decode(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    let scheme = r.u8()?;
    let body = &buf[1..];
    let shift = |e: DecodeError| DecodeError {
        offset: e.offset + 1,
        reason: e.reason,
    };
    match scheme {
        CONST_BITS => {
            let bits = r.u64_le()?;
            if !r.is_empty() {
                return Err(DecodeError {
                    offset: r.position(),
                    reason: "trailing bytes after the column",
                });
            }
            out.resize(out.len() + n, f64::from_bits(bits));
            Ok(())
        }
        RAW => decode_raw(body, n, out).map_err(shift),
        GORILLA => decode_gorilla(body, n, out).map_err(shift),
        s if s == RAW | int::ZSTD => {
            let mut payload = Vec::new();
            zst::decompress_into(body, n.saturating_mul(8), &mut payload, 1)?;
            decode_raw(&payload, n, out).map_err(|e| DecodeError {
                offset: 1,
                reason: e.reason,
            })
        }
        DECIMAL => decode_decimal(&mut r, buf, n, out),
        _ => Err(DecodeError {
            offset: 0,
            reason: "unknown float scheme",
        }),
    }
}

fn decode_raw(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    if buf.len() != n.saturating_mul(8) {
        return Err(DecodeError {
            offset: 0,
            reason: "raw float column of the wrong length",
        });
    }
    out.extend(buf.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        f64::from_le_bytes(b)
    }));
    Ok(())
}

/// Appends `int_to_f64(m) / div` for every `m`: the division dominates decoding, so with AVX
/// (four lanes instead of two) when the CPU has it, and with fused multiply-adds instead of
/// division (the same bits: see [`div_by_reciprocal`]) when it has those too.
#[inline]
fn extend_divided(out: &mut Vec<f64>, ms: &[u64], div: f64) {
    #[cfg(target_arch = "x86_64")]
    if super::has_avx2() {
        if super::has_fma() {
            // SAFETY: `extend_divided_fma` only requires AVX2 and FMA, which the CPU was just
            // checked to support; it is otherwise safe code.
            unsafe { extend_divided_fma(out, ms, div) };
        } else {
            // SAFETY: as above, for AVX2 alone.
            unsafe { extend_divided_avx2(out, ms, div) };
        }
        return;
    }
    extend_divided_plain(out, ms, div);
}

/// `a / b`, correctly rounded, for `b` a power of ten up to `10^18` (exact in an `f64`), `y`
/// the nearest `f64` to `1 / b`, and `|a| < 2^53`: a product and two fused corrections, where a
/// vector division costs several times as much.
///
/// Why the bits equal the division's: `q0 = a·y` is within a few ulps of `a / b`; the first
/// correction `q1 = q0 + (a − q0·b)·y` leaves an error far below one ulp, so `q1` is faithful
/// (one of the two floats around `a / b`). From a faithful quotient the remainder
/// `a − q1·b` is exact in a fused multiply-add, and Markstein's theorem (Handbook of
/// Floating-Point Arithmetic, §4.7) gives `RN(q1 + (a − q1·b)·y) = RN(a / b)` when `y` is
/// within half an ulp of `1 / b`. A test checks it against division for every exponent.
#[cfg(any(target_arch = "x86_64", test))]
#[inline(always)]
fn div_by_reciprocal(a: f64, b: f64, y: f64) -> f64 {
    let q0 = a * y;
    let q1 = (-q0).mul_add(b, a).mul_add(y, q0);
    (-q1).mul_add(b, a).mul_add(y, q1)
}

/// [`extend_divided_plain`] with [`div_by_reciprocal`], compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn extend_divided_fma(out: &mut Vec<f64>, ms: &[u64], div: f64) {
    let y = 1.0 / div;
    out.extend(ms.iter().map(|&m| div_by_reciprocal(int_to_f64(m), div, y)));
}

#[inline(always)]
fn extend_divided_plain(out: &mut Vec<f64>, ms: &[u64], div: f64) {
    out.extend(ms.iter().map(|&m| int_to_f64(m) / div));
}

/// [`extend_divided_plain`] compiled for AVX2 (the same IEEE operations, so the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn extend_divided_avx2(out: &mut Vec<f64>, ms: &[u64], div: f64) {
    extend_divided_plain(out, ms, div);
}

fn decode_decimal(
    r: &mut Reader,
    buf: &[u8],
    n: usize,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    let e_at = r.position();
    let e = usize::from(r.u8()?);
    if e > MAX_EXP {
        return Err(DecodeError {
            offset: e_at,
            reason: "decimal exponent above 18",
        });
    }
    let count = r.count(9)?;
    let mut positions = Vec::with_capacity(count);
    let mut next = 0usize;
    for _ in 0..count {
        let at = r.position();
        let gap = r.uvarint()?;
        let p = (next as u64).saturating_add(gap);
        if p >= n as u64 {
            return Err(DecodeError {
                offset: at,
                reason: "exception position outside the column",
            });
        }
        positions.push(p as usize);
        next = p as usize + 1;
    }
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        values.push(r.u64_le()?);
    }
    let at = r.position();
    let start = out.len();
    let div = POW10[e];
    int::decode(&buf[at..], n, &mut |ms: &[u64]| {
        if e == 0 {
            // Dividing by 1.0 is the identity: skip the divider for integral values.
            out.extend(ms.iter().map(|&m| int_to_f64(m)));
        } else {
            extend_divided(out, ms, div);
        }
    })
    .map_err(|err| DecodeError {
        offset: err.offset + at,
        reason: err.reason,
    })?;
    let col = &mut out[start..];
    for (&p, &bits) in positions.iter().zip(&values) {
        if let Some(slot) = col.get_mut(p) {
            *slot = f64::from_bits(bits);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused path gives the division's bits for every exponent: every small mantissa for
    /// the usual exponents, and random ones of every width up to 2^51 (what `int_to_f64`
    /// covers) for all of them.
    #[test]
    fn division_by_reciprocal_equals_division() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (e, &b) in POW10.iter().enumerate().skip(1) {
            let y = 1.0 / b;
            let check = |a: f64| {
                let fused = div_by_reciprocal(a, b, y);
                assert_eq!(fused.to_bits(), (a / b).to_bits(), "{a} / 1e{e}");
            };
            if e <= 4 {
                (-100_000i64..=100_000).for_each(|m| check(m as f64));
            }
            for _ in 0..100_000 {
                let r = next();
                let width = 1 + (r % 51) as u32;
                let m = (next() >> (64 - width)) as i64;
                check(if r >> 63 == 1 { -m } else { m } as f64);
            }
        }
    }
}
