//! Property test: windowed aggregates, computed with block-statistics pushdown over segments
//! and memtables, against a naive evaluation over an in-memory model, with flushes and
//! compactions between writes.

mod common;

use std::collections::BTreeMap;

use ganzhi_engine::{
    Aggregate, AggregateQuery, Db, FieldValue, Fsync, Options, OwnedFieldValue, Precision,
    TagPredicate, TimeRange,
};
use proptest::prelude::*;

const SERIES: [&str; 3] = [
    "district=a,site=1",
    "district=a,site=2",
    "district=b,site=3",
];

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<(usize, i64, i64)>),
    Flush,
    Compact,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let write = proptest::collection::vec((0..SERIES.len(), 0i64..120, -20i64..20), 1..40)
        .prop_map(Op::Write);
    // A sensor's run on a jittered grid: once compacted, a line bounds its timestamps, and
    // window edges are placed from that bound (see `query::exec`).
    // Without jitter, even a flush's fast encoding keeps them exact (a constant step).
    let grid = (
        0..SERIES.len(),
        0i64..20,
        2i64..9,
        any::<bool>(),
        proptest::collection::vec((-1i64..=1, -20i64..20), 4..30),
    )
        .prop_map(|(s, t0, step, jittered, points)| {
            Op::Write(
                points
                    .iter()
                    .enumerate()
                    .map(|(k, &(jitter, v))| {
                        let jitter = if jittered { jitter } else { 0 };
                        (s, (t0 + k as i64 * step + jitter).max(0), v)
                    })
                    .collect(),
            )
        });
    proptest::collection::vec(
        prop_oneof![
            3 => write,
            3 => grid,
            2 => Just(Op::Flush),
            1 => Just(Op::Compact)
        ],
        1..12,
    )
}

fn aggregates() -> impl Strategy<Value = Aggregate> {
    prop_oneof![
        Just(Aggregate::Count),
        Just(Aggregate::Sum),
        Just(Aggregate::Mean),
        Just(Aggregate::Min),
        Just(Aggregate::Max),
        Just(Aggregate::First),
        Just(Aggregate::Last),
        Just(Aggregate::Spread),
        Just(Aggregate::Stddev),
        Just(Aggregate::Median),
        (1u32..=100).prop_map(|p| Aggregate::Percentile(p as f64)),
    ]
}

type Rows = Vec<(i64, Option<OwnedFieldValue>)>;

/// The expected rows, computed the obvious way.
fn naive(
    points: &[(i64, f64)],
    agg: Aggregate,
    window: Option<(i64, i64)>,
    range: (i64, i64),
) -> Vec<(i64, Option<OwnedFieldValue>)> {
    let pts: Vec<(i64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, _)| range.0 <= *t && *t <= range.1)
        .collect();
    let eval = |pts: &[(i64, f64)]| -> Option<(OwnedFieldValue, i64)> {
        if pts.is_empty() {
            return None;
        }
        let vals: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let n = vals.len();
        let sum: f64 = vals.iter().sum();
        let by = |better: fn(f64, f64) -> bool| {
            let mut best = pts[0];
            for &p in &pts[1..] {
                if better(p.1, best.1) {
                    best = p;
                }
            }
            best
        };
        let mut sorted = vals.clone();
        sorted.sort_by(f64::total_cmp);
        let t0 = pts[0].0;
        Some(match agg {
            Aggregate::Count => (FieldValue::Integer(n as i64), t0),
            Aggregate::Sum => (FieldValue::Float(sum), t0),
            Aggregate::Mean => (FieldValue::Float(sum / n as f64), t0),
            Aggregate::Min => {
                let p = by(|a, b| a < b);
                (FieldValue::Float(p.1), p.0)
            }
            Aggregate::Max => {
                let p = by(|a, b| a > b);
                (FieldValue::Float(p.1), p.0)
            }
            // Of several points at the first (last) time, the largest (InfluxDB's tie rule).
            Aggregate::First => {
                let t = pts[0].0;
                let v = pts
                    .iter()
                    .take_while(|p| p.0 == t)
                    .map(|p| p.1)
                    .fold(f64::MIN, f64::max);
                (FieldValue::Float(v), t)
            }
            Aggregate::Last => {
                let t = pts[n - 1].0;
                let v = pts
                    .iter()
                    .rev()
                    .take_while(|p| p.0 == t)
                    .map(|p| p.1)
                    .fold(f64::MIN, f64::max);
                (FieldValue::Float(v), t)
            }
            Aggregate::Spread => (FieldValue::Float(sorted[n - 1] - sorted[0]), t0),
            Aggregate::Stddev => {
                if n < 2 {
                    return None;
                }
                let mean = sum / n as f64;
                let var =
                    vals.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
                (FieldValue::Float(var.sqrt()), t0)
            }
            Aggregate::Median => {
                let m = if n % 2 == 1 {
                    sorted[n / 2]
                } else {
                    (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
                };
                (FieldValue::Float(m), t0)
            }
            Aggregate::Percentile(p) => {
                let i = (n as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
                if i < 0 {
                    return None; // InfluxDB answers null below the first value
                }
                let i = i.min(n as i64 - 1);
                // A selector: the chosen point's time (equal values rank by time).
                let mut by_value = pts.to_vec();
                by_value.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                let (t, v) = by_value[i as usize];
                (FieldValue::Float(v), t)
            }
        })
    };
    match window {
        None => {
            if pts.is_empty() {
                return vec![];
            }
            let r = eval(&pts);
            let time = match (&r, agg) {
                (
                    Some((_, t)),
                    Aggregate::Min
                    | Aggregate::Max
                    | Aggregate::First
                    | Aggregate::Last
                    | Aggregate::Percentile(_),
                ) => *t,
                _ => range.0,
            };
            vec![(time, r.map(|x| x.0))]
        }
        Some((every, offset)) => {
            if pts.is_empty() {
                return vec![];
            }
            let start = |t: i64| (t - offset).div_euclid(every) * every + offset;
            let mut rows = Vec::new();
            let mut w = start(range.0);
            while w <= range.1 {
                let inside: Vec<(i64, f64)> = pts
                    .iter()
                    .copied()
                    .filter(|(t, _)| *t >= w && *t < w + every)
                    .collect();
                rows.push((w, eval(&inside).map(|x| x.0)));
                w += every;
            }
            rows
        }
    }
}

fn call_text(agg: Aggregate) -> String {
    match agg {
        Aggregate::Count => "count(laeq)".into(),
        Aggregate::Sum => "sum(laeq)".into(),
        Aggregate::Mean => "mean(laeq)".into(),
        Aggregate::Min => "min(laeq)".into(),
        Aggregate::Max => "max(laeq)".into(),
        Aggregate::First => "first(laeq)".into(),
        Aggregate::Last => "last(laeq)".into(),
        Aggregate::Spread => "spread(laeq)".into(),
        Aggregate::Stddev => "stddev(laeq)".into(),
        Aggregate::Median => "median(laeq)".into(),
        Aggregate::Percentile(p) => format!("percentile(laeq, {p})"),
    }
}

fn close(a: &Option<OwnedFieldValue>, b: &Option<OwnedFieldValue>) -> bool {
    match (a, b) {
        (Some(FieldValue::Float(x)), Some(FieldValue::Float(y))) => {
            (x - y).abs() <= 1e-9 * (1.0 + y.abs())
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn aggregates_match_a_naive_evaluation(
        ops in ops(),
        queries in proptest::collection::vec(
            (aggregates(), proptest::option::of((1i64..40, 0i64..40)), any::<bool>(), 0i64..60, 60i64..320),
            1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = common::open_tiny(dir.path(), 8, 64);
        let mut model: Vec<BTreeMap<i64, f64>> = vec![BTreeMap::new(); SERIES.len()];
        for op in &ops {
            match op {
                Op::Write(points) => {
                    let mut body = String::new();
                    for &(s, t, v) in points {
                        body.push_str(&format!("noise,{} laeq={v} {t}\n", SERIES[s]));
                        model[s].insert(t, v as f64);
                    }
                    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds).unwrap();
                }
                Op::Flush => db.flush().unwrap(),
                Op::Compact => db.compact(true).unwrap(),
            }
        }
        for (agg, window, by_district, min, max) in queries {
            let window = window.map(|(every, offset)| (every, offset % every));
            let group_by: &[&str] = if by_district { &["district"] } else { &[] };
            let all = TagPredicate::All;
            let q = AggregateQuery {
                measurement: "noise",
                field: "laeq",
                tags: &all,
                range: TimeRange::new(min, max),
                aggregate: agg,
                window,
                group_by,
            };
            let (got, _) = db.aggregate("city", &q).unwrap();
            // Expected: per group, the union of its series' points.
            let mut groups: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
            for (s, series) in SERIES.iter().enumerate() {
                let key = if by_district { series[9..10].to_string() } else { String::new() };
                groups.entry(key).or_default().extend(model[s].iter().map(|(t, v)| (*t, *v)));
            }
            let all: Vec<(String, Rows)> = groups
                .into_iter()
                .map(|(k, mut pts)| {
                    pts.sort_by_key(|p| p.0);
                    (k, naive(&pts, agg, window, (min, max)))
                })
                .collect();
            let expected: Vec<(String, Rows)> = all
                .iter()
                .filter(|(_, rows)| rows.iter().any(|r| r.1.is_some()))
                .cloned()
                .collect();
            // InfluxQL keeps a group with points in range whose stddev is null (one point),
            // as InfluxDB does.
            let expected_ql: Vec<(String, Rows)> = all
                .into_iter()
                .filter(|(_, rows)| {
                    rows.iter().any(|r| r.1.is_some())
                        || (agg == Aggregate::Stddev && !rows.is_empty())
                })
                .collect();
            prop_assert_eq!(got.len(), expected.len(), "groups for {:?} {:?}", agg, window);
            for (g, (k, rows)) in got.iter().zip(&expected) {
                if by_district {
                    prop_assert_eq!(&g.tags[0].1, k);
                }
                prop_assert_eq!(g.rows.len(), rows.len(), "{:?} {:?}", agg, window);
                for (a, b) in g.rows.iter().zip(rows) {
                    // Ties in min/max/first/last across series may pick another point's time
                    // only when the values are equal; compare values always, times when unique.
                    prop_assert!(close(&a.1, &b.1), "{:?} {:?}: {:?} vs {:?}", agg, window, a, b);
                    if window.is_some() || !matches!(agg, Aggregate::Min | Aggregate::Max) {
                        prop_assert_eq!(a.0, b.0, "time for {:?} {:?}", agg, window);
                    }
                }
            }
            // The same through InfluxQL: once on the pushdown path, once through the row
            // scan that a field condition forces (which must agree with it exactly).
            for cond in ["", " AND laeq > -1000"] {
                let mut dims = Vec::new();
                if let Some((every, offset)) = window {
                    dims.push(format!("time({every}ns, {offset}ns)"));
                }
                if by_district {
                    dims.push("district".to_string());
                }
                let group = if dims.is_empty() { String::new() } else { format!(" GROUP BY {}", dims.join(", ")) };
                let text = format!(
                    "SELECT {} FROM noise WHERE time >= {min} AND time <= {max}{cond}{group}",
                    call_text(agg)
                );
                let got = db.query("city", &text).unwrap().remove(0).unwrap();
                prop_assert_eq!(got.len(), expected_ql.len(), "groups for {}", text);
                for (g, (_, rows)) in got.iter().zip(&expected_ql) {
                    prop_assert_eq!(g.rows.len(), rows.len(), "{}", text);
                    for (a, b) in g.rows.iter().zip(rows) {
                        // InfluxQL's fill(null) gives count() 0 in an empty window.
                        let want = match (&b.1, agg) {
                            (None, Aggregate::Count) => Some(FieldValue::Integer(0)),
                            (v, _) => v.clone(),
                        };
                        prop_assert!(close(&a.1[0], &want), "{}: {:?} vs {:?}", text, a, b);
                        if window.is_some() || !matches!(agg, Aggregate::Min | Aggregate::Max) {
                            prop_assert_eq!(a.0, b.0, "time for {}", text);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn window_edges_in_grid_timestamps_come_from_their_bound() {
    // Three sensors every 1000 ns, each with its own phase and a jitter of up to ±3 ns,
    // compacted into blocks of 64 rows (each spanning several windows of 10 000 ns).
    let dir = tempfile::tempdir().unwrap();
    let db = common::open_tiny(dir.path(), 64, 1 << 40);
    let mut points: Vec<Vec<(i64, f64)>> = vec![Vec::new(); SERIES.len()];
    let mut body = String::new();
    for (s, key) in SERIES.iter().enumerate() {
        for k in 0..1000i64 {
            let h = (k as u64 + s as u64 * 1000).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let jitter = (h >> 40) as i64 % 7 - 3;
            let t = 100 + s as i64 * 10 + k * 1000 + jitter;
            let v = ((k * 37 + s as i64 * 11) % 101) as f64 / 4.0;
            body.push_str(&format!("noise,{key} laeq={v} {t}\n"));
            points[s].push((t, v));
        }
    }
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    db.flush().unwrap();
    db.compact(true).unwrap();
    let range = (0, 1_010_000);
    let all = TagPredicate::All;
    let aggs = [
        Aggregate::Count,
        Aggregate::Sum,
        Aggregate::Mean,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::Spread,
        Aggregate::Stddev,
        Aggregate::Median,
        Aggregate::Percentile(90.0),
    ];
    // Offset 500 puts every edge midway between grid points; offset 101 puts one inside
    // the first sensor's jitter band, whose blocks must then decode their timestamps.
    for (offset, every_block_bounded) in [(500, true), (101, false)] {
        for agg in aggs {
            let q = AggregateQuery {
                measurement: "noise",
                field: "laeq",
                tags: &all,
                range: TimeRange::new(range.0, range.1),
                aggregate: agg,
                window: Some((10_000, offset)),
                group_by: &["district"],
            };
            let (got, stats) = db.aggregate("city", &q).unwrap();
            let expected = [vec![0, 1], vec![2]].map(|members| {
                let mut pts: Vec<(i64, f64)> =
                    members.iter().flat_map(|&s| points[s].clone()).collect();
                pts.sort_by_key(|p| p.0);
                naive(&pts, agg, Some((10_000, offset)), range)
            });
            assert_eq!(got.len(), 2, "{agg:?}");
            for (g, rows) in got.iter().zip(&expected) {
                assert_eq!(g.rows.len(), rows.len(), "{agg:?}");
                for (a, b) in g.rows.iter().zip(rows) {
                    assert_eq!(a.0, b.0, "{agg:?}");
                    assert!(close(&a.1, &b.1), "{agg:?} offset {offset}: {a:?} vs {b:?}");
                }
            }
            assert!(stats.chunks_decoded > 0, "{agg:?} {stats:?}");
            if every_block_bounded {
                assert_eq!(
                    stats.times_bounded, stats.chunks_decoded,
                    "{agg:?} {stats:?}"
                );
            } else {
                assert!(
                    stats.times_bounded < stats.chunks_decoded && stats.times_bounded > 0,
                    "{agg:?} {stats:?}"
                );
            }
        }
    }
    // First and last need their points' times: never from the bound.
    let q = AggregateQuery {
        measurement: "noise",
        field: "laeq",
        tags: &all,
        range: TimeRange::new(range.0, range.1),
        aggregate: Aggregate::Last,
        window: Some((10_000, 500)),
        group_by: &[],
    };
    let (_, stats) = db.aggregate("city", &q).unwrap();
    assert_eq!(stats.times_bounded, 0, "{stats:?}");
}

#[test]
fn whole_blocks_in_a_window_are_answered_from_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        block_rows: 10,
        ..Options::default()
    };
    let db = Db::open(dir.path(), options).unwrap();
    db.create_database("city").unwrap();
    let body: String = (0..1000)
        .map(|t| format!("noise,site=1 laeq={}.5 {t}\n", t % 17))
        .collect();
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    db.flush().unwrap();
    let all = TagPredicate::All;
    let q = AggregateQuery {
        measurement: "noise",
        field: "laeq",
        tags: &all,
        range: TimeRange::new(0, 999),
        aggregate: Aggregate::Mean,
        window: Some((100, 0)),
        group_by: &[],
    };
    let (rows, stats) = db.aggregate("city", &q).unwrap();
    assert_eq!(rows[0].rows.len(), 10);
    assert_eq!(stats.chunks_decoded, 0, "{stats:?}");
    assert_eq!(stats.chunks_from_stats, 100);
    // A late point overlapping one block forces that block (only) to be decoded.
    db.write_lines(
        "city",
        b"noise,site=1 laeq=100 55\n",
        Precision::Nanoseconds,
    )
    .unwrap();
    let (rows2, stats) = db.aggregate("city", &q).unwrap();
    assert_eq!(stats.chunks_decoded, 1, "{stats:?}");
    assert_ne!(rows2[0].rows[0], rows[0].rows[0]);
    assert_eq!(rows2[0].rows[1], rows[0].rows[1]);
}

/// Above the parallel threshold (20 000 points to decode) a statement splits its series across
/// threads: the answers equal those of one thread, windows, groups and selected times alike.
#[test]
fn parallel_aggregation_equals_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        ..Options::default()
    };
    let db = Db::open(dir.path(), options).unwrap();
    db.create_database("city").unwrap();
    let mut body = String::new();
    for s in 0..6 {
        for t in 0..25_000i64 {
            let v = (t * 7919 + s * 104_729) % 1000;
            body.push_str(&format!(
                "noise,district=d{},site=s{s} laeq={v} {}\n",
                s % 2,
                t * 1_000_000_000
            ));
        }
        if s == 2 {
            db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
                .unwrap();
            body.clear();
            db.flush().unwrap();
        }
    }
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    for q in [
        "SELECT sum(laeq) FROM noise GROUP BY time(1h)",
        "SELECT max(laeq) FROM noise GROUP BY time(1h), district",
        "SELECT percentile(laeq, 95) FROM noise GROUP BY time(2h)",
        "SELECT percentile(laeq, 50) FROM noise GROUP BY district",
        "SELECT count(laeq) FROM noise",
    ] {
        let run = |threads| {
            let limits = ganzhi_engine::QueryLimits {
                threads,
                ..ganzhi_engine::QueryLimits::default()
            };
            db.query_with("city", q, limits).unwrap().remove(0).unwrap()
        };
        let (one, four) = (run(1), run(4));
        assert!(!one.is_empty(), "{q}");
        assert_eq!(one, four, "{q}");
    }
}
