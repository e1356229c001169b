//! ganzhi-engine: the storage engine of ganzhi, an embedded time-series database for city
//! sensor networks.
//!
//! Data flows one way: line protocol ([`line_protocol`]) → resolved [`batch`] → write-ahead log
//! ([`wal`]) → [`memtable`] → (later) segments; [`Db::scan`] reads it back. The engine is
//! synchronous and thread-safe, and depends on no async runtime and no HTTP crate.
//!
//! ```
//! use ganzhi_engine::{Db, Options, Precision, TagPredicate, TimeRange};
//! let dir = tempfile::tempdir().unwrap();
//! let db = Db::open(dir.path(), Options::default()).unwrap();
//! db.create_database("city").unwrap();
//! db.write_lines("city", b"air,station=a pm25=12 1000\nair,station=a pm25=14 2000\n",
//!     Precision::Nanoseconds).unwrap();
//! let series = db.scan("city", "air", &TagPredicate::All, &["pm25"], TimeRange::ALL).unwrap();
//! assert_eq!(series[0].rows.len(), 2);
//! ```

pub mod batch;
pub mod catalog;
pub mod codec;
mod compaction;
mod database;
mod db;
pub mod encoding;
mod envelope;
pub mod error;
mod flush;
pub mod influxql;
pub mod line_protocol;
mod maintenance;
pub mod manifest;
pub mod memtable;
mod merge;
pub mod model;
mod point;
pub mod query;
mod retention;
mod scan;
pub mod schema;
pub mod segment;
pub mod series_file;
pub mod series_index;
mod tombstone;
pub mod wal;
mod write;
mod write_cache;

pub use compaction::CompactionPolicy;
pub use db::{DatabaseOptions, Db, MaintenanceStats, Options, SeriesCount};
pub use error::{Error, RejectedLine, Result, WriteSummary};
pub use model::{FieldType, FieldValue, OwnedFieldValue, Precision};
pub use point::Point;
pub use query::{
    Aggregate, AggregateQuery, AggregateSeries, ExecStats, QueryError, QueryEvent, QueryLimits,
    ResultSeries, SmallQuery,
};
pub use scan::{Row, SeriesRows, TagPredicate, TagRegex, TimeRange};
pub use wal::{Fsync, RecoveryReport, Truncation};
