//! The client against a scripted fake server (tests/fake): requests on the wire, retries,
//! errors, batching. No sleeps: each test awaits the requests it expects.

mod fake;

use std::time::Duration;

use fake::{reply, reply_with, Fake, Reply};
use ganzhi_client::{
    Client, Error, Precision, RetryPolicy, TransportKind, WriteTarget, Writer, WriterOptions,
};

/// Retries that are quick enough for tests.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn client(fake: &Fake) -> Client {
    Client::builder(fake.url())
        .retry(fast_retries())
        .build()
        .unwrap()
}

const LINES: &str = "noise,site=n-7 laeq=61.2 1\nnoise,site=n-8 laeq=58 2\n";

#[test]
fn write_sends_line_protocol_to_v1_write() {
    let fake = Fake::start(vec![]);
    let c = Client::builder(fake.url())
        .basic_auth("admin", "s3cret")
        .build()
        .unwrap();
    let w = c.write("city", LINES, Precision::Milliseconds).unwrap();
    assert_eq!(w.attempts, 1);
    assert_eq!(w.bytes_sent, LINES.len());
    let r = fake.next();
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/write"));
    assert_eq!(r.param("db"), Some("city"));
    assert_eq!(r.param("precision"), Some("ms"));
    assert_eq!(r.header("authorization"), Some("Basic YWRtaW46czNjcmV0"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.body_text(), LINES);
}

#[test]
fn write_v2_uses_bucket_org_and_token() {
    let fake = Fake::start(vec![]);
    let c = Client::builder(fake.url()).token("tok").build().unwrap();
    c.write_v2("city", "gov", LINES, Precision::Microseconds)
        .unwrap();
    let r = fake.next();
    assert_eq!(r.path, "/api/v2/write");
    assert_eq!(r.param("bucket"), Some("city"));
    assert_eq!(r.param("org"), Some("gov"));
    assert_eq!(r.param("precision"), Some("us"));
    assert_eq!(r.header("authorization"), Some("Token tok"));
}

#[test]
fn empty_db_sends_no_db_parameter() {
    // VictoriaMetrics' /write would add a `db` label to every series.
    let fake = Fake::start(vec![]);
    client(&fake)
        .write("", LINES, Precision::Nanoseconds)
        .unwrap();
    let r = fake.next();
    assert_eq!(r.param("db"), None);
    assert_eq!(r.param("precision"), Some("ns"));
}

#[test]
fn a_503_is_retried_until_the_write_succeeds() {
    let fake = Fake::start(vec![reply(503, r#"{"error":"busy"}"#), reply(204, "")]);
    let w = client(&fake)
        .write("city", LINES, Precision::Nanoseconds)
        .unwrap();
    assert_eq!(w.attempts, 2);
    let (first, second) = (fake.next(), fake.next());
    assert_eq!(first.body, second.body);
}

#[test]
fn a_429_with_retry_after_is_retried() {
    let fake = Fake::start(vec![reply_with(429, &[("Retry-After", "0")], "")]);
    let w = client(&fake)
        .write("city", LINES, Precision::Nanoseconds)
        .unwrap();
    assert_eq!(w.attempts, 2);
}

#[test]
fn a_dropped_connection_is_retried() {
    let fake = Fake::start(vec![Reply::Hangup]);
    let w = client(&fake)
        .write("city", LINES, Precision::Nanoseconds)
        .unwrap();
    assert_eq!(w.attempts, 2);
    assert_eq!(fake.next().body, fake.next().body);
}

#[test]
fn a_400_is_a_partial_write_with_the_servers_message_and_is_not_retried() {
    let msg = "partial write: unable to parse 'noise,site=n-8 laeq=': missing field value (line 2)";
    let fake = Fake::start(vec![reply(400, &format!(r#"{{"error":"{msg}"}}"#))]);
    let c = client(&fake);
    match c.write("city", LINES, Precision::Nanoseconds) {
        Err(Error::PartialWrite { message }) => assert_eq!(message, msg),
        other => panic!("{other:?}"),
    }
    // Had the write been retried, the retry would arrive before this ping.
    c.ping().unwrap();
    assert_eq!(fake.next().path, "/write");
    assert_eq!(fake.next().path, "/ping");
}

#[test]
fn other_4xx_are_status_errors_and_not_retried() {
    let fake = Fake::start(vec![reply(
        404,
        r#"{"error":"database not found: \"nope\""}"#,
    )]);
    let c = client(&fake);
    let e = c.write("nope", LINES, Precision::Nanoseconds).unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.status(), Some(404));
    assert!(
        e.to_string().contains(r#"database not found: "nope""#),
        "{e}"
    );
    c.ping().unwrap();
    assert_eq!(fake.next().path, "/write");
    assert_eq!(fake.next().path, "/ping");
}

#[test]
fn persistent_5xx_gives_up_after_the_policys_retries() {
    let fake = Fake::start(vec![reply(500, "boom"); 10]);
    match client(&fake).write("city", LINES, Precision::Nanoseconds) {
        Err(Error::GaveUp { attempts, last }) => {
            assert_eq!(attempts, 4);
            assert_eq!(last.status(), Some(500));
            assert!(last.to_string().contains("boom"));
        }
        other => panic!("{other:?}"),
    }
    for _ in 0..4 {
        assert_eq!(fake.next().path, "/write");
    }
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::builder(format!("http://127.0.0.1:{port}"))
        .retry(fast_retries())
        .build()
        .unwrap();
    match c.write("city", LINES, Precision::Nanoseconds) {
        Err(Error::GaveUp { attempts: 4, last }) => assert!(
            matches!(
                *last,
                Error::Transport {
                    kind: TransportKind::Connect,
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_reuse_one_keep_alive_connection() {
    let fake = Fake::start(vec![]);
    let c = client(&fake);
    for _ in 0..5 {
        c.write("city", LINES, Precision::Nanoseconds).unwrap();
    }
    c.ping().unwrap();
    assert!((0..6).all(|_| fake.next().connection == 0));
    assert_eq!(fake.connections(), 1);
}

#[test]
fn gzip_bodies_are_compressed_on_the_wire() {
    let fake = Fake::start(vec![]);
    let c = Client::builder(fake.url()).gzip(true).build().unwrap();
    let body = LINES.repeat(100);
    let w = c.write("city", &body, Precision::Nanoseconds).unwrap();
    assert!(w.bytes_sent < body.len() / 5, "{} bytes sent", w.bytes_sent);
    let r = fake.next();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.body_text(), body); // the fake decompressed it
}

#[test]
fn query_sends_parameters_and_parses_the_json() {
    let doc = r#"{"results":[{"statement_id":0,"series":[{"name":"noise","tags":{"site":"n-7"},
        "columns":["time","mean"],"values":[[1732406400000,61.2]]}]}]}"#;
    let fake = Fake::start(vec![reply(200, doc)]);
    let q = "SELECT mean(laeq) FROM noise WHERE site = 'n-7' GROUP BY site";
    let r = client(&fake)
        .query("city", q, Some(Precision::Milliseconds))
        .unwrap()
        .check()
        .unwrap();
    let s = r.series().next().unwrap();
    assert_eq!((s.name.as_str(), s.tags["site"].as_str()), ("noise", "n-7"));
    assert_eq!(s.values[0][1], serde_json::json!(61.2));
    let req = fake.next();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/query"));
    assert_eq!(req.param("q"), Some(q));
    assert_eq!(req.param("db"), Some("city"));
    assert_eq!(req.param("epoch"), Some("ms"));
}

#[test]
fn statements_that_change_things_are_posted() {
    let fake = Fake::start(vec![reply(200, r#"{"results":[{"statement_id":0}]}"#)]);
    client(&fake)
        .query("", "CREATE DATABASE city", None)
        .unwrap()
        .check()
        .unwrap();
    let r = fake.next();
    assert_eq!(r.method, "POST");
    assert_eq!(r.param("q"), Some("CREATE DATABASE city"));
    assert_eq!(r.param("db"), None);
}

#[test]
fn query_errors_carry_the_servers_message() {
    let fake = Fake::start(vec![
        reply(
            400,
            r#"{"error":"error parsing query: found EOF, expected FROM at line 1, char 9"}"#,
        ),
        reply(
            200,
            r#"{"results":[{"statement_id":0,"error":"database not found: x"}]}"#,
        ),
        reply(200, "not json"),
    ]);
    let c = client(&fake);
    match c.query("city", "SELECT x", None) {
        Err(Error::Query { message }) => assert!(message.starts_with("error parsing query")),
        other => panic!("{other:?}"),
    }
    match c.query("x", "SELECT * FROM m", None).unwrap().check() {
        Err(Error::Statement {
            statement_id: 0,
            message,
        }) => assert_eq!(message, "database not found: x"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.query("city", "SHOW DATABASES", None),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn ping_reports_the_version_header() {
    let fake = Fake::start(vec![reply_with(
        204,
        &[
            ("X-Influxdb-Version", "1.8.10-ganzhi"),
            ("X-Influxdb-Build", "OSS"),
        ],
        "",
    )]);
    let p = client(&fake).ping().unwrap();
    assert_eq!(p.version.as_deref(), Some("1.8.10-ganzhi"));
    assert_eq!(p.build.as_deref(), Some("OSS"));
}

fn writer(fake: &Fake, options: WriterOptions) -> Writer {
    Writer::new(client(fake), WriteTarget::v1("city"), options)
}

fn line(i: usize) -> String {
    format!("noise,site=n-{i} laeq=60 {i}")
}

#[test]
fn writer_flushes_every_max_lines() {
    let fake = Fake::start(vec![]);
    let w = writer(
        &fake,
        WriterOptions {
            max_lines: 3,
            flush_interval: None,
            ..WriterOptions::default()
        },
    );
    for i in 0..7 {
        w.write_line(line(i)).unwrap();
    }
    // Two full batches went out on the writing thread, in order; one line waits.
    let (a, b) = (fake.next(), fake.next());
    assert_eq!(
        a.body_text(),
        format!("{}\n{}\n{}\n", line(0), line(1), line(2))
    );
    assert_eq!(
        b.body_text(),
        format!("{}\n{}\n{}\n", line(3), line(4), line(5))
    );
    assert!(fake.received().is_empty());
    let stats = w.close().unwrap();
    assert_eq!(fake.next().body_text(), format!("{}\n", line(6)));
    assert_eq!(
        (stats.batches, stats.lines, stats.failed_batches),
        (3, 7, 0)
    );
}

#[test]
fn writer_flushes_at_max_bytes() {
    let fake = Fake::start(vec![]);
    let w = writer(
        &fake,
        WriterOptions {
            max_bytes: 2 * line(1).len() + 2,
            flush_interval: None,
            ..WriterOptions::default()
        },
    );
    w.write_line(line(1)).unwrap();
    assert!(fake.received().is_empty());
    w.write_line(line(2)).unwrap();
    assert_eq!(fake.next().body_text().lines().count(), 2);
    drop(w);
}

#[test]
fn writer_flushes_after_the_interval() {
    let fake = Fake::start(vec![]);
    let w = writer(
        &fake,
        WriterOptions {
            flush_interval: Some(Duration::from_millis(20)),
            ..WriterOptions::default()
        },
    );
    w.write_line(line(1)).unwrap();
    // Sent by the background thread without a flush call: await it.
    assert_eq!(fake.next().body_text(), format!("{}\n", line(1)));
    w.write_line(line(2)).unwrap();
    assert_eq!(fake.next().body_text(), format!("{}\n", line(2)));
    assert_eq!(w.close().unwrap().batches, 2);
}

#[test]
fn writer_retries_and_reports_partial_writes_with_the_servers_message() {
    let fake = Fake::start(vec![
        reply(503, ""),
        reply(204, ""),
        reply(
            400,
            r#"{"error":"partial write: line 2: invalid field value"}"#,
        ),
    ]);
    let w = writer(
        &fake,
        WriterOptions {
            max_lines: 2,
            flush_interval: None,
            ..WriterOptions::default()
        },
    );
    w.write_line(line(1)).unwrap();
    w.write_line(line(2)).unwrap(); // 503, then 204
    w.write_line(line(3)).unwrap();
    match w.write_line("noise,site=n-4 laeq=") {
        Err(Error::Batch {
            lines: 2, source, ..
        }) => match *source {
            Error::PartialWrite { message } => {
                assert_eq!(message, "partial write: line 2: invalid field value")
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let stats = w.stats();
    assert_eq!(
        (
            stats.batches,
            stats.failed_batches,
            stats.failed_lines,
            stats.retries
        ),
        (1, 1, 2, 1)
    );
    // 3 requests: the 503, its retry, the 400 (not retried).
    for _ in 0..3 {
        assert_eq!(fake.next().path, "/write");
    }
    assert!(w.take_errors().is_empty());
    w.close().unwrap();
}

#[test]
fn writer_is_shared_by_threads_and_close_sends_everything() {
    let fake = Fake::start(vec![]);
    let w = writer(
        &fake,
        WriterOptions {
            max_lines: 10,
            flush_interval: Some(Duration::from_millis(5)),
            ..WriterOptions::default()
        },
    );
    std::thread::scope(|s| {
        for t in 0..4 {
            let w = &w;
            s.spawn(move || {
                for i in 0..100 {
                    w.write_line(line(t * 1000 + i)).unwrap();
                }
            });
        }
    });
    let stats = w.close().unwrap();
    assert_eq!(stats.lines, 400);
    let mut got: Vec<String> = Vec::new();
    while got.len() < 400 {
        got.extend(fake.next().body_text().lines().map(str::to_owned));
    }
    got.sort();
    let mut want: Vec<String> = (0..4)
        .flat_map(|t| (0..100).map(move |i| line(t * 1000 + i)))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn write_lines_counts_lines_and_flush_sends_them() {
    let fake = Fake::start(vec![]);
    let w = writer(&fake, WriterOptions::default());
    w.write_lines(format!("{}\n{}", line(1), line(2))).unwrap();
    w.flush().unwrap();
    assert_eq!(fake.next().body_text().lines().count(), 2);
    assert_eq!(w.stats().lines, 2);
    w.close().unwrap();
}
