//! Limits and hostile input: each answered with a clear error, none crashing the server.

use std::io::Write;

use crate::common::{gzip, read_to_close, rows, Server};

#[test]
fn a_body_over_the_limit_is_413() {
    let s = Server::start(&["--max-body-bytes", "1KiB"]);
    s.create_database("city");
    let big = "air,station=a pm25=1 1\n".repeat(100); // 2.3 KB
    let r = s.write("city", &big).expect(413);
    assert!(r.body.contains("max_body_bytes"), "{}", r.body);
    // Without Content-Length (chunked), the limit holds as the body arrives.
    let mut conn = s.connect();
    write!(
        conn,
        "POST /write?db=city HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    )
    .unwrap();
    let answer = read_to_close(&mut conn);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // Small enough compressed, too large once decompressed.
    let bomb = gzip(&vec![b'a'; 512 << 10]);
    assert!(bomb.len() < 1024, "{}", bomb.len());
    let r = s
        .post(
            "/write",
            &[("db", "city")],
            &[("Content-Encoding", "gzip")],
            &bomb,
        )
        .expect(413);
    assert!(r.body.contains("decompressed"), "{}", r.body);
    s.write("city", "air,station=a pm25=1 1\n").expect(204);
}

#[test]
fn long_lines_are_rejected_and_the_others_written() {
    let s = Server::start(&["--max-line-bytes", "64"]);
    s.create_database("city");
    let long = format!("air,station=a note=\"{}\" 2", "x".repeat(100));
    let r = s
        .write(
            "city",
            &format!("air,station=a pm25=1 1\n{long}\nair,station=a pm25=3 3\n"),
        )
        .expect(400);
    assert!(r.body.contains("line 2"), "{}", r.body);
    assert!(r.body.contains("max_line_bytes"), "{}", r.body);
    let r = s.query("city", "SELECT pm25 FROM air").expect(200);
    assert_eq!(rows(&r.body).len(), 2, "{}", r.body);
}

#[test]
fn writes_stop_at_the_series_limit() {
    let s = Server::start(&["--max-series-per-database", "3"]);
    s.create_database("city");
    // Under the limit before the write: the batch goes in whole (overshoot of one batch).
    s.write(
        "city",
        "air,s=1 v=1 1\nair,s=2 v=1 1\nair,s=3 v=1 1\nair,s=4 v=1 1\n",
    )
    .expect(204);
    let r = s.write("city", "air,s=1 v=2 2\n").expect(400);
    assert!(r.body.contains("max-series-per-database"), "{}", r.body);
    assert!(r.body.contains("has 4 series"), "{}", r.body);
}

#[test]
fn a_body_that_never_arrives_times_out_with_408() {
    let s = Server::start(&["--body-read-timeout", "1s"]);
    s.create_database("city");
    let mut conn = s.connect();
    conn.write_all(
        b"POST /write?db=city HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nair v=1",
    )
    .unwrap();
    let answer = read_to_close(&mut conn);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_read_timeout"), "{answer}");
    s.get("/ping", &[], &[]).expect(204);
}

#[test]
fn headers_that_never_end_close_the_connection() {
    let s = Server::start(&["--header-read-timeout", "1s"]);
    let mut conn = s.connect();
    conn.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // The server gives up on the request (hyper answers 408 or just closes).
    let answer = read_to_close(&mut conn);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    s.get("/ping", &[], &[]).expect(204);
}

#[test]
fn garbage_does_not_crash_the_server() {
    let s = Server::start(&[]);
    s.create_database("city");
    let inputs: [&[u8]; 6] = [
        b"GARBAGE\r\n\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
        b"POST /write?db=city HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /write?db=city HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n\xff\xfe\x00\x01",
        b"GET /query?db=city&q=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /query?db=city&q=SELECT%20*%20FROM%20%22%00%22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    for input in inputs {
        let answer = s.raw(input);
        assert!(
            answer.is_empty()
                || answer.starts_with("HTTP/1.1 4")
                || answer.starts_with("HTTP/1.1 2"),
            "{answer}"
        );
    }
    s.get("/ping", &[], &[]).expect(204);
    s.write("city", "air v=1 1\n").expect(204);
}
