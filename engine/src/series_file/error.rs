//! What writing or opening a series file can fail at. Corruption is its own variant, never
//! folded into I/O, and names the file and the offset where the damage was found.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
#[non_exhaustive]
pub enum SeriesFileError {
    /// An operating-system error on the file, its temporary file or its directory.
    Io { path: PathBuf, source: io::Error },
    /// The bytes fail a checksum or break a rule of the format; `offset` is from the start of
    /// the file.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A file written in another format version (this code reads
    /// [`VERSION`](super::VERSION)).
    UnsupportedVersion { path: PathBuf, found: u32 },
    /// [`SeriesFile::write`](super::SeriesFile::write) was given series it cannot store: keys
    /// not strictly ascending, a repeated id, a key that is not a canonical series key, or more
    /// than the format's limits (2^32 - 1 series; 4 GiB per section). Nothing was written.
    InvalidInput { path: PathBuf, reason: String },
}

impl fmt::Display for SeriesFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesFileError::Io { path, source } => {
                write!(f, "I/O error on {}: {source}", path.display())
            }
            SeriesFileError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "series file {} is corrupt at byte {offset}: {reason}",
                path.display()
            ),
            SeriesFileError::UnsupportedVersion { path, found } => write!(
                f,
                "series file {} has format version {found}; this build reads version {}",
                path.display(),
                super::VERSION
            ),
            SeriesFileError::InvalidInput { path, reason } => {
                write!(f, "cannot write series file {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for SeriesFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SeriesFileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
