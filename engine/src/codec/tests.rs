use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

thread_local! {
    /// Set by a test to make this thread's decoders take their portable (non-AVX2) builds.
    pub(super) static PORTABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn rt_i64(v: &[i64]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_integers(v, &mut buf);
    let mut back = vec![7i64];
    decode_integers(&buf, v.len(), &mut back).expect("decodes");
    assert_eq!(&back[1..], v);
    // The fast effort writes the same format, never smaller than the thorough one.
    let mut fast = Vec::new();
    encode_integers_with(v, Effort::Fast, &mut fast);
    let mut back = Vec::new();
    decode_integers(&fast, v.len(), &mut back).expect("fast decodes");
    assert_eq!(back, v);
    assert!(fast.len() >= buf.len(), "fast beat thorough");
    let mut back = Vec::new();
    fast.clear();
    encode_timestamps_with(v, Effort::Fast, &mut fast);
    decode_timestamps(&fast, v.len(), &mut back).expect("fast decodes");
    assert_eq!(back, v);
    let mut buf2 = Vec::new();
    encode_timestamps(v, &mut buf2);
    let mut back = Vec::new();
    decode_timestamps(&buf2, v.len(), &mut back).expect("decodes");
    assert_eq!(back, v);
    for enc in [&buf, &fast, &buf2] {
        assert_bound_holds(enc, v);
    }
    buf
}

fn rt_u64(v: &[u64]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_unsigned(v, &mut buf);
    let mut back = Vec::new();
    decode_unsigned(&buf, v.len(), &mut back).expect("decodes");
    assert_eq!(back, v);
    let mut fast = Vec::new();
    encode_unsigned_with(v, Effort::Fast, &mut fast);
    let mut back = Vec::new();
    decode_unsigned(&fast, v.len(), &mut back).expect("fast decodes");
    assert_eq!(back, v);
    buf
}

fn rt_f64(v: &[f64]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_floats(v, &mut buf);
    let mut back = vec![1.5];
    decode_floats(&buf, v.len(), &mut back).expect("decodes");
    assert_eq!(back.len(), v.len() + 1);
    for (i, (a, b)) in back[1..].iter().zip(v).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "value {i}: {a:?} vs {b:?}");
    }
    let mut fast = Vec::new();
    encode_floats_with(v, Effort::Fast, &mut fast);
    let mut back = Vec::new();
    decode_floats(&fast, v.len(), &mut back).expect("fast decodes");
    assert_eq!(back.len(), v.len());
    for (i, (a, b)) in back.iter().zip(v).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "fast value {i}: {a:?} vs {b:?}");
    }
    buf
}

fn rt_bool(v: &[bool]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_bools(v, &mut buf);
    let mut back = Vec::new();
    decode_bools(&buf, v.len(), &mut back).expect("decodes");
    assert_eq!(back, v);
    buf
}

fn rt_str(v: &[String]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_strings(v, &mut buf);
    let mut back = Vec::new();
    decode_strings(&buf, v.len(), &mut back).expect("decodes");
    assert_eq!(back, v);
    buf
}

/// Checks that the bound read from `buf`'s header, if any, holds for every value `v` it
/// decodes to; returns the bound.
fn assert_bound_holds(buf: &[u8], v: &[i64]) -> Option<LinearBound> {
    let b = timestamp_bound(buf, v.len())?;
    for (i, &x) in v.iter().enumerate() {
        let line = i as i128 * i128::from(b.step);
        let (lo, hi) = (i128::from(b.lo) + line, i128::from(b.hi) + line);
        assert!(
            lo <= i128::from(x) && i128::from(x) <= hi,
            "value {i} = {x} outside {lo}..={hi} (bound {b:?}, scheme {:#x})",
            buf[0]
        );
    }
    Some(b)
}

/// Every decoder on `bytes` with count `n`: must not panic, and on error must leave `out`
/// untouched.
fn decode_all(bytes: &[u8], n: usize) {
    let mut i = vec![1i64];
    if decode_integers(bytes, n, &mut i).is_err() {
        assert_eq!(i, [1]);
    } else {
        assert_eq!(i.len(), n + 1);
    }
    let mut ts = Vec::new();
    if decode_timestamps(bytes, n, &mut ts).is_ok() {
        assert_bound_holds(bytes, &ts);
    } else {
        // A header may still give a bound; it must not panic.
        let _ = timestamp_bound(bytes, n);
    }
    let mut u = Vec::new();
    if decode_unsigned(bytes, n, &mut u).is_ok() {
        assert_eq!(u.len(), n);
    }
    let mut f = vec![0.5];
    if decode_floats(bytes, n, &mut f).is_err() {
        assert_eq!(f, [0.5]);
    } else {
        assert_eq!(f.len(), n + 1);
    }
    let mut b = Vec::new();
    if decode_bools(bytes, n, &mut b).is_ok() {
        assert_eq!(b.len(), n);
    }
    let mut s = Vec::new();
    if decode_strings(bytes, n, &mut s).is_ok() {
        assert_eq!(s.len(), n);
    }
}

/// All truncations and some single-byte corruptions of a valid encoding.
fn mangle(buf: &[u8], n: usize) {
    for cut in 0..buf.len() {
        decode_all(&buf[..cut], n);
    }
    for pos in (0..buf.len()).step_by(buf.len() / 24 + 1) {
        for x in [0x01u8, 0x80, 0xff] {
            let mut b = buf.to_vec();
            b[pos] ^= x;
            decode_all(&b, n);
        }
    }
    decode_all(buf, n + 1);
    decode_all(buf, n.saturating_sub(1));
}

fn interesting_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        (-100_000i64..100_000, 0u32..4).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::from_bits(0x7ff0_0000_0000_0001)),
        Just(f64::from_bits(0xfff8_dead_beef_0001)),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE / 4.0),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(9_007_199_254_740_993.0),
        Just(0.1 + 0.2),
    ]
}

fn interesting_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -3i64..3,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(-1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn integers_round_trip(v in vec(interesting_i64(), 0..1100)) {
        rt_i64(&v);
    }

    #[test]
    fn unsigned_round_trip(v in vec(prop_oneof![any::<u64>(), 0u64..4, Just(u64::MAX),
        Just(1u64 << 63)], 0..1100)) {
        rt_u64(&v);
    }

    #[test]
    fn walks_round_trip(start in any::<i64>(), steps in vec(-300i64..300, 0..1100),
        scale in prop_oneof![Just(1i64), Just(1000), Just(1_000_000_007)]) {
        let mut x = start;
        let v: Vec<i64> = steps.iter().map(|d| { x = x.wrapping_add(d.wrapping_mul(scale)); x })
            .collect();
        let buf = rt_i64(&v);
        if v.len() > 32 {
            mangle(&buf, v.len());
        }
    }

    #[test]
    fn floats_round_trip(v in vec(interesting_f64(), 0..1100)) {
        rt_f64(&v);
    }

    #[test]
    fn decimal_floats_round_trip(start in -1_000_000i64..1_000_000, e in 0u32..6,
        steps in vec(-50i64..50, 1..1100), spice in vec((0usize..1100, interesting_f64()), 0..4)) {
        let p = 10f64.powi(e as i32);
        let mut m = start;
        let mut v: Vec<f64> = steps.iter().map(|d| { m += d; m as f64 / p }).collect();
        let n = v.len();
        for (i, x) in spice {
            v[i % n] = x;
        }
        let buf = rt_f64(&v);
        mangle(&buf, v.len());
    }

    #[test]
    fn bools_round_trip(v in prop_oneof![vec(any::<bool>(), 0..1100),
        (0usize..1100, 1usize..200).prop_map(|(n, p)| (0..n).map(|i| (i / p) % 2 == 0).collect())]) {
        let buf = rt_bool(&v);
        mangle(&buf, v.len());
    }

    #[test]
    fn strings_round_trip(v in prop_oneof![
        vec(any::<String>(), 0..300),
        vec(prop_oneof![Just(String::new()), Just("北京".to_string()), Just("a".to_string()),
            "[a-c]{0,3}"], 0..1100),
    ]) {
        let buf = rt_str(&v);
        if v.len() < 300 {
            mangle(&buf, v.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..300), n in 0usize..1100) {
        decode_all(&bytes, n);
        // The same bytes behind each scheme byte.
        for scheme in [0x01u8, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x22, 0x30,
            0x31, 0x82, 0x92, 0xa0, 0xb0] {
            let mut b = vec![scheme];
            b.extend_from_slice(&bytes);
            decode_all(&b, n);
        }
    }

    #[test]
    fn valid_streams_mangled_never_panic(v in vec(-1000i64..1000, 40..300), seed in any::<u64>()) {
        // A peaky block, so the rANS path is exercised.
        let v: Vec<i64> = v.iter().map(|x| if seed % 3 == 0 { x / 100 } else { *x }).collect();
        let buf = rt_i64(&v);
        mangle(&buf, v.len());
    }
}

#[test]
fn adversarial_integers() {
    let n = 1024;
    let cases: Vec<Vec<i64>> = vec![
        vec![],
        vec![i64::MIN],
        vec![5; n],
        (0..n)
            .map(|i| if i % 2 == 0 { i64::MIN } else { i64::MAX })
            .collect(),
        (0..n as i64).map(|i| i * 1_000_000_007).collect(),
        (0..n as i64).map(|i| i64::MAX - i).collect(),
        (0..n as i64)
            .map(|i| i.wrapping_mul(i64::MAX / 3))
            .collect(),
        (0..n as i64).map(|i| (i * i) / 7).collect(),
        (0..n).map(|i| if i < 500 { 0 } else { i64::MAX }).collect(),
        vec![i64::MAX, i64::MIN, i64::MAX],
    ];
    for v in &cases {
        rt_i64(v);
        let u: Vec<u64> = v.iter().map(|&x| x as u64).collect();
        rt_u64(&u);
    }
    rt_u64(&[0, u64::MAX, 0, u64::MAX, 1 << 63, (1 << 63) - 1]);
}

#[test]
fn adversarial_floats() {
    let n = 1024;
    let nan_mix: Vec<f64> = (0..n as u64)
        .map(|i| f64::from_bits(0x7ff8_0000_0000_0000 | (i * 0x1234_5678)))
        .collect();
    rt_f64(&nan_mix);
    let alternating: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { f64::MAX } else { f64::MIN })
        .collect();
    rt_f64(&alternating);
    rt_f64(&[-0.0; 10]);
    rt_f64(&[0.0, -0.0, 0.0]);
    rt_f64(&[f64::NAN]);
    // Decimal with a single non-decimal exception in the middle, at the start and the end.
    for at in [0, 500, n - 1] {
        let mut v: Vec<f64> = (0..n)
            .map(|i| (200 + (i % 17) as i64) as f64 / 10.0)
            .collect();
        v[at] = std::f64::consts::PI;
        let buf = rt_f64(&v);
        assert_eq!(buf[0], float::DECIMAL);
        assert_eq!(buf[1], 1, "exponent");
        assert!(buf.len() < n, "{} bytes", buf.len());
    }
    // Subnormals and huge decimals.
    let sub: Vec<f64> = (1..=n as u64).map(f64::from_bits).collect();
    rt_f64(&sub);
    let big: Vec<f64> = (0..n).map(|i| 1e300 * i as f64).collect();
    rt_f64(&big);
    let near_limit: Vec<f64> = (0..n)
        .map(|i| (9_007_199_254_740_000i64 + i as i64) as f64)
        .collect();
    rt_f64(&near_limit);
}

#[test]
fn adversarial_bools_and_strings() {
    rt_bool(&[true; 1024]);
    rt_bool(&[false; 1024]);
    rt_bool(&[]);
    rt_bool(&(0..1024).map(|i| i % 2 == 0).collect::<Vec<_>>());
    rt_str(&[]);
    rt_str(&vec![String::new(); 1024]);
    rt_str(&(0..1024).map(|i| format!("传感器-{i}")).collect::<Vec<_>>());
    let long = "x".repeat(100_000);
    rt_str(&vec![long; 64]);
}

/// A deterministic pseudo-random walk (splitmix64 steps).
fn noise(seed: u64, n: usize, spread: i64) -> Vec<i64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % (2 * spread as u64 + 1)) as i64 - spread
        })
        .collect()
}

#[test]
fn temperature_block_is_decimal_e1_and_small() {
    let mut t = 214i64;
    let v: Vec<f64> = noise(1, 1024, 1)
        .iter()
        .map(|d| {
            t += d;
            t as f64 / 10.0
        })
        .collect();
    let buf = rt_f64(&v);
    assert_eq!(buf[0], float::DECIMAL);
    assert_eq!(buf[1], 1);
    assert!(
        (buf.len() as f64) < 0.5 * 1024.0,
        "{} bytes for 1024 temperatures",
        buf.len()
    );
}

#[test]
fn regular_timestamps_cost_almost_nothing() {
    let ts: Vec<i64> = (0..1024)
        .map(|i| 1_793_491_200_000_000_000 + i * 10_000_000_000)
        .collect();
    let buf = rt_i64(&ts);
    assert!((buf.len() as f64) < 0.1 * 1024.0, "{} bytes", buf.len());
    assert!(buf.len() <= 16, "{} bytes", buf.len());
    // One missing point still costs next to nothing.
    let mut gap = ts.clone();
    gap.remove(300);
    let buf = rt_i64(&gap);
    assert!(buf.len() < 64, "{} bytes with a gap", buf.len());
}

#[test]
fn jittered_timestamps_cost_a_few_bits() {
    // 10 s interval with ±5 ms jitter at ms precision: ~13.3 bits of entropy per point.
    let j = noise(7, 1024, 5);
    let ts: Vec<i64> = (0..1024)
        .map(|i| 1_793_491_200_000_000_000 + i as i64 * 10_000_000_000 + j[i] * 1_000_000)
        .collect();
    let buf = rt_i64(&ts);
    assert!(buf.len() * 8 < 1024 * 5, "{} bytes", buf.len());
}

#[test]
fn integer_counters_use_few_bits() {
    let mut e = 1_000_000i64;
    let v: Vec<i64> = noise(3, 1024, 2)
        .iter()
        .map(|d| {
            e += 40 + d;
            e
        })
        .collect();
    let buf = rt_i64(&v);
    assert!(buf.len() < 400, "{} bytes", buf.len());
    let constant = rt_i64(&[42; 1024]);
    assert_eq!(constant, [int::CONST, 84]);
}

#[test]
fn decode_refuses_huge_counts() {
    let buf = rt_i64(&[1, 1, 1]);
    assert!(decode_integers(&buf, usize::MAX, &mut Vec::new()).is_err());
    assert!(decode_floats(
        &[float::CONST_BITS, 0, 0, 0, 0, 0, 0, 0, 0],
        MAX_VALUES + 1,
        &mut Vec::new()
    )
    .is_err());
}

#[test]
fn heavy_tailed_block_is_entropy_coded_and_survives_mangling() {
    // Noise-meter-like: small steps, occasional loud events far off.
    let steps = noise(11, 1024, 3);
    let bursts = noise(12, 1024, 1000);
    let mut level = 600i64;
    let v: Vec<f64> = steps
        .iter()
        .zip(&bursts)
        .map(|(&d, &b)| {
            level += d;
            let event = if b.rem_euclid(40) == 0 {
                150 + b / 10
            } else {
                0
            };
            (level + event) as f64 / 10.0
        })
        .collect();
    let buf = rt_f64(&v);
    assert_eq!(buf[0], float::DECIMAL);
    assert!(
        matches!(buf[3], int::SPLIT | int::PATCHED),
        "inner integer scheme {:#x}",
        buf[3]
    );
    mangle(&buf, v.len());
}

#[test]
fn jittered_ms_timestamps_are_entropy_coded_and_survive_mangling() {
    let narrow = noise(21, 1024, 2);
    let wide = noise(22, 1024, 50);
    let ts: Vec<i64> = (0..1024)
        .map(|i| {
            let j = if wide[i].rem_euclid(10) == 0 {
                wide[i]
            } else {
                narrow[i]
            };
            1_793_491_200_000_000_000 + i as i64 * 15_000_000_000 + j * 1_000_000
        })
        .collect();
    let buf = rt_i64(&ts);
    assert!(
        matches!(buf[0], int::SPLIT | int::PATCHED),
        "scheme {:#x}",
        buf[0]
    );
    // ~3.3 bits of entropy per point; 5 is generous.
    assert!(buf.len() * 8 < 1024 * 5, "{} bytes", buf.len());
    // The header alone bounds them to a band about as wide as the jitter (±50 ms).
    let b = assert_bound_holds(&buf, &ts).expect("a line bounds grid timestamps");
    assert_eq!(b.step, 15_000_000_000);
    assert!(b.hi - b.lo <= 256_000_000, "band {} ns wide", b.hi - b.lo);
    mangle(&buf, ts.len());
}

#[test]
fn bounds_of_constant_and_stepped_timestamps_are_exact() {
    let step: Vec<i64> = (0..100).map(|i| 1_000 + i * 10).collect();
    let mut buf = Vec::new();
    encode_timestamps(&step, &mut buf);
    let b = assert_bound_holds(&buf, &step);
    assert_eq!(
        b,
        Some(LinearBound {
            step: 10,
            lo: 1_000,
            hi: 1_000
        })
    );
    buf.clear();
    encode_timestamps(&[7; 5], &mut buf);
    let b = assert_bound_holds(&buf, &[7; 5]);
    assert_eq!(
        b,
        Some(LinearBound {
            step: 0,
            lo: 7,
            hi: 7
        })
    );
    // Deltas give no line, and neither does a line leaving the i64 range.
    let walk: Vec<i64> = (0..300i64).map(|i| i * i).collect();
    buf.clear();
    encode_timestamps_with(&walk, Effort::Fast, &mut buf);
    assert_eq!(buf[0], int::PACKED);
    assert_eq!(timestamp_bound(&buf, walk.len()), None);
    let near_max: Vec<i64> = (0..4).map(|i| i64::MAX - 30 + i * 10).collect();
    buf.clear();
    encode_timestamps(&near_max, &mut buf);
    assert!(assert_bound_holds(&buf, &near_max).is_some());
    assert_eq!(
        timestamp_bound(&buf, 5),
        None,
        "a fifth value would overflow"
    );
}

/// Heavy tails on both sides: steps of a few units, rare far outliers (escapes, patches).
fn heavy_tails(seed: u64, n: usize, rate: i64, far: i64) -> Vec<i64> {
    let steps = noise(seed, n, 3);
    let jumps = noise(seed ^ 0x55, n, far);
    let mut level = 0i64;
    steps
        .iter()
        .zip(&jumps)
        .map(|(&d, &j)| {
            level += d;
            if j.rem_euclid(rate) == 0 {
                level + j
            } else {
                level
            }
        })
        .collect()
}

#[test]
fn split_and_patched_streams_round_trip_and_survive_mangling() {
    let mut seen = std::collections::BTreeSet::new();
    for (i, (rate, far)) in [
        (40, 1000),
        (7, 1_000_000),
        (300, i64::MAX / 4),
        (3, 50),
        (1000, 9),
    ]
    .into_iter()
    .enumerate()
    {
        for n in [9, 100, 1024, 1025, 2048, 3000] {
            let v = heavy_tails(i as u64, n, rate, far);
            let buf = rt_i64(&v);
            seen.insert(buf[0]);
            if n <= 1025 {
                mangle(&buf, n);
            }
            // As decimal floats too (the mantissas are an integer stream).
            let f: Vec<f64> = v
                .iter()
                .map(|&x| (x % 1_000_000_000) as f64 / 100.0)
                .collect();
            rt_f64(&f);
        }
    }
    assert!(seen.contains(&int::SPLIT), "schemes used: {seen:x?}");
}

#[test]
fn escapes_of_every_size_round_trip() {
    // A narrow bulk with outliers of every magnitude up to 2^63: escaped high parts of every
    // varint length, and a zigzag centre.
    let n = 2048;
    let bulk = noise(5, n, 6);
    let v: Vec<i64> = bulk
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if i % 37 == 0 {
                b.wrapping_add(1i64.wrapping_shl((i / 37 % 64) as u32))
            } else {
                b
            }
        })
        .collect();
    let buf = rt_i64(&v);
    mangle(&buf, n);
    let u: Vec<u64> = v.iter().map(|&x| x as u64 ^ (1 << 63)).collect();
    rt_u64(&u);
}

#[test]
fn dominant_value_with_rare_others_is_small() {
    // Huffman cannot code a value in less than a bit: patched (or run-length) must take over.
    let n = 2048;
    let mut v = vec![100i64; n];
    for i in (0..n).step_by(97) {
        v[i] = 100 + (i as i64 % 13) - 6;
    }
    let buf = rt_i64(&v);
    assert!(buf.len() < 120, "{} bytes, scheme {:#x}", buf.len(), buf[0]);
    mangle(&buf, n);
}

#[test]
fn portable_and_simd_decoders_agree() {
    let mut blocks: Vec<Vec<i64>> = vec![
        heavy_tails(1, 2048, 40, 1000),
        heavy_tails(2, 1500, 5, 1 << 40),
        noise(3, 1024, 1 << 20),
        noise(4, 2000, 3),
        (0..1024)
            .map(|i| i * 1_000_000_007 + noise(9, 1, 5)[0])
            .collect(),
    ];
    blocks.push(blocks[0].iter().map(|x| x * 1000).collect());
    for v in &blocks {
        let mut buf = Vec::new();
        encode_integers(v, &mut buf);
        let f: Vec<f64> = v
            .iter()
            .map(|&x| (x % 1_000_000_000) as f64 / 10.0)
            .collect();
        let mut fbuf = Vec::new();
        encode_floats(&f, &mut fbuf);
        for portable in [false, true] {
            PORTABLE.with(|p| p.set(portable));
            let mut back = Vec::new();
            decode_integers(&buf, v.len(), &mut back).expect("decodes");
            assert_eq!(&back, v, "portable = {portable}");
            let mut fback = Vec::new();
            decode_floats(&fbuf, f.len(), &mut fback).expect("decodes");
            assert!(fback
                .iter()
                .zip(&f)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            mangle(&buf, v.len());
        }
        PORTABLE.with(|p| p.set(false));
    }
}

/// Residuals scaled by a common factor `g` are reconstructed with a 32×32→64-bit multiply
/// when every residual is below 2^31 and `g` too, else with a 64-bit one: streams on both
/// sides of each bound (and with zigzag, linear trends and escapes) round-trip, on the
/// portable and the SIMD decoders alike.
#[test]
fn scaled_residuals_round_trip_at_the_narrow_multiplication_bounds() {
    let factors = [2i64, 1000, 1_000_000, (1 << 31) - 1, 1 << 31, (1 << 31) + 1];
    for (seed, &g) in factors.iter().enumerate() {
        for spread in [
            3i64,
            1 << 20,
            (1 << 29) - 1,
            1 << 30,
            (1 << 31) - 1,
            1 << 32,
        ] {
            let seed = seed as u64 * 31 + spread as u64;
            let n = 2048;
            let small = noise(seed, n, spread);
            let heavy = heavy_tails(seed, n, 50, spread);
            let trend = noise(seed ^ 7, n, spread.min(1 << 20));
            let blocks = [
                // raw residuals around a base, both signs (zigzag)
                small
                    .iter()
                    .map(|&u| 5_000_000i64.wrapping_add(u.wrapping_mul(g)))
                    .collect(),
                // non-negative ones (no zigzag), up to the bound
                small
                    .iter()
                    .map(|&u| (u + spread).wrapping_mul(g))
                    .collect(),
                // rare far values (escapes)
                heavy.iter().map(|&u| u.wrapping_mul(g)).collect(),
                // timestamps: a sampling grid plus jitter (the linear transform)
                trend
                    .iter()
                    .enumerate()
                    .map(|(i, &u)| (i as i64 * 10_000 + u).wrapping_mul(g))
                    .collect::<Vec<i64>>(),
            ];
            for v in &blocks {
                for portable in [false, true] {
                    PORTABLE.with(|p| p.set(portable));
                    rt_i64(v);
                }
                PORTABLE.with(|p| p.set(false));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn heavy_tailed_streams_round_trip(seed in any::<u64>(), n in 8usize..2100,
        rate in 2i64..200, far in prop_oneof![Just(50i64), Just(100_000), Just(i64::MAX / 3)],
        portable in any::<bool>()) {
        PORTABLE.with(|p| p.set(portable));
        let v = heavy_tails(seed, n, rate, far);
        let buf = rt_i64(&v);
        if n < 600 {
            mangle(&buf, n);
        }
        PORTABLE.with(|p| p.set(false));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Well-formed headers of the entropy-coded and patched schemes over arbitrary payloads:
    /// the decoders get past the header and must still never panic.
    #[test]
    fn split_and_patched_headers_over_garbage_never_panic(
        scheme in prop_oneof![Just(int::SPLIT), Just(int::PATCHED)],
        transform in 0u8..4, flags in 0u8..4, k in prop_oneof![0u8..12, Just(63u8), Just(64u8)],
        g in prop_oneof![Just(1u8), Just(2u8)],
        // Arbitrary, or valid: lengths [1, 1], [2, 2, 2, 2], a single symbol 5.
        code in prop_oneof![vec(any::<u8>(), 0..12), Just(vec![1u8, 0x80]),
            Just(vec![3u8, 0xe2, 0]), Just(vec![5u8, 0])],
        payload in vec(any::<u8>(), 0..400), n in 0usize..2100) {
        let mut b = vec![scheme, transform];
        b.extend(std::iter::repeat_n(0u8, usize::from(transform.min(2))));
        b.extend([4, g, flags, k]);
        if scheme == int::SPLIT {
            // A plausible code: its length, S − 1, then arbitrary length codes.
            b.push(code.len() as u8);
            b.extend(&code);
        }
        b.extend(&payload);
        decode_all(&b, n);
        let mut f = vec![float::DECIMAL, 1, 0];
        f.extend(&b);
        decode_all(&f, n);
    }
}
