//! The integer stream: the encoding of a sequence of `i64` shared by timestamps, integers,
//! unsigned integers (bit-cast), the decimal path of floats and dictionary indices.
//!
//! See the module documentation of [`crate::codec`] for the byte layout. All arithmetic is
//! wrapping (two's complement), so every `i64`/`u64` sequence round-trips, including
//! deltas that overflow.

use std::borrow::Cow;

use crate::encoding::{put_ivarint, put_uvarint, zigzag, DecodeError, Reader};

use super::bitpack::{bit_width, pack, packed_len, unpack};
use super::{huffman, zst, Effort};

/// Values decoded per pass: the unpack buffers live on the stack.
pub(crate) const CHUNK: usize = 1024;

pub(crate) const CONST: u8 = 0x01;
pub(crate) const PACKED: u8 = 0x02;
pub(crate) const SPLIT: u8 = 0x03;
pub(crate) const RLE: u8 = 0x04;
pub(crate) const STEP: u8 = 0x05;
pub(crate) const PATCHED: u8 = 0x06;
/// Set in a scheme byte: the payload after the scheme byte is one zstd frame holding the
/// payload of the scheme in the low bits.
pub(crate) const ZSTD: u8 = 0x80;

pub(crate) const T_RAW: u8 = 0;
pub(crate) const T_DELTA: u8 = 1;
pub(crate) const T_DOD: u8 = 2;
pub(crate) const T_LINEAR: u8 = 3;

/// Flags of split and patched streams: the coded residuals are `zigzag(u − c)`.
const F_ZIGZAG: u8 = 1;
/// Flag of split streams: the alphabet's last symbol `E` is an escape (the high part is
/// `E` plus the next value of the escape list).
const F_ESCAPES: u8 = 2;
/// The largest escape symbol.
const ESC: u64 = 255;
/// The escape symbols an encoder considers.
const CAPS: [u64; 5] = [15, 31, 63, 127, 255];

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

fn varint_len(v: u64) -> usize {
    (bit_width(v).max(1) as usize).div_ceil(7)
}

/// `c · log2(c)`, tabulated for small `c` (the estimates run for many candidate splits).
fn c_log_c(c: u32) -> f64 {
    use std::sync::OnceLock;
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..=4096u32)
            .map(|c| {
                if c == 0 {
                    0.0
                } else {
                    c as f32 * (c as f32).log2()
                }
            })
            .collect()
    });
    match t.get(c as usize) {
        Some(&v) => f64::from(v),
        None => f64::from(c) * f64::from(c).log2(),
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

    /// Appends the FOR header, with `base` (the plan's, or shifted by a centre).
    fn header(&self, base: i64, out: &mut Vec<u8>) {
        out.push(self.transform);
        for &p in &self.params {
            put_ivarint(out, p);
        }
        put_ivarint(out, base);
        put_uvarint(out, self.g);
    }

    fn packed_size(&self) -> usize {
        // Header bytes estimated generously; only used to rank candidates.
        4 + 10 * self.params.len() + 10 + packed_len(self.u.len(), self.w)
    }

    fn write_packed(&self, out: &mut Vec<u8>) {
        out.push(PACKED);
        self.header(self.base, out);
        out.push(self.w as u8);
        pack(&self.u, self.w, out);
    }

    /// The coded residuals of a variant: `u`, or `zigzag(u − median)` with the shifted base.
    fn variant(&self, zig: bool) -> Variant<'_> {
        if !zig {
            return Variant {
                flags: 0,
                base: self.base,
                v: Cow::Borrowed(&self.u),
            };
        }
        let mut sorted = self.u.clone();
        let mid = sorted.len() / 2;
        let c = *sorted.select_nth_unstable(mid).1;
        // r = base + g·u = (base + g·c) + g·(u − c)
        Variant {
            flags: F_ZIGZAG,
            base: self.base.wrapping_add(self.g.wrapping_mul(c) as i64),
            v: Cow::Owned(
                self.u
                    .iter()
                    .map(|&x| zigzag(x.wrapping_sub(c) as i64))
                    .collect(),
            ),
        }
    }
}

/// Counts of `min(x >> k0, 1023)`: exact counts of `min(x >> k, 255)` for `k` in
/// `k0..=k0 + 2`.
struct FineHist {
    k0: u32,
    counts: [u32; 1024],
    max: u64,
}

impl FineHist {
    fn new(v: &[u64], k0: u32) -> FineHist {
        // Two interleaved histograms: repeated values do not wait on each other's increments.
        let mut c = [[0u32; 1024]; 2];
        let mut max = 0u64;
        let mut pairs = v.chunks_exact(2);
        for p in &mut pairs {
            c[0][(p[0] >> k0).min(1023) as usize] += 1;
            c[1][(p[1] >> k0).min(1023) as usize] += 1;
            max = max.max(p[0]).max(p[1]);
        }
        for &x in pairs.remainder() {
            c[0][(x >> k0).min(1023) as usize] += 1;
            max = max.max(x);
        }
        let mut counts = c[0];
        for (a, b) in counts.iter_mut().zip(&c[1]) {
            *a += b;
        }
        FineHist { k0, counts, max }
    }

    /// Counts of `min(x >> k, 255)` and the largest `x >> k`.
    fn at(&self, k: u32) -> ([u32; 256], u64) {
        debug_assert!((self.k0..=self.k0 + 2).contains(&k));
        let shift = k - self.k0;
        let mut out = [0u32; 256];
        for (j, &c) in self.counts.iter().enumerate() {
            out[(j >> shift).min(255)] += c;
        }
        (out, self.max >> k)
    }
}

/// A split layout, measured but not written.
struct SplitPlan {
    k: u32,
    /// The escape symbol, if any.
    cap: Option<u64>,
    code: huffman::Code,
    /// Estimated bytes plus `penalty`.
    score: usize,
    /// What the alphabet and the escapes cost in decoding time, in bytes.
    penalty: usize,
}

/// Residuals ready to code: `r = base + g·f(v)`, `f` the identity or unzigzag.
struct Variant<'p> {
    flags: u8,
    base: i64,
    v: Cow<'p, [u64]>,
}

/// A histogram precise for small values and logarithmic above, as a list of bins
/// `(lowest value, highest value, count)` in ascending order: enough to estimate every split
/// and patched layout of a variant from one pass.
struct LogHist {
    bins: Vec<(u64, u64, u32)>,
    m: usize,
}

impl LogHist {
    fn new(v: &[u64]) -> LogHist {
        // Four interleaved histograms of the small values: a run of equal values does not
        // wait on its own increments.
        let mut small = [[0u32; 256]; 4];
        // By bit length (9..=64) and the 4 bits below the top bit.
        let mut big = [[0u32; 16]; 65];
        for (i, &x) in v.iter().enumerate() {
            if x < 256 {
                small[i & 3][x as usize] += 1;
            } else {
                let nb = bit_width(x);
                big[nb as usize][((x >> (nb - 5)) & 15) as usize] += 1;
            }
        }
        let [s0, s1, s2, s3] = &small;
        let mut bins = Vec::new();
        for (x, (((&a, &b), &c), &d)) in s0.iter().zip(s1).zip(s2).zip(s3).enumerate() {
            let count = a + b + c + d;
            if count > 0 {
                bins.push((x as u64, x as u64, count));
            }
        }
        for (nb, row) in big.iter().enumerate().skip(9) {
            for (t, &c) in row.iter().enumerate() {
                if c > 0 {
                    let lo = (16 + t as u64) << (nb - 5);
                    bins.push((lo, lo + ((1u64 << (nb - 5)) - 1), c));
                }
            }
        }
        LogHist { bins, m: v.len() }
    }

    /// The smallest value with at least `q`·m values at or below it (roughly).
    fn quantile(&self, q: f64) -> u64 {
        let want = (self.m as f64 * q).ceil() as u64;
        let mut seen = 0u64;
        for &(_, hi, c) in &self.bins {
            seen += u64::from(c);
            if seen >= want {
                return hi;
            }
        }
        self.bins.last().map_or(0, |b| b.1)
    }

    /// Estimated bytes of a split at `k` (high parts Huffman-coded, escapes above 254), and
    /// the estimated alphabet size.
    fn split_estimate(&self, k: u32) -> (usize, usize) {
        let mut bits = c_log_c(self.m as u32);
        let mut esc = 0u32;
        let mut esc_top = 0u64;
        let mut used = 0u64;
        let mut top = 0u64;
        // Bins within one high part merge; a bin over several is spread evenly over them.
        let (mut cur, mut cur_c) = (u64::MAX, 0u32);
        for &(lo, hi, c) in &self.bins {
            let (a, b) = (lo >> k, hi >> k);
            if a >= ESC {
                esc += c;
                esc_top = esc_top.max(b - ESC);
                continue;
            }
            if a == b && a == cur {
                cur_c += c;
                continue;
            }
            bits -= c_log_c(cur_c);
            (cur, cur_c) = (u64::MAX, 0);
            if a == b {
                (cur, cur_c) = (a, c);
                used += 1;
            } else {
                let r = b.min(ESC - 1) - a + 1;
                bits += f64::from(c) * f64::from(bit_width(r) - 1) - c_log_c(c);
                used += r.min(u64::from(c));
            }
            top = b.min(ESC - 1);
        }
        bits -= c_log_c(cur_c);
        if esc > 0 {
            bits -= c_log_c(esc);
            used += 1;
            top = ESC;
        }
        // Huffman's redundancy, the code lengths, the stream lengths.
        let bytes = (bits * 1.02 / 8.0) as usize
            + packed_len(esc as usize, bit_width(esc_top))
            + (used as usize * 5 + top as usize) / 8
            + 12
            + packed_len(self.m, k);
        (bytes, top as usize + 1)
    }

    /// The best split: `(k, score)`, the score being the estimated bytes plus a penalty per
    /// alphabet symbol (large alphabets decode more slowly).
    fn best_split(&self, w: u32) -> (u32, usize) {
        let bulk = bit_width(self.quantile(0.9));
        let mut best = (w, usize::MAX);
        for k in (bulk.saturating_sub(7)..w).rev() {
            if k + 8 < w && k > bulk {
                continue;
            }
            let (bytes, alphabet) = self.split_estimate(k);
            let score = bytes + alphabet / ALPHABET_PER_BYTE;
            if score < best.1 {
                best = (k, score);
            }
        }
        best
    }

    /// The best patched width: `(b, estimated bytes)`.
    fn best_patched(&self, w: u32) -> (u32, usize) {
        // Counts by bit length.
        let mut by_len = [0usize; 65];
        for &(lo, _, c) in &self.bins {
            by_len[bit_width(lo) as usize] += c as usize;
        }
        let mut best = (w, usize::MAX);
        let mut exceptions = 0usize;
        for b in (0..=w).rev() {
            if b < w {
                exceptions += by_len[b as usize + 1];
            }
            if exceptions * 8 > self.m {
                break;
            }
            // The exceptions' high parts: varints of `nb − b` bits.
            let high: usize = (b as usize + 1..=w as usize)
                .map(|nb| by_len[nb] * (nb - b as usize).div_ceil(7))
                .sum();
            let gaps = exceptions * varint_len((self.m / exceptions.max(1)) as u64);
            let e = packed_len(self.m, b) + high + gaps + varint_len(exceptions as u64);
            if e < best.1 {
                best = (b, e);
            }
        }
        best
    }
}

/// Score (in bytes) of each escape of a split: escapes are found by a scan and patched one
/// by one.
const ESCAPE_PENALTY: f64 = 1.0;

/// Percentage of the bit-packed size that a split must save to be chosen.
const MIN_SPLIT_SAVING: usize = 0;

/// Alphabet symbols that cost as much as one byte when choosing among splits (a larger
/// alphabet takes longer to build a table for, and has longer codes).
const ALPHABET_PER_BYTE: usize = 4;

impl Plan {
    /// Measures a split at `k`: the low `k` bits bit-packed, the high parts Huffman-coded
    /// (those at or above a cap escaped).
    fn plan_split(&self, var: &Variant, k: u32, fine: &FineHist) -> Option<SplitPlan> {
        // Exact counts below 255, and the largest high part.
        let (counts, top) = fine.at(k);
        // Bytes of the escape list with a cap: its count, width, and packed high parts.
        let esc_bytes = |c: u64| -> usize {
            let count: u32 = counts[c as usize..].iter().sum();
            let count = count as usize;
            varint_len(count as u64) + 1 + packed_len(count, bit_width(top.saturating_sub(c)))
        };
        // The cap (escape symbol): the cheapest by estimate, none possible only if every high
        // part is below 255.
        let total = c_log_c(var.v.len() as u32);
        let score = |c: u64| -> f64 {
            let mut bits = total;
            let mut esc = 0u32;
            for (h, &n) in counts.iter().enumerate() {
                if (h as u64) < c {
                    bits -= c_log_c(n);
                } else {
                    esc += n;
                }
            }
            bits -= c_log_c(esc);
            bits / 8.0
                + esc_bytes(c) as f64
                + (c as f64) * (0.5 + 1.0 / ALPHABET_PER_BYTE as f64)
                + f64::from(esc) * ESCAPE_PENALTY
        };
        let mut cap = None;
        let mut best = if top < 255 {
            score(top + 1) - (esc_bytes(top + 1) as f64)
        } else {
            f64::INFINITY
        };
        for &c in &CAPS {
            if c < top {
                let e = score(c);
                if e < best {
                    best = e;
                    cap = Some(c);
                }
            }
        }
        // The symbols' counts, the code, and the (nearly exact) size.
        let mut sym_counts = counts;
        let mut extra = 0;
        if let Some(c) = cap {
            sym_counts[c as usize] = counts[c as usize..].iter().sum();
            sym_counts[c as usize + 1..].fill(0);
            extra = esc_bytes(c);
        }
        let code = huffman::Code::new(&sym_counts)?;
        let alphabet = sym_counts.iter().rposition(|&c| c > 0).unwrap_or(0) + 1;
        let escapes = if cap.is_some() {
            sym_counts[alphabet - 1]
        } else {
            0
        };
        let bytes = 2
            + self.params.len() * 9
            + varint_len(zigzag(var.base))
            + varint_len(self.g)
            + 2
            + code.size(&sym_counts)
            + packed_len(var.v.len(), k)
            + extra;
        let penalty = alphabet / ALPHABET_PER_BYTE + (f64::from(escapes) * ESCAPE_PENALTY) as usize;
        Some(SplitPlan {
            k,
            cap,
            code,
            score: bytes + penalty,
            penalty,
        })
    }

    /// Writes a planned split; returns its score (bytes plus the penalties of its alphabet
    /// and escapes).
    fn write_split(&self, var: &Variant, plan: &SplitPlan, out: &mut Vec<u8>) -> usize {
        let (k, cap) = (plan.k, plan.cap);
        let hi = |x: u64| x >> k;
        let syms: Vec<u8> = var
            .v
            .iter()
            .map(|&x| match cap {
                Some(c) => hi(x).min(c) as u8,
                None => hi(x) as u8,
            })
            .collect();
        let start = out.len();
        out.push(SPLIT);
        self.header(var.base, out);
        out.push(var.flags | if cap.is_some() { F_ESCAPES } else { 0 });
        out.push(k as u8);
        plan.code.encode(&syms, out);
        if k > 0 {
            let mask = (1u64 << k) - 1;
            let lo: Vec<u64> = var.v.iter().map(|&x| x & mask).collect();
            pack(&lo, k, out);
        }
        if let Some(c) = cap {
            let esc: Vec<u64> = var
                .v
                .iter()
                .map(|&x| hi(x))
                .filter(|&h| h >= c)
                .map(|h| h - c)
                .collect();
            let we = bit_width(esc.iter().copied().max().unwrap_or(0));
            put_uvarint(out, esc.len() as u64);
            out.push(we as u8);
            pack(&esc, we, out);
        }
        out.len() - start + plan.penalty
    }

    /// Patched: every value's low `b` bits bit-packed, the few wider values' high parts
    /// listed with their positions.
    fn write_patched(&self, var: &Variant, b: u32, out: &mut Vec<u8>) {
        let mask = if b == 64 { u64::MAX } else { (1u64 << b) - 1 };
        out.push(PATCHED);
        self.header(var.base, out);
        out.push(var.flags);
        out.push(b as u8);
        let lo: Vec<u64> = var.v.iter().map(|&x| x & mask).collect();
        pack(&lo, b, out);
        let exc: Vec<usize> = (0..var.v.len()).filter(|&i| var.v[i] > mask).collect();
        put_uvarint(out, exc.len() as u64);
        let mut next = 0usize;
        for &i in &exc {
            put_uvarint(out, (i - next) as u64);
            put_uvarint(out, var.v[i] >> b);
            next = i + 1;
        }
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
pub(crate) fn encode(x: &[i64], effort: Effort, out: &mut Vec<u8>) {
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
    encode_general(x, effort, out);
}

/// [`encode`] past the constant and constant-step cases (kept apart: its stack frame, with
/// the histograms, is large, and the cheap cases should not pay for setting it up).
#[inline(never)]
fn encode_general(x: &[i64], effort: Effort, out: &mut Vec<u8>) {
    let n = x.len();
    let mut transforms = vec![T_RAW];
    if n >= 2 {
        transforms.push(T_DELTA);
    }
    // The fast effort keeps to raw values and deltas: deltas less their minimum pack grid
    // timestamps to their jitter's width, within a bit of what the other transforms reach.
    if n >= 3 && effort == Effort::Thorough {
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
    let packed_len = best.len();
    let mut cand = Vec::new();
    if effort == Effort::Fast {
        // Bit packing with the best transform (plus runs, below): no zstd, no entropy coding.
        if runs(x) * 3 <= n {
            write_rle(x, &mut cand);
            if cand.len() < best.len() {
                best = cand;
            }
        }
        out.extend_from_slice(&best);
        return;
    }

    // zstd over the bit-packed bytes (catches repetition that bit packing cannot see).
    if best.len() > 24 {
        if let Some(frame) = zst::compress(&best[1..]) {
            if frame.len() + 1 < best.len() {
                cand.push(best[0] | ZSTD);
                cand.extend_from_slice(&frame);
                std::mem::swap(&mut cand, &mut best);
                cand.clear();
            }
        }
    }
    // Candidates are compared by score: bytes, plus a penalty for what decodes slowly (a
    // zstd frame; a split's alphabet and escapes).
    let mut best_score = if best[0] & ZSTD != 0 {
        best.len() + best.len() / 8
    } else {
        best.len()
    };
    let keep = |cand: &mut Vec<u8>, score: usize, best: &mut Vec<u8>, best_score: &mut usize| {
        if score < *best_score {
            std::mem::swap(cand, best);
            *best_score = score;
        }
        cand.clear();
    };
    // Split (Huffman-coded high parts over packed low bits: peaky distributions) and
    // patched (packed narrow, a few wide values listed: rare outliers), on the residuals or
    // centred on their median. Ranked by estimate, then the best few written and measured.
    let mut ranked: Vec<(usize, usize, bool, u8, u32)> = Vec::new();
    let mut variants: Vec<[Option<Variant>; 2]> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        variants.push([None, None]);
        // Entropy coding saves at most a few bits a value: the plan packing worst, and plans
        // packing to far more than the best, are not worth analysing (on the smart-city
        // data they never win; skipping them makes encoding 20 % faster).
        if plan.w == 0 || plan.u.len() < 8 || plan.w > plans[0].w + 8 || i >= 3 {
            continue;
        }
        for zig in [false, true] {
            // Residuals below 256 can be Huffman-coded whole (k = 0): centring them gains
            // little (0.15 % on the smart-city data) for a fifth of the encoding time.
            if zig && plan.w <= 8 {
                continue;
            }
            let var = plan.variant(zig);
            let w = bit_width(var.v.iter().copied().max().unwrap_or(0));
            let h = LogHist::new(&var.v);
            let (k, e) = h.best_split(w);
            ranked.push((e, i, zig, SPLIT, k));
            let (b, e) = h.best_patched(w);
            if b < w {
                ranked.push((e, i, zig, PATCHED, b));
            }
            variants[i][usize::from(zig)] = Some(var);
        }
    }
    ranked.sort_unstable();
    for &(est, i, zig, scheme, k) in ranked.iter().take(3) {
        if est >= best_score + best_score / 8 + 16 {
            break;
        }
        let plan = &plans[i];
        let Some(var) = &variants[i][usize::from(zig)] else {
            continue;
        };
        if scheme == SPLIT {
            // The estimate is rough: measure the neighbouring splits too, write the best.
            let k0 = k.saturating_sub(1);
            let fine = FineHist::new(&var.v, k0);
            let split = (k0..=k0 + 2)
                .filter(|&k| k < 64)
                .filter_map(|k| plan.plan_split(var, k, &fine))
                .min_by_key(|p| (p.score, p.k));
            if let Some(split) = split {
                if split.score < best_score + 8 {
                    let score = plan.write_split(var, &split, &mut cand);
                    keep(&mut cand, score, &mut best, &mut best_score);
                }
            }
        } else {
            plan.write_patched(var, k, &mut cand);
            let score = cand.len();
            keep(&mut cand, score, &mut best, &mut best_score);
        }
    }
    // Entropy coding decodes more slowly than bit packing: only when it saves enough.
    if best[0] == SPLIT && best.len() * 100 > packed_len * (100 - MIN_SPLIT_SAVING) {
        best.clear();
        plans[0].write_packed(&mut best);
    }
    // Run-length, for values that rarely change.
    if runs(x) * 3 <= n {
        write_rle(x, &mut cand);
        if cand.len() < best.len() {
            best = cand;
        }
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
        PACKED | SPLIT | PATCHED => decode_for(&mut r, scheme, n, sink),
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

/// A line bounding a stream's values: every value satisfies
/// `lo + i·step ≤ x[i] ≤ hi + i·step` (`i` its index), in exact arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearBound {
    pub step: i64,
    pub lo: i64,
    pub hi: i64,
}

/// The line that bounds the `n` values of an integer stream, read from its header alone (no
/// value is decoded): exact for constant and constant-step streams; for raw values and
/// residuals from a line (`T_RAW`, `T_LINEAR`), as wide as the residuals' frame. `None` for
/// other streams (deltas, runs, zstd frames) and for a bound that leaves the `i64` range, so
/// that wrapping arithmetic cannot make a value differ from the exact sum the bound holds.
/// Malformed headers give `None` too: decoding reports them.
pub(crate) fn linear_bound(buf: &[u8], n: usize) -> Option<LinearBound> {
    if n == 0 || n > super::MAX_VALUES {
        return None;
    }
    let mut r = Reader::new(buf);
    let (step, lo, hi) = match r.u8().ok()? {
        CONST => {
            let v = i128::from(r.ivarint().ok()?);
            (0, v, v)
        }
        STEP => {
            let first = i128::from(r.ivarint().ok()?);
            (i128::from(r.ivarint().ok()?), first, first)
        }
        scheme @ (PACKED | SPLIT | PATCHED) => for_bound(&mut r, scheme, n)?,
        _ => return None,
    };
    let last = (n - 1) as i128;
    let fits = |x: i128| {
        let end = last.checked_mul(step).and_then(|d| d.checked_add(x));
        i64::try_from(x).is_ok() && end.is_some_and(|e| i64::try_from(e).is_ok())
    };
    (fits(lo) && fits(hi)).then_some(LinearBound {
        step: step as i64,
        lo: lo as i64,
        hi: hi as i64,
    })
}

/// [`linear_bound`] of a frame-of-reference scheme: `(step, lo, hi)`.
fn for_bound(r: &mut Reader, scheme: u8, n: usize) -> Option<(i128, i128, i128)> {
    let transform = r.u8().ok()?;
    let step = match transform {
        T_RAW => 0,
        T_LINEAR => i128::from(r.ivarint().ok()?),
        _ => return None,
    };
    let base = i128::from(r.ivarint().ok()?);
    let g = i128::from(r.uvarint().ok()?);
    let flags = if scheme == PACKED { 0 } else { r.u8().ok()? };
    let k = u32::from(r.u8().ok()?);
    if k > 64 {
        return None;
    }
    // The largest coded residual `v`.
    let low = (1u128 << k) - 1;
    let v_max: u128 = match scheme {
        PACKED => low,
        SPLIT if flags & F_ESCAPES == 0 => {
            // The high parts are below the alphabet size, the code's first byte (plus one).
            let top = u128::from(*huffman::code_bytes(r).ok()?.first()?);
            ((top << k) | low).min(u128::from(u64::MAX))
        }
        SPLIT => {
            let s = huffman::Decoder::skip(r).ok()?;
            r.take(packed_len(n, k)).ok()?;
            // The escape symbol `S − 1` plus the largest listed excess.
            let count = usize::try_from(r.uvarint().ok()?).ok()?;
            let we = u32::from(r.u8().ok()?);
            if count > n || we > 64 {
                return None;
            }
            let mut escapes = vec![0u64; count];
            unpack(r.take(packed_len(count, we)).ok()?, we, &mut escapes);
            let top = (s - 1) as u128 + u128::from(escapes.into_iter().max().unwrap_or(0));
            // A high part beyond 64 bits wraps: then any value is possible.
            ((top << k) | low).min(u128::from(u64::MAX))
        }
        _ => {
            r.take(packed_len(n, k)).ok()?;
            let count = r.count(2).ok()?;
            let mut top = 0u64;
            for _ in 0..count {
                r.uvarint().ok()?;
                top = top.max(r.uvarint().ok()?);
            }
            // An exception's high part is shifted out entirely when `k` is 64.
            let high = if k < 64 { u128::from(top) << k } else { 0 };
            (high | low).min(u128::from(u64::MAX))
        }
    };
    let v_max = i128::try_from(v_max).ok()?;
    let (u_min, u_max) = if flags & F_ZIGZAG != 0 {
        (-(v_max / 2) - 1, v_max / 2)
    } else {
        (0, v_max)
    };
    let lo = base.checked_add(g.checked_mul(u_min)?)?;
    let hi = base.checked_add(g.checked_mul(u_max)?)?;
    Some((step, lo, hi))
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

/// Per-thread decode buffers, so no call zeroes 14 KiB of stack. `buf` comes first in a
/// 64-byte aligned struct: the compiler then knows that the passes' vector loads and stores on
/// it are aligned and emits them whole (for the default x86-64 target it splits 256-bit
/// accesses it cannot prove aligned into two halves). Measured on a compacted day of noise with
/// `valgrind --tool=cachegrind ganzhi query --data-dir D --runs N --threads 1 "SELECT
/// sum(laeq) FROM noise GROUP BY time(1h)"` ((N=3 − N=1) / 2): 175 → 167 M instructions.
#[repr(C, align(64))]
struct Scratch {
    buf: [u64; CHUNK],
    hbuf: [u16; CHUNK],
    table: [u16; huffman::TABLE_ALLOC],
    /// A split's escaped high parts.
    esc: Vec<u64>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            table: [0; huffman::TABLE_ALLOC],
            buf: [0; CHUNK],
            hbuf: [0; CHUNK],
            esc: Vec::new(),
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Box<Scratch>> =
        std::cell::RefCell::new(Box::new(Scratch::new()));
}

/// How the residuals are stored, besides the packed low bits.
enum Packing<'a, 't> {
    /// Nothing else.
    Packed,
    /// High parts Huffman-coded; with escapes, how many have been used.
    Split(huffman::Decoder<'a, 't>, Option<usize>),
    /// Exceptions: how many are left, the next one's position and high part, and the rest.
    Patched(usize, usize, u64, Reader<'a>),
}

/// The next exception of a patched stream: `(position, high part)`.
fn next_exception(r: &mut Reader, prev_end: usize, m: usize) -> Result<(usize, u64), DecodeError> {
    let at = r.position();
    let gap = r.uvarint()?;
    let p = (prev_end as u64).saturating_add(gap);
    if p >= m as u64 {
        return Err(err(at, "exception position outside the column"));
    }
    Ok((p as usize, r.uvarint()?))
}

/// How a chunk's residuals `v` become `r = base + g·u` (`u = v`, or `unzig(v)` with zigzag).
#[derive(Clone, Copy)]
struct Recon {
    zig: bool,
    mul: Mul,
    g: u64,
    base: u64,
    /// Bits of the packed low part (the shift of a split's high part).
    k: u32,
}

/// How `g·u` is computed.
#[derive(Clone, Copy)]
enum Mul {
    /// `g = 1`: not at all.
    One,
    /// `v < 2^31` and `g < 2^31`, so `u` and `g` are exact as `i32` and their product as
    /// `i64`: a 32×32→64-bit multiplication (one instruction per vector; a full 64-bit one
    /// takes several without AVX-512).
    Narrow,
    /// Anything else: 64-bit wrapping multiplication.
    Wide,
}

impl Recon {
    /// `v_bits`: an upper bound on the bit width of every residual `v`.
    fn new(zig: bool, g: u64, base: u64, k: u32, v_bits: u32) -> Recon {
        let mul = if g == 1 {
            Mul::One
        } else if v_bits <= 31 && g < 1 << 31 {
            Mul::Narrow
        } else {
            Mul::Wide
        };
        Recon {
            zig,
            mul,
            g,
            base,
            k,
        }
    }
}

/// `(t, D)` of the linear transform for the chunk starting at residual `done` (the chunk's
/// first trend value `done·D` and its step `D`), or `None` for any other transform.
fn linear_trend(h: &ForHeader, done: usize) -> Option<(u64, u64)> {
    (h.transform == T_LINEAR).then(|| {
        let d = h.params[0];
        ((done as u64).wrapping_mul(d), d)
    })
}

/// One vectorisable pass over a chunk: `u[i] ← r(u[i] | hi[i] << k)` (without `hi`:
/// `r(u[i])`), plus the linear trend `t + i·D` when there is one.
#[inline(always)]
fn pass(u: &mut [u64], hi: Option<&[u16]>, recon: Recon, trend: Option<(u64, u64)>) {
    macro_rules! dispatch {
        ($(($zig:literal, $mul:pat, $m:literal)),*) => {
            match (recon.zig, recon.mul, trend) {
                $(
                    ($zig, $mul, None) => pass_t::<$zig, $m, false>(u, hi, recon, (0, 0)),
                    ($zig, $mul, Some(t)) => pass_t::<$zig, $m, true>(u, hi, recon, t),
                )*
            }
        };
    }
    dispatch!(
        (false, Mul::One, 0),
        (false, Mul::Narrow, 1),
        (false, Mul::Wide, 2),
        (true, Mul::One, 0),
        (true, Mul::Narrow, 1),
        (true, Mul::Wide, 2)
    );
}

#[inline(always)]
fn pass_t<const ZIG: bool, const MUL: u8, const LINEAR: bool>(
    u: &mut [u64],
    hi: Option<&[u16]>,
    recon: Recon,
    (mut t, d): (u64, u64),
) {
    #[inline(always)]
    fn r<const ZIG: bool, const MUL: u8>(v: u64, g: u64, base: u64) -> u64 {
        let u = if ZIG {
            (v >> 1) ^ (v & 1).wrapping_neg()
        } else {
            v
        };
        let gu = match MUL {
            0 => u,
            // Exact by `Mul::Narrow`'s bounds; written so that it compiles to a signed
            // 32×32→64-bit multiplication.
            1 => (u as i32 as i64).wrapping_mul(g as i32 as i64) as u64,
            _ => u.wrapping_mul(g),
        };
        gu.wrapping_add(base)
    }
    let (g, base, k) = (recon.g, recon.base, recon.k);
    match hi {
        Some(hi) => {
            for (v, &e) in u.iter_mut().zip(hi) {
                let x = r::<ZIG, MUL>(*v | u64::from(e >> 8) << k, g, base);
                *v = if LINEAR { x.wrapping_add(t) } else { x };
                t = t.wrapping_add(d);
            }
        }
        None => {
            for v in u.iter_mut() {
                let x = r::<ZIG, MUL>(*v, g, base);
                *v = if LINEAR { x.wrapping_add(t) } else { x };
                t = t.wrapping_add(d);
            }
        }
    }
}

/// Decodes the residuals of a frame-of-reference scheme and reconstructs the values.
///
/// Its passes over each chunk (unpacking; high parts, zigzag, base, factor and linear trend in
/// one; prefix sums; the sink's conversion) vectorise: with AVX2 (four lanes) when the CPU has
/// it, else SSE2.
fn decode_residuals<F: FnMut(&[u64])>(
    r: &mut Reader,
    scheme: u8,
    n: usize,
    h: &ForHeader,
    scratch: &mut Scratch,
    sink: &mut F,
) -> Result<(), DecodeError> {
    #[cfg(target_arch = "x86_64")]
    if super::has_avx2() && super::has_bmi2() {
        // SAFETY: `decode_residuals_avx2` only requires AVX2 and BMI2, which the CPU was just
        // checked to support; it is otherwise safe code.
        return unsafe { decode_residuals_avx2(r, scheme, n, h, scratch, sink) };
    }
    decode_residuals_impl(r, scheme, n, h, scratch, sink)
}

/// [`decode_residuals_impl`] compiled for AVX2 and BMI2, the Huffman decoding inlined
/// (integer operations only differ in width or instruction, and the floating-point ones are
/// the same IEEE operations: the same results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi2")]
fn decode_residuals_avx2<F: FnMut(&[u64])>(
    r: &mut Reader,
    scheme: u8,
    n: usize,
    h: &ForHeader,
    scratch: &mut Scratch,
    sink: &mut F,
) -> Result<(), DecodeError> {
    decode_residuals_impl(r, scheme, n, h, scratch, sink)
}

#[inline(always)]
fn decode_residuals_impl<F: FnMut(&[u64])>(
    r: &mut Reader,
    scheme: u8,
    n: usize,
    h: &ForHeader,
    scratch: &mut Scratch,
    sink: &mut F,
) -> Result<(), DecodeError> {
    let Scratch {
        table,
        buf,
        hbuf,
        esc: escs,
    } = scratch;
    let m = h.m;
    let at = r.position();
    let flags = if scheme == PACKED { 0 } else { r.u8()? };
    let allowed = if scheme == SPLIT {
        F_ZIGZAG | F_ESCAPES
    } else {
        F_ZIGZAG
    };
    if flags & !allowed != 0 {
        return Err(err(at, "unknown flags"));
    }
    let k_at = r.position();
    let k = u32::from(r.u8()?);
    if k > 64 || (scheme == SPLIT && k == 64) {
        return Err(err(k_at, "bit width above 64"));
    }
    let (packed, mut packing) = match scheme {
        SPLIT => {
            let dec = huffman::Decoder::new(r, table)?;
            let packed = r.take(packed_len(m, k))?;
            let esc = if flags & F_ESCAPES != 0 {
                let at = r.position();
                let count = r.uvarint()?;
                let we = u32::from(r.u8()?);
                if count > m as u64 || we > 64 {
                    return Err(err(at, "bad escape list"));
                }
                let count = count as usize;
                let packed = r.take(packed_len(count, we))?;
                escs.clear();
                escs.resize(count, 0);
                unpack(packed, we, escs);
                Some(0)
            } else {
                None
            };
            (packed, Packing::Split(dec, esc))
        }
        PATCHED => {
            let packed = r.take(packed_len(m, k))?;
            let count = r.count(2)?;
            let mut rest = Reader::new(r.take(r.remaining())?);
            let (p, hi) = if count > 0 {
                next_exception(&mut rest, 0, m)?
            } else {
                (usize::MAX, 0)
            };
            (packed, Packing::Patched(count, p, hi, rest))
        }
        _ => (r.take(packed_len(m, k))?, Packing::Packed),
    };
    end(r)?;

    // Values that precede the residuals.
    // The widest residual before the zigzag, which decides the multiplication's width.
    let v_bits = match &packing {
        Packing::Packed => k,
        Packing::Split(dec, esc) => {
            let top_escape = match esc {
                Some(_) => escs.iter().copied().max().unwrap_or(0),
                None => 0,
            };
            let top = (dec.alphabet() as u64 - 1).saturating_add(top_escape);
            k + (64 - top.leading_zeros())
        }
        Packing::Patched(..) => 64,
    };
    let recon = Recon::new(flags & F_ZIGZAG != 0, h.g, h.base, k, v_bits);
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
        // `done` is a multiple of CHUNK, so `done · k` bits is a whole number of bytes.
        let off = done / 8 * k as usize;
        unpack(packed.get(off..).unwrap_or(&[]), k, u);
        match &mut packing {
            Packing::Packed => pass(u, None, recon, linear_trend(h, done)),
            Packing::Split(dec, esc) => {
                let hi = &mut hbuf[..len];
                dec.decode(hi);
                match esc {
                    // The common case: high parts, zigzag, base, factor and trend in one pass.
                    None => pass(u, Some(hi), recon, linear_trend(h, done)),
                    Some(esc) => {
                        // Escapes (the last symbol) are rare: a mask of them per group of 32
                        // (computed without branching), then one step per escape, which puts
                        // the whole high part (escape symbol plus excess) into the value's
                        // low bits' slot and clears the symbol. The common pass then does
                        // the rest: `low | hi << k` is `low + (hi << k)`, as `low < 2^k`.
                        let e_min = ((dec.alphabet() - 1) as u16) << 8;
                        for (vs, es) in u.chunks_mut(32).zip(hi.chunks_mut(32)) {
                            // Most groups hold none: a vectorised maximum rules them out.
                            if es.iter().fold(0, |m, &e| m.max(e)) < e_min {
                                continue;
                            }
                            let mut mask = es
                                .iter()
                                .enumerate()
                                .fold(0u32, |a, (i, &e)| a | u32::from(e >= e_min) << i);
                            while mask != 0 {
                                let i = mask.trailing_zeros() as usize;
                                mask &= mask - 1;
                                let (Some(v), Some(e), Some(&x)) =
                                    (vs.get_mut(i), es.get_mut(i), escs.get(*esc))
                                else {
                                    return Err(err(at, "more escapes than listed"));
                                };
                                *v = v.wrapping_add(u64::from(*e >> 8).wrapping_add(x) << k);
                                *e = 0;
                                *esc += 1;
                            }
                        }
                        pass(u, Some(hi), recon, linear_trend(h, done));
                    }
                }
            }
            Packing::Patched(left, p, hi, rest) => {
                while *left > 0 && *p < done + len {
                    let slot = &mut u[*p - done];
                    *slot |= if k < 64 { *hi << k } else { 0 };
                    *left -= 1;
                    if *left > 0 {
                        (*p, *hi) = next_exception(rest, *p + 1, m)?;
                    }
                }
                pass(u, None, recon, linear_trend(h, done));
            }
        }
        // The prefix sums of the delta transforms, in place (wrapping u64 arithmetic is
        // two's-complement i64 arithmetic). They run as passes of their own: folded into the
        // pass above, the additions would be reassociated into a longer dependency chain.
        match h.transform {
            T_DELTA => {
                for v in u.iter_mut() {
                    acc = acc.wrapping_add(*v);
                    *v = acc;
                }
            }
            T_DOD => {
                for v in u.iter_mut() {
                    acc_d = acc_d.wrapping_add(*v);
                    *v = acc_d;
                }
                for v in u.iter_mut() {
                    acc = acc.wrapping_add(*v);
                    *v = acc;
                }
            }
            _ => {}
        }
        sink(u);
        done += len;
    }
    if escs.capacity() > 4 * CHUNK {
        // Do not keep a huge block's buffer for the thread's lifetime.
        *escs = Vec::new();
    }
    match packing {
        Packing::Packed => Ok(()),
        Packing::Split(dec, esc) => {
            dec.finish(at)?;
            match esc {
                Some(used) if used != escs.len() => Err(err(at, "fewer escapes than listed")),
                _ => Ok(()),
            }
        }
        Packing::Patched(left, _, _, rest) => {
            if left > 0 || !rest.is_empty() {
                Err(err(at, "exceptions beyond the column"))
            } else {
                Ok(())
            }
        }
    }
}
