//! A `ganzhi serve` child process on a free port, and a small HTTP vocabulary for tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long anything a test waits for may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`, as the server printed it.
    pub addr: String,
    /// What the server logged so far, and a signal at each line.
    stderr: Arc<(Mutex<String>, Condvar)>,
    agent: ureq::Agent,
    /// Keeps a temporary data directory alive when the server made its own.
    _dir: Option<tempfile::TempDir>,
}

/// A response: status, headers (names lowercase), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}

impl Server {
    /// A server on a fresh temporary data directory, with extra `serve` flags.
    pub fn start(flags: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Server::start_in(dir.path(), flags);
        s._dir = Some(dir);
        s
    }

    /// A server on `data_dir` (kept after the server stops).
    pub fn start_in(data_dir: &Path, flags: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ganzhi"));
        // Hermetic: no setting comes from the environment of whoever runs the tests.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GANZHI_") {
                cmd.env_remove(name);
            }
        }
        let mut child = cmd
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting ganzhi serve");
        let stderr = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.0.lock().unwrap().push_str(&line);
                sink.1.notify_all();
                line.clear();
            }
        });
        let (tx, rx) = mpsc::channel();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut line = String::new();
            while out.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Some(addr) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
                line.clear();
            }
        });
        let addr = match rx.recv_timeout(PATIENCE) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server never said where it listens; stderr:\n{}",
                    stderr.0.lock().unwrap()
                );
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(PATIENCE))
            .build()
            .into();
        Server {
            child,
            addr,
            stderr,
            agent,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The value of an unlabelled sample in `/metrics`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let r = self.get("/metrics", &[], &[]).expect(200);
        r.body.lines().find_map(|l| {
            let (n, v) = l.split_once(' ')?;
            (n == name).then(|| v.parse().ok())?
        })
    }

    /// Polls `/metrics` (a bounded number of times) until `name` has `value`.
    pub fn await_metric(&self, name: &str, value: f64) {
        for _ in 0..2000 {
            if self.metric(name) == Some(value) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("{name} never reached {value}: {:?}", self.metric(name));
    }

    pub fn stderr(&self) -> String {
        self.stderr.0.lock().unwrap().clone()
    }

    /// Waits until the server's stderr contains `text` (it logs as it goes).
    pub fn await_log(&self, text: &str) {
        let (log, line) = &*self.stderr;
        let (log, timeout) = line
            .wait_timeout_while(log.lock().unwrap(), PATIENCE, |log| !log.contains(text))
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "the server never logged {text:?}; stderr:\n{log}"
        );
    }

    pub fn get(&self, path: &str, params: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.get(self.url(path));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.call())
    }

    pub fn post(
        &self,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut req = self.agent.post(self.url(path));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.send(body))
    }

    /// `GET /query?db=…&q=…`.
    pub fn query(&self, db: &str, q: &str) -> Reply {
        self.get("/query", &[("db", db), ("q", q)], &[])
    }

    /// `POST /write?db=…` of line protocol (nanoseconds).
    pub fn write(&self, db: &str, lines: &str) -> Reply {
        self.post("/write", &[("db", db)], &[], lines.as_bytes())
    }

    /// `CREATE DATABASE` over `/query`.
    pub fn create_database(&self, db: &str) {
        self.post(
            "/query",
            &[("q", &format!("CREATE DATABASE \"{db}\""))],
            &[],
            b"",
        )
        .expect(200);
    }

    /// Sends raw bytes on a new connection and returns everything the server answers until
    /// it closes the connection.
    pub fn raw(&self, request: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        read_to_close(&mut s)
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s
    }

    /// Sends a signal (`"TERM"`, `"INT"`, `"HUP"`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (at most [`PATIENCE`]) for the process to exit.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("HTTP request failed");
    let headers = r
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// The `values` rows of statement 0, series 0 of a `/query` JSON answer, as JSON text per
/// row; empty when there is no series.
pub fn rows(body: &str) -> Vec<String> {
    let Some(start) = body.find("\"values\":[") else {
        return Vec::new();
    };
    let rest = &body[start + "\"values\":[".len()..];
    let mut rows = Vec::new();
    let mut depth = 0;
    let mut row_start = 0;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' => {
                if depth == 0 {
                    row_start = i;
                }
                depth += 1;
            }
            ']' if depth == 0 => break,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    rows.push(rest[row_start..=i].to_owned());
                }
            }
            _ => {}
        }
    }
    rows
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
