//! zstd with per-thread reusable contexts (creating a context per 1024-value block would cost
//! more than decoding it) and bounded decompression.

use std::cell::RefCell;

use crate::encoding::DecodeError;

/// Compression level of every zstd frame the codecs write.
pub const LEVEL: i32 = 3;

thread_local! {
    static CCTX: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DCTX: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Compresses `data` into one zstd frame (content size recorded), or `None` if zstd fails.
pub fn compress(data: &[u8]) -> Option<Vec<u8>> {
    CCTX.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        c.as_mut()?.compress(data).ok()
    })
}

/// Replaces the payload of `encoded` (a scheme byte, then the payload) by a zstd frame of it
/// and sets the scheme's zstd flag, when the frame is smaller and `allowed(payload length,
/// frame length)` says the decoder will accept it.
pub fn wrap_if_smaller(encoded: &mut Vec<u8>, flag: u8, allowed: impl Fn(usize, usize) -> bool) {
    let Some(frame) = compress(encoded.get(1..).unwrap_or(&[])) else {
        return;
    };
    if frame.len() + 1 < encoded.len() && allowed(encoded.len() - 1, frame.len()) {
        encoded.truncate(1);
        encoded[0] |= flag;
        encoded.extend_from_slice(&frame);
    }
}

/// Decompresses one frame into `out` (cleared first), refusing output longer than `limit`
/// bytes; `at` is the frame's offset, for errors.
pub fn decompress_into(
    frame: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
    at: usize,
) -> Result<(), DecodeError> {
    let err = |reason| DecodeError { offset: at, reason };
    // The frame header tells the content size: refuse too large a claim before allocating.
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= limit as u64 => size as usize,
        Ok(Some(_)) => return Err(err("zstd frame larger than allowed")),
        Ok(None) => return Err(err("zstd frame without content size")),
        Err(_) => return Err(err("malformed zstd frame")),
    };
    out.clear();
    out.reserve_exact(size);
    DCTX.with(|d| {
        let mut d = d.try_borrow_mut().map_err(|_| err("zstd context busy"))?;
        if d.is_none() {
            *d = zstd::bulk::Decompressor::new().ok();
        }
        let d = d.as_mut().ok_or_else(|| err("zstd context unavailable"))?;
        d.decompress_to_buffer(frame, out)
            .map_err(|_| err("corrupt zstd frame"))?;
        if out.len() != size {
            return Err(err("zstd frame shorter than its declared size"));
        }
        Ok(())
    })
}
