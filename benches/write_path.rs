//! `write_lines` throughput (field values/s) on generated data in batches of 5000 lines, with the
//! default durability (`fsync = always`, one writer and four concurrent writers sharing group
//! commit) and with `fsync = never`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ganzhi::citygen::{CityConfig, CityGen, Scale};
use ganzhi_engine::{Db, Fsync, Options, Precision};

fn batches() -> (Vec<Vec<u8>>, u64) {
    let config = CityConfig::scale(Scale::Small);
    let mut gen = CityGen::new(&config);
    let mut out = Vec::new();
    loop {
        let mut body = Vec::new();
        if gen.next_batch(&mut body, 5_000) == 0 {
            break;
        }
        out.push(body);
    }
    (out, config.expected_values())
}

fn ingest(batches: &[Vec<u8>], fsync: Fsync, writers: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    std::thread::scope(|s| {
        for w in 0..writers {
            let db = db.clone();
            s.spawn(move || {
                for body in batches.iter().skip(w).step_by(writers) {
                    db.write_lines("city", body, Precision::Nanoseconds)
                        .unwrap();
                }
            });
        }
    });
    dir
}

fn write_path(c: &mut Criterion) {
    let (batches, values) = batches();
    let mut group = c.benchmark_group("write_lines_small_1M_values");
    group.sample_size(10);
    group.throughput(Throughput::Elements(values));
    for (name, fsync, writers) in [
        ("fsync_always_1_writer", Fsync::Always, 1),
        ("fsync_always_4_writers", Fsync::Always, 4),
        ("fsync_never_1_writer", Fsync::Never, 1),
        ("fsync_never_4_writers", Fsync::Never, 4),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (),
                |_| ingest(&batches, fsync, writers),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, write_path);
criterion_main!(benches);
