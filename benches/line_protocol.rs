//! Parse throughput on generated smart-city data (MB/s and lines/s).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ganzhi::citygen::{generate_all, CityConfig, Scale};
use ganzhi_engine::line_protocol::LineParser;
use ganzhi_engine::Precision;

fn parse(c: &mut Criterion) {
    let body = generate_all(&CityConfig::scale(Scale::Small));
    let lines = body.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut group = c.benchmark_group("parse_small_1M_values");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("bytes", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for line in LineParser::new(&body, Precision::Nanoseconds) {
                n += line.expect("generated data parses").fields.len();
            }
            n
        })
    });
    group.throughput(Throughput::Elements(lines));
    group.bench_function("lines", |b| {
        b.iter(|| {
            LineParser::new(&body, Precision::Nanoseconds)
                .filter(|l| l.is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
