//! `/metrics` and the operator endpoints.

use crate::common::Server;

#[test]
fn metrics_count_what_happened() {
    let s = Server::start(&[]);
    s.create_database("city");
    s.write("city", "air,s=a pm25=1,no2=2 1\nair,s=b pm25=3 2\n")
        .expect(204);
    s.write("city", "air,s=a pm25=4 3\nnot line protocol\n")
        .expect(400);
    s.query("city", "SELECT pm25 FROM air").expect(200);
    s.query("city", "SELECT FROM").expect(400);

    let r = s.get("/metrics", &[], &[]).expect(200);
    assert!(
        r.header("content-type").unwrap().starts_with("text/plain"),
        "{:?}",
        r.headers
    );
    let m = &r.body;
    for expected in [
        "ganzhi_write_requests_total 2\n",
        "ganzhi_write_points_total 3\n",
        "ganzhi_write_values_total 4\n",
        "ganzhi_write_rejected_lines_total 1\n",
        // CREATE DATABASE, the SELECT, the one that does not parse.
        "ganzhi_query_requests_total 3\n",
        "ganzhi_query_errors_total 1\n",
        "ganzhi_query_duration_seconds_count 3\n",
        "ganzhi_query_duration_seconds_bucket{le=\"+Inf\"} 3\n",
        "ganzhi_series{database=\"city\"} 2\n",
        "ganzhi_http_responses_total{route=\"write\",status=\"204\"} 1\n",
        "ganzhi_http_responses_total{route=\"write\",status=\"400\"} 1\n",
        "ganzhi_wal_records_total 2\n",
        "# TYPE ganzhi_wal_fsyncs_total counter\n",
        "# TYPE ganzhi_disk_bytes gauge\n",
        "# TYPE ganzhi_memtable_bytes gauge\n",
        "# TYPE process_resident_memory_bytes gauge\n",
    ] {
        assert!(m.contains(expected), "{expected:?} missing from:\n{m}");
    }
    let written = s.metric("ganzhi_write_bytes_total").unwrap();
    assert!(written > 40.0, "{written}");
    assert!(s.metric("ganzhi_wal_fsyncs_total").unwrap() >= 1.0);
}

#[test]
fn flush_and_compact_answer_when_done() {
    let s = Server::start(&[]);
    s.create_database("city");
    for day in 0..3i64 {
        let t = 1_700_000_000_000_000_000 + day * 86_400_000_000_000;
        s.write("city", &format!("air,s=a pm25={day} {t}\n"))
            .expect(204);
        let r = s.post("/internal/flush", &[], &[], b"").expect(200);
        assert!(r.body.contains("\"disk_bytes\":"), "{}", r.body);
    }
    assert_eq!(s.metric("ganzhi_flushes_total"), Some(3.0));
    // The engine's own counters see every flush, requested or background.
    assert_eq!(s.metric("ganzhi_engine_flushes_total"), Some(3.0));
    assert_eq!(s.metric("ganzhi_engine_flushed_values_total"), Some(3.0));
    assert_eq!(s.metric("ganzhi_memtable_bytes"), Some(0.0));
    s.post("/internal/compact", &[], &[], b"").expect(200);
    assert_eq!(s.metric("ganzhi_compactions_total"), Some(1.0));
    s.get("/internal/flush", &[], &[]).expect(405);
    let r = s.query("city", "SELECT count(pm25) FROM air").expect(200);
    assert!(r.body.contains(",3]"), "{}", r.body);
}
