//! Fixed-width bit packing: value `i` of width `w` occupies bits `i·w .. (i+1)·w` of a
//! little-endian bit stream (bit `j` of byte `b` is stream bit `8·b + j`), so `m` values take
//! `ceil(m·w / 8)` bytes. Widths 0 to 64 are allowed; width 0 takes no bytes.
//!
//! Unpacking is the hot loop of every decoder. It is specialised per width (a `match` over
//! 65 monomorphised copies) and works on groups of 8 values, which span exactly `w` bytes:
//! one bounds check per group over a `w + 8`-byte window (`w + 16` above 56 bits), after
//! which the compiler knows every load of the group is in bounds and emits straight-line
//! shift/mask code. The last groups, whose window would run past the end of the input, are
//! decoded from one small zero-padded copy, so the input needs no padding.

/// Bytes taken by `m` values of width `w`.
#[inline]
pub fn packed_len(m: usize, w: u32) -> usize {
    ((m as u128 * u128::from(w)).div_ceil(8)) as usize
}

/// Bits needed to hold `v` (0 for 0).
#[inline]
pub fn bit_width(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// Appends `values`, each `w` bits wide (values must fit: `v < 2^w`).
pub fn pack(values: &[u64], w: u32, out: &mut Vec<u8>) {
    debug_assert!(w <= 64);
    if w == 0 {
        return;
    }
    let total = packed_len(values.len(), w);
    out.reserve(total);
    let start = out.len();
    let mut acc: u128 = 0;
    let mut bits: u32 = 0;
    for &v in values {
        debug_assert!(w == 64 || v >> w == 0);
        acc |= u128::from(v) << bits;
        bits += w;
        if bits >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            bits -= 64;
        }
    }
    let tail = bits.div_ceil(8) as usize;
    out.extend_from_slice(&(acc as u64).to_le_bytes()[..tail]);
    debug_assert_eq!(out.len() - start, total);
}

/// Unpacks `out.len()` values of width `w` from `src`, which must hold at least
/// `packed_len(out.len(), w)` bytes (checked by the caller; this function only asserts it in
/// debug builds and never reads past `src` either way).
pub fn unpack(src: &[u8], w: u32, out: &mut [u64]) {
    debug_assert!(src.len() >= packed_len(out.len(), w));
    #[cfg(target_arch = "x86_64")]
    if super::has_avx2() {
        // SAFETY: `unpack_avx2` only requires AVX2, which the CPU was just checked to
        // support; it is otherwise safe code.
        unsafe { unpack_avx2(src, w, out) };
        return;
    }
    unpack_any(src, w, out);
}

/// [`unpack_any`] compiled for AVX2 (variable shifts and wider registers; same results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn unpack_avx2(src: &[u8], w: u32, out: &mut [u64]) {
    unpack_any(src, w, out);
}

#[inline(always)]
fn unpack_any(src: &[u8], w: u32, out: &mut [u64]) {
    macro_rules! dispatch {
        ($($w:literal)*) => {
            match w {
                0 => out.fill(0),
                $($w => unpack_fixed::<$w>(src, out),)*
                _ => out.fill(0),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
        31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
        60 61 62 63 64);
}

/// Bytes of a group's window: its `W` bytes plus the overhang of its last load.
const fn window(w: usize) -> usize {
    if w <= 56 {
        w + 8
    } else {
        w + 16
    }
}

/// Decodes one group of 8 values from `win`, which starts at the group's first byte and is
/// `window(W)` bytes long.
#[inline(always)]
fn unpack_group<const W: usize>(win: &[u8], out: &mut [u64]) {
    let mask: u64 = if W == 64 { u64::MAX } else { (1u64 << W) - 1 };
    if W <= 8 {
        // The whole group is in one word: constant shifts of one load (vectorisable).
        let mut b = [0u8; 8];
        b.copy_from_slice(&win[..8]);
        let x = u64::from_le_bytes(b);
        for (j, o) in out.iter_mut().enumerate().take(8) {
            *o = (x >> (j * W)) & mask;
        }
        return;
    }
    for (j, o) in out.iter_mut().enumerate().take(8) {
        let bit = j * W;
        let byte = bit / 8;
        let shift = bit % 8;
        if W <= 56 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&win[byte..byte + 8]);
            *o = (u64::from_le_bytes(b) >> shift) & mask;
        } else {
            let mut b = [0u8; 16];
            b.copy_from_slice(&win[byte..byte + 16]);
            *o = ((u128::from_le_bytes(b) >> shift) as u64) & mask;
        }
    }
}

#[inline(always)]
fn unpack_fixed<const W: usize>(src: &[u8], out: &mut [u64]) {
    let win = window(W);
    // Groups whose window lies inside `src` are decoded in place.
    let direct = if src.len() >= win {
        ((src.len() - win) / W + 1).min(out.len() / 8)
    } else {
        0
    };
    let (head, tail) = out.split_at_mut(direct * 8);
    for (g, chunk) in head.chunks_exact_mut(8).enumerate() {
        unpack_group::<W>(&src[g * W..g * W + win], chunk);
    }
    if tail.is_empty() {
        return;
    }
    // The rest (a few groups, the last maybe partial) from one zero-padded copy.
    let mut pad = [0u8; 320];
    let rest = &src[(direct * W).min(src.len())..];
    let k = rest.len().min(pad.len());
    pad[..k].copy_from_slice(&rest[..k]);
    for (g, chunk) in tail.chunks_mut(8).enumerate() {
        let mut tmp = [0u64; 8];
        // Only a `src` shorter than the caller promised runs off the copy: zeros then.
        if let Some(w) = pad.get(g * W..g * W + win) {
            unpack_group::<W>(w, &mut tmp);
        }
        chunk.copy_from_slice(&tmp[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_round_trips() {
        for w in 0..=64u32 {
            for m in [0usize, 1, 7, 8, 9, 63, 64, 65, 1023, 1024, 1025] {
                let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
                let vals: Vec<u64> = (0..m as u64)
                    .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(w) & mask)
                    .collect();
                let mut buf = Vec::new();
                pack(&vals, w, &mut buf);
                assert_eq!(buf.len(), packed_len(m, w));
                let mut back = vec![0u64; m];
                unpack(&buf, w, &mut back);
                assert_eq!(back, vals, "w={w} m={m}");
            }
        }
    }
}
