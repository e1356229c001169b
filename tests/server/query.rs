//! `/query`.

use crate::common::{rows, Server};

fn city() -> Server {
    let s = Server::start(&[]);
    s.create_database("city");
    s.post(
        "/write",
        &[("db", "city"), ("precision", "s")],
        &[],
        b"air,station=a pm25=10 1700000000\n\
          air,station=b pm25=20 1700000000\n\
          air,station=a pm25=30 1700000060\n",
    )
    .expect(204);
    s
}

#[test]
fn a_syntax_error_is_400_with_influxdb_wording() {
    let s = city();
    let r = s.query("city", "SELECT FROM WHERE").expect(400);
    assert!(
        r.body.starts_with("{\"error\":\"error parsing query:"),
        "{}",
        r.body
    );
    let r = s.get("/query", &[("db", "city")], &[]).expect(400);
    assert!(
        r.body.contains("missing required parameter \\\"q\\\""),
        "{}",
        r.body
    );
    s.get(
        "/query",
        &[
            ("db", "city"),
            ("q", "SELECT * FROM air"),
            ("epoch", "days"),
        ],
        &[],
    )
    .expect(400);
}

#[test]
fn a_failed_statement_is_reported_in_its_result() {
    let s = city();
    let r = s
        .query(
            "city",
            "SELECT pm25 FROM air; SELECT pm25 FROM air WHERE time > 'not a time'",
        )
        .expect(200);
    assert!(
        r.body.contains("\"statement_id\":1,\"error\":"),
        "{}",
        r.body
    );
}

#[test]
fn epochs_and_rfc3339() {
    let s = city();
    let q = "SELECT pm25 FROM air WHERE station = 'a'";
    let r = s.query("city", q).expect(200);
    assert_eq!(
        rows(&r.body),
        vec![
            "[\"2023-11-14T22:13:20Z\",10]",
            "[\"2023-11-14T22:14:20Z\",30]"
        ],
        "{}",
        r.body
    );
    for (epoch, first) in [
        ("ns", "1700000000000000000"),
        ("u", "1700000000000000"),
        ("ms", "1700000000000"),
        ("s", "1700000000"),
        ("m", "28333333"),
        ("h", "472222"),
    ] {
        let r = s
            .get("/query", &[("db", "city"), ("q", q), ("epoch", epoch)], &[])
            .expect(200);
        assert_eq!(
            rows(&r.body)[0],
            format!("[{first},10]"),
            "{epoch}: {}",
            r.body
        );
    }
}

#[test]
fn csv_when_asked() {
    let s = city();
    let r = s
        .get(
            "/query",
            &[
                ("db", "city"),
                ("q", "SELECT pm25 FROM air WHERE station = 'b'"),
            ],
            &[("Accept", "application/csv")],
        )
        .expect(200);
    assert_eq!(r.header("content-type"), Some("application/csv"));
    assert_eq!(r.body, "name,tags,time,pm25\nair,,1700000000000000000,20\n");
}

#[test]
fn q_in_a_form_body_and_pretty_output() {
    let s = city();
    let r = s
        .post(
            "/query",
            &[("db", "city"), ("pretty", "true")],
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"q=SELECT+count%28pm25%29+FROM+air",
        )
        .expect(200);
    assert!(
        r.body.contains('\n') && r.body.lines().count() > 5,
        "{}",
        r.body
    );
    assert!(r.body.contains("\"count\""), "{}", r.body);
}

#[test]
fn chunked_streams_one_object_per_statement() {
    let s = city();
    let r = s
        .get(
            "/query",
            &[
                ("db", "city"),
                ("chunked", "true"),
                ("q", "SELECT pm25 FROM air; SELECT count(pm25) FROM air"),
            ],
            &[],
        )
        .expect(200);
    let chunks: Vec<&str> = r.body.lines().collect();
    assert_eq!(chunks.len(), 2, "{}", r.body);
    assert!(
        chunks[0].starts_with("{\"results\":[{\"statement_id\":0,"),
        "{}",
        r.body
    );
    assert!(
        chunks[1].starts_with("{\"results\":[{\"statement_id\":1,"),
        "{}",
        r.body
    );
}

#[test]
fn chunked_cuts_series_at_chunk_size_and_marks_them_partial() {
    let s = Server::start(&[]);
    s.create_database("city");
    let body: String = (0..7)
        .flat_map(|i| {
            ["a", "b"].map(|st| format!("air,station={st} pm25={i} {}\n", 1_700_000_000 + i))
        })
        .collect();
    s.post(
        "/write",
        &[("db", "city"), ("precision", "s")],
        &[],
        body.as_bytes(),
    )
    .expect(204);
    let q = "SELECT pm25 FROM air GROUP BY station; SELECT pm25 FROM air WHERE station = 'none'";
    let chunked = |size: &str| {
        s.get(
            "/query",
            &[
                ("db", "city"),
                ("chunked", "true"),
                ("chunk_size", size),
                ("epoch", "s"),
                ("q", q),
            ],
            &[],
        )
    };
    let r = chunked("3").expect(200);
    let lines: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Station a: 3 + 3 + 1 rows, station b the same, then the empty second statement.
    let shape: Vec<(u64, String, usize, bool)> = lines
        .iter()
        .map(|l| {
            let result = &l["results"][0];
            let series = &result["series"][0];
            let partial = series["partial"].as_bool().unwrap_or(false);
            assert_eq!(result["partial"].as_bool().unwrap_or(false), partial, "{l}");
            (
                result["statement_id"].as_u64().unwrap(),
                series["tags"]["station"].as_str().unwrap_or("").to_string(),
                series["values"].as_array().map_or(0, Vec::len),
                partial,
            )
        })
        .collect();
    let expect =
        |st: &str| [(3, true), (3, true), (1, false)].map(|(n, p)| (0, st.to_string(), n, p));
    let mut want: Vec<_> = expect("a").into_iter().chain(expect("b")).collect();
    want.push((1, String::new(), 0, false));
    assert_eq!(shape, want, "{}", r.body);
    // The chunks of a series, joined, are the rows of the whole answer.
    let whole: serde_json::Value = serde_json::from_str(
        &s.get("/query", &[("db", "city"), ("epoch", "s"), ("q", q)], &[])
            .expect(200)
            .body,
    )
    .unwrap();
    let joined: Vec<serde_json::Value> = lines[..3]
        .iter()
        .flat_map(|l| {
            l["results"][0]["series"][0]["values"]
                .as_array()
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(
        &joined,
        whole["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
    );
    chunked("many").expect(400);
    // A query that does not parse is refused before anything streams.
    s.get(
        "/query",
        &[("db", "city"), ("chunked", "true"), ("q", "SELECT FROM")],
        &[],
    )
    .expect(400);
}

#[test]
fn management_statements_need_no_db() {
    let s = Server::start(&[]);
    s.post(
        "/query",
        &[("q", "CREATE DATABASE one; CREATE DATABASE two")],
        &[],
        b"",
    )
    .expect(200);
    let r = s.get("/query", &[("q", "SHOW DATABASES")], &[]).expect(200);
    assert!(
        r.body.contains("[\"one\"]") && r.body.contains("[\"two\"]"),
        "{}",
        r.body
    );
}

const SECOND: i64 = 1_000_000_000;

#[test]
fn small_and_large_queries_answer_alike() {
    // 60 000 points in segments: more than a query answered on the request's worker may
    // decode, so the large statements below are handed to the blocking pool. (Time enough
    // for a debug build to answer the small one.)
    let s = Server::start(&["--small-query-time", "10s"]);
    s.create_database("city");
    let body: String = (0..60_000i64)
        .map(|i| {
            format!(
                "noise,site=a laeq={} {}\n",
                i % 10,
                (1_700_000_000 + i) * SECOND
            )
        })
        .collect();
    s.write("city", &body).expect(204);
    s.post("/internal/flush", &[], &[], b"").expect(200);
    let ask = |q: &str| {
        let r = s
            .get("/query", &[("db", "city"), ("q", q), ("epoch", "s")], &[])
            .expect(200);
        r.body
    };
    let small_so_far = || s.metric("ganzhi_query_small_total").unwrap();
    let not_small = || s.metric("ganzhi_query_not_small_total").unwrap();
    // (CREATE DATABASE changes something: handed to the pool.)
    assert_eq!(not_small(), 1.0);
    // Small: ten points.
    let small = ask("SELECT sum(laeq) FROM noise WHERE time < 1700000010s");
    assert!(small.contains("[0,45]"), "{small}");
    assert_eq!(small_so_far(), 1.0);
    // Large: every point decoded (each block spans several windows).
    let large = ask("SELECT sum(laeq) FROM noise GROUP BY time(1000s)");
    assert_eq!(rows(&large).len(), 60, "{large}");
    assert!(
        rows(&large).iter().all(|r| r.ends_with(",4500]")),
        "{large}"
    );
    let raw = ask("SELECT laeq FROM noise");
    assert_eq!(rows(&raw).len(), 60_000);
    assert_eq!(small_so_far(), 1.0, "the large ones went to the pool");
    assert_eq!(not_small(), 3.0);
    // Asked again, a query found large goes to the pool without another try.
    assert_eq!(
        ask("SELECT sum(laeq) FROM noise GROUP BY time(1000s)"),
        large
    );
    assert_eq!(not_small(), 3.0);
    assert_eq!(small_so_far(), 1.0);
    // A statement that changes something, behind a small one: run once, on the pool.
    let both =
        ask("SELECT count(laeq) FROM noise WHERE time < 1700000010s; DROP MEASUREMENT noise");
    assert!(both.contains("[0,10]"), "{both}");
    assert_eq!(
        ask("SHOW MEASUREMENTS"),
        "{\"results\":[{\"statement_id\":0}]}\n"
    );
    assert_eq!(small_so_far(), 1.0);
    assert_eq!(s.metric("ganzhi_query_errors_total"), Some(0.0));
    // Turned off, every query goes to the pool.
    let off = Server::start(&["--small-query-points", "0"]);
    off.query("", "SHOW DATABASES").expect(200);
    assert_eq!(off.metric("ganzhi_query_small_total"), Some(0.0));
}
