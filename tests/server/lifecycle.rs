//! Starting, answering liveness probes, and stopping gracefully.

use std::io::Write;

use crate::common::{read_to_close, rows, Server};

#[test]
fn ping_and_health_answer_without_credentials() {
    let s = Server::start(&[]);
    let r = s.get("/ping", &[], &[]).expect(204);
    assert_eq!(r.header("x-influxdb-version"), Some("1.8.10-ganzhi"));
    assert_eq!(r.header("x-influxdb-build"), Some("OSS"));
    let r = s.get("/ping", &[("verbose", "true")], &[]).expect(200);
    assert!(
        r.body.contains("\"version\":\"1.8.10-ganzhi\""),
        "{}",
        r.body
    );
    let raw = s.raw(b"HEAD /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(raw.starts_with("HTTP/1.1 204"), "{raw}");
    let r = s.get("/health", &[], &[]).expect(200);
    assert!(r.body.contains("\"status\":\"pass\""), "{}", r.body);
    s.get("/nowhere", &[], &[]).expect(404);
    let r = s.get("/write", &[], &[]).expect(405);
    assert_eq!(r.header("allow"), Some("POST"));
}

/// SIGTERM: the server stops accepting, lets a request whose body is still arriving finish,
/// flushes, exits 0; a restart on the same directory serves everything acknowledged.
#[test]
fn sigterm_finishes_in_flight_writes_flushes_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    s.create_database("city");
    s.write(
        "city",
        "air,station=a pm25=1 1000\nair,station=b pm25=2 2000\n",
    )
    .expect(204);

    // A write whose body is only half sent when the signal arrives.
    let body = "air,station=c pm25=3 3000\n";
    let (first, rest) = body.split_at(10);
    let mut conn = s.connect();
    write!(
        conn,
        "POST /write?db=city HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    // Wait until the server is reading that body (it holds room for it), then signal.
    s.await_metric("ganzhi_inflight_write_bytes", body.len() as f64);
    s.signal("TERM");
    s.await_log("SIGTERM: shutting down");
    conn.write_all(rest.as_bytes()).unwrap();
    let answer = read_to_close(&mut conn);
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    let status = s.wait();
    assert!(status.success(), "exit {status:?}; stderr:\n{}", s.stderr());
    assert!(s.stderr().contains("flushing memtables"), "{}", s.stderr());
    // Nothing is accepted any more.
    assert!(std::net::TcpStream::connect(&s.addr).is_err());

    let s = Server::start_in(dir.path(), &[]);
    let r = s.query("city", "SELECT pm25 FROM air").expect(200);
    assert_eq!(rows(&r.body).len(), 3, "{}", r.body);
}

#[test]
fn sigint_stops_an_idle_server_with_exit_0() {
    let mut s = Server::start(&[]);
    let keep_alive = s.connect(); // an idle keep-alive connection does not hold shutdown up
    s.signal("INT");
    assert!(s.wait().success(), "{}", s.stderr());
    drop(keep_alive);
}

/// `ganzhi serve ARGS` that must fail at startup: its stderr.
fn fails(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ganzhi"))
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "ganzhi serve {args:?} started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn startup_errors_are_clear() {
    let s = Server::start(&[]);
    let err = fails(&["--bind", &s.addr]);
    assert!(err.contains(&format!("binding {}", s.addr)), "{err}");
    let err = fails(&["--bind", "127.0.0.1:0", "--auth"]);
    assert!(err.contains("ganzhi user add"), "{err}");
    let err = fails(&["--bind", "127.0.0.1:0", "--max-body-bytes", "lots"]);
    assert!(err.contains("--max-body-bytes"), "{err}");
}

#[test]
fn help_documents_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ganzhi"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--data-dir",
        "--config",
        "--fsync",
        "--auth",
        "--users-file",
        "--max-body-bytes",
        "--max-line-bytes",
        "--max-series-per-database",
        "--max-concurrent-queries",
        "--query-timeout",
        "--small-query-points",
        "--small-query-time",
        "--max-inflight-write-bytes",
        "--header-read-timeout",
        "--body-read-timeout",
        "--shutdown-timeout",
        "GANZHI_BIND",
        "GANZHI_DATA_DIR",
        "127.0.0.1:8086",
        "./ganzhi-data",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn a_config_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ganzhi.toml");
    std::fs::write(&config, "max_body_bytes = 100\nbind = \"127.0.0.1:1\"\n").unwrap();
    // --bind (from Server::start) overrides the file's bind; its body limit holds.
    let s = Server::start(&["--config", config.to_str().unwrap()]);
    s.create_database("city");
    s.write("city", &"x v=1\n".repeat(50)).expect(413);
}
