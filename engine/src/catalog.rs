//! The catalog file: which databases exist, each with the id it keeps for life.
//!
//! The file is small and rewritten whole on every change: written to `catalog.tmp`, fsynced,
//! renamed over `catalog`, and the directory fsynced, so a crash leaves either the old or the
//! new catalog, never a mix. FORMAT.md gives the bytes.

use std::path::Path;

use crate::batch::DbId;
use crate::encoding::{put_bytes, put_uvarint, DecodeError, Reader};
use crate::envelope;
use crate::error::{Error, IoContext, Result};

const MAGIC: [u8; 8] = *b"GNZHCAT\0";
const VERSION: u32 = 1;
pub const FILE_NAME: &str = "catalog";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseEntry {
    pub id: DbId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// Never reused: a dropped database's id stays retired.
    pub next_id: u64,
    pub databases: Vec<DatabaseEntry>,
}

impl Default for CatalogFile {
    fn default() -> Self {
        CatalogFile {
            next_id: 1,
            databases: Vec::new(),
        }
    }
}

impl CatalogFile {
    /// Reads `dir/catalog`; a missing file is an empty catalog.
    pub fn load(dir: &Path) -> Result<CatalogFile> {
        match envelope::load(dir, FILE_NAME, MAGIC, VERSION)? {
            None => Ok(CatalogFile::default()),
            Some(body) => decode(&body).map_err(|d| envelope::body_error(&dir.join(FILE_NAME), d)),
        }
    }

    /// Replaces `dir/catalog` atomically and durably.
    pub fn store(&self, dir: &Path) -> Result<()> {
        let mut body = Vec::new();
        put_uvarint(&mut body, self.next_id);
        put_uvarint(&mut body, self.databases.len() as u64);
        for db in &self.databases {
            put_uvarint(&mut body, db.id.0);
            put_bytes(&mut body, db.name.as_bytes());
        }
        envelope::store(dir, FILE_NAME, MAGIC, VERSION, &body)
    }
}

fn decode(body: &[u8]) -> Result<CatalogFile, DecodeError> {
    let mut r = Reader::new(body);
    let next_id = r.uvarint()?;
    let n = r.count(2)?;
    let mut databases = Vec::with_capacity(n);
    for _ in 0..n {
        let id = DbId(r.uvarint()?);
        let name = r.str()?.to_owned();
        databases.push(DatabaseEntry { id, name });
    }
    Ok(CatalogFile { next_id, databases })
}

/// Removes the directories under `db_root` named by a database id the catalog does not list:
/// left by a dropped database whose directory was not deleted yet (a crash, or an error), or by
/// a creation that crashed before its catalog update. Other names are left alone.
pub fn remove_unlisted_dirs(db_root: &Path, catalog: &CatalogFile) -> Result<()> {
    let entries = match std::fs::read_dir(db_root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Io {
                path: db_root.to_path_buf(),
                source,
            })
        }
    };
    let mut removed = false;
    for entry in entries {
        let path = entry.at(db_root)?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if path.is_dir() && !catalog.databases.iter().any(|d| d.id.0 == id) {
            std::fs::remove_dir_all(&path).at(&path)?;
            removed = true;
        }
    }
    if removed {
        crate::wal::writer::sync_dir(db_root)?;
    }
    Ok(())
}

/// Database names become directory names later: keep them portable and unambiguous.
pub fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > 255 {
        "longer than 255 bytes"
    } else if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        "contains a path separator or NUL, or is . or .."
    } else {
        return Ok(());
    };
    Err(Error::InvalidDatabaseName {
        name: name.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            CatalogFile::load(dir.path()).unwrap(),
            CatalogFile::default()
        );
        let cat = CatalogFile {
            next_id: 3,
            databases: vec![
                DatabaseEntry {
                    id: DbId(1),
                    name: "city".into(),
                },
                DatabaseEntry {
                    id: DbId(2),
                    name: "温度".into(),
                },
            ],
        };
        cat.store(dir.path()).unwrap();
        assert_eq!(CatalogFile::load(dir.path()).unwrap(), cat);
    }

    #[test]
    fn a_flipped_byte_is_named_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cat = CatalogFile {
            next_id: 2,
            databases: vec![DatabaseEntry {
                id: DbId(1),
                name: "city".into(),
            }],
        };
        cat.store(dir.path()).unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 0x40;
        fs::write(&path, bytes).unwrap();
        match CatalogFile::load(dir.path()) {
            Err(Error::Corrupt { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_name("city").is_ok());
        for bad in ["", "a/b", "..", "a\0b"] {
            assert!(matches!(
                validate_name(bad),
                Err(Error::InvalidDatabaseName { .. })
            ));
        }
    }
}
