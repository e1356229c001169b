//! Encode and decode throughput (values/s) of the column codecs on realistic synthetic
//! 1024-value blocks, and the bytes/value of each block (printed once at start-up).
//!
//! `cargo bench --bench codecs` (add `-- decode` to run only the decoders).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ganzhi_engine::codec::{
    decode_bools, decode_floats, decode_integers, decode_strings, decode_timestamps,
    decode_unsigned, encode_bools, encode_floats, encode_integers, encode_strings,
    encode_timestamps, encode_unsigned,
};

const N: usize = 1024;
const START_NS: i64 = 1_793_491_200_000_000_000;

/// Deterministic noise source (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `-w..=w`.
    fn sym(&mut self, w: i64) -> i64 {
        (self.next() % (2 * w as u64 + 1)) as i64 - w
    }

    /// Roughly normal, standard deviation `sigma` (sum of four uniforms).
    fn gauss(&mut self, sigma: i64) -> i64 {
        let r = self.next();
        let sum = (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
        (sum as i64 - 131_070) * sigma / 37_837
    }
}

/// A mean-reverting walk in resolution steps.
fn walk(rng: &mut Rng, start: i64, sigma: i64) -> Vec<i64> {
    let mut dev = 0i64;
    (0..N)
        .map(|_| {
            dev = dev - dev / 32 + rng.gauss(sigma);
            start + dev / 10
        })
        .collect()
}

fn timestamp_blocks(rng: &mut Rng) -> Vec<(&'static str, Vec<i64>)> {
    let grid = |interval_s: i64, jitter: &mut dyn FnMut() -> i64| -> Vec<i64> {
        (0..N as i64)
            .map(|i| START_NS + i * interval_s * 1_000_000_000 + jitter())
            .collect()
    };
    let regular = grid(10, &mut || 0);
    let ms = {
        let mut f = || {
            if rng.next().is_multiple_of(10) {
                rng.sym(50) * 1_000_000
            } else {
                rng.sym(2) * 1_000_000
            }
        };
        grid(15, &mut f)
    };
    let us = {
        let mut f = || rng.sym(20_000) * 1_000;
        grid(30, &mut f)
    };
    vec![
        ("regular_10s", regular),
        ("jitter_ms", ms),
        ("jitter_us", us),
    ]
}

fn float_blocks(rng: &mut Rng) -> Vec<(&'static str, Vec<f64>)> {
    let temperature: Vec<f64> = walk(rng, 214, 50)
        .iter()
        .map(|&m| m as f64 / 10.0)
        .collect();
    let voltage: Vec<f64> = walk(rng, 2200, 300)
        .iter()
        .map(|&m| m as f64 / 10.0)
        .collect();
    let mut e = 123_456_789i64;
    let energy: Vec<f64> = (0..N)
        .map(|_| {
            e += 40 + rng.sym(6);
            e as f64 / 100.0
        })
        .collect();
    let pm25: Vec<f64> = walk(rng, 60, 80).iter().map(|&m| m as f64).collect();
    let random: Vec<f64> = (0..N).map(|_| f64::from_bits(rng.next() >> 2)).collect();
    // Not peaky: entropy coding cannot beat bit packing, so this measures the packed path.
    let uniform: Vec<f64> = (0..N).map(|_| (rng.next() % 4096) as f64 / 100.0).collect();
    let mut blocks = vec![
        ("uniform_0.01_bitpacked", uniform),
        ("temperature_0.1", temperature),
        ("voltage_0.1", voltage),
        ("energy_counter_0.01", energy),
        ("pm25_integral", pm25),
        ("random_bits", random),
    ];
    // Its own generator, so the blocks above stay as they were.
    let mut rng = Rng(7);
    // A noise meter: small steps, and loud events far above (a heavy tail: escapes).
    let mut level = 600i64;
    let noise: Vec<f64> = (0..N)
        .map(|_| {
            level += rng.sym(3);
            let event = if rng.next().is_multiple_of(40) {
                150 + rng.sym(100)
            } else {
                0
            };
            (level + event) as f64 / 10.0
        })
        .collect();
    blocks.push(("noise_events_0.1", noise));
    blocks
}

fn integer_blocks(rng: &mut Rng) -> Vec<(&'static str, Vec<i64>)> {
    let counts: Vec<i64> = walk(rng, 40, 100).iter().map(|&v| v.max(0)).collect();
    let mut c = 1_000_000i64;
    let counter: Vec<i64> = (0..N)
        .map(|_| {
            c += 100 + rng.sym(3);
            c
        })
        .collect();
    let random: Vec<i64> = (0..N).map(|_| rng.next() as i64).collect();
    let uniform: Vec<i64> = (0..N).map(|_| (rng.next() % 4096) as i64).collect();
    vec![
        ("uniform_12bit_bitpacked", uniform),
        ("vehicle_count", counts),
        ("counter", counter),
        ("random", random),
    ]
}

fn blocks_report() {
    let mut rng = Rng(42);
    let line = |name: &str, bytes: usize| {
        println!(
            "codecs: {name:32} {bytes:6} bytes  {:.3} B/value",
            bytes as f64 / N as f64
        );
    };
    for (name, v) in timestamp_blocks(&mut rng) {
        let mut out = Vec::new();
        encode_timestamps(&v, &mut out);
        line(&format!("timestamps/{name}"), out.len());
    }
    for (name, v) in float_blocks(&mut rng) {
        let mut out = Vec::new();
        encode_floats(&v, &mut out);
        line(&format!("floats/{name}"), out.len());
    }
    for (name, v) in integer_blocks(&mut rng) {
        let mut out = Vec::new();
        encode_integers(&v, &mut out);
        line(&format!("integers/{name}"), out.len());
    }
}

fn codecs(c: &mut Criterion) {
    blocks_report();
    let mut rng = Rng(42);
    let ts = timestamp_blocks(&mut rng);
    let floats = float_blocks(&mut rng);
    let ints = integer_blocks(&mut rng);
    let unsigned: Vec<u64> = ints[2].1.iter().map(|&v| v as u64).collect();
    let mut state = false;
    let bools: Vec<bool> = (0..N)
        .map(|_| {
            if rng.next().is_multiple_of(50) {
                state = !state;
            }
            state
        })
        .collect();
    let names = ["haidian", "chaoyang", "dongcheng", "xicheng"];
    let strings: Vec<&str> = (0..N)
        .map(|_| names[(rng.next() % names.len() as u64) as usize])
        .collect();

    let mut enc = c.benchmark_group("encode");
    enc.throughput(Throughput::Elements(N as u64));
    let mut out = Vec::with_capacity(16 * N);
    for (name, v) in &ts {
        enc.bench_with_input(BenchmarkId::new("timestamps", name), v, |b, v| {
            b.iter(|| {
                out.clear();
                encode_timestamps(black_box(v), &mut out);
                out.len()
            })
        });
    }
    for (name, v) in &floats {
        enc.bench_with_input(BenchmarkId::new("floats", name), v, |b, v| {
            b.iter(|| {
                out.clear();
                encode_floats(black_box(v), &mut out);
                out.len()
            })
        });
    }
    for (name, v) in &ints {
        enc.bench_with_input(BenchmarkId::new("integers", name), v, |b, v| {
            b.iter(|| {
                out.clear();
                encode_integers(black_box(v), &mut out);
                out.len()
            })
        });
    }
    enc.bench_function("unsigned/counter", |b| {
        b.iter(|| {
            out.clear();
            encode_unsigned(black_box(&unsigned), &mut out);
            out.len()
        })
    });
    enc.bench_function("bools/rare_changes", |b| {
        b.iter(|| {
            out.clear();
            encode_bools(black_box(&bools), &mut out);
            out.len()
        })
    });
    enc.bench_function("strings/districts", |b| {
        b.iter(|| {
            out.clear();
            encode_strings(black_box(&strings), &mut out);
            out.len()
        })
    });
    enc.finish();

    let mut dec = c.benchmark_group("decode");
    dec.throughput(Throughput::Elements(N as u64));
    let mut i64s = Vec::with_capacity(N);
    for (name, v) in &ts {
        let mut buf = Vec::new();
        encode_timestamps(v, &mut buf);
        dec.bench_with_input(BenchmarkId::new("timestamps", name), &buf, |b, buf| {
            b.iter(|| {
                i64s.clear();
                decode_timestamps(black_box(buf), N, &mut i64s).expect("valid");
                i64s.len()
            })
        });
    }
    let mut f64s = Vec::with_capacity(N);
    for (name, v) in &floats {
        let mut buf = Vec::new();
        encode_floats(v, &mut buf);
        dec.bench_with_input(BenchmarkId::new("floats", name), &buf, |b, buf| {
            b.iter(|| {
                f64s.clear();
                decode_floats(black_box(buf), N, &mut f64s).expect("valid");
                f64s.len()
            })
        });
        // An aggregate scan: decode and sum.
        dec.bench_with_input(BenchmarkId::new("scan_sum", name), &buf, |b, buf| {
            b.iter(|| {
                f64s.clear();
                decode_floats(black_box(buf), N, &mut f64s).expect("valid");
                f64s.iter().sum::<f64>()
            })
        });
    }
    for (name, v) in &ints {
        let mut buf = Vec::new();
        encode_integers(v, &mut buf);
        dec.bench_with_input(BenchmarkId::new("integers", name), &buf, |b, buf| {
            b.iter(|| {
                i64s.clear();
                decode_integers(black_box(buf), N, &mut i64s).expect("valid");
                i64s.len()
            })
        });
    }
    let mut buf = Vec::new();
    encode_unsigned(&unsigned, &mut buf);
    let mut u64s = Vec::with_capacity(N);
    dec.bench_function("unsigned/counter", |b| {
        b.iter(|| {
            u64s.clear();
            decode_unsigned(black_box(&buf), N, &mut u64s).expect("valid");
            u64s.len()
        })
    });
    let mut buf = Vec::new();
    encode_bools(&bools, &mut buf);
    let mut bs = Vec::with_capacity(N);
    dec.bench_function("bools/rare_changes", |b| {
        b.iter(|| {
            bs.clear();
            decode_bools(black_box(&buf), N, &mut bs).expect("valid");
            bs.len()
        })
    });
    let mut buf = Vec::new();
    encode_strings(&strings, &mut buf);
    let mut ss = Vec::with_capacity(N);
    dec.bench_function("strings/districts", |b| {
        b.iter(|| {
            ss.clear();
            decode_strings(black_box(&buf), N, &mut ss).expect("valid");
            ss.len()
        })
    });
    dec.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = codecs
}
criterion_main!(benches);
