//! [`Db`]: the engine's handle, and the write path.
//!
//! A write goes: parse (line protocol) → resolve against the catalog ([`Resolver`]) → encode
//! one WAL record → under the sequencer lock, append the record and apply the batch to the
//! memtable → wait until the WAL has made the record durable (group commit) → acknowledge.
//!
//! **Architecture Invariant:** the WAL is the only file written before a write is acknowledged,
//! and the memtable applies batches in exactly the WAL's order, so replay rebuilds the same
//! state, duplicates and all.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::batch::DbId;
use crate::catalog::{self, CatalogFile, DatabaseEntry};
use crate::database::Database;
use crate::error::{Error, IoContext, RejectedLine, Result, WriteSummary};
use crate::line_protocol::LineParser;
use crate::memtable::Memtable;
use crate::model::{FieldType, Precision};
use crate::point::Point;
use crate::scan::{merge_rows, SeriesRows, TagPredicate, TimeRange};
use crate::wal::{self, Fsync, RecoveryReport, WalStats, WalWriter};
use crate::write::Resolver;

/// How a [`Db`] behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// When the WAL is fsynced. The default, [`Fsync::Always`], acknowledges only what is on
    /// disk.
    pub fsync: Fsync,
    /// A WAL segment is closed and a new one started past this size.
    pub wal_segment_bytes: u64,
    /// Create a database on its first write instead of refusing with `DatabaseNotFound`.
    pub create_databases_on_write: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: Fsync::Always,
            wal_segment_bytes: 64 << 20,
            create_databases_on_write: false,
        }
    }
}

/// The engine: cheap to clone (an `Arc`), `Send + Sync`, usable from any number of threads.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    options: Options,
    /// Held (with an OS file lock) for the life of the handle: one `Db` per directory.
    _lock: File,
    catalog: RwLock<Catalog>,
    wal: Arc<WalWriter>,
    /// Makes "append to the WAL, then apply to the memtable" one step, so both see writes in
    /// the same order. Held for a memcpy and the memtable inserts, never across an fsync.
    sequencer: Mutex<()>,
    recovery: RecoveryReport,
    syncer: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

#[derive(Default)]
struct Catalog {
    file: CatalogFile,
    by_name: HashMap<String, Arc<Database>>,
    by_id: HashMap<DbId, Arc<Database>>,
}

const WAL_DIR: &str = "wal";
const LOCK_FILE: &str = "LOCK";

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Db {
    /// Opens (or creates) the data directory `dir`, replaying its WAL.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Db> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).at(&dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).at(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { path: dir }),
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::Io {
                    path: lock_path,
                    source: e,
                })
            }
        }

        let file = CatalogFile::load(&dir)?;
        let mut catalog = Catalog {
            file,
            ..Catalog::default()
        };
        for entry in &catalog.file.databases {
            let db = Arc::new(Database::new(entry.id, entry.name.clone()));
            catalog.by_name.insert(entry.name.clone(), db.clone());
            catalog.by_id.insert(entry.id, db);
        }

        let wal_dir = dir.join(WAL_DIR);
        fs::create_dir_all(&wal_dir).at(&wal_dir)?;
        let mut recovery = RecoveryReport::default();
        let mut orphans = 0u64;
        let mut inconsistent: Option<String> = None;
        let last_seq = wal::recovery::replay(&wal_dir, &mut recovery, |rec| {
            // A record of a dropped database: its data is gone on purpose.
            let Some(db) = catalog.by_id.get(&rec.db) else {
                return;
            };
            if let Err(e) = db.define_replayed(&rec.batch) {
                inconsistent.get_or_insert(e);
            }
            orphans += db.apply_replayed(rec.batch);
        })?;
        recovery.orphaned_points = orphans;
        if let Some(reason) = inconsistent {
            return Err(Error::Corrupt {
                path: wal_dir,
                offset: 0,
                reason,
            });
        }
        let wal = Arc::new(WalWriter::create(
            &wal_dir,
            last_seq + 1,
            options.fsync,
            options.wal_segment_bytes,
        )?);
        let syncer = match options.fsync {
            Fsync::Interval(every) => Some(spawn_syncer(wal.clone(), every)),
            _ => None,
        };
        Ok(Db {
            inner: Arc::new(Inner {
                dir,
                options,
                _lock: lock,
                catalog: RwLock::new(catalog),
                wal,
                sequencer: Mutex::new(()),
                recovery,
                syncer: Mutex::new(syncer),
            }),
        })
    }
}

fn spawn_syncer(wal: Arc<WalWriter>, every: Duration) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("ganzhi-wal-sync".into())
        .spawn(move || {
            // Ends when the `Db` drops the sender.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                if wal.sync().is_err() {
                    return; // the WAL is now failed; writers will see why
                }
            }
        })
        .expect("spawning the WAL sync thread");
    (stop, handle)
}

impl Db {
    /// The directory this engine owns.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// What opening found in the WAL: records replayed, tails truncated.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    pub fn wal_stats(&self) -> &WalStats {
        &self.inner.wal.stats
    }

    /// Creates a database if it does not exist. Idempotent.
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.create_database_entry(name).map(|_| ())
    }

    fn create_database_entry(&self, name: &str) -> Result<Arc<Database>> {
        catalog::validate_name(name)?;
        let mut cat = self
            .inner
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(db) = cat.by_name.get(name) {
            return Ok(db.clone());
        }
        let mut file = cat.file.clone();
        let id = DbId(file.next_id);
        file.next_id += 1;
        file.databases.push(DatabaseEntry {
            id,
            name: name.to_owned(),
        });
        file.store(&self.inner.dir)?;
        cat.file = file;
        let db = Arc::new(Database::new(id, name.to_owned()));
        cat.by_name.insert(name.to_owned(), db.clone());
        cat.by_id.insert(id, db.clone());
        Ok(db)
    }

    /// Database names, sorted.
    pub fn databases(&self) -> Vec<String> {
        let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> = cat.by_name.values().map(|db| db.name.clone()).collect();
        names.sort();
        names
    }

    fn database(&self, name: &str) -> Result<Arc<Database>> {
        let found = {
            let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
            cat.by_name.get(name).cloned()
        };
        match found {
            Some(db) => Ok(db),
            None if self.inner.options.create_databases_on_write => {
                self.create_database_entry(name)
            }
            None => Err(Error::DatabaseNotFound {
                name: name.to_owned(),
            }),
        }
    }

    /// Writes a body of line protocol to database `db`. Lines without a timestamp get the
    /// receive time. Good lines are written even when others are bad: then the result is
    /// `Error::PartialWrite`, naming every rejected line, with what was accepted.
    pub fn write_lines(&self, db: &str, body: &[u8], precision: Precision) -> Result<WriteSummary> {
        let database = self.database(db)?;
        let now = now_nanos();
        let mut resolver = Resolver::new(&database);
        let mut rejected = Vec::new();
        for line in LineParser::new(body, precision) {
            match line {
                Ok(line) => {
                    if let Err(r) = resolver.add(&line, now) {
                        rejected.push(r);
                    }
                }
                Err(e) => rejected.push(RejectedLine::Syntax(e)),
            }
        }
        let accepted = self.commit(&database, resolver)?;
        if rejected.is_empty() {
            Ok(accepted)
        } else {
            Err(Error::PartialWrite { accepted, rejected })
        }
    }

    /// Writes points to database `db`; like [`Db::write_lines`], a point that breaks a rule is
    /// rejected (its number, from 1, is the "line") while the others are written.
    pub fn write(&self, db: &str, points: &[Point]) -> Result<WriteSummary> {
        let database = self.database(db)?;
        let now = now_nanos();
        let mut resolver = Resolver::new(&database);
        let mut rejected = Vec::new();
        for (i, point) in points.iter().enumerate() {
            let outcome = point
                .to_line(i + 1)
                .map_err(|reason| RejectedLine::InvalidPoint {
                    line: i + 1,
                    reason,
                })
                .and_then(|line| resolver.add(&line, now));
            if let Err(r) = outcome {
                rejected.push(r);
            }
        }
        let accepted = self.commit(&database, resolver)?;
        if rejected.is_empty() {
            Ok(accepted)
        } else {
            Err(Error::PartialWrite { accepted, rejected })
        }
    }

    fn commit(&self, database: &Database, resolver: Resolver<'_>) -> Result<WriteSummary> {
        let batch = &resolver.batch;
        let summary = WriteSummary {
            points: batch.point_count() as u64,
            values: batch.value_count() as u64,
        };
        if batch.is_empty() {
            return Ok(summary);
        }
        let mut record = Vec::new();
        wal::record::encode_write(database.id, batch, &mut record);
        let seq = {
            let _order = self
                .inner
                .sequencer
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let seq = self.inner.wal.append(&record)?;
            resolver.mark_logged();
            database.apply(batch);
            seq
        };
        self.inner.wal.wait(seq)?;
        Ok(summary)
    }

    /// Makes every acknowledged write durable now, whatever the fsync mode.
    pub fn sync(&self) -> Result<()> {
        self.inner.wal.sync()
    }

    /// The points of `measurement` in database `db` whose series match `tags`, restricted to
    /// `fields` (all fields when empty) and to `range`; one [`SeriesRows`] per series with
    /// data, in series key order, each in time order.
    pub fn scan(
        &self,
        db: &str,
        measurement: &str,
        tags: &TagPredicate,
        fields: &[&str],
        range: TimeRange,
    ) -> Result<Vec<SeriesRows>> {
        let database = {
            let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
            cat.by_name.get(db).cloned()
        }
        .ok_or_else(|| Error::DatabaseNotFound {
            name: db.to_owned(),
        })?;

        let selected: Vec<(crate::batch::FieldId, String, FieldType)> = {
            let schema = database.schema();
            if fields.is_empty() {
                schema
                    .fields_of(measurement)
                    .map(|f| (f.id, f.key.to_string(), f.field_type))
                    .collect()
            } else {
                fields
                    .iter()
                    .filter_map(|k| schema.get(measurement, k))
                    .map(|f| (f.id, f.key.to_string(), f.field_type))
                    .collect()
            }
        };
        let mut series: Vec<_> = {
            let index = database.index();
            index
                .measurement_series(measurement)
                .filter(|s| tags.matches(s))
                .cloned()
                .collect()
        };
        series.sort_by(|a, b| a.key.cmp(&b.key));

        let mut out = Vec::new();
        for s in series {
            let Some(buffer) = database.memtable.get(s.id) else {
                continue;
            };
            let columns: Vec<_> = {
                let mut buffer = Memtable::lock_buffer(&buffer);
                selected
                    .iter()
                    .map(|(fid, _, _)| match buffer.column(*fid) {
                        Some(col) => {
                            let r = col.range(range.min, range.max);
                            r.map(|i| (col.times[i], col.values.get(i))).collect()
                        }
                        None => Vec::new(),
                    })
                    .collect()
            };
            let rows = merge_rows(columns);
            if rows.is_empty() {
                continue;
            }
            out.push(SeriesRows {
                key: s.key.to_string(),
                measurement: s.measurement.to_string(),
                tags: s
                    .tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                fields: selected.iter().map(|(_, k, t)| (k.clone(), *t)).collect(),
                rows,
            });
        }
        Ok(out)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.syncer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(stop);
            let _ = handle.join();
        }
        // Best effort: an error here was, or will be, reported to the writers it concerns.
        let _ = self.wal.sync();
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

/// Compile-time check of the promise in the docs.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Db>();
};
