//! Fixtures shared by the engine's integration tests.

use std::path::Path;
use std::time::Duration;

use ganzhi_engine::{CompactionPolicy, DatabaseOptions, Db, Fsync, Options};

/// Opens `dir` with a database `city` made to exercise the storage paths on little data: blocks
/// of `block_rows` rows, partitions of `partition_ns` nanoseconds, compaction from two inputs,
/// no fsync and no background maintenance (flushes and compactions happen when a test asks).
pub fn open_tiny(dir: &Path, block_rows: usize, partition_ns: u64) -> Db {
    let options = Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        block_rows,
        compaction: CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 1 << 20,
        },
        ..Options::default()
    };
    let db = Db::open(dir, options).unwrap();
    db.create_database_with(
        "city",
        DatabaseOptions {
            partition: Duration::from_nanos(partition_ns),
            retention: None,
        },
    )
    .unwrap();
    db
}
