//! [`Db`]: the engine's handle, the write path, and the flush that empties the WAL.
//!
//! A write goes: parse (line protocol) → resolve against the catalog ([`Resolver`]) → encode
//! one WAL record → under the sequencer lock, append the record and apply the batch to the
//! memtable → wait until the WAL has made the record durable (group commit) → acknowledge.
//!
//! A flush goes: under the sequencer, rotate the WAL to a new segment, freeze every database's
//! memtable and forget which definitions are logged (so the new WAL segment defines what it
//! uses) → write the frozen memtables to segments and manifests → delete the old WAL segments.
//!
//! **Architecture Invariant:** the WAL is the only file written before a write is acknowledged,
//! and the memtable applies batches in exactly the WAL's order, so replay rebuilds the same
//! state, duplicates and all. A WAL segment is deleted only after every point in it is in a
//! segment file named by a durable manifest.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::batch::{Batch, DbId};
use crate::catalog::{self, CatalogFile, DatabaseEntry};
use crate::compaction::{self, CompactionPolicy};
use crate::database::Database;
use crate::error::{Error, IoContext, RejectedLine, Result, WriteSummary};
use crate::flush;
use crate::line_protocol::LineParser;
use crate::maintenance::Maintenance;
use crate::model::Precision;
use crate::point::Point;
use crate::query::{
    AggregateQuery, AggregateSeries, ExecStats, QueryError, QueryLimits, ResultSeries,
};
use crate::scan::{self, SeriesRows, TagPredicate, TimeRange};
use crate::wal::{self, Fsync, RecoveryReport, WalStats, WalWriter};
use crate::write::Resolver;

/// A writing thread's batch and WAL record buffers, kept from one write to the next: a write
/// of 5000 lines otherwise allocates (and grows by doubling) about 1 MiB of vectors and frees
/// them, on whichever thread runs it, which costs time and, between the memtable's columns,
/// leaves the heap fragmented.
struct WriteScratch {
    batch: Batch,
    record: Vec<u8>,
}

/// How many lines [`Db::write_lines`] resolves under one hold of the write cache's read lock.
const CACHE_LOCK_LINES: usize = 256;

/// Buffers larger than this are not kept (a rare huge write keeps no memory afterwards).
const SCRATCH_KEEP_BYTES: usize = 8 << 20;

thread_local! {
    static WRITE_SCRATCH: std::cell::RefCell<Option<WriteScratch>> =
        const { std::cell::RefCell::new(None) };
}

fn take_scratch() -> WriteScratch {
    WRITE_SCRATCH
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| WriteScratch {
            batch: Batch::default(),
            record: Vec::new(),
        })
}

fn keep_scratch(mut batch: Batch, mut record: Vec<u8>) {
    if batch.capacity_bytes() + record.capacity() > SCRATCH_KEEP_BYTES {
        return;
    }
    batch.clear();
    record.clear();
    WRITE_SCRATCH.with(|s| *s.borrow_mut() = Some(WriteScratch { batch, record }));
}

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
    /// Flush once the memtables hold this many bytes...
    pub memtable_bytes: usize,
    /// ...or once their oldest unflushed write is this old.
    pub flush_interval: Duration,
    /// Points per block in segments.
    pub block_rows: usize,
    /// When background compaction merges a partition's segments.
    pub compaction: CompactionPolicy,
    /// Run flush, compaction and retention in a background thread. Without it they happen
    /// only when asked ([`Db::flush`], [`Db::compact`], [`Db::enforce_retention`]).
    pub background_maintenance: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: Fsync::Always,
            wal_segment_bytes: 64 << 20,
            create_databases_on_write: false,
            memtable_bytes: 64 << 20,
            flush_interval: Duration::from_secs(600),
            block_rows: 2048,
            compaction: CompactionPolicy::default(),
            background_maintenance: true,
        }
    }
}

/// See [`Db::series_count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesCount {
    pub total: usize,
    pub on_heap: usize,
    /// Size of the memory-mapped series file.
    pub file_bytes: usize,
}

/// Settings of one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// Width of a time partition.
    pub partition: Duration,
    /// Partitions wholly older than this are dropped; `None` keeps data forever.
    pub retention: Option<Duration>,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            partition: Duration::from_secs(24 * 3600),
            retention: None,
        }
    }
}

/// Flushes, compactions and retention since the engine opened (see
/// [`Db::maintenance_stats`]): those run in the background and those asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MaintenanceStats {
    /// Flushes that wrote segments, and the field values they wrote.
    pub flushes: u64,
    pub flushed_values: u64,
    pub flush_seconds: f64,
    /// Compactions that replaced segments, and the field values they rewrote.
    pub compactions: u64,
    pub compacted_values: u64,
    pub compaction_seconds: f64,
    /// Segments retention dropped.
    pub retention_dropped_segments: u64,
}

/// The engine: cheap to clone (an `Arc`), `Send + Sync`, usable from any number of threads.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    dir: PathBuf,
    options: Options,
    /// Held (with an OS file lock) for the life of the handle: one `Db` per directory.
    _lock: File,
    catalog: RwLock<Catalog>,
    wal: Arc<WalWriter>,
    wal_dir: PathBuf,
    /// Makes "append to the WAL, then apply to the memtable" one step, so both see writes in
    /// the same order. Held for a memcpy and the memtable inserts, never across an fsync.
    sequencer: Mutex<()>,
    /// Bumped (under the sequencer) whenever the WAL starts a segment that must define every
    /// series and field it uses; a batch resolved in an older epoch is re-encoded.
    epoch: AtomicU64,
    /// One flush at a time.
    flush_lock: Mutex<()>,
    recovery: RecoveryReport,
    pub(crate) maintenance: Maintenance,
}

#[derive(Default)]
struct Catalog {
    file: CatalogFile,
    by_name: HashMap<String, Arc<Database>>,
}

const WAL_DIR: &str = "wal";
const DB_DIR: &str = "db";
const LOCK_FILE: &str = "LOCK";

pub(crate) fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Db {
    /// Opens (or creates) the data directory `dir`: its catalog, every database's manifest and
    /// segments, then replays the WAL.
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
        // Directories of dropped databases (or of a creation that crashed before its catalog).
        catalog::remove_unlisted_dirs(&dir.join(DB_DIR), &file)?;
        let mut by_id: HashMap<DbId, Arc<Database>> = HashMap::new();
        let mut catalog = Catalog {
            file,
            ..Catalog::default()
        };
        for entry in &catalog.file.databases {
            let db_dir = dir.join(DB_DIR).join(entry.id.0.to_string());
            let db = Arc::new(Database::open(entry.id, entry.name.clone(), db_dir)?);
            catalog.by_name.insert(entry.name.clone(), db.clone());
            by_id.insert(entry.id, db);
        }
        let replay_from: HashMap<DbId, u64> = by_id
            .iter()
            .map(|(id, db)| (*id, db.maintenance().wal_replay_from))
            .collect();

        let wal_dir = dir.join(WAL_DIR);
        fs::create_dir_all(&wal_dir).at(&wal_dir)?;
        let mut recovery = RecoveryReport::default();
        let mut orphans = 0u64;
        let mut inconsistent: Option<String> = None;
        let last_seq = wal::recovery::replay(&wal_dir, &mut recovery, |seq, rec| {
            // A record of a dropped database: its data is gone on purpose.
            let Some(db) = by_id.get(&rec.db()) else {
                return;
            };
            if seq < replay_from.get(&rec.db()).copied().unwrap_or(0) {
                return; // already in segments
            }
            match rec {
                wal::record::Record::Write(rec) => {
                    if let Err(e) = db.define_replayed(&rec.batch) {
                        inconsistent.get_or_insert(e);
                    }
                    orphans += db.apply_replayed(rec.batch);
                }
                wal::record::Record::Delete(rec) => db.apply_replayed_delete(rec.delete),
            }
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
        let db = Db {
            inner: Arc::new(Inner {
                dir,
                options,
                _lock: lock,
                catalog: RwLock::new(catalog),
                wal,
                wal_dir,
                sequencer: Mutex::new(()),
                epoch: AtomicU64::new(0),
                flush_lock: Mutex::new(()),
                recovery,
                maintenance: Maintenance::default(),
            }),
        };
        crate::maintenance::start(&db);
        Ok(db)
    }

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

    /// Creates a database with default options if it does not exist. Idempotent.
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.create_database_with(name, DatabaseOptions::default())
    }

    /// Creates a database if it does not exist (an existing one keeps its options).
    pub fn create_database_with(&self, name: &str, options: DatabaseOptions) -> Result<()> {
        self.create_database_entry(name, options).map(|_| ())
    }

    fn create_database_entry(&self, name: &str, options: DatabaseOptions) -> Result<Arc<Database>> {
        catalog::validate_name(name)?;
        let partition_ns = duration_ns(options.partition).max(1);
        let retention_ns = options.retention.map_or(0, duration_ns);
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
        // The database's directory and manifest first, so the catalog never names a database
        // without its settings.
        let db_dir = self.inner.dir.join(DB_DIR).join(id.0.to_string());
        fs::create_dir_all(&db_dir).at(&db_dir)?;
        let manifest = crate::manifest::Manifest {
            partition_ns,
            retention_ns,
            ..crate::manifest::Manifest::default()
        };
        manifest.store(&db_dir)?;
        file.store(&self.inner.dir)?;
        cat.file = file;
        let db = Arc::new(Database::open(id, name.to_owned(), db_dir)?);
        cat.by_name.insert(name.to_owned(), db.clone());
        Ok(db)
    }

    /// Changes how long a database keeps data (`None`: forever); takes effect at the next
    /// retention pass.
    pub fn set_retention(&self, name: &str, retention: Option<Duration>) -> Result<()> {
        let db = self.database(name)?;
        let mut manifest = db.maintenance();
        let mut next = manifest.clone();
        next.retention_ns = retention.map_or(0, duration_ns);
        next.store(db.dir())?;
        *manifest = next;
        Ok(())
    }

    /// What background and requested maintenance did since open, over every database.
    pub fn maintenance_stats(&self) -> MaintenanceStats {
        use std::sync::atomic::Ordering::Relaxed;
        let mut s = MaintenanceStats::default();
        for db in self.all_databases() {
            let a = &db.activity;
            s.flushes += a.flushes.load(Relaxed);
            s.flushed_values += a.flushed_values.load(Relaxed);
            s.flush_seconds += a.flush_nanos.load(Relaxed) as f64 / 1e9;
            s.compactions += a.compactions.load(Relaxed);
            s.compacted_values += a.compacted_values.load(Relaxed);
            s.compaction_seconds += a.compaction_nanos.load(Relaxed) as f64 / 1e9;
            s.retention_dropped_segments += a.retention_dropped_segments.load(Relaxed);
        }
        s
    }

    /// A database's partition width and retention. Waits for a running flush or compaction
    /// of that database, which holds its manifest.
    pub fn database_options(&self, name: &str) -> Result<DatabaseOptions> {
        let db = self.database(name)?;
        let manifest = db.maintenance();
        let nanos = |ns: i64| Duration::from_nanos(ns.max(0) as u64);
        Ok(DatabaseOptions {
            partition: nanos(manifest.partition_ns),
            retention: (manifest.retention_ns > 0).then(|| nanos(manifest.retention_ns)),
        })
    }

    /// Database names, sorted.
    pub fn databases(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .all_databases()
            .iter()
            .map(|db| db.name.clone())
            .collect();
        names.sort();
        names
    }

    pub(crate) fn all_databases(&self) -> Vec<Arc<Database>> {
        let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
        cat.by_name.values().cloned().collect()
    }

    fn find_database(&self, name: &str) -> Option<Arc<Database>> {
        let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
        cat.by_name.get(name).cloned()
    }

    pub(crate) fn database(&self, name: &str) -> Result<Arc<Database>> {
        self.find_database(name)
            .ok_or_else(|| Error::DatabaseNotFound {
                name: name.to_owned(),
            })
    }

    fn database_for_write(&self, name: &str) -> Result<Arc<Database>> {
        match self.find_database(name) {
            Some(db) => Ok(db),
            None if self.inner.options.create_databases_on_write => {
                self.create_database_entry(name, DatabaseOptions::default())
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
        let database = self.database_for_write(db)?;
        let now = now_nanos();
        let mut resolver = Resolver::new(&database, self.inner.epoch.load(Ordering::Acquire));
        let scratch = take_scratch();
        resolver.batch = scratch.batch;
        let mut rejected = Vec::new();
        let mut parser = LineParser::new(body, precision);
        let mut line = crate::line_protocol::Line::empty();
        let mut cache = None;
        let mut lines = 0usize;
        let epoch = resolver.epoch();
        loop {
            // The cache's lock is taken afresh every so many lines, so a writer waiting to
            // add entries never waits for a whole body.
            if lines.is_multiple_of(CACHE_LOCK_LINES) {
                drop(cache.take());
                cache = Some(database.write_cache.read());
            }
            lines += 1;
            let entries = cache.as_deref();
            // A line of a series the cache knows skips its tags' parsing; the entry found is
            // kept for resolving it.
            let hit = std::cell::Cell::new(None);
            let known = |raw: &[u8]| {
                let entry = entries.and_then(|c| c.get(epoch, raw));
                hit.set(entry);
                entry.is_some()
            };
            let Some(parsed) = parser.next_into_with(&mut line, Some(&known)) else {
                break;
            };
            let outcome = match (parsed, hit.get()) {
                (Err(e), _) => Err(RejectedLine::Syntax(e)),
                (Ok(()), None) => resolver.add_line(parser.series_bytes(), &line, now, entries),
                (Ok(()), Some(entry)) if resolver.add_known(entry, &line, now) => Ok(()),
                // The line has a field the cache does not know (or of another type).
                (Ok(()), Some(_)) => match parser.parse_series_into(&mut line) {
                    Ok(()) => resolver.add_line(parser.series_bytes(), &line, now, None),
                    Err(e) => Err(RejectedLine::Syntax(e)),
                },
            };
            if let Err(r) = outcome {
                rejected.push(r);
            }
        }
        drop(cache);
        let accepted = self.commit_with(&database, resolver, scratch.record)?;
        if rejected.is_empty() {
            Ok(accepted)
        } else {
            Err(Error::PartialWrite { accepted, rejected })
        }
    }

    /// Writes points to database `db`; like [`Db::write_lines`], a point that breaks a rule is
    /// rejected (its number, from 1, is the "line") while the others are written.
    pub fn write(&self, db: &str, points: &[Point]) -> Result<WriteSummary> {
        let database = self.database_for_write(db)?;
        let now = now_nanos();
        let mut resolver = Resolver::new(&database, self.inner.epoch.load(Ordering::Acquire));
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
        self.commit_with(database, resolver, Vec::new())
    }

    /// Logs and applies the resolver's batch, encoding its WAL record into `record` (empty;
    /// its capacity is reused); the batch's and the record's buffers are kept for the
    /// thread's next write.
    fn commit_with(
        &self,
        database: &Database,
        mut resolver: Resolver<'_>,
        mut record: Vec<u8>,
    ) -> Result<WriteSummary> {
        let summary = WriteSummary {
            points: resolver.batch.point_count() as u64,
            values: resolver.batch.value_count() as u64,
        };
        if resolver.batch.is_empty() {
            keep_scratch(std::mem::take(&mut resolver.batch), record);
            return Ok(summary);
        }
        self.inner
            .maintenance
            .wait_for_room(|| self.memtable_bytes(), &self.inner.options);
        wal::record::encode_write(database.id, &resolver.batch, &mut record);
        let (seq, epoch) = {
            let _order = self
                .inner
                .sequencer
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let epoch = self.inner.epoch.load(Ordering::Acquire);
            if resolver.epoch() != epoch {
                // A flush started a new WAL segment since this batch was resolved: it must
                // carry the definitions of everything it uses.
                resolver.define_everything();
                record.clear();
                wal::record::encode_write(database.id, &resolver.batch, &mut record);
            }
            let seq = self.inner.wal.append(&record)?;
            resolver.mark_logged();
            database.apply(&resolver.batch);
            (seq, epoch)
        };
        // Everything the batch used is now logged in `epoch`. What it resolved in an earlier
        // epoch is not learned: a `DROP MEASUREMENT` in between may have removed some of
        // those fields (the batch itself was re-encoded without them).
        let learned = std::mem::take(&mut resolver.learned);
        if resolver.epoch() == epoch {
            database.write_cache.learn(epoch, learned);
        }
        keep_scratch(std::mem::take(&mut resolver.batch), record);
        self.inner.wal.wait(seq)?;
        self.inner
            .maintenance
            .note_write(self.memtable_bytes(), &self.inner.options);
        Ok(summary)
    }

    /// Bytes held by the active memtables.
    pub fn memtable_bytes(&self) -> usize {
        self.all_databases()
            .iter()
            .map(|db| db.state().active.stats.bytes.load(Ordering::Relaxed))
            .sum()
    }

    /// Makes every acknowledged write durable now, whatever the fsync mode.
    pub fn sync(&self) -> Result<()> {
        self.inner.wal.sync()
    }

    /// Writes every memtable to segments and empties the WAL; returns when that is durable.
    pub fn flush(&self) -> Result<()> {
        let _one = self
            .inner
            .flush_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dbs = self.all_databases();
        let boundary = {
            let _order = self
                .inner
                .sequencer
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let boundary = self.inner.wal.rotate()?;
            for db in &dbs {
                db.freeze(self.inner.options.memtable_bytes);
                db.reset_logged();
            }
            self.inner.epoch.fetch_add(1, Ordering::AcqRel);
            boundary
        };
        for db in &dbs {
            flush::flush_frozen(db, boundary, self.inner.options.block_rows)?;
        }
        wal::recovery::remove_before(&self.inner.wal_dir, boundary)
    }

    /// Runs compaction: with `full`, merges every partition's segments into one; otherwise
    /// what the policy picks.
    pub fn compact(&self, full: bool) -> Result<()> {
        let mode = if full {
            compaction::Mode::Full
        } else {
            compaction::Mode::Routine
        };
        self.compact_unless(mode, || false)
    }

    /// [`Db::compact`], stopping between two merges once `stop` says so (the background
    /// thread: a flush that became due goes first, so the memtables do not grow meanwhile).
    pub(crate) fn compact_unless(
        &self,
        mode: compaction::Mode,
        stop: impl Fn() -> bool,
    ) -> Result<()> {
        for db in self.all_databases() {
            let runs = compaction::plan(&db, &self.inner.options.compaction, mode)?;
            for run in runs {
                if stop() {
                    return Ok(());
                }
                compaction::compact(&db, &run, self.inner.options.block_rows)?;
            }
        }
        Ok(())
    }

    /// Drops the partitions that lie wholly outside their database's retention; returns how
    /// many segment files went.
    pub fn enforce_retention(&self) -> Result<usize> {
        let now = now_nanos();
        let mut dropped = 0;
        for db in self.all_databases() {
            dropped += crate::retention::enforce(&db, now)?;
        }
        Ok(dropped)
    }

    // ---- Deletes: DROP DATABASE, DELETE, DROP SERIES, DROP MEASUREMENT (see `tombstone`) ----

    /// Drops database `name`: it leaves the catalog (one atomic, durable catalog update), then
    /// its directory is deleted. Its records still in the WAL are skipped by replay (their
    /// database id is no longer in the catalog, and ids are never reused), so a database
    /// created again under the name starts empty. Dropping a database that does not exist is
    /// not an error (as in InfluxDB). If deleting the directory fails, the database is dropped
    /// all the same, the error is returned, and the next open deletes the directory.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        let Some(database) = self.find_database(name) else {
            return Ok(());
        };
        // No flush or retention pass of it runs past this point, nor a compaction's swap; a
        // merge in progress stops at its next check (waited for below).
        let maintenance = database.maintenance();
        {
            let mut cat = self
                .inner
                .catalog
                .write()
                .unwrap_or_else(|e| e.into_inner());
            match cat.by_name.get(name) {
                Some(db) if Arc::ptr_eq(db, &database) => {}
                _ => return Ok(()), // dropped by someone else meanwhile
            }
            let mut file = cat.file.clone();
            file.databases.retain(|d| d.id != database.id);
            file.store(&self.inner.dir)?;
            cat.file = file;
            cat.by_name.remove(name);
        }
        database.mark_dropped();
        drop(maintenance);
        drop(database.merge_lock());
        fs::remove_dir_all(database.dir()).at(database.dir())?;
        wal::writer::sync_dir(&self.inner.dir.join(DB_DIR))
    }

    /// Deletes the points of database `db` with `range.min <= time <= range.max` in the series
    /// of `measurement` (every measurement if `None`) that match `tags`
    /// (`DELETE FROM … WHERE …`). Returns how many series had points deleted.
    ///
    /// The delete is ordered among the writes: every write acknowledged before the call is
    /// deleted, every write made after it returns is kept; a write concurrent with it is one or
    /// the other, whole. It is durable when it returns (the WAL is fsynced, whatever the fsync
    /// mode). Series and fields stay listed (see [`Db::drop_series`]). Disk space comes back
    /// when compaction rewrites the segments holding the points.
    pub fn delete(
        &self,
        db: &str,
        measurement: Option<&str>,
        tags: &TagPredicate,
        range: TimeRange,
    ) -> Result<u64> {
        let database = self.database(db)?;
        if range.min > range.max {
            return Ok(0);
        }
        let sel = Selection {
            measurement,
            tags,
            range,
            hide: false,
            drop_fields: false,
        };
        Ok(self.delete_logged(&database, &sel)?.0)
    }

    /// Drops the series of `measurement` (every measurement if `None`) that match `tags`
    /// (`DROP SERIES`): all their points are deleted, and they leave the listings
    /// ([`Db::measurements`], `SHOW SERIES`, tag keys and values) until a write brings them
    /// back. Their fields stay (other series may use them). Returns how many series were
    /// dropped. Ordered and durable like [`Db::delete`].
    pub fn drop_series(
        &self,
        db: &str,
        measurement: Option<&str>,
        tags: &TagPredicate,
    ) -> Result<u64> {
        let database = self.database(db)?;
        let sel = Selection {
            measurement,
            tags,
            range: TimeRange::ALL,
            hide: true,
            drop_fields: false,
        };
        Ok(self.delete_logged(&database, &sel)?.1)
    }

    /// Drops `measurement` (`DROP MEASUREMENT`): all its series as [`Db::drop_series`] does,
    /// and its fields leave the schema, so the measurement is in no listing until written
    /// again; a field written again is a new field and may take another type. Ordered and
    /// durable like [`Db::delete`]. An unknown measurement is not an error.
    pub fn drop_measurement(&self, db: &str, measurement: &str) -> Result<()> {
        let database = self.database(db)?;
        let sel = Selection {
            measurement: Some(measurement),
            tags: &TagPredicate::All,
            range: TimeRange::ALL,
            hide: true,
            drop_fields: true,
        };
        self.delete_logged(&database, &sel).map(|_| ())
    }

    /// Logs and applies one delete; returns (series with points deleted, series selected).
    fn delete_logged(&self, database: &Database, sel: &Selection<'_>) -> Result<(u64, u64)> {
        // Held throughout: no flush, compaction or retention changes the segments, the
        // tombstones or the series file meanwhile.
        let manifest = database.maintenance();
        if database.is_dropped() {
            return Err(Error::DatabaseNotFound {
                name: database.name.clone(),
            });
        }
        let (mut series, first_new) = {
            let index = database.index();
            (sel.series(&index), index.next_id())
        };
        let max_order = manifest.next_order.saturating_sub(1);
        // The tombstones before this delete: what readers saw (stable: `maintenance` is held).
        let earlier = database.state().tombstones.clone();
        let mut record = Vec::new();
        let (seq, delete, touched) = {
            let _order = self
                .inner
                .sequencer
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            // Series created since the selection (the new ones are still in the index's
            // memory part: no flush can run) whose writes precede the delete go too.
            {
                let index = database.index();
                for (id, key) in index.created_since(first_new) {
                    if sel.matches(&key) {
                        series.push(id);
                    }
                }
            }
            series.sort_unstable();
            series.dedup();
            let drop_fields: Vec<crate::batch::FieldId> = match (sel.drop_fields, sel.measurement) {
                (true, Some(m)) => database.schema().fields_of(m).map(|f| f.id).collect(),
                _ => Vec::new(),
            };
            if series.is_empty() && drop_fields.is_empty() {
                return Ok((0, 0));
            }
            let delete = crate::batch::Delete {
                series,
                min: sel.range.min,
                max: sel.range.max,
                hide: sel.hide,
                drop_fields,
            };
            wal::record::encode_delete(database.id, &delete, &mut record);
            let seq = self.inner.wal.append(&record)?;
            let touched = crate::tombstone::apply(database, &delete, max_order);
            if !delete.drop_fields.is_empty() {
                // Batches resolved before the fields went are re-encoded without them.
                self.inner.epoch.fetch_add(1, Ordering::AcqRel);
            }
            (seq, delete, touched)
        };
        self.inner.wal.wait(seq)?;
        self.inner.wal.sync()?;

        // Which series had points to delete; tombstones that hide nothing go now.
        let (segments, tombstones) = {
            let st = database.state();
            (st.segments.clone(), st.tombstones.clone())
        };
        let mut affected: Vec<crate::batch::SeriesId> = touched;
        if delete.min <= delete.max {
            affected.extend(crate::tombstone::visible_in_segments(
                &delete.series,
                delete.min,
                delete.max,
                max_order,
                &segments,
                &earlier,
            )?);
        }
        affected.sort_unstable();
        affected.dedup();
        let live = crate::tombstone::collect_garbage(&tombstones, &segments, &manifest.segments)?;
        database.state_mut().tombstones = Arc::new(live);
        Ok((affected.len() as u64, delete.series.len() as u64))
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
        let database = self.database(db)?;
        scan::scan(&database, measurement, tags, fields, range)
    }

    /// Segment files that failed validation when the database was opened (path, reason):
    /// their data is unreadable, everything else is served.
    pub fn damaged_segments(&self) -> Vec<(PathBuf, String)> {
        self.all_databases()
            .iter()
            .flat_map(|db| db.damaged.clone())
            .collect()
    }

    /// How many series database `db` has, and how many of them are held on the heap (created
    /// since the last flush wrote the memory-mapped series file).
    pub fn series_count(&self, db: &str) -> Result<SeriesCount> {
        let database = self.database(db)?;
        let index = database.index();
        Ok(SeriesCount {
            total: index.len(),
            on_heap: index.in_memory(),
            file_bytes: index.file().map_or(0, |f| f.mapped_bytes()),
        })
    }

    /// The measurements of database `db`, sorted.
    pub fn measurements(&self, db: &str) -> Result<Vec<String>> {
        let database = self.database(db)?;
        let measurements = database.index().measurements();
        Ok(measurements)
    }

    /// A windowed aggregate of one field (see [`AggregateQuery`]), answered from block
    /// statistics wherever a block lies inside one window and nothing overlaps it.
    pub fn aggregate(
        &self,
        db: &str,
        query: &AggregateQuery<'_>,
    ) -> Result<(Vec<AggregateSeries>, ExecStats)> {
        let database = self.database(db)?;
        crate::query::exec::aggregate(&database, query, &crate::query::limits::Budget::unlimited())
    }

    /// Runs InfluxQL `text` against database `db` (the subset in [`crate::query::statement`]);
    /// one result per statement, as InfluxDB answers.
    pub fn query(
        &self,
        db: &str,
        text: &str,
    ) -> std::result::Result<Vec<std::result::Result<Vec<ResultSeries>, QueryError>>, QueryError>
    {
        self.query_with(db, text, QueryLimits::default())
    }

    /// Runs a [`crate::query::Select`] built in Rust against database `db`, as InfluxQL
    /// would run the same statement.
    pub fn select(
        &self,
        db: &str,
        select: &crate::query::Select,
    ) -> std::result::Result<Vec<ResultSeries>, QueryError> {
        crate::query::statement::run_statement(self, db, select.statement(), now_nanos())
    }

    /// [`Db::query`] within limits: a statement that would hold more points than
    /// `limits.max_points` is refused before reading them, and the query stops once it runs
    /// past `limits.timeout`; either fails that statement with [`QueryError::Limit`].
    pub fn query_with(
        &self,
        db: &str,
        text: &str,
        limits: QueryLimits,
    ) -> std::result::Result<Vec<std::result::Result<Vec<ResultSeries>, QueryError>>, QueryError>
    {
        crate::query::statement::run(self, db, text, now_nanos(), limits)
    }

    /// [`Db::query_with`] for a caller that must not wait long (an async runtime's worker
    /// thread): runs the query only while it stays small — read-only statements (`SELECT`,
    /// `SHOW DATABASES`), none planning to decode more than `small.max_points` points, the
    /// whole within `small.max_time` (checked between series) — and returns `Ok(None)` as
    /// soon as it is not, having changed nothing: [`Db::query_with`] then answers it.
    pub fn try_query_small(
        &self,
        db: &str,
        text: &str,
        limits: QueryLimits,
        small: crate::query::SmallQuery,
    ) -> std::result::Result<Option<Vec<crate::query::output::StatementOutcome>>, QueryError> {
        crate::query::statement::run_small(self, db, text, now_nanos(), limits, small)
    }

    /// [`Db::query_with`], handing each series to `consumer` as it is produced instead of
    /// collecting them: series cut into chunks of at most `chunk_rows` rows (0: whole
    /// series), then each statement's [`crate::QueryEvent::End`]. With chunks, a raw
    /// statement holds about `limits.slice_points` points per group at once, whatever its
    /// time range, and `limits.max_points` does not apply to it. A parse error returns
    /// before any event; `ControlFlow::Break` from the consumer stops the query.
    pub fn query_stream(
        &self,
        db: &str,
        text: &str,
        limits: QueryLimits,
        chunk_rows: usize,
        consumer: &mut crate::query::emit::Consumer<'_>,
    ) -> std::result::Result<(), QueryError> {
        crate::query::statement::run_stream(
            self,
            db,
            text,
            now_nanos(),
            limits,
            chunk_rows,
            consumer,
        )
    }

    /// Bytes on disk under the data directory (WAL, segments, manifests, catalog).
    pub fn disk_bytes(&self) -> Result<u64> {
        fn walk(dir: &Path) -> Result<u64> {
            let mut total = 0;
            for entry in fs::read_dir(dir).at(dir)? {
                let entry = entry.at(dir)?;
                let meta = entry.metadata().at(entry.path())?;
                total += if meta.is_dir() {
                    walk(&entry.path())?
                } else {
                    meta.len()
                };
            }
            Ok(total)
        }
        walk(&self.inner.dir)
    }
}

fn duration_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Which series a delete takes, and what else it does.
struct Selection<'a> {
    measurement: Option<&'a str>,
    tags: &'a TagPredicate,
    range: TimeRange,
    hide: bool,
    drop_fields: bool,
}

impl Selection<'_> {
    /// The visible series selected, in no particular order.
    fn series(&self, index: &crate::series_index::SeriesIndex) -> Vec<crate::batch::SeriesId> {
        let measurements = match self.measurement {
            Some(m) => vec![m.to_owned()],
            None => index.measurements(),
        };
        let mut out = Vec::new();
        for m in measurements {
            for (id, key) in index.measurement_series(&m) {
                if matches!(self.tags, TagPredicate::All) || self.matches(&key) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Whether the series with this canonical key is selected.
    fn matches(&self, key: &str) -> bool {
        let Some((measurement, tags)) = crate::line_protocol::parse_series_key(key) else {
            return false;
        };
        self.measurement.is_none_or(|m| m == measurement) && self.tags.matches(&tags)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.maintenance.stop();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::LineParser;

    fn options() -> Options {
        Options {
            fsync: Fsync::Never,
            background_maintenance: false,
            ..Options::default()
        }
    }

    /// A batch resolved before a flush and committed after it lands in a WAL segment that
    /// follows the flush; that segment must define the batch's series and fields itself,
    /// because the segments that first defined them are deleted by the flush.
    #[test]
    fn a_batch_resolved_before_a_flush_defines_what_it_uses() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), options()).unwrap();
        db.create_database("city").unwrap();
        db.write_lines("city", b"air,station=a pm25=1 1\n", Precision::Nanoseconds)
            .unwrap();

        let database = db.database("city").unwrap();
        let mut resolver = Resolver::new(&database, db.inner.epoch.load(Ordering::Acquire));
        for line in LineParser::new(b"air,station=a pm25=2 2\n", Precision::Nanoseconds) {
            resolver.add(&line.unwrap(), 0).unwrap();
        }
        // The series and field are logged already: the batch carries no definitions...
        assert!(resolver.batch.new_series.is_empty() && resolver.batch.new_fields.is_empty());
        db.flush().unwrap(); // ...and the WAL segment that had them is gone now.
        db.commit(&database, resolver).unwrap();
        drop(database);
        drop(db);

        // The one WAL segment left holds the batch, with its definitions.
        let wal_dir = dir.path().join(WAL_DIR);
        let seqs = wal::recovery::list_segments(&wal_dir).unwrap();
        assert_eq!(seqs.len(), 1);
        let bytes = fs::read(wal::segment::path(&wal_dir, seqs[0])).unwrap();
        let (frames, _) = wal::segment::scan(&bytes);
        assert_eq!(frames.len(), 1);
        let rec = wal::record::decode(frames[0].1).unwrap();
        assert_eq!(rec.batch.new_series.len(), 1);
        assert_eq!(rec.batch.new_fields.len(), 1);

        let db = Db::open(dir.path(), options()).unwrap();
        assert_eq!(db.recovery_report().orphaned_points, 0);
        let rows = db
            .scan("city", "air", &TagPredicate::All, &[], TimeRange::ALL)
            .unwrap();
        let times: Vec<i64> = rows[0].rows.iter().map(|r| r.time).collect();
        assert_eq!(times, vec![1, 2]);
    }
}
