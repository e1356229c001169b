//! The integer stream: the encoding of a sequence of `i64` shared by timestamps, integers,
//! unsigned integers (bit-cast), the decimal path of floats and dictionary indices.
//!
//! See the module documentation of [`crate::codec`] for the byte layout. All arithmetic is
//! wrapping (two's complement), so every `i64`/`u64` sequence round-trips, including
//! deltas that overflow.

use crate::encoding::{put_ivarint, put_uvarint, unzigzag, zigzag, DecodeError, Reader};

use super::bitpack::{bit_width, pack, packed_len, unpack};
use super::bits::{BitReader, BitWriter};
use super::{rans, zst};

/// Values decoded per pass: the unpack buffers live on the stack.
pub(crate) const CHUNK: usize = 1024;

pub(crate) const CONST: u8 = 0x01;
pub(crate) const PACKED: u8 = 0x02;
pub(crate) const SPLIT: u8 = 0x03;
pub(crate) const RLE: u8 = 0x04;
pub(crate) const STEP: u8 = 0x05;
pub(crate) const TOKENS: u8 = 0x06;
/// Set in a scheme byte: the payload after the scheme byte is one zstd frame holding the
/// payload of the scheme in the low bits.
pub(crate) const ZSTD: u8 = 0x80;

pub(crate) const T_RAW: u8 = 0;
pub(crate) const T_DELTA: u8 = 1;
pub(crate) const T_DOD: u8 = 2;
pub(crate) const T_LINEAR: u8 = 3;

/// Upper bound of the payload (after the scheme byte) of any integer stream of `n` values:
/// the limit on zstd-decompressed payloads.
pub(crate) fn max_payload(n: usize) -> usize {
    n.saturating_mul(24).saturating_add(64)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// One way to turn the values into non-negative residuals `u`:
/// `r[j] = base + g·u[j]` (wrapping), where `r` is the transform's residual sequence.
struct Plan {
    transform: u8,
    params: Vec<i64>,
    base: i64,
    g: u64,
    w: u32,
    u: Vec<u64>,
}

impl Plan {
    fn new(transform: u8, params: Vec<i64>, r: &[i64]) -> Plan {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for &v in r {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if r.is_empty() {
            lo = 0;
            hi = 0;
        }
        let mut u: Vec<u64> = r.iter().map(|&v| v.wrapping_sub(lo) as u64).collect();
        let range = hi.wrapping_sub(lo) as u64;
        let mut g = 0u64;
        if range > 1 {
            for &v in &u {
                if g > 1 && v % g == 0 {
                    continue;
                }
                g = gcd(g, v);
                if g == 1 {
                    break;
                }
            }
        }
        if g > 1 {
            for v in &mut u {
                *v /= g;
            }
        } else {
            g = 1;
        }
        let w = bit_width(range / g);
        Plan {
            transform,
            params,
            base: lo,
            g,
            w,
            u,
        }
    }

    fn header(&self, out: &mut Vec<u8>) {
        out.push(self.transform);
        for &p in &self.params {
            put_ivarint(out, p);
        }
        put_ivarint(out, self.base);
        put_uvarint(out, self.g);
        out.push(self.w as u8);
    }

    fn packed_size(&self) -> usize {
        // Header bytes estimated generously; only used to rank candidates.
        4 + 10 * self.params.len() + 10 + packed_len(self.u.len(), self.w)
    }

    fn write_packed(&self, out: &mut Vec<u8>) {
        out.push(PACKED);
        self.header(out);
        pack(&self.u, self.w, out);
    }

    /// The split with the smallest estimated size: `(k, estimated bytes)`.
    fn best_split(&self) -> Option<(u32, usize)> {
        // One histogram at the lowest split; the others merge its bins.
        let k0 = self.w.saturating_sub(8);
        let mut fine = [0u32; 256];
        for &v in &self.u {
            fine[(v >> k0) as usize & 255] += 1;
        }
        let mut best: Option<(u32, usize)> = None;
        for k in k0..self.w {
            let shift = k - k0;
            let mut counts = [0u32; 256];
            for (j, &c) in fine.iter().enumerate() {
                counts[j >> shift] += c;
            }
            let Some(est) = rans::estimate(&counts) else {
                continue;
            };
            let size = est + packed_len(self.u.len(), k);
            if best.is_none_or(|b| size < b.1) {
                best = Some((k, size));
            }
        }
        best
    }

    /// The centred residuals `zigzag(u − median)` and the median.
    fn centred(&self) -> (Vec<u64>, u64) {
        let mut sorted = self.u.clone();
        let mid = sorted.len() / 2;
        let c = *sorted.select_nth_unstable(mid).1;
        let v = self
            .u
            .iter()
            .map(|&x| zigzag(x.wrapping_sub(c) as i64))
            .collect();
        (v, c)
    }

    /// The token shape with the smallest estimated size: `(d, mb, estimated bytes)`.
    fn best_tokens(v: &[u64]) -> Option<(u32, u32, usize)> {
        // One pass: exact counts below 128, else counts by bit length and the two bits below
        // the top bit; every shape's token histogram derives from these.
        let mut small = [0u32; 128];
        let mut big = [[0u32; 4]; 65];
        for &x in v {
            if x < 128 {
                small[x as usize] += 1;
            } else {
                let nb = 64 - x.leading_zeros();
                big[nb as usize][((x >> (nb - 3)) & 3) as usize] += 1;
            }
        }
        let mut best: Option<(u32, u32, usize)> = None;
        for &(d, mb) in &TOKEN_SHAPES {
            let mut counts = [0u32; 256];
            let mut extra = 0usize;
            for (x, &c) in small.iter().enumerate() {
                let (t, e, _) = token(x as u64, d, mb);
                counts[usize::from(t)] += c;
                extra += e as usize * c as usize;
            }
            for (nb, row) in big.iter().enumerate().skip(8) {
                for (top2, &c) in row.iter().enumerate() {
                    let t = (1 << d) + ((nb as u32 - d - 1) << mb) + (top2 as u32 >> (2 - mb));
                    counts[t as usize] += c;
                    extra += (nb - 1 - mb as usize) * c as usize;
                }
            }
            let Some(est) = rans::estimate(&counts) else {
                continue;
            };
            let size = est + extra.div_ceil(8) + 2;
            if best.is_none_or(|b| size < b.2) {
                best = Some((d, mb, size));
            }
        }
        best
    }

    fn write_tokens(&self, v: &[u64], c: u64, d: u32, mb: u32, out: &mut Vec<u8>) -> bool {
        let toks: Vec<(u8, u32, u64)> = v.iter().map(|&x| token(x, d, mb)).collect();
        let Some((model, _)) = rans::best_model(toks.iter().map(|t| t.0)) else {
            return false;
        };
        out.push(TOKENS);
        out.push(self.transform);
        for &p in &self.params {
            put_ivarint(out, p);
        }
        // r = base + g·u = (base + g·c) + g·(u − c)
        put_ivarint(out, self.base.wrapping_add(self.g.wrapping_mul(c) as i64));
        put_uvarint(out, self.g);
        out.push(d as u8);
        out.push(mb as u8);
        let syms: Vec<u8> = toks.iter().map(|t| t.0).collect();
        model.encode(&syms, out);
        let mut bw = BitWriter::new(Vec::new());
        for &(_, e, bits) in &toks {
            bw.put(bits, e);
        }
        let extra = bw.finish();
        put_uvarint(out, extra.len() as u64);
        out.extend_from_slice(&extra);
        true
    }

    /// Low `k` bits bit-packed, the high `w - k` (at most 8) bits rANS-coded.
    fn write_split(&self, k: u32, out: &mut Vec<u8>) -> bool {
        let hi: Vec<u8> = self.u.iter().map(|&v| (v >> k) as u8).collect();
        let Some((model, _)) = rans::best_model(hi.iter().copied()) else {
            return false;
        };
        out.push(SPLIT);
        self.header(out);
        out.push(k as u8);
        model.encode(&hi, out);
        if k > 0 {
            let mask = (1u64 << k) - 1;
            let lo: Vec<u64> = self.u.iter().map(|&v| v & mask).collect();
            pack(&lo, k, out);
        }
        true
    }
}

fn residuals(x: &[i64], transform: u8) -> (Vec<i64>, Vec<i64>) {
    match transform {
        T_DELTA => {
            let r = x.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            (vec![x[0]], r)
        }
        T_DOD => {
            let d1 = x[1].wrapping_sub(x[0]);
            let r = x
                .windows(3)
                .map(|w| {
                    w[2].wrapping_sub(w[1])
                        .wrapping_sub(w[1].wrapping_sub(w[0]))
                })
                .collect();
            (vec![x[0], d1], r)
        }
        T_LINEAR => {
            let d = slope(x);
            let r = x
                .iter()
                .enumerate()
                .map(|(i, &v)| v.wrapping_sub((i as i64).wrapping_mul(d)))
                .collect();
            (vec![d], r)
        }
        _ => (Vec::new(), x.to_vec()),
    }
}

/// Least-squares slope of `x` against its index, rounded to a multiple of the common divisor
/// of the values' differences (so the residuals keep that divisor).
fn slope(x: &[i64]) -> i64 {
    let n = x.len() as f64;
    let mean_i = (n - 1.0) / 2.0;
    let x0 = x[0];
    let ys: Vec<f64> = x.iter().map(|&v| v.wrapping_sub(x0) as f64).collect();
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let di = i as f64 - mean_i;
        sxy += di * (y - mean_y);
        sxx += di * di;
    }
    let s = sxy / sxx;
    let mut g = 0u64;
    for &v in x {
        let a = v.wrapping_sub(x0).unsigned_abs();
        if g > 1 && a % g == 0 {
            continue;
        }
        g = gcd(g, a);
        if g == 1 {
            break;
        }
    }
    if g <= 1 || g > (1 << 53) {
        return s.round() as i64;
    }
    let gf = g as f64;
    ((s / gf).round() as i64).wrapping_mul(g as i64)
}

fn runs(x: &[i64]) -> usize {
    1 + x.windows(2).filter(|w| w[0] != w[1]).count()
}

fn write_rle(x: &[i64], out: &mut Vec<u8>) {
    out.push(RLE);
    put_uvarint(out, runs(x) as u64);
    let mut prev = 0i64;
    let mut i = 0;
    while i < x.len() {
        let v = x[i];
        let mut j = i + 1;
        while j < x.len() && x[j] == v {
            j += 1;
        }
        put_ivarint(out, v.wrapping_sub(prev));
        put_uvarint(out, (j - i - 1) as u64);
        prev = v;
        i = j;
    }
}

/// Appends the integer stream of `x` (scheme byte first), choosing the smallest candidate.
pub(crate) fn encode(x: &[i64], out: &mut Vec<u8>) {
    let n = x.len();
    if n == 0 || x.iter().all(|&v| v == x[0]) {
        out.push(CONST);
        put_ivarint(out, x.first().copied().unwrap_or(0));
        return;
    }
    if n >= 2 {
        let d = x[1].wrapping_sub(x[0]);
        if x.windows(2).all(|w| w[1].wrapping_sub(w[0]) == d) {
            out.push(STEP);
            put_ivarint(out, x[0]);
            put_ivarint(out, d);
            return;
        }
    }
    let mut transforms = vec![T_RAW];
    if n >= 2 {
        transforms.push(T_DELTA);
    }
    if n >= 3 {
        transforms.push(T_DOD);
        transforms.push(T_LINEAR);
    }
    let mut plans: Vec<Plan> = transforms
        .into_iter()
        .map(|t| {
            let (params, r) = residuals(x, t);
            Plan::new(t, params, &r)
        })
        .collect();
    plans.sort_by_key(|p| (p.packed_size(), p.transform));

    let mut best = Vec::new();
    plans[0].write_packed(&mut best);
    let mut cand = Vec::new();

    let try_keep = |cand: &mut Vec<u8>, best: &mut Vec<u8>| {
        if cand.len() < best.len() {
            std::mem::swap(cand, best);
        }
        cand.clear();
    };

    // zstd over the bit-packed bytes (catches repetition that bit packing cannot see).
    if best.len() > 24 {
        if let Some(frame) = zst::compress(&best[1..]) {
            if frame.len() + 1 < best.len() {
                cand.push(best[0] | ZSTD);
                cand.extend_from_slice(&frame);
                try_keep(&mut cand, &mut best);
            }
        }
    }
    // Entropy coding, for peaky residual distributions: rANS-coded high bits over packed
    // low bits, or rANS-coded tokens (for heavy tails). Ranked by estimate, then measured.
    let mut entropy: Vec<(usize, usize, u8)> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        if plan.w == 0 || plan.u.len() < 8 {
            continue;
        }
        if let Some((_, est)) = plan.best_split() {
            entropy.push((est, i, SPLIT));
        }
        if let Some((_, _, est)) = Plan::best_tokens(&plan.centred().0) {
            entropy.push((est, i, TOKENS));
        }
    }
    entropy.sort_unstable();
    for &(est, i, scheme) in entropy.iter().take(2) {
        if est >= best.len() + 8 {
            break;
        }
        let plan = &plans[i];
        let ok = if scheme == SPLIT {
            plan.best_split()
                .is_some_and(|(k, _)| plan.write_split(k, &mut cand))
        } else {
            let (v, c) = plan.centred();
            Plan::best_tokens(&v)
                .is_some_and(|(d, mb, _)| plan.write_tokens(&v, c, d, mb, &mut cand))
        };
        if ok {
            try_keep(&mut cand, &mut best);
        }
        cand.clear();
    }
    // Run-length, for values that rarely change.
    if runs(x) * 3 <= n {
        write_rle(x, &mut cand);
        try_keep(&mut cand, &mut best);
    }
    out.extend_from_slice(&best);
}

fn err(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError { offset, reason }
}

/// Decodes an integer stream of exactly `n` values from all of `buf`, handing them to `sink`
/// in slices (at most [`CHUNK`] values each) of two's-complement bits (`v as i64` gives
/// the signed value).
pub(crate) fn decode<F: FnMut(&[u64])>(
    buf: &[u8],
    n: usize,
    sink: &mut F,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    let scheme = r.u8()?;
    if scheme & ZSTD != 0 {
        let mut payload = Vec::new();
        zst::decompress_into(&buf[1..], max_payload(n), &mut payload, 1)?;
        return decode_payload(scheme & !ZSTD, &payload, n, sink).map_err(|e| err(1, e.reason));
    }
    decode_payload(scheme, &buf[1..], n, sink).map_err(|e| err(e.offset + 1, e.reason))
}

/// Hands `len` copies of `v` to `sink`.
fn repeat<F: FnMut(&[u64])>(v: u64, mut len: usize, sink: &mut F) {
    let chunk = [v; 256];
    while len > 0 {
        let k = len.min(chunk.len());
        sink(&chunk[..k]);
        len -= k;
    }
}

fn decode_payload<F: FnMut(&[u64])>(
    scheme: u8,
    buf: &[u8],
    n: usize,
    sink: &mut F,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    match scheme {
        CONST => {
            let v = r.ivarint()?;
            end(&r)?;
            repeat(v as u64, n, sink);
            Ok(())
        }
        RLE => decode_rle(&mut r, n, sink),
        STEP => {
            let first = r.ivarint()? as u64;
            let d = r.ivarint()? as u64;
            end(&r)?;
            let mut buf = [0u64; CHUNK];
            let mut x = first;
            let mut left = n;
            while left > 0 {
                let k = left.min(CHUNK);
                for o in &mut buf[..k] {
                    *o = x;
                    x = x.wrapping_add(d);
                }
                sink(&buf[..k]);
                left -= k;
            }
            Ok(())
        }
        PACKED | SPLIT | TOKENS => decode_for(&mut r, scheme, n, sink),
        _ => Err(err(0, "unknown integer scheme")),
    }
}

fn end(r: &Reader) -> Result<(), DecodeError> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(err(r.position(), "trailing bytes after the column"))
    }
}

fn decode_rle<F: FnMut(&[u64])>(r: &mut Reader, n: usize, sink: &mut F) -> Result<(), DecodeError> {
    let count = r.count(2)?;
    let mut left = n;
    let mut prev = 0i64;
    for _ in 0..count {
        let at = r.position();
        let v = prev.wrapping_add(r.ivarint()?);
        let len = r.uvarint()?;
        if len >= left as u64 {
            return Err(err(at, "run longer than the column"));
        }
        let len = len as usize + 1;
        left -= len;
        repeat(v as u64, len, sink);
        prev = v;
    }
    end(r)?;
    if left != 0 {
        return Err(err(r.position(), "runs shorter than the column"));
    }
    Ok(())
}

/// The fields shared by the frame-of-reference schemes.
struct ForHeader {
    transform: u8,
    params: [u64; 2],
    base: u64,
    g: u64,
    /// Number of residuals.
    m: usize,
}

fn decode_for<F: FnMut(&[u64])>(
    r: &mut Reader,
    scheme: u8,
    n: usize,
    sink: &mut F,
) -> Result<(), DecodeError> {
    let transform = r.u8()?;
    let nparams = match transform {
        T_RAW => 0,
        T_DELTA | T_LINEAR => 1,
        T_DOD => 2,
        _ => return Err(err(r.position() - 1, "unknown integer transform")),
    };
    let mut params = [0u64; 2];
    for p in params.iter_mut().take(nparams) {
        *p = r.ivarint()? as u64;
    }
    let base = r.ivarint()? as u64;
    let g = r.uvarint()?;
    let m = match transform {
        T_DELTA => n.saturating_sub(1),
        T_DOD => n.saturating_sub(2),
        _ => n,
    };
    let h = ForHeader {
        transform,
        params,
        base,
        g,
        m,
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => decode_residuals(r, scheme, n, &h, &mut scratch, sink),
        // Re-entered from a sink (never done here, but stay correct): fresh buffers.
        Err(_) => decode_residuals(r, scheme, n, &h, &mut Box::new(Scratch::new()), sink),
    })
}

/// Per-thread decode buffers, so no call zeroes 17 KiB of stack.
struct Scratch {
    table: [u32; rans::TABLE],
    buf: [u64; CHUNK],
    hbuf: [u8; CHUNK],
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            table: [0; rans::TABLE],
            buf: [0; CHUNK],
            hbuf: [0; CHUNK],
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Box<Scratch>> =
        std::cell::RefCell::new(Box::new(Scratch::new()));
}

/// How the residuals `u` are stored.
enum Packing<'a, 't> {
    /// Bit-packed at width `k` (the whole width).
    Packed,
    /// Low `k` bits packed, high bits rANS-coded.
    Split(rans::Decoder<'a, 't>),
    /// rANS-coded tokens of shape `(d, mb)` plus extra bits; `u = unzigzag(v)`.
    Tokens(rans::Decoder<'a, 't>, u32, u32, BitReader<'a>),
}

fn decode_residuals<F: FnMut(&[u64])>(
    r: &mut Reader,
    scheme: u8,
    n: usize,
    h: &ForHeader,
    scratch: &mut Scratch,
    sink: &mut F,
) -> Result<(), DecodeError> {
    let Scratch { table, buf, hbuf } = scratch;
    let m = h.m;
    let at = r.position();
    let (k, packed, mut packing) = if scheme == TOKENS {
        let d = u32::from(r.u8()?);
        let mb = u32::from(r.u8()?);
        if !TOKEN_SHAPES.contains(&(d, mb)) {
            return Err(err(at, "unknown token shape"));
        }
        let dec = rans::Decoder::new(r, table)?;
        let extra = r.bytes()?;
        (
            0,
            &[][..],
            Packing::Tokens(dec, d, mb, BitReader::new(extra)),
        )
    } else {
        let w = u32::from(r.u8()?);
        if w > 64 {
            return Err(err(at, "bit width above 64"));
        }
        if scheme == SPLIT {
            let k_at = r.position();
            let k = u32::from(r.u8()?);
            if k >= w || w - k > 8 {
                return Err(err(k_at, "bad split of the bit width"));
            }
            let dec = rans::Decoder::new(r, table)?;
            (k, r.take(packed_len(m, k))?, Packing::Split(dec))
        } else {
            (w, r.take(packed_len(m, w))?, Packing::Packed)
        }
    };
    end(r)?;

    // Values that precede the residuals.
    let (base, g, d) = (h.base, h.g, h.params[0]);
    let (mut acc, mut acc_d) = (h.params[0], h.params[1]);
    match h.transform {
        T_DELTA if n >= 1 => sink(&[acc]),
        T_DOD if n >= 1 => {
            let first = [acc, acc.wrapping_add(acc_d)];
            sink(&first[..n.min(2)]);
            acc = first[1];
        }
        _ => {}
    }
    let mut done = 0usize;
    while done < m {
        let len = (m - done).min(CHUNK);
        let u = &mut buf[..len];
        match &mut packing {
            Packing::Packed | Packing::Split(_) => {
                // `done` is a multiple of CHUNK, so `done · k` bits is a whole number of bytes.
                let off = done / 8 * k as usize;
                unpack(packed.get(off..).unwrap_or(&[]), k, u);
            }
            Packing::Tokens(..) => {}
        }
        match &mut packing {
            Packing::Packed => {}
            Packing::Split(dec) => {
                let hi = &mut hbuf[..len];
                dec.decode(hi);
                for (v, &h) in u.iter_mut().zip(hi.iter()) {
                    *v |= u64::from(h) << k;
                }
            }
            Packing::Tokens(dec, td, tm, extra) => {
                let hi = &mut hbuf[..len];
                dec.decode(hi);
                for (v, &t) in u.iter_mut().zip(hi.iter()) {
                    *v = unzigzag(untoken(t, *td, *tm, extra)?) as u64;
                }
            }
        }
        // r = base + g·u, then the inverse transform, in place (wrapping u64 arithmetic is
        // two's-complement i64 arithmetic).
        match (h.transform, g) {
            (T_RAW, 1) => u.iter_mut().for_each(|v| *v = v.wrapping_add(base)),
            (T_RAW, _) => u
                .iter_mut()
                .for_each(|v| *v = v.wrapping_mul(g).wrapping_add(base)),
            (T_DELTA, _) => {
                for v in u.iter_mut() {
                    acc = acc.wrapping_add(v.wrapping_mul(g).wrapping_add(base));
                    *v = acc;
                }
            }
            (T_DOD, _) => {
                for v in u.iter_mut() {
                    acc_d = acc_d.wrapping_add(v.wrapping_mul(g).wrapping_add(base));
                    acc = acc.wrapping_add(acc_d);
                    *v = acc;
                }
            }
            _ => {
                let mut t = (done as u64).wrapping_mul(d).wrapping_add(base);
                if g == 1 {
                    for v in u.iter_mut() {
                        *v = v.wrapping_add(t);
                        t = t.wrapping_add(d);
                    }
                } else {
                    for v in u.iter_mut() {
                        *v = v.wrapping_mul(g).wrapping_add(t);
                        t = t.wrapping_add(d);
                    }
                }
            }
        }
        sink(u);
        done += len;
    }
    match packing {
        Packing::Packed => Ok(()),
        Packing::Split(dec) => dec.finish(at),
        Packing::Tokens(dec, _, _, extra) => {
            dec.finish(at)?;
            extra.finish(at)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tokens: a value `v` below `2^d` is its own token; a larger one is coded by its bit length
// and the `mb` bits below its top bit, the rest going raw to the extra-bit stream.

/// The token shapes `(d, mb)` an encoder may use (each has at most 256 tokens).
pub(crate) const TOKEN_SHAPES: [(u32, u32); 5] = [(3, 2), (4, 2), (5, 1), (6, 1), (7, 1)];

/// `(token, extra bit count, extra bits)` of `v`.
#[inline]
fn token(v: u64, d: u32, mb: u32) -> (u8, u32, u64) {
    if v < 1 << d {
        return (v as u8, 0, 0);
    }
    let nb = 64 - v.leading_zeros();
    let extra = nb - 1 - mb;
    let top = (v >> extra) & ((1 << mb) - 1);
    let t = (1 << d) + ((nb - d - 1) << mb) + top as u32;
    (t as u8, extra, v & ((1u64 << extra) - 1))
}

#[inline]
fn untoken(t: u8, d: u32, mb: u32, extra: &mut BitReader) -> Result<u64, DecodeError> {
    let t = u32::from(t);
    if t < 1 << d {
        return Ok(u64::from(t));
    }
    let i = t - (1 << d);
    let nb = d + 1 + (i >> mb);
    if nb > 64 {
        return Err(err(0, "token beyond 64 bits"));
    }
    let top = u64::from((1 << mb) | (i & ((1 << mb) - 1)));
    let e = nb - 1 - mb;
    Ok((top << e) | extra.get(e)?)
}
