//! The engine's errors: typed, with the context a user needs to act on them.
//!
//! Corruption is its own variant and never folded into I/O: a checksum mismatch names the file
//! and the offset where the damage starts.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::line_protocol::LineError;
use crate::model::FieldType;

/// Everything the engine can refuse or fail at.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error on a file or directory.
    Io { path: PathBuf, source: io::Error },
    /// A file's bytes fail their checksum or do not parse as the format says they should.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A file written by a newer (or unknown) format version.
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// The database was never created.
    DatabaseNotFound { name: String },
    /// A database name that cannot be used (empty, too long, or with a path separator or NUL).
    InvalidDatabaseName { name: String, reason: &'static str },
    /// A point from the embedded API that breaks a rule of the data model.
    InvalidPoint { index: usize, reason: String },
    /// Some lines of a write were rejected; the others were written and are durable.
    PartialWrite {
        accepted: WriteSummary,
        rejected: Vec<RejectedLine>,
    },
    /// The write-ahead log failed earlier (for instance an fsync error); the engine refuses
    /// writes until it is reopened, because it cannot tell what reached the disk.
    WalFailed { reason: String },
    /// Another process (or another `Db` in this one) holds the data directory.
    Locked { path: PathBuf },
    /// A query went over one of its limits (time, points held).
    QueryLimit { reason: String },
}

/// What a write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Points (lines) accepted.
    pub points: u64,
    /// Field values accepted.
    pub values: u64,
}

/// One line (or embedded point) that a write rejected, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum RejectedLine {
    /// The line does not parse.
    Syntax(LineError),
    /// A field's value has another type than the field already has.
    FieldTypeConflict {
        line: usize,
        measurement: String,
        field: String,
        existing: FieldType,
        new: FieldType,
    },
    /// The timestamp cannot be represented (for instance a receive time with overflow).
    InvalidPoint { line: usize, reason: String },
}

impl RejectedLine {
    /// The 1-based line number (or point index + 1 for the embedded API).
    pub fn line(&self) -> usize {
        match self {
            RejectedLine::Syntax(e) => e.line,
            RejectedLine::FieldTypeConflict { line, .. }
            | RejectedLine::InvalidPoint { line, .. } => *line,
        }
    }
}

impl fmt::Display for RejectedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectedLine::Syntax(e) => write!(f, "{e}"),
            RejectedLine::FieldTypeConflict {
                line,
                measurement,
                field,
                existing,
                new,
            } => write!(
                f,
                "line {line}: field type conflict: field \"{field}\" of measurement \
                 \"{measurement}\" is type {existing}, not {new}"
            ),
            RejectedLine::InvalidPoint { line, reason } => write!(f, "line {line}: {reason}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "I/O error on {}: {source}", path.display()),
            Error::Corrupt {
                path,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "corrupt file {} at offset {offset}: {reason}",
                    path.display()
                )
            }
            Error::UnsupportedVersion {
                path,
                found,
                supported,
            } => write!(
                f,
                "{} has format version {found}; this build reads version {supported}",
                path.display()
            ),
            Error::DatabaseNotFound { name } => write!(f, "database not found: {name}"),
            Error::InvalidDatabaseName { name, reason } => {
                write!(f, "invalid database name {name:?}: {reason}")
            }
            Error::InvalidPoint { index, reason } => write!(f, "point {index}: {reason}"),
            Error::PartialWrite { accepted, rejected } => {
                write!(
                    f,
                    "partial write: {} points accepted, {} rejected",
                    accepted.points,
                    rejected.len()
                )?;
                for r in rejected.iter().take(20) {
                    write!(f, "; {r}")?;
                }
                if rejected.len() > 20 {
                    write!(f, "; and {} more", rejected.len() - 20)?;
                }
                Ok(())
            }
            Error::WalFailed { reason } => {
                write!(
                    f,
                    "write-ahead log failed, writes refused until reopen: {reason}"
                )
            }
            Error::QueryLimit { reason } => f.write_str(reason),
            Error::Locked { path } => {
                write!(
                    f,
                    "data directory {} is in use by another process",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a path to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}
