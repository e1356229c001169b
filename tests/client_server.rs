//! `ganzhi-client` against the real `ganzhi serve` (the binary, port 0, a temp data dir): writes
//! through every path the client has (1.x, 2.x, gzip, the batching Writer), a partial write's
//! message, an unknown database, queries read back with the client's JSON types, and
//! `ganzhi load` end to end.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use ganzhi_client::{Client, Error, Precision, Value, WriteTarget, Writer, WriterOptions};

/// A `ganzhi serve` child on a free port; killed on drop.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ganzhi"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env_remove("GANZHI_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting ganzhi serve");
        // The server prints `listening on ADDR` once it accepts connections; a server that
        // dies first closes stdout, which ends the loop.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                panic!("ganzhi serve exited before listening: {:?}", child.wait());
            }
            if let Some(a) = line.trim().strip_prefix("listening on ") {
                break a.to_owned();
            }
        };
        Server {
            child,
            url: format!("http://{addr}"),
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }

    /// A client with the database `city` created.
    fn city(&self) -> Client {
        let c = self.client();
        c.query("", "CREATE DATABASE city", None)
            .unwrap()
            .check()
            .unwrap();
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// All rows of `SELECT * FROM m` (ns epochs), as JSON arrays.
fn rows(c: &Client, m: &str) -> Vec<Vec<Value>> {
    let r = c
        .query(
            "city",
            &format!("SELECT * FROM {m}"),
            Some(Precision::Nanoseconds),
        )
        .unwrap()
        .check()
        .unwrap();
    r.series().flat_map(|s| s.values.clone()).collect()
}

#[test]
fn client_writes_and_reads_back_through_every_write_path() {
    let server = Server::start();
    let c = server.city();
    let ping = c.ping().unwrap();
    assert!(ping.version.is_some(), "no version header: {ping:?}");

    c.write(
        "city",
        "noise,site=a laeq=61.5 1000\n",
        Precision::Milliseconds,
    )
    .unwrap();
    c.write_v2(
        "city",
        "",
        "noise,site=a laeq=62.5 2000000\n",
        Precision::Microseconds,
    )
    .unwrap();
    let gz = Client::builder(&server.url).gzip(true).build().unwrap();
    gz.write("city", "noise,site=a laeq=63.5 3\n", Precision::Seconds)
        .unwrap();

    let w = Writer::new(
        c.clone(),
        WriteTarget::v1("city"),
        WriterOptions {
            max_lines: 2,
            ..WriterOptions::default()
        },
    );
    for i in 4..9 {
        w.write_line(format!("noise,site=a laeq={i}.5 {i}000000000"))
            .unwrap();
    }
    let stats = w.close().unwrap();
    assert_eq!((stats.batches, stats.lines), (3, 5));

    let got = rows(&c, "noise");
    let want: Vec<_> = (1..9)
        .map(|i| {
            let v = if i <= 3 {
                60.5 + i as f64
            } else {
                i as f64 + 0.5
            };
            (i * 1_000_000_000i64, v)
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (row, (t, v)) in got.iter().zip(&want) {
        assert_eq!(row[0], Value::from(*t), "{row:?}");
        assert!(row.contains(&Value::from(*v)), "{row:?} lacks {v}");
    }
}

#[test]
fn a_partial_write_names_the_bad_line_and_keeps_the_good_ones() {
    let server = Server::start();
    let c = server.city();
    let body = "noise,site=a laeq=60 1\nnoise,site=a laeq= 2\nnoise,site=a laeq=62 3\n";
    match c.write("city", body, Precision::Nanoseconds) {
        Err(Error::PartialWrite { message }) => {
            assert!(
                message.contains("line 2"),
                "the message names no line: {message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rows(&c, "noise").len(), 2);
}

#[test]
fn an_unknown_database_is_a_404_and_is_not_retried() {
    let server = Server::start();
    let e = server
        .client()
        .write("nope", "m f=1 1\n", Precision::Nanoseconds)
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    assert!(!e.is_retryable());
}

#[test]
fn query_errors_come_back_with_the_servers_message() {
    let server = Server::start();
    let c = server.city();
    match c.query("city", "SELECT FROM", None) {
        Err(Error::Query { message }) => assert!(!message.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ganzhi_load_sends_a_file_and_reports() {
    let server = Server::start();
    server.city();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.lp");
    let mut body = String::new();
    for i in 0..1000 {
        body.push_str(&format!("noise,site=s{} laeq={i}.25,ok=true {i}\n", i % 7));
    }
    std::fs::write(&file, body).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ganzhi"))
        .args([
            "load",
            "--url",
            &server.url,
            "--db",
            "city",
            "--batch",
            "300",
        ])
        .args(["--connections", "3"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |k: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .unwrap_or_else(|| panic!("no {k} in {stdout}"))
            .to_owned()
    };
    assert_eq!(field("lines"), "1000");
    assert_eq!(field("values"), "2000");
    assert_eq!(field("batches"), "4");
    assert_eq!(field("failed_batches"), "0");
    assert_eq!(field("values_acknowledged"), "2000");
    assert!(field("batch_p99_ms").parse::<f64>().unwrap() > 0.0);
    assert_eq!(rows(&server.client(), "noise").len(), 1000);
}
