//! Static order-0 rANS over byte symbols: the high bits of split integer streams and tokens.
//!
//! zstd is far from the order-0 entropy on blocks of a few hundred small symbols (its frame,
//! block and Huffman-table overheads, and literals that it often leaves raw), so split
//! streams use this coder instead: a frequency table normalised to `2^l` (`l` in 8..=11,
//! chosen per block) written with Elias gamma codes, then four interleaved 32-bit rANS
//! states with 16-bit renormalisation (Giesen's `rans_word` construction). Decoding uses
//! one `u32` table entry per slot (symbol, frequency, bias) and a branch-free refill.
//!
//! Layout: `table_len: varint`, table (bit stream: `l − 8` in 3 bits, `S − 1` in 8 bits,
//! then `gamma(freq + 1)` for each symbol `0..S`; the frequencies sum to `2^l`), then
//! `words_len: varint` (count of 16-bit words), the four final encoder states (`u32` each,
//! state 0 first; symbol `i` is coded by state `i mod 4`), then the words, to be read in
//! order.

use crate::encoding::{put_uvarint, DecodeError, Reader};

use super::bits::{gamma_len, BitReader, BitWriter};

const RANS_L: u32 = 1 << 16;
pub(crate) const MIN_L: u32 = 8;
pub(crate) const MAX_L: u32 = 11;
const STATES: usize = 4;

/// A normalised frequency table.
pub(crate) struct Model {
    l: u32,
    s: usize,
    freq: [u32; 256],
    cum: [u32; 257],
}

impl Model {
    /// Normalises symbol counts (`s` = one past the largest symbol used) to sum `2^l`,
    /// keeping every used symbol at frequency ≥ 1. `None` if `2^l` is too small for them.
    pub(crate) fn new(counts: &[u32; 256], s: usize, l: u32) -> Option<Model> {
        let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let m = 1u64 << l;
        let used = counts.iter().filter(|&&c| c > 0).count() as u64;
        if total == 0 || used > m {
            return None;
        }
        let mut freq = [0u32; 256];
        let mut sum = 0i64;
        for (f, &c) in freq.iter_mut().zip(counts.iter()).take(s) {
            if c > 0 {
                *f = ((u64::from(c) * m + total / 2) / total).max(1) as u32;
                sum += i64::from(*f);
            }
        }
        let mut diff = m as i64 - sum;
        // Put the surplus on (or take the deficit from) the most frequent symbols.
        while diff != 0 {
            let mut order: Vec<usize> = (0..s).filter(|&i| freq[i] > 0).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(freq[i]), i));
            if diff > 0 {
                freq[order[0]] += diff as u32;
                diff = 0;
            } else {
                for &i in &order {
                    let take = (i64::from(freq[i]) - 1).min(-diff);
                    freq[i] -= take as u32;
                    diff += take;
                    if diff == 0 {
                        break;
                    }
                }
            }
        }
        Some(Self::from_freqs(freq, s, l))
    }

    fn from_freqs(freq: [u32; 256], s: usize, l: u32) -> Model {
        let mut cum = [0u32; 257];
        for i in 0..256 {
            cum[i + 1] = cum[i] + freq[i];
        }
        Model { l, s, freq, cum }
    }

    /// Bits of the table.
    pub(crate) fn table_bits(&self) -> u64 {
        11 + self.freq[..self.s]
            .iter()
            .map(|&f| u64::from(gamma_len(u64::from(f) + 1)))
            .sum::<u64>()
    }

    /// Estimated bits of the coded symbols (excluding table and states).
    pub(crate) fn data_bits(&self, counts: &[u32; 256]) -> f64 {
        counts[..self.s]
            .iter()
            .zip(&self.freq)
            .filter(|(&c, _)| c > 0)
            .map(|(&c, &f)| f64::from(c) * (self.l as f64 - f64::from(f).log2()))
            .sum()
    }

    /// Estimated total bytes of [`Model::encode`]'s output.
    pub(crate) fn estimate(&self, counts: &[u32; 256]) -> usize {
        ((self.table_bits() as f64 + self.data_bits(counts)) / 8.0) as usize + 4 * STATES + 4
    }

    pub(crate) fn encode(&self, syms: &[u8], out: &mut Vec<u8>) {
        let mut tw = BitWriter::new(Vec::new());
        tw.put(u64::from(self.l - MIN_L), 3);
        tw.put(self.s as u64 - 1, 8);
        for &f in &self.freq[..self.s] {
            tw.gamma(u64::from(f) + 1);
        }
        let table = tw.finish();
        put_uvarint(out, table.len() as u64);
        out.extend_from_slice(&table);

        let mut words: Vec<u16> = Vec::with_capacity(syms.len());
        let mut st = [RANS_L; STATES];
        for (i, &sym) in syms.iter().enumerate().rev() {
            let x = &mut st[i % STATES];
            let f = self.freq[usize::from(sym)];
            debug_assert!(f > 0);
            let x_max = (u64::from(RANS_L >> self.l) << 16) * u64::from(f);
            if u64::from(*x) >= x_max {
                words.push(*x as u16);
                *x >>= 16;
            }
            *x = ((*x / f) << self.l) + (*x % f) + self.cum[usize::from(sym)];
        }
        put_uvarint(out, words.len() as u64);
        for x in st {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for w in words.iter().rev() {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
}

/// Builds the model for `syms`, choosing `l`; returns it with its estimated size.
pub(crate) fn best_model(syms: impl Iterator<Item = u8>) -> Option<(Model, usize)> {
    let mut counts = [0u32; 256];
    let mut s = 0usize;
    for x in syms {
        counts[usize::from(x)] += 1;
        s = s.max(usize::from(x) + 1);
    }
    (MIN_L..=MAX_L)
        .filter_map(|l| Model::new(&counts, s, l))
        .map(|m| {
            let e = m.estimate(&counts);
            (m, e)
        })
        .min_by_key(|&(_, e)| e)
}

/// `c · log2(c)` for small `c`, tabulated (the estimator runs for many candidate splits).
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

/// Quick size estimate (bytes) of coding a histogram: its empirical entropy plus the table
/// at precision 2^10 and the states. Only ranks candidates; the real size is measured.
pub(crate) fn estimate(counts: &[u32; 256]) -> Option<usize> {
    let s = counts.iter().rposition(|&c| c > 0)? + 1;
    let total: u32 = counts[..s].iter().sum();
    let mut data = c_log_c(total);
    let mut table = 11u64;
    for &c in &counts[..s] {
        data -= c_log_c(c);
        let f = if c == 0 {
            0
        } else {
            ((u64::from(c) << 10) / u64::from(total)).max(1)
        };
        table += u64::from(gamma_len(f + 1));
    }
    Some(((data + table as f64) / 8.0) as usize + 4 * STATES + 4)
}

/// Decoding state over one encoded symbol stream.
/// Entries of a decoding table.
pub(crate) const TABLE: usize = 1 << MAX_L;

pub(crate) struct Decoder<'a, 't> {
    l: u32,
    /// Per slot: symbol (bits 0..8), `slot − cum` (bits 8..20), `freq` (bits 20..32).
    table: &'t [u32; TABLE],
    st: [u32; STATES],
    words: &'a [u8],
    pos: usize,
    i: usize,
}

fn err(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError { offset, reason }
}

impl<'a, 't> Decoder<'a, 't> {
    /// Reads the table (into `table`) and the states from `r`.
    pub(crate) fn new(
        r: &mut Reader<'a>,
        table: &'t mut [u32; TABLE],
    ) -> Result<Decoder<'a, 't>, DecodeError> {
        let at = r.position();
        let table_bytes = r.bytes()?;
        let mut tr = BitReader::new(table_bytes);
        let l = tr.get(3)? as u32 + MIN_L;
        if l > MAX_L {
            return Err(err(at, "rANS precision out of range"));
        }
        let s = tr.get(8)? as usize + 1;
        let m = 1u32 << l;
        let mut cum = 0u32;
        for sym in 0..s {
            let f = (tr.gamma(14)? - 1) as u32;
            if f > m - cum {
                return Err(err(at, "rANS frequencies exceed the total"));
            }
            let entry = sym as u32 | (f << 20);
            for (b, t) in table[cum as usize..(cum + f) as usize]
                .iter_mut()
                .enumerate()
            {
                *t = entry | ((b as u32) << 8);
            }
            cum += f;
        }
        if cum != m {
            return Err(err(at, "rANS frequencies do not sum to the total"));
        }
        let nwords = r.uvarint()?;
        let mut st = [0u32; STATES];
        for x in &mut st {
            *x = r.u32_le()?;
        }
        let words_at = r.position();
        let nbytes = usize::try_from(nwords)
            .ok()
            .and_then(|w| w.checked_mul(2))
            .ok_or_else(|| err(words_at, "length overflow"))?;
        let words = r.take(nbytes)?;
        Ok(Decoder {
            l,
            table,
            st,
            words,
            pos: 0,
            i: 0,
        })
    }

    /// Decodes `out.len()` more symbols.
    pub(crate) fn decode(&mut self, out: &mut [u8]) {
        match self.l {
            8 => self.decode_l::<8>(out),
            9 => self.decode_l::<9>(out),
            10 => self.decode_l::<10>(out),
            _ => self.decode_l::<11>(out),
        }
    }

    /// [`Decoder::decode`] at precision `L` (constant shifts in the hot loop).
    fn decode_l<const L: u32>(&mut self, out: &mut [u8]) {
        let l = L;
        let mask = (1u32 << l) - 1;
        let table = self.table;
        let words = self.words;
        let mut pos = self.pos;
        let mut st = self.st;
        // One symbol with a bounds-checked refill: for the unaligned start and the end.
        let slow = |x: &mut u32, pos: &mut usize| -> u8 {
            let e = table[(*x & mask) as usize & (TABLE - 1)];
            *x = (e >> 20)
                .wrapping_mul(*x >> l)
                .wrapping_add((e >> 8) & 0xfff);
            if *x < RANS_L {
                let w = match words.get(*pos..*pos + 2) {
                    Some(b) => u32::from(b[0]) | (u32::from(b[1]) << 8),
                    None => 0,
                };
                *x = (*x << 16) | w;
                *pos += 2;
            }
            e as u8
        };
        let mut o = 0;
        while !self.i.is_multiple_of(STATES) && o < out.len() {
            out[o] = slow(&mut st[self.i % STATES], &mut pos);
            o += 1;
            self.i += 1;
        }
        let body = (out.len() - o) / STATES * STATES;
        for group in out[o..o + body].chunks_exact_mut(STATES) {
            // A group of four symbols consumes at most 8 bytes: one checked load for all.
            match words.get(pos..pos + 8) {
                Some(w8) => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(w8);
                    let peek = u64::from_le_bytes(b);
                    let mut sh = 0u32;
                    for (x, g) in st.iter_mut().zip(group.iter_mut()) {
                        let e = table[(*x & mask) as usize & (TABLE - 1)];
                        *x = (e >> 20)
                            .wrapping_mul(*x >> l)
                            .wrapping_add((e >> 8) & 0xfff);
                        let need = *x < RANS_L;
                        let w = ((peek >> sh) & 0xffff) as u32;
                        *x = if need { (*x << 16) | w } else { *x };
                        sh += u32::from(need) * 16;
                        *g = e as u8;
                    }
                    pos += (sh / 8) as usize;
                }
                None => {
                    for (x, g) in st.iter_mut().zip(group.iter_mut()) {
                        *g = slow(x, &mut pos);
                    }
                }
            }
        }
        o += body;
        self.i += body;
        while o < out.len() {
            out[o] = slow(&mut st[self.i % STATES], &mut pos);
            o += 1;
            self.i += 1;
        }
        self.st = st;
        self.pos = pos;
    }

    /// Checks that the stream ended exactly where the encoder started.
    pub(crate) fn finish(&self, at: usize) -> Result<(), DecodeError> {
        if self.st == [RANS_L; STATES] && self.pos == self.words.len() {
            Ok(())
        } else {
            Err(err(at, "corrupt rANS stream"))
        }
    }
}
