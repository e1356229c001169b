//! Query throughput on a day of 400 noise meters (3.46 M values of `laeq`), one thread and
//! all cores: a full-decode aggregate scan (`sum` per hour: every block spans several
//! windows, so every value is decoded; the window edges come from a line bounding each
//! block's timestamps, which are decoded only where an edge falls inside its band), the
//! same scan decoding every timestamp too (`last` per hour needs each point's time), the
//! percentile per hour of analyst query Q6, and a pushdown aggregate answered from block
//! statistics (`mean` per day). Throughput is in field values covered per second.
//!
//! The day is measured twice: `compacted` (a full compaction's thorough encoding, with
//! entropy-coded residuals: what data is once merged) and `flushed` (a flush's fast
//! encoding, bit packing only: what recent data is until its partition is merged).
//!
//! `cargo bench --bench query`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ganzhi::citygen::{CityConfig, CityGen, SensorCounts, DEFAULT_SEED, DEFAULT_START_NS};
use ganzhi_engine::{Db, Fsync, Options, Precision, QueryLimits};

const DAY_NS: i64 = 86_400_000_000_000;

fn dataset(compact: bool) -> (tempfile::TempDir, Db, u64) {
    let sensors = SensorCounts {
        air_quality: 0,
        traffic: 0,
        noise: 400,
        river: 0,
        parking: 0,
        power: 0,
    };
    let config = CityConfig::custom(sensors, DAY_NS, DEFAULT_START_NS, DEFAULT_SEED);
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync: Fsync::Never,
            background_maintenance: false,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    let mut gen = CityGen::new(&config);
    let mut body = Vec::new();
    loop {
        body.clear();
        if gen.next_batch(&mut body, 5_000) == 0 {
            break;
        }
        db.write_lines("city", &body, Precision::Nanoseconds)
            .unwrap();
    }
    db.flush().unwrap();
    if compact {
        db.compact(true).unwrap();
    }
    (dir, db, config.expected_values())
}

fn queries(c: &mut Criterion) {
    for (encoding, compact) in [("compacted", true), ("flushed", false)] {
        let (_dir, db, values) = dataset(compact);
        run(c, &db, values, encoding);
    }
}

fn run(c: &mut Criterion, db: &Db, values: u64, encoding: &str) {
    let mut g = c.benchmark_group(format!("query_{encoding}"));
    g.throughput(Throughput::Elements(values));
    g.sample_size(20);
    for (name, q) in [
        (
            "sum_per_hour_full_decode",
            "SELECT sum(laeq) FROM noise GROUP BY time(1h)",
        ),
        (
            "last_per_hour_times_decoded",
            "SELECT last(laeq) FROM noise GROUP BY time(1h)",
        ),
        (
            "p95_per_hour",
            "SELECT percentile(laeq, 95) FROM noise GROUP BY time(1h)",
        ),
        (
            "mean_per_day_from_stats",
            "SELECT mean(laeq) FROM noise GROUP BY time(1d)",
        ),
    ] {
        for threads in [1, 0] {
            let limits = QueryLimits {
                threads,
                ..QueryLimits::default()
            };
            let label = if threads == 1 {
                "1_thread"
            } else {
                "all_cores"
            };
            g.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| {
                    let r = db.query_with("city", q, limits).unwrap();
                    assert!(r[0].is_ok());
                    r
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
