//! `/write` and `/api/v2/write`.

use crate::common::{gzip, rows, Server};

#[test]
fn write_then_query_round_trip_with_every_field_type() {
    let s = Server::start(&[]);
    s.create_database("city");
    s.post(
        "/write",
        &[("db", "city"), ("precision", "s"), ("rp", "autogen")],
        &[],
        b"meter,site=m-1 kw=1.5,count=7i,total=9u,on=true,label=\"a b\" 1700000000\n\
          meter,site=m-2 kw=2.25 1700000060\n",
    )
    .expect(204);
    let r = s
        .get(
            "/query",
            &[
                ("db", "city"),
                ("q", "SELECT kw, count, total, \"on\", label FROM meter"),
                ("epoch", "s"),
            ],
            &[],
        )
        .expect(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        rows(&r.body),
        vec![
            "[1700000000,1.5,7,9,true,\"a b\"]",
            "[1700000060,2.25,null,null,null,null]"
        ],
        "{}",
        r.body
    );
}

#[test]
fn v2_write_maps_bucket_to_database() {
    let s = Server::start(&[]);
    s.create_database("city");
    s.post(
        "/api/v2/write",
        &[
            ("bucket", "city/autogen"),
            ("org", "anything"),
            ("precision", "ms"),
        ],
        &[("Authorization", "Token ignored-when-auth-is-off")],
        b"air,station=a pm25=12 1700000000000\n",
    )
    .expect(204);
    let r = s
        .get(
            "/query",
            &[
                ("db", "city"),
                ("q", "SELECT pm25 FROM air"),
                ("epoch", "ms"),
            ],
            &[],
        )
        .expect(200);
    assert_eq!(rows(&r.body), vec!["[1700000000000,12]"], "{}", r.body);

    // 2.x errors come in the 2.x shape (with "error" too).
    let r = s
        .post("/api/v2/write", &[("bucket", "nope")], &[], b"air v=1\n")
        .expect(404);
    assert!(r.body.contains("\"code\":\"not found\""), "{}", r.body);
    assert!(r.body.contains("\"message\":"), "{}", r.body);
    s.post(
        "/api/v2/write",
        &[("bucket", "city"), ("precision", "m")],
        &[],
        b"a v=1\n",
    )
    .expect(400);
    s.post("/api/v2/write", &[], &[], b"a v=1\n").expect(400);
}

#[test]
fn gzip_bodies_are_decoded_and_bad_gzip_is_400() {
    let s = Server::start(&[]);
    s.create_database("city");
    let lines: String = (0..1000)
        .map(|i| format!("air,station=s{} pm25={i} {}\n", i % 10, 1_000_000 + i))
        .collect();
    s.post(
        "/write",
        &[("db", "city")],
        &[("Content-Encoding", "gzip")],
        &gzip(lines.as_bytes()),
    )
    .expect(204);
    let r = s.query("city", "SELECT count(pm25) FROM air").expect(200);
    assert!(r.body.contains(",1000]"), "{}", r.body);

    let r = s
        .post(
            "/write",
            &[("db", "city")],
            &[("Content-Encoding", "gzip")],
            b"air pm25=1 1\n",
        )
        .expect(400);
    assert!(r.body.contains("not valid gzip"), "{}", r.body);
    // A truncated stream is not gzip either.
    let whole = gzip(lines.as_bytes());
    let r = s
        .post(
            "/write",
            &[("db", "city")],
            &[("Content-Encoding", "gzip")],
            &whole[..whole.len() / 2],
        )
        .expect(400);
    assert!(r.body.contains("gzip"), "{}", r.body);
    let r = s
        .post(
            "/write",
            &[("db", "city")],
            &[("Content-Encoding", "br")],
            b"air pm25=1 1\n",
        )
        .expect(415);
    assert!(r.body.contains("Content-Encoding"), "{}", r.body);
}

#[test]
fn bad_lines_are_named_and_good_lines_are_written() {
    let s = Server::start(&[]);
    s.create_database("city");
    let r = s
        .write(
            "city",
            "air,station=a pm25=1 1000\n\
             air,station=a pm25 2000\n\
             air,station=a pm25=3 3000\n\
             air,station=a pm25=\"text\" 4000\n\
             ,station=a pm25=5 5000\n",
        )
        .expect(400);
    assert!(
        r.body.starts_with("{\"error\":\"partial write:"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("2 points accepted, 3 rejected"),
        "{}",
        r.body
    );
    for line in ["line 2", "line 4", "line 5"] {
        assert!(r.body.contains(line), "{line} not named in {}", r.body);
    }
    assert!(r.body.contains("type conflict"), "{}", r.body);
    let r = s.query("city", "SELECT pm25 FROM air").expect(200);
    assert_eq!(rows(&r.body).len(), 2, "{}", r.body);
}

#[test]
fn unknown_databases_are_404_unless_created_on_write() {
    let s = Server::start(&[]);
    let r = s.write("nowhere", "air v=1 1\n").expect(404);
    assert!(r.body.contains("database not found"), "{}", r.body);
    s.post("/write", &[], &[], b"air v=1 1\n").expect(400);
    s.post(
        "/write",
        &[("db", "x"), ("precision", "fortnight")],
        &[],
        b"a v=1\n",
    )
    .expect(400);

    let s = Server::start(&["--create-databases-on-write"]);
    s.write("fresh", "air v=1 1\n").expect(204);
    let r = s.query("fresh", "SELECT v FROM air").expect(200);
    assert_eq!(rows(&r.body).len(), 1, "{}", r.body);
}

#[test]
fn an_empty_body_is_accepted() {
    let s = Server::start(&[]);
    s.create_database("city");
    s.write("city", "").expect(204);
}
