//! `serve --auth` with users and a token made by `ganzhi user`.

use std::path::Path;
use std::process::Command;

use crate::common::{rows, Server};

fn user(users: &Path, args: &[&str], password: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ganzhi"));
    cmd.arg("user").args(args).arg("--users-file").arg(users);
    match password {
        Some(p) => cmd.env("GANZHI_PASSWORD", p),
        None => cmd.env_remove("GANZHI_PASSWORD"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "ganzhi user {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn users_tokens_401_and_403() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    user(&users, &["add", "root", "--admin"], Some("rootpw"));
    user(&users, &["add", "reader", "--read", "city"], Some("readpw"));
    let token = user(&users, &["token", "ingest", "--write", "city"], None);
    let token = token.trim();
    assert!(token.starts_with("gz_"), "{token}");
    let listed = user(&users, &["list"], None);
    assert!(
        listed.contains("reader") && !listed.contains("readpw"),
        "{listed}"
    );
    let stored = std::fs::read_to_string(&users).unwrap();
    assert!(
        !stored.contains("rootpw") && !stored.contains(token),
        "{stored}"
    );

    let data = dir.path().join("data");
    let s = Server::start_in(&data, &["--auth", "--users-file", users.to_str().unwrap()]);
    let root = basic("root", "rootpw");
    let reader = basic("reader", "readpw");
    let as_root = [("Authorization", root.as_str())];

    // No credentials: 401 everywhere but the probes.
    s.get("/ping", &[], &[]).expect(204);
    s.get("/health", &[], &[]).expect(200);
    let r = s.write("city", "air v=1 1\n").expect(401);
    assert!(r.header("www-authenticate").is_some());
    s.query("city", "SHOW DATABASES").expect(401);
    // Wrong credentials: 401.
    s.get(
        "/query",
        &[("q", "SHOW DATABASES")],
        &[("Authorization", &basic("root", "nope"))],
    )
    .expect(401);
    s.get(
        "/query",
        &[("q", "SHOW DATABASES"), ("u", "ghost"), ("p", "x")],
        &[],
    )
    .expect(401);
    s.get(
        "/query",
        &[("q", "SHOW DATABASES")],
        &[("Authorization", "Token gz_wrong")],
    )
    .expect(401);

    // The admin creates databases (u/p parameters) and writes (Basic).
    s.post(
        "/query",
        &[
            ("q", "CREATE DATABASE city; CREATE DATABASE secret"),
            ("u", "root"),
            ("p", "rootpw"),
        ],
        &[],
        b"",
    )
    .expect(200);
    s.post("/write", &[("db", "secret")], &as_root, b"s v=1 1\n")
        .expect(204);

    // The token writes to city (2.x and 1.x), and nothing else.
    let tok = format!("Token {token}");
    s.post(
        "/api/v2/write",
        &[("bucket", "city"), ("org", "o")],
        &[("Authorization", &tok)],
        b"air v=1 1\n",
    )
    .expect(204);
    s.post(
        "/write",
        &[("db", "city")],
        &[("Authorization", &tok)],
        b"air v=2 2\n",
    )
    .expect(204);
    let r = s
        .post(
            "/write",
            &[("db", "secret")],
            &[("Authorization", &tok)],
            b"air v=2 2\n",
        )
        .expect(403);
    assert!(r.body.contains("not authorized to write"), "{}", r.body);
    s.get(
        "/query",
        &[("db", "city"), ("q", "SELECT * FROM air")],
        &[("Authorization", &tok)],
    )
    .expect(403);

    // The read-only user reads city, may not write it or read secret, sees only city.
    let as_reader = [("Authorization", reader.as_str())];
    let r = s
        .get(
            "/query",
            &[("db", "city"), ("q", "SELECT v FROM air")],
            &as_reader,
        )
        .expect(200);
    assert_eq!(rows(&r.body).len(), 2, "{}", r.body);
    let r = s
        .post("/write", &[("db", "city")], &as_reader, b"air v=3 3\n")
        .expect(403);
    assert!(
        r.body.contains("reader is not authorized to write"),
        "{}",
        r.body
    );
    s.get(
        "/query",
        &[("db", "secret"), ("q", "SELECT * FROM s")],
        &as_reader,
    )
    .expect(403);
    s.get("/query", &[("q", "SELECT * FROM secret..s")], &as_reader)
        .expect(403);
    s.post("/query", &[("q", "CREATE DATABASE mine")], &as_reader, b"")
        .expect(403);
    let r = s
        .get("/query", &[("q", "SHOW DATABASES")], &as_reader)
        .expect(200);
    assert!(
        r.body.contains("[\"city\"]") && !r.body.contains("secret"),
        "{}",
        r.body
    );
    let r = s
        .get("/query", &[("q", "SHOW DATABASES")], &as_root)
        .expect(200);
    assert!(r.body.contains("secret"), "{}", r.body);
    // `Token user:password`, as InfluxDB 1.8 takes on its 2.x endpoints.
    s.get(
        "/query",
        &[("db", "city"), ("q", "SELECT v FROM air")],
        &[("Authorization", "Token reader:readpw")],
    )
    .expect(200);

    // Operator endpoints are for admins.
    s.post("/internal/flush", &[], &as_reader, b"").expect(403);
    s.get("/metrics", &[], &as_reader).expect(403);
    s.post("/internal/flush", &[], &as_root, b"").expect(200);
    let r = s.get("/metrics", &[], &as_root).expect(200);
    assert!(r.body.contains("ganzhi_auth_failures_total"), "{}", r.body);

    // Removing a user and reloading (SIGHUP) takes effect without a restart.
    user(&users, &["remove", "reader"], None);
    s.signal("HUP");
    s.await_log("users file reloaded");
    s.get(
        "/query",
        &[("db", "city"), ("q", "SELECT v FROM air")],
        &as_reader,
    )
    .expect(401);
}
