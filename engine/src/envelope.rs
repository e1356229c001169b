//! The envelope of the small metadata files (the catalog, each database's manifest):
//! `magic [8] | version u32 | body length u32 | body | CRC-32 of the body u32`, replaced whole
//! and atomically (write `NAME.tmp`, fsync, rename over `NAME`, fsync the directory), so a crash
//! leaves the old file or the new one, never a mix.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::encoding::{DecodeError, Reader};
use crate::error::{Error, IoContext, Result};
use crate::wal::writer::sync_dir;

/// Where the body starts in the file: offsets in body decode errors are relative to it.
pub const BODY_OFFSET: u64 = 16;

/// Writes `dir/name` atomically and durably.
pub fn store(dir: &Path, name: &str, magic: [u8; 8], version: u32, body: &[u8]) -> Result<()> {
    let mut out = Vec::with_capacity(body.len() + 20);
    out.extend_from_slice(&magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp).at(&tmp)?;
    f.write_all(&out).at(&tmp)?;
    f.sync_all().at(&tmp)?;
    fs::rename(&tmp, &path).at(&path)?;
    sync_dir(dir)
}

/// Reads `dir/name` and checks its envelope; returns the body, or `None` if there is no file.
pub fn load(dir: &Path, name: &str, magic: [u8; 8], version: u32) -> Result<Option<Vec<u8>>> {
    Ok(load_versions(dir, name, magic, version..=version)?.map(|(_, body)| body))
}

/// Like [`load`], accepting any version in `versions`; returns the version found with the body.
pub fn load_versions(
    dir: &Path,
    name: &str,
    magic: [u8; 8],
    versions: std::ops::RangeInclusive<u32>,
) -> Result<Option<(u32, Vec<u8>)>> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    let e = |d: DecodeError| corrupt(&path, d.offset as u64, d.reason.to_string());
    let mut r = Reader::new(&bytes);
    if r.array::<8>().map_err(e)? != magic {
        return Err(corrupt(&path, 0, "bad magic number".into()));
    }
    let found = r.u32_le().map_err(e)?;
    if !versions.contains(&found) {
        return Err(Error::UnsupportedVersion {
            path,
            found,
            supported: *versions.end(),
        });
    }
    let len = r.u32_le().map_err(e)? as usize;
    let body = r.take(len).map_err(e)?.to_vec();
    let crc = r.u32_le().map_err(e)?;
    if crc32fast::hash(&body) != crc {
        return Err(corrupt(&path, BODY_OFFSET, "checksum mismatch".into()));
    }
    if !r.is_empty() {
        return Err(corrupt(&path, r.position() as u64, "trailing bytes".into()));
    }
    Ok(Some((found, body)))
}

/// A corruption error for a body decode failure at `d`.
pub fn body_error(path: &Path, d: DecodeError) -> Error {
    corrupt(path, BODY_OFFSET + d.offset as u64, d.reason.to_string())
}

fn corrupt(path: &Path, offset: u64, reason: String) -> Error {
    Error::Corrupt {
        path: PathBuf::from(path),
        offset,
        reason,
    }
}
