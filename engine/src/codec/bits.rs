//! Little-endian bit streams (bit `j` of byte `b` is stream bit `8·b + j`) for Gorilla.

use crate::encoding::DecodeError;

pub(crate) struct BitWriter {
    pub(crate) out: Vec<u8>,
    acc: u128,
    bits: u32,
}

impl BitWriter {
    pub(crate) fn new(out: Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            bits: 0,
        }
    }

    /// Appends the low `n` (at most 64) bits of `v`.
    pub(crate) fn put(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        self.acc |= u128::from(v) << self.bits;
        self.bits += n;
        if self.bits >= 64 {
            self.out.extend_from_slice(&(self.acc as u64).to_le_bytes());
            self.acc >>= 64;
            self.bits -= 64;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        let tail = self.bits.div_ceil(8) as usize;
        self.out
            .extend_from_slice(&(self.acc as u64).to_le_bytes()[..tail]);
        self.out
    }
}

pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn get(&mut self, n: u32) -> Result<u64, DecodeError> {
        if n == 0 {
            return Ok(0);
        }
        let end = self.pos + n as usize;
        if end > self.buf.len() * 8 {
            return Err(DecodeError {
                offset: self.buf.len(),
                reason: "unexpected end of data",
            });
        }
        let byte = self.pos / 8;
        let v = if n <= 56 {
            let v = match self.buf.get(byte..byte + 8) {
                Some(s) => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(s);
                    u64::from_le_bytes(b)
                }
                None => {
                    let mut b = [0u8; 8];
                    let avail = self.buf.len() - byte;
                    b[..avail].copy_from_slice(&self.buf[byte..]);
                    u64::from_le_bytes(b)
                }
            };
            v >> (self.pos % 8)
        } else {
            let mut b = [0u8; 16];
            let avail = (self.buf.len() - byte).min(16);
            b[..avail].copy_from_slice(&self.buf[byte..byte + avail]);
            (u128::from_le_bytes(b) >> (self.pos % 8)) as u64
        };
        self.pos = end;
        Ok(if n == 64 { v } else { v & ((1u64 << n) - 1) })
    }
}
