//! Streaming raw queries: a statement read group by group in small time slices and handed
//! out in small chunks must give exactly the rows of an in-memory model (and of the
//! collecting path), with flushes, compactions and out-of-order writes between; row-scan
//! aggregates read in small slices answer as in one; chunks obey their contract; and a
//! streaming statement is not bound by the point budget that refuses a collected one,
//! because it does not hold its result.

mod common;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use ganzhi_engine::{
    Db, FieldValue, OwnedFieldValue, Precision, QueryError, QueryEvent, QueryLimits, ResultSeries,
};
use proptest::prelude::*;

const SERIES: [&str; 4] = [
    "district=a,site=1",
    "district=a,site=2",
    "district=b,site=3",
    "district=c,site=4",
];

#[derive(Debug, Clone)]
enum Op {
    /// (series, time, value, whether the point also carries field `n`).
    Write(Vec<(usize, i64, i64, bool)>),
    Flush,
    Compact,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let write = proptest::collection::vec(
        (0..SERIES.len(), 0i64..200, -20i64..20, any::<bool>()),
        1..60,
    )
    .prop_map(Op::Write);
    proptest::collection::vec(
        prop_oneof![4 => write, 2 => Just(Op::Flush), 1 => Just(Op::Compact)],
        1..12,
    )
}

fn open(dir: &std::path::Path) -> Db {
    common::open_tiny(dir, 8, 64)
}

/// A query's events, checked against the chunk contract, and its results joined.
fn stream(
    db: &Db,
    text: &str,
    limits: QueryLimits,
    chunk_rows: usize,
) -> Vec<Result<Vec<ResultSeries>, QueryError>> {
    let mut events = Vec::new();
    db.query_stream("city", text, limits, chunk_rows, &mut |e| {
        events.push(e);
        ControlFlow::Continue(())
    })
    .unwrap();
    let mut collector = ganzhi_engine::query::Collector::new();
    // (statement, name, tags) of a series whose next chunk must come next.
    type SeriesId = (usize, String, Vec<(String, String)>);
    let mut continues: Option<SeriesId> = None;
    for e in events {
        match &e {
            QueryEvent::Series {
                statement,
                series,
                partial,
            } => {
                assert!(!series.rows.is_empty(), "{text}: an empty chunk");
                assert!(series.rows.len() <= chunk_rows, "{text}: a chunk too long");
                if let Some(c) = &continues {
                    assert_eq!(
                        c,
                        &(*statement, series.name.clone(), series.tags.clone()),
                        "{text}: a partial series went on as another"
                    );
                }
                continues = partial.then(|| (*statement, series.name.clone(), series.tags.clone()));
            }
            QueryEvent::End { .. } => {
                assert!(continues.is_none(), "{text}: a statement ended mid-series")
            }
        }
        let _ = collector.take(e);
    }
    collector.into_results()
}

type Rows = Vec<(i64, Vec<Option<OwnedFieldValue>>)>;

/// What `SELECT laeq[, n] FROM noise WHERE time in [min, max] [GROUP BY district]` with
/// paging returns, from the model: per group, its series' points merged by time (series in
/// key order among equal times); with DESC, rows and the page's groups reversed.
#[allow(clippy::too_many_arguments)]
fn expected(
    model: &[BTreeMap<i64, (i64, Option<i64>)>],
    by_district: bool,
    with_n: bool,
    (min, max): (i64, i64),
    desc: bool,
    (offset, limit): (usize, usize),
    (soffset, slimit): (usize, usize),
) -> Vec<(String, Rows)> {
    let mut groups: BTreeMap<String, Rows> = BTreeMap::new();
    for (s, points) in model.iter().enumerate() {
        let key = if by_district {
            SERIES[s][9..10].to_string()
        } else {
            String::new()
        };
        let rows = groups.entry(key).or_default();
        for (&t, &(v, n)) in points.range(min..=max) {
            let mut values = vec![Some(FieldValue::Integer(v))];
            if with_n {
                values.push(n.map(FieldValue::Integer));
            }
            rows.push((t, values));
        }
    }
    let mut out = Vec::new();
    for (key, mut rows) in groups {
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|r| r.0);
        if desc {
            rows.reverse();
        }
        out.push((key, rows));
    }
    let out = out.into_iter().skip(soffset);
    let mut out: Vec<_> = if slimit > 0 {
        out.take(slimit).collect()
    } else {
        out.collect()
    };
    if desc {
        // As InfluxDB: series paged in key order, the page's series then in reverse.
        out.reverse();
    }
    out.into_iter()
        .map(|(k, rows)| {
            let rows = rows.into_iter().skip(offset);
            let rows: Vec<_> = if limit > 0 {
                rows.take(limit).collect()
            } else {
                rows.collect()
            };
            (k, rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn streamed_raw_queries_match_the_model(
        ops in ops(),
        queries in proptest::collection::vec(
            (
                (any::<bool>(), any::<bool>(), any::<bool>()),
                (0i64..100, 100i64..210),
                ((0usize..4, 0usize..30), (0usize..3, 0usize..3)),
                (1usize..6, 1usize..40),
            ),
            1..6,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let mut model: Vec<BTreeMap<i64, (i64, Option<i64>)>> = vec![BTreeMap::new(); SERIES.len()];
        for op in &ops {
            match op {
                Op::Write(points) => {
                    let mut body = String::new();
                    for &(s, t, v, with_n) in points {
                        // A point replaces the fields it carries; `n` of an earlier point
                        // at the same time stays.
                        let e = model[s].entry(t).or_insert((v, None));
                        e.0 = v;
                        if with_n {
                            e.1 = Some(v * 3);
                            body.push_str(&format!("noise,{} laeq={v}i,n={}i {t}\n", SERIES[s], v * 3));
                        } else {
                            body.push_str(&format!("noise,{} laeq={v}i {t}\n", SERIES[s]));
                        }
                    }
                    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds).unwrap();
                }
                Op::Flush => db.flush().unwrap(),
                Op::Compact => db.compact(true).unwrap(),
            }
        }
        for ((by_district, with_n, desc), (min, max), (rows_page, series_page), (chunk, slice)) in queries {
            let text = format!(
                "SELECT laeq{} FROM noise WHERE time >= {min} AND time <= {max}{}{}{}{}{}{}",
                if with_n { ", n" } else { "" },
                if by_district { " GROUP BY district" } else { "" },
                if desc { " ORDER BY time DESC" } else { "" },
                if rows_page.1 > 0 { format!(" LIMIT {}", rows_page.1) } else { String::new() },
                if rows_page.0 > 0 { format!(" OFFSET {}", rows_page.0) } else { String::new() },
                if series_page.1 > 0 { format!(" SLIMIT {}", series_page.1) } else { String::new() },
                if series_page.0 > 0 { format!(" SOFFSET {}", series_page.0) } else { String::new() },
            );
            let want = expected(&model, by_district, with_n, (min, max), desc, rows_page, series_page);
            let limits = QueryLimits { slice_points: slice, ..QueryLimits::default() };
            let streamed = stream(&db, &text, limits, chunk).remove(0).unwrap();
            let collected = db.query("city", &text).unwrap().remove(0).unwrap();
            prop_assert_eq!(&streamed, &collected, "{}", text);
            prop_assert_eq!(streamed.len(), want.len(), "{}", text);
            for (got, (key, rows)) in streamed.iter().zip(&want) {
                if by_district {
                    prop_assert_eq!(&got.tags, &vec![("district".to_string(), key.clone())], "{}", text);
                }
                prop_assert_eq!(&got.rows, rows, "{}", text);
            }
            // Row-scan aggregates read each series a slice at a time too: small slices
            // change nothing.
            let text = format!(
                "SELECT count(laeq), sum(laeq), max(laeq), first(laeq), mode(laeq), median(laeq) \
                 FROM noise WHERE time >= {min} AND time <= {max} AND laeq > -15 \
                 GROUP BY time(13ns){}",
                if by_district { ", district" } else { "" },
            );
            let sliced = db.query_with("city", &text, limits).unwrap().remove(0).unwrap();
            let whole = db.query("city", &text).unwrap().remove(0).unwrap();
            prop_assert_eq!(sliced, whole, "{}", text);
        }
    }
}

/// A fresh database holding `noise` points 0..7 at times 0, 10, …, 60, alternating between
/// sites 0 and 1 (in the memtable: not flushed).
fn seven_points() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let body: String = (0..7)
        .map(|i| format!("noise,site={} laeq={i}i {}\n", i % 2, i * 10))
        .collect();
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    (dir, db)
}

#[test]
fn a_streamed_statement_is_not_refused_for_points_it_does_not_hold() {
    let (_dir, db) = seven_points();
    db.flush().unwrap();
    let limits = QueryLimits {
        max_points: 5,
        slice_points: 2,
        ..QueryLimits::default()
    };
    let q = "SELECT laeq FROM noise";
    match db.query_with("city", q, limits).unwrap().remove(0) {
        Err(QueryError::Limit(m)) => assert!(m.contains("max-select-point"), "{m}"),
        other => panic!("collected: {other:?}"),
    }
    let streamed = stream(&db, q, limits, 3).remove(0).unwrap();
    let times: Vec<i64> = streamed[0].rows.iter().map(|r| r.0).collect();
    assert_eq!(times, vec![0, 10, 20, 30, 40, 50, 60]);
}

#[test]
fn a_consumer_can_stop_a_query_and_errors_end_their_statement() {
    let (_dir, db) = seven_points();
    // Stopped after the first chunk: nothing more arrives, not even the statements' ends.
    let mut events = Vec::new();
    db.query_stream(
        "city",
        "SELECT laeq FROM noise; SELECT laeq FROM noise",
        QueryLimits::default(),
        2,
        &mut |e| {
            events.push(e);
            ControlFlow::Break(())
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    // A failing statement ends with its error; the next one still runs; a parse error
    // returns before any event.
    let results = stream(
        &db,
        "SELECT laeq FROM nosuchdb..noise; SELECT count(laeq) FROM noise",
        QueryLimits::default(),
        2,
    );
    assert!(
        matches!(&results[0], Err(QueryError::Engine(_))),
        "{results:?}"
    );
    assert_eq!(
        results[1].as_ref().unwrap()[0].rows[0].1,
        vec![Some(FieldValue::Integer(7))]
    );
    let mut any = false;
    let parse = db.query_stream("city", "SELEC x", QueryLimits::default(), 2, &mut |_| {
        any = true;
        ControlFlow::Continue(())
    });
    assert!(matches!(parse, Err(QueryError::Parse(_))));
    assert!(!any);
}

#[test]
fn contradictory_time_bounds_answer_nothing() {
    let (_dir, db) = seven_points();
    db.flush().unwrap();
    let limits = QueryLimits {
        slice_points: 2,
        ..QueryLimits::default()
    };
    // A block spans 0..60; the bounds leave nothing between them.
    for q in [
        "SELECT laeq FROM noise WHERE time >= 40 AND time <= 20",
        "SELECT mode(laeq) FROM noise WHERE time >= 40 AND time <= 20",
        "SELECT count(laeq) FROM noise WHERE laeq > 0 AND time > 40 AND time < 20",
    ] {
        assert_eq!(stream(&db, q, limits, 2).remove(0), Ok(vec![]), "{q}");
        assert_eq!(db.query("city", q).unwrap().remove(0), Ok(vec![]), "{q}");
    }
}

#[test]
fn slimit_counts_series_with_points_in_range_before_the_row_filter() {
    // Site 0 has 0, 2, 4, 6; site 1 has 1, 3, 5.
    let (_dir, db) = seven_points();
    let q = "SELECT laeq FROM noise WHERE laeq >= 3 GROUP BY site";
    let sites = |q: &str| -> Vec<String> {
        let streamed = stream(&db, q, QueryLimits::default(), 2).remove(0).unwrap();
        assert_eq!(streamed, db.query("city", q).unwrap().remove(0).unwrap());
        streamed.iter().map(|s| s.tags[0].1.clone()).collect()
    };
    assert_eq!(sites(q), ["0", "1"]);
    // Site 0 is the first series though a filter leaves it rows here or not: as InfluxDB
    // pages series before filtering rows.
    assert_eq!(sites(&format!("{q} SLIMIT 1")), ["0"]);
    assert_eq!(sites(&format!("{q} SLIMIT 1 SOFFSET 1")), ["1"]);
    assert_eq!(
        sites("SELECT laeq FROM noise WHERE laeq = 5 GROUP BY site"),
        ["1"]
    );
    let none_in_0 = "SELECT laeq FROM noise WHERE laeq = 5 GROUP BY site SLIMIT 1";
    assert!(
        sites(none_in_0).is_empty(),
        "site 0 has no 5 but takes the one slot"
    );
}
