//! Static canonical Huffman coding of byte symbols, decoded with one table lookup per symbol
//! from eight interleaved bit streams: the high bits of split integer streams.
//!
//! Code lengths are limited to [`MAX_LEN`] bits, so the decoding table (one `u16` per
//! `T`-bit prefix, `T` the longest code of the block) has at most 2048 entries (8 more are
//! allocated as slack); it is built per block by filling one contiguous run per symbol, in
//! canonical order and in whole stores of 8 entries (canonical codes, most significant bit
//! first). Symbol `i` is coded in stream `i mod 8`. Each stream is decoded from its own 64-bit
//! buffer: a refill loads 56 bits followed by a sentinel bit, the next symbols shift the
//! buffer left by their lengths, and the sentinel's position then tells how far to advance
//! (no per-symbol bookkeeping). Eight independent streams keep the table lookups (the
//! critical path) overlapping.
//!
//! Layout (see `FORMAT.md`): `code: bytes` (a bit stream, most significant bit first: `S − 1`
//! in 8 bits, then the code length of every symbol `0..S`), then, unless the code has a
//! single symbol, `total: varint` (bytes of the eight streams), seven `zvarint` differences
//! `bytes[t] − total div 8` for streams 0..7 (the last stream takes the rest), then the
//! streams back to back, each a bit stream (most significant bit first, zero-padded to a
//! byte). Decoded symbols come out as table entries (`symbol << 8 | length`), which the
//! caller's vectorised passes shift apart.
//!
//! A code length is written relative to the previous symbol's (initially 0): `0` = same,
//! `10` = previous + 1, `110` = previous − 1, `1110` + 4 bits = that length, `1111` + 4 bits
//! = `r + 2` more symbols of length 0 (the previous length becomes 0). Length 0 means
//! unused. The used lengths must satisfy Kraft's equality, except that a code whose lengths
//! are all 0 codes the single symbol `S − 1` with no bits.

use crate::encoding::{put_ivarint, put_uvarint, DecodeError, Reader};

/// Longest code.
pub(crate) const MAX_LEN: u32 = 11;
/// Entries of a decoding table.
pub(crate) const TABLE: usize = 1 << MAX_LEN;
/// Entries allocated for a decoding table: 8 of slack for whole-store filling.
pub(crate) const TABLE_ALLOC: usize = TABLE + 8;
/// Interleaved streams.
pub(crate) const STREAMS: usize = 8;

fn err(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError { offset, reason }
}

/// Most-significant-bit-first bit writer.
struct MsbWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl MsbWriter {
    fn new() -> Self {
        MsbWriter {
            out: Vec::new(),
            acc: 0,
            bits: 0,
        }
    }

    /// Appends the low `n` (at most 32) bits of `v`, most significant first.
    fn put(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        self.acc = (self.acc << n) | u64::from(v);
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            self.out.push((self.acc >> self.bits) as u8);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push((self.acc << (8 - self.bits)) as u8);
        }
        self.out
    }
}

/// Longest code-length section: `S − 1` and 256 lengths of at most 8 bits each.
const MAX_LENGTHS_BYTES: usize = 1 + 256;

/// Most-significant-bit-first reader over the code lengths, copied into a zero-padded buffer
/// (reads past the end give zero bits, and [`MsbReader::overrun`] tells).
struct MsbReader {
    buf: [u8; MAX_LENGTHS_BYTES + 16],
    len: usize,
    /// Bit position.
    pos: usize,
}

impl MsbReader {
    fn new(b: &[u8]) -> Option<MsbReader> {
        if b.len() > MAX_LENGTHS_BYTES {
            return None;
        }
        let mut buf = [0u8; MAX_LENGTHS_BYTES + 16];
        buf[..b.len()].copy_from_slice(b);
        Some(MsbReader {
            buf,
            len: b.len(),
            pos: 0,
        })
    }

    /// The next 16 bits, without consuming them.
    #[inline(always)]
    fn peek16(&self) -> u32 {
        // Lengths take at most 8 bits each, so `pos` stays below `8 · (1 + 256 + 1)`; the
        // clamp only lets the compiler drop the bounds check.
        let i = (self.pos / 8).min(MAX_LENGTHS_BYTES + 8);
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[i..i + 8]);
        ((u64::from_be_bytes(b) << (self.pos % 8)) >> 48) as u32
    }

    /// The next 64 bits, without consuming them (at least 57 of them from the buffer, the
    /// rest zero).
    #[inline(always)]
    fn peek64(&self) -> u64 {
        let i = (self.pos / 8).min(MAX_LENGTHS_BYTES + 8);
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[i..i + 8]);
        u64::from_be_bytes(b) << (self.pos % 8)
    }

    fn overrun(&self) -> bool {
        self.pos > self.len * 8
    }
}

/// Optimal code lengths for `counts` (`None` if no symbol occurs), limited to `max_len`
/// (≥ 8, so 256 symbols always fit). A single used symbol gets length 0.
pub(crate) fn code_lengths(counts: &[u32; 256], max_len: u32) -> Option<[u8; 256]> {
    let mut lens = [0u8; 256];
    let mut syms: Vec<(u32, usize)> = (0..256)
        .filter(|&s| counts[s] > 0)
        .map(|s| (counts[s], s))
        .collect();
    match syms.len() {
        0 => return None,
        1 => return Some(lens),
        _ => {}
    }
    syms.sort_unstable();
    let n = syms.len();
    // Two-queue Huffman: leaves in ascending order, internal nodes created in ascending order.
    let mut weight: Vec<u64> = syms.iter().map(|&(c, _)| u64::from(c)).collect();
    weight.resize(2 * n - 1, 0);
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut leaf, mut node) = (0usize, n);
    for next in n..2 * n - 1 {
        let mut pick = || {
            if leaf < n && (node >= next || weight[leaf] <= weight[node]) {
                leaf += 1;
                leaf - 1
            } else {
                node += 1;
                node - 1
            }
        };
        let (a, b) = (pick(), pick());
        weight[next] = weight[a] + weight[b];
        parent[a] = next;
        parent[b] = next;
    }
    let mut depth = vec![0u32; 2 * n - 1];
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[parent[i]] + 1;
    }
    let mut len: Vec<u32> = depth[..n].to_vec();
    // Limit the lengths: clamp, lengthen the rarest codes until Kraft's sum fits, then
    // shorten the most frequent codes that can be shortened while it still fits.
    let cap = 1u64 << max_len;
    if len.iter().any(|&l| l > max_len) {
        for l in &mut len {
            *l = (*l).min(max_len);
        }
        let mut k: u64 = len.iter().map(|&l| cap >> l).sum();
        // `syms` (and so `len`) is in ascending count order.
        'grow: while k > cap {
            for l in len.iter_mut() {
                if *l < max_len {
                    k -= cap >> (*l + 1);
                    *l += 1;
                    if k <= cap {
                        break 'grow;
                    }
                }
            }
        }
        while k < cap {
            // Kraft's sum is a multiple of the longest code's term, so that code can always be
            // shortened; prefer the most frequent one that fits.
            let Some(i) = (0..n)
                .rev()
                .find(|&i| len[i] > 1 && k + (cap >> len[i]) <= cap)
            else {
                break;
            };
            k += cap >> len[i];
            len[i] -= 1;
        }
    }
    for (&(_, s), &l) in syms.iter().zip(&len) {
        lens[s] = l as u8;
    }
    Some(lens)
}

/// A canonical Huffman code over the symbols `0..s`.
pub(crate) struct Code {
    lens: [u8; 256],
    codes: [u16; 256],
    s: usize,
}

impl Code {
    /// The code for `counts`; `None` if no symbol occurs. The alphabet ends at the last
    /// symbol that occurs.
    pub(crate) fn new(counts: &[u32; 256]) -> Option<Code> {
        let lens = code_lengths(counts, MAX_LEN)?;
        let s = counts.iter().rposition(|&c| c > 0).unwrap_or(0) + 1;
        let mut count = [0u32; MAX_LEN as usize + 1];
        for &l in &lens[..s] {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut next = [0u32; MAX_LEN as usize + 1];
        let mut code = 0u32;
        for l in 1..=MAX_LEN as usize {
            code = (code + count[l - 1]) << 1;
            next[l] = code;
        }
        let mut codes = [0u16; 256];
        for (c, &l) in codes.iter_mut().zip(&lens[..s]) {
            if l > 0 {
                *c = next[usize::from(l)] as u16;
                next[usize::from(l)] += 1;
            }
        }
        Some(Code { lens, codes, s })
    }

    fn single(&self) -> bool {
        self.lens[..self.s].iter().all(|&l| l == 0)
    }

    fn lengths(&self) -> Vec<u8> {
        let mut w = MsbWriter::new();
        w.put(self.s as u32 - 1, 8);
        let lens = &self.lens[..self.s];
        let mut prev = 0u8;
        let mut i = 0;
        while i < lens.len() {
            let l = lens[i];
            let zeros = lens[i..].iter().take(17).take_while(|&&x| x == 0).count();
            let one_by_one = match prev {
                0 => zeros,
                1 => zeros + 2,
                _ => zeros + 7,
            };
            if zeros >= 2 && one_by_one > 8 {
                w.put(0b1111, 4);
                w.put(zeros as u32 - 2, 4);
                prev = 0;
                i += zeros;
                continue;
            }
            if l == prev {
                w.put(0, 1);
            } else if l == prev + 1 {
                w.put(0b10, 2);
            } else if l + 1 == prev {
                w.put(0b110, 3);
            } else {
                w.put(0b1110, 4);
                w.put(u32::from(l), 4);
            }
            prev = l;
            i += 1;
        }
        w.finish()
    }

    /// Estimated bytes of [`Code::encode`]'s output for symbols with these counts (exact but
    /// for the streams' padding and the varints of their lengths).
    pub(crate) fn size(&self, counts: &[u32; 256]) -> usize {
        let lengths = self.lengths().len() + 1;
        if self.single() {
            return lengths;
        }
        let bits: u64 = counts
            .iter()
            .zip(&self.lens)
            .map(|(&c, &l)| u64::from(c) * u64::from(l))
            .sum();
        lengths + bits.div_ceil(8) as usize + STREAMS / 2 + 2 + STREAMS - 1
    }

    /// Appends the code and the coded `syms` (every symbol must be in the code).
    pub(crate) fn encode(&self, syms: &[u8], out: &mut Vec<u8>) {
        let lengths = self.lengths();
        put_uvarint(out, lengths.len() as u64);
        out.extend_from_slice(&lengths);
        if self.single() {
            return;
        }
        let mut streams: [MsbWriter; STREAMS] = std::array::from_fn(|_| MsbWriter::new());
        for (i, &sym) in syms.iter().enumerate() {
            let s = usize::from(sym);
            debug_assert!(s < self.s && self.lens[s] > 0);
            streams[i % STREAMS].put(u32::from(self.codes[s]), u32::from(self.lens[s]));
        }
        let streams = streams.map(MsbWriter::finish);
        let total: usize = streams.iter().map(Vec::len).sum();
        put_uvarint(out, total as u64);
        let q = (total / STREAMS) as i64;
        for s in &streams[..STREAMS - 1] {
            put_ivarint(out, s.len() as i64 - q);
        }
        for s in &streams {
            out.extend_from_slice(s);
        }
    }
}

/// The table of a single-symbol code (never read).
static EMPTY: [u16; TABLE] = [0; TABLE];

/// Big-endian `u64` at byte `i` of `b`, zero-padded past its end.
#[inline(always)]
fn load(b: &[u8], i: usize) -> u64 {
    match b.get(i..i + 8) {
        Some(s) => {
            let mut x = [0u8; 8];
            x.copy_from_slice(s);
            u64::from_be_bytes(x)
        }
        None => load_slow(b, i),
    }
}

#[cold]
fn load_slow(b: &[u8], i: usize) -> u64 {
    // Byte by byte: a call to `memcpy` would cost more than the few bytes.
    let mut x = 0u64;
    for (k, &byte) in b.get(i..).unwrap_or(&[]).iter().take(8).enumerate() {
        x |= u64::from(byte) << (56 - 8 * k);
    }
    x
}

/// Reads the code lengths section's bytes (the first is `S − 1`), leaving `r` on the
/// streams.
pub(crate) fn code_bytes<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    r.bytes()
}

/// The code lengths section, parsed.
struct Lengths {
    lens: [u8; 256],
    /// Symbols per code length.
    count: [u32; 16],
    /// Alphabet size.
    s: usize,
    /// The longest code length; 0 for a single symbol.
    t: u32,
}

impl Lengths {
    /// Parses the code lengths section; with `FULL` false, only the alphabet size and the
    /// longest length (`lens` and `count` are left zero).
    ///
    /// Codes are read from a 64-bit window, seven per refill (a code takes at most 8 bits,
    /// and a refill holds at least 57): the bit position then carries no dependency from one
    /// code to the next, and the usual codes (`0`, `10`, `110`) decode without a branch.
    #[inline(always)]
    fn read<const FULL: bool>(r: &mut Reader) -> Result<Lengths, DecodeError> {
        /// The change of length of the codes with 0, 1 and 2 leading ones.
        const STEP: [u32; 3] = [0, 1, u32::MAX];
        let at = r.position();
        let bad = |reason| err(at, reason);
        let mut lr = MsbReader::new(r.bytes()?).ok_or_else(|| bad("Huffman code too long"))?;
        let s = (lr.peek16() >> 8) as usize + 1;
        lr.pos = 8;
        let mut lens = [0u8; 256];
        let mut count = [0u32; 16];
        let (mut prev, mut t) = (0u32, 0u32);
        let mut i = 0;
        while i < s {
            let mut b = lr.peek64();
            let mut used_bits = 0;
            for _ in 0..7 {
                if i >= s {
                    break;
                }
                let ones = (!b).leading_zeros();
                let (l, used) = if ones < 3 {
                    (prev.wrapping_add(STEP[ones as usize]), ones + 1)
                } else if ones == 3 {
                    ((b >> 56) as u32 & 15, 8)
                } else {
                    let zeros = ((b >> 56) & 15) as usize + 2;
                    if zeros > s - i {
                        return Err(bad("Huffman code lengths beyond the alphabet"));
                    }
                    if FULL {
                        count[0] += zeros as u32;
                    }
                    i += zeros;
                    prev = 0;
                    b <<= 8;
                    used_bits += 8;
                    continue;
                };
                if l > MAX_LEN {
                    return Err(bad("Huffman code length above the limit"));
                }
                if FULL {
                    lens[i] = l as u8;
                    count[l as usize] += 1;
                }
                t = t.max(l);
                prev = l;
                i += 1;
                b <<= used;
                used_bits += used;
            }
            lr.pos += used_bits as usize;
        }
        if lr.overrun() || lr.pos.div_ceil(8) != lr.len {
            return Err(bad("bad Huffman code lengths"));
        }
        Ok(Lengths { lens, count, s, t })
    }
}

/// The eight streams' bytes and, per stream, its first and end bit offsets in them.
type Streams<'a> = (&'a [u8], [usize; STREAMS], [usize; STREAMS]);

/// Reads the streams' extents (`total`, seven differences) and takes their bytes.
#[inline(always)]
fn read_streams<'a>(r: &mut Reader<'a>, at: usize) -> Result<Streams<'a>, DecodeError> {
    let bad = |reason| err(at, reason);
    let total = r.uvarint()?;
    if total > r.remaining() as u64 {
        return Err(bad("Huffman streams beyond the column"));
    }
    let total = total as usize;
    let q = total / STREAMS;
    let (mut pos, mut end) = ([0; STREAMS], [0; STREAMS]);
    let mut start = 0usize;
    for s in 0..STREAMS {
        let len = if s + 1 < STREAMS {
            let d = r.ivarint()?;
            (q as i64)
                .checked_add(d)
                .and_then(|l| usize::try_from(l).ok())
                .filter(|&l| l <= total - start)
                .ok_or_else(|| bad("bad Huffman stream length"))?
        } else {
            total - start
        };
        pos[s] = start * 8;
        start += len;
        end[s] = start * 8;
    }
    Ok((r.take(total)?, pos, end))
}

/// Decoding state over one coded symbol sequence. Decoded symbols come out as table entries:
/// `symbol << 8 | code length`.
pub(crate) struct Decoder<'a, 't> {
    table: &'t [u16; TABLE],
    /// Bits of a table index (the longest code); 0 for a single symbol.
    t: u32,
    /// Alphabet size.
    s: usize,
    /// The eight streams, back to back.
    data: &'a [u8],
    /// Per stream: the next bit to decode (a bit offset into `data`), and its end.
    pos: [usize; STREAMS],
    end: [usize; STREAMS],
}

impl<'a, 't> Decoder<'a, 't> {
    /// Reads the code (building `table`) and the streams' extents from `r`.
    pub(crate) fn new(
        r: &mut Reader<'a>,
        table: &'t mut [u16; TABLE_ALLOC],
    ) -> Result<Decoder<'a, 't>, DecodeError> {
        let at = r.position();
        let bad = |reason| err(at, reason);
        let Lengths { lens, count, s, t } = Lengths::read::<true>(r)?;
        let mut dec = Decoder {
            table: &EMPTY,
            t,
            s,
            data: &[],
            pos: [0; STREAMS],
            end: [0; STREAMS],
        };
        if t == 0 {
            // A single symbol, coded with no bits.
            return Ok(dec);
        }
        // Kraft's equality, then one contiguous run per symbol in canonical order.
        let kraft: u64 = (1..=t)
            .map(|l| u64::from(count[l as usize]) << (t - l))
            .sum();
        if kraft != 1 << t {
            return Err(bad("Huffman code lengths are not a complete code"));
        }
        // The symbols in canonical order (by length, then symbol): a counting sort.
        let mut next = [0usize; MAX_LEN as usize + 1];
        let mut o = 0usize;
        for l in 1..=t as usize {
            next[l] = o;
            o += count[l] as usize;
        }
        let mut canonical = [0u8; 256];
        for (sym, &l) in lens[..s].iter().enumerate() {
            if l > 0 {
                let slot = &mut next[usize::from(l)];
                canonical[*slot] = sym as u8;
                *slot += 1;
            }
        }
        // Then one run of `2^(t − len)` entries per symbol, back to back from the start. The
        // runs are written in increasing order in whole stores of 8 entries; a shorter run's
        // excess is overwritten by the runs after it (or lands in the slack past the end).
        let mut start = 0usize;
        let mut sorted = canonical.iter();
        for l in 1..=t {
            let span = 1usize << (t - l);
            for &sym in sorted.by_ref().take(count[l as usize] as usize) {
                let run = [u16::from(sym) << 8 | l as u16; 8];
                let mut at = start;
                while let Some(dst) = table.get_mut(at..at + 8) {
                    dst.copy_from_slice(&run);
                    at += 8;
                    if at >= start + span {
                        break;
                    }
                }
                start += span;
            }
        }
        dec.table = table
            .first_chunk::<TABLE>()
            .expect("a table allocation holds TABLE entries and slack");
        (dec.data, dec.pos, dec.end) = read_streams(r, at)?;
        Ok(dec)
    }

    /// Moves `r` past a coded symbol sequence without building its table; returns the
    /// alphabet size `S` (every symbol is below it). Checks what it reads, not the code.
    pub(crate) fn skip(r: &mut Reader<'a>) -> Result<usize, DecodeError> {
        let at = r.position();
        let lengths = Lengths::read::<false>(r)?;
        if lengths.t > 0 {
            read_streams(r, at)?;
        }
        Ok(lengths.s)
    }

    /// Alphabet size `S`.
    pub(crate) fn alphabet(&self) -> usize {
        self.s
    }

    /// Decodes `out.len()` more symbols as table entries (`symbol << 8 | length`). Every
    /// call but the last must decode a multiple of 8. Inlined into its caller, so that a
    /// caller compiled for BMI2 gets single-instruction variable shifts.
    #[inline(always)]
    pub(crate) fn decode(&mut self, out: &mut [u16]) {
        macro_rules! dispatch {
            ($($t:literal)*) => {
                match self.t {
                    $($t => self.decode_t::<$t>(out),)*
                    _ => out.fill(((self.s - 1) as u16) << 8),
                }
            };
        }
        dispatch!(1 2 3 4 5 6 7 8 9 10 11);
    }

    #[inline(always)]
    fn decode_t<const T: u32>(&mut self, out: &mut [u16]) {
        // Symbols per stream and refill: a refill loads 56 bits and a sentinel bit below them.
        let per = (56 / T) as usize;
        let mut groups = out.chunks_exact_mut(STREAMS * per);
        for g in &mut groups {
            self.group::<T>(g);
        }
        self.group::<T>(groups.into_remainder());
    }

    /// Decodes `g.len()` (at most `8 · (56 div T)`) symbols: one refill per stream.
    #[inline(always)]
    fn group<const T: u32>(&mut self, g: &mut [u16]) {
        let table = self.table;
        let mut buf = [0u64; STREAMS];
        for (b, p) in buf.iter_mut().zip(&self.pos) {
            *b = (load(self.data, *p >> 3) << (*p & 7)) & !0xff | 0x80;
        }
        let mut rows = g.chunks_exact_mut(STREAMS);
        for row in &mut rows {
            for (o, b) in row.iter_mut().zip(buf.iter_mut()) {
                *o = Self::next::<T>(table, b);
            }
        }
        for (o, b) in rows.into_remainder().iter_mut().zip(buf.iter_mut()) {
            *o = Self::next::<T>(table, b);
        }
        for (b, p) in buf.iter().zip(self.pos.iter_mut()) {
            *p += (b.trailing_zeros() - 7) as usize;
        }
    }

    /// Decodes one symbol from the front of `b` and shifts it out.
    #[inline(always)]
    fn next<const T: u32>(table: &[u16; TABLE], b: &mut u64) -> u16 {
        let e = table[(*b >> (64 - T)) as usize & (TABLE - 1)];
        // The entry's low 6 bits are the code length (the symbol starts at bit 8), and a
        // wrapping shift uses only those: one shift instruction, no mask.
        *b = b.wrapping_shl(u32::from(e));
        e
    }

    /// Checks that every stream was consumed up to its last byte and no further.
    pub(crate) fn finish(&self, at: usize) -> Result<(), DecodeError> {
        for (&p, &e) in self.pos.iter().zip(&self.end) {
            // Only the final byte's padding may be left over.
            if p > e || e - p >= 8 {
                return Err(err(at, "corrupt Huffman stream"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes `syms`, then decodes them in chunks of 1024 (the last one shorter).
    fn round_trip(syms: &[u8]) -> Vec<u8> {
        let mut counts = [0u32; 256];
        for &s in syms {
            counts[usize::from(s)] += 1;
        }
        let mut buf = vec![0xaa];
        match Code::new(&counts) {
            Some(code) => code.encode(syms, &mut buf),
            None => return buf,
        }
        buf.push(0x55);
        let mut r = Reader::new(&buf[1..buf.len() - 1]);
        let mut table = [0u16; TABLE_ALLOC];
        let mut dec = Decoder::new(&mut r, &mut table).expect("decodes");
        let mut out = vec![0u16; syms.len()];
        for c in out.chunks_mut(1024) {
            dec.decode(c);
        }
        dec.finish(0).expect("consumed exactly");
        assert!(r.is_empty());
        let back: Vec<u8> = out.iter().map(|&e| (e >> 8) as u8).collect();
        assert_eq!(back, syms);
        buf
    }

    fn fib_counts(k: usize) -> [u32; 256] {
        let mut c = [0u32; 256];
        let (mut a, mut b) = (1u32, 1u32);
        for x in c.iter_mut().take(k) {
            *x = a;
            (a, b) = (b, a.saturating_add(b));
        }
        c
    }

    #[test]
    fn lengths_are_limited_and_complete() {
        let mut cases = vec![fib_counts(30), fib_counts(256), [1u32; 256], [0u32; 256]];
        cases[3][7] = 5;
        cases[3][200] = 1_000_000;
        let mut skew = [0u32; 256];
        for (i, c) in skew.iter_mut().enumerate() {
            *c = (1u32 << (i % 31)) | 1;
        }
        cases.push(skew);
        for counts in &cases {
            let lens = code_lengths(counts, MAX_LEN).expect("symbols");
            let used = counts.iter().filter(|&&c| c > 0).count();
            assert!(lens.iter().all(|&l| u32::from(l) <= MAX_LEN));
            assert!(lens.iter().zip(counts).all(|(&l, &c)| (l > 0) == (c > 0)));
            let kraft: u64 = lens
                .iter()
                .filter(|&&l| l > 0)
                .map(|&l| 1u64 << (MAX_LEN - u32::from(l)))
                .sum();
            assert_eq!(kraft, 1 << MAX_LEN, "{used} symbols");
        }
        assert!(code_lengths(&[0; 256], MAX_LEN).is_none());
    }

    #[test]
    fn every_shape_round_trips() {
        let mut s = 1u64;
        let mut rnd = move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 33) as u32
        };
        for n in [0usize, 1, 7, 8, 9, 63, 64, 65, 1023, 1024, 1025, 5000] {
            let shapes: Vec<Vec<u8>> = vec![
                vec![0; n],
                vec![200; n],
                (0..n).map(|i| (i % 2) as u8 * 255).collect(),
                (0..n).map(|_| rnd() as u8).collect(),
                (0..n).map(|_| (rnd() % 5) as u8).collect(),
                // Geometric: deep trees, limited lengths.
                (0..n).map(|_| rnd().trailing_zeros() as u8).collect(),
                (0..n)
                    .map(|_| (rnd() | 1 << 30).trailing_zeros() as u8 * 8)
                    .collect(),
            ];
            for syms in &shapes {
                let buf = round_trip(syms);
                // Truncations and flips never panic.
                for cut in 1..buf.len().min(40) {
                    decode_any(&buf[1..buf.len() - cut], n);
                }
                for pos in (1..buf.len() - 1).step_by(7) {
                    let mut b = buf.clone();
                    b[pos] ^= 0x5a;
                    decode_any(&b[1..b.len() - 1], n);
                }
            }
        }
    }

    /// Decodes `n` symbols from anything: must not panic.
    fn decode_any(buf: &[u8], n: usize) {
        let mut r = Reader::new(buf);
        let mut table = [0u16; TABLE_ALLOC];
        if let Ok(mut dec) = Decoder::new(&mut r, &mut table) {
            let mut out = vec![0u16; n];
            for c in out.chunks_mut(1024) {
                dec.decode(c);
            }
            let _ = dec.finish(0);
            assert!(out.iter().all(|&e| usize::from(e >> 8) < dec.alphabet()));
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut s = 7u64;
        for len in 0..300 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (s >> 56) as u8
                })
                .collect();
            decode_any(&buf, len * 3);
        }
    }
}
