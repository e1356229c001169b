//! ganzhi-server: the InfluxDB-compatible HTTP API (1.x `/write` and `/query`, 2.x
//! `/api/v2/write`, `/ping`, `/health`, `/metrics`, `/internal/*`) on hyper and tokio.
//!
//! A request goes: accept loop ([`server`]) → router ([`routes`]) → credentials ([`auth`]) →
//! body read once into `Bytes` within the limits ([`body`]) → the engine on the blocking pool
//! (the engine is synchronous; writes from every connection meet in its WAL group commit) →
//! response, errors mapped to statuses in one place ([`http`]).
//!
//! **Architecture Invariant:** the async threads never run the engine: every call into
//! `ganzhi_engine::Db` (writes, queries, flushes, the metrics' directory walk) runs on the
//! blocking pool, so a slow disk or a long query never stalls other connections.
//!
//! [`serve`] is what `ganzhi serve` runs; [`run`] serves an already bound listener and is
//! what tests embedding the server call.

pub mod auth;
pub mod body;
pub mod cli;
pub mod config;
pub mod http;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod params;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod state;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use ganzhi_engine::Db;
use tokio::net::TcpListener;

pub use config::{Config, ConfigError, Limits};
pub use server::run;
pub use state::State;

/// Why `serve` stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    Config(ConfigError),
    /// Binding the address, or another socket or runtime error.
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Opening the data directory, or the flush at shutdown.
    Engine {
        what: String,
        source: ganzhi_engine::Error,
    },
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Config(e) => write!(f, "configuration: {e}"),
            ServeError::Io { what, source } => write!(f, "{what}: {source}"),
            ServeError::Engine { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Config(e) => Some(e),
            ServeError::Io { source, .. } => Some(source),
            ServeError::Engine { source, .. } => Some(source),
        }
    }
}

impl From<ConfigError> for ServeError {
    fn from(e: ConfigError) -> Self {
        ServeError::Config(e)
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// Gives glibc's malloc one arena (unless `MALLOC_ARENA_MAX` says otherwise).
///
/// The `ganzhi` binary allocates with jemalloc (see its `alloc` module), so this governs only
/// what still goes through glibc's malloc: C libraries (zstd) and programs that embed the
/// server with the system allocator. By default glibc gives each thread that meets contention
/// an arena of its own, up to 8 per core, and an arena keeps what is freed in it: under the
/// issue-5 load that held RSS at 2–3× the live heap (peak 192 MiB with two arenas, 230 MiB with
/// eight, 131 MiB with one), at the price of a lock every allocation takes.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable; called before the runtime starts any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

/// Runs the server until SIGTERM or SIGINT: binds, opens the data directory, prints
/// `listening on ADDR:PORT` to stdout, serves, then drains the connections, flushes the
/// memtables to segments and returns.
pub fn serve(config: Config) -> Result<(), ServeError> {
    config.validate()?;
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ganzhi-server")
        // Writes and queries run here; more would only queue on the disk and the cores.
        .max_blocking_threads(64)
        .build()
        .map_err(io_error("starting the runtime"))?;
    let result = runtime.block_on(serve_async(config));
    // A query that timed out may still run on the blocking pool; do not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve_async(config: Config) -> Result<(), ServeError> {
    let listener = TcpListener::bind(&config.bind)
        .await
        .map_err(io_error(format!("binding {}", config.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(io_error("reading the bound address"))?;
    let (dir, options) = (config.data_dir.clone(), config.engine_options());
    let db = tokio::task::spawn_blocking(move || Db::open(&dir, options))
        .await
        .map_err(|e| ServeError::Io {
            what: "opening the data directory".into(),
            source: std::io::Error::other(e.to_string()),
        })?
        .map_err(|source| ServeError::Engine {
            what: format!("opening {}", config.data_dir.display()),
            source,
        })?;
    let report = db.recovery_report();
    eprintln!(
        "ganzhi: data in {} (replayed {} WAL records); auth {}",
        config.data_dir.display(),
        report.records,
        if config.auth.enabled { "on" } else { "off" }
    );
    let state = Arc::new(State::new(db.clone(), config)?);
    let signals = shutdown::Shutdown::install().map_err(io_error("installing signal handlers"))?;
    let for_reload = state.clone();
    shutdown::on_hangup(move || match for_reload.auth.reload() {
        Ok(()) => eprintln!("ganzhi: SIGHUP: users file reloaded"),
        Err(e) => eprintln!("ganzhi: SIGHUP: users file not reloaded: {e}"),
    })
    .map_err(io_error("installing signal handlers"))?;

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
    drop(out);

    run(listener, state.clone(), async move {
        let name = signals.recv().await;
        eprintln!("ganzhi: {name}: shutting down (no new connections; finishing requests)");
    })
    .await;

    eprintln!("ganzhi: flushing memtables to segments");
    let flushed = tokio::task::spawn_blocking(move || db.flush().and_then(|()| db.sync()))
        .await
        .map_err(|e| ServeError::Io {
            what: "flushing".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    flushed.map_err(|source| ServeError::Engine {
        what: "flushing at shutdown (acknowledged writes are safe in the WAL)".into(),
        source,
    })?;
    state
        .metrics
        .flushes
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    eprintln!("ganzhi: stopped");
    Ok(())
}
