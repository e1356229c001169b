//! The server's settings: what `ganzhi serve` resolved from its flags, environment variables,
//! an optional TOML file and the defaults, in that order of precedence.
//!
//! [`Config`] is plain data, checked once by [`Config::validate`]; nothing reads the
//! environment or a file after startup except the users file (see [`crate::auth`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ganzhi_engine::{Fsync, Options};
use serde::Deserialize;

/// The server's memtable size: smaller than the engine's 64 MiB so that the server stays
/// within 128 MiB under load (active + frozen memtables: up to 3× this while writers outpace
/// a flush, then writers wait). Full compaction merges the smaller segments, so the bytes on
/// disk per value do not change (Day: 0.758 either way).
pub const DEFAULT_MEMTABLE_BYTES: usize = 12 << 20;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ADDR:PORT` to listen on; port 0 picks a free port.
    pub bind: String,
    pub data_dir: PathBuf,
    pub fsync: Fsync,
    /// Flush the memtables once they hold this many bytes.
    pub memtable_bytes: usize,
    /// A write to an unknown database creates it instead of answering 404.
    pub create_databases_on_write: bool,
    pub auth: AuthConfig,
    pub limits: Limits,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Off by default: every request may do everything.
    pub enabled: bool,
    /// The users and tokens (see `ganzhi user --help`).
    pub users_file: PathBuf,
}

/// Every limit the server enforces. A zero means "no limit" where the field says so.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, after gzip decompression (413 past it).
    pub max_body_bytes: usize,
    /// Longest line of line protocol; longer lines are rejected as bad lines.
    pub max_line_bytes: usize,
    /// Writes to a database with this many series are refused (0: no limit).
    pub max_series_per_database: usize,
    /// Queries running at once; one more is answered 503 at once.
    pub max_concurrent_queries: usize,
    /// A query still running after this is answered 503 (zero: no limit).
    pub query_timeout: Duration,
    /// A statement whose result holds more values than this fails (0: no limit).
    pub max_query_values: usize,
    /// A read-only query whose statements each plan to decode at most this many points is
    /// answered on the request's worker thread instead of the blocking pool (0: never).
    pub small_query_points: u64,
    /// Such a query still running after this is given up and handed to the pool.
    pub small_query_time: Duration,
    /// Request bodies held in memory at once, over all connections; a request waits for room.
    pub max_inflight_write_bytes: usize,
    /// Open connections; more wait in the listen backlog.
    pub max_connections: usize,
    /// A request's headers must arrive within this.
    pub header_read_timeout: Duration,
    /// A request's whole body must arrive within this (408 past it).
    pub body_read_timeout: Duration,
    /// At shutdown, how long in-flight requests get to finish.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 32 << 20,
            max_line_bytes: 1 << 20,
            max_series_per_database: 1_000_000,
            max_concurrent_queries: 16,
            query_timeout: Duration::from_secs(60),
            max_query_values: 50_000_000,
            small_query_points: 50_000,
            small_query_time: Duration::from_millis(1),
            max_inflight_write_bytes: 64 << 20,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8086";
pub const DEFAULT_DATA_DIR: &str = "./ganzhi-data";
/// The users file's name inside the data directory, when none is given.
pub const USERS_FILE_NAME: &str = "users.toml";

impl Config {
    /// The defaults: 127.0.0.1:8086, `./ganzhi-data`, no auth.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        let data_dir = data_dir.into();
        Config {
            bind: DEFAULT_BIND.to_owned(),
            auth: AuthConfig {
                enabled: false,
                users_file: data_dir.join(USERS_FILE_NAME),
            },
            data_dir,
            fsync: Fsync::Always,
            memtable_bytes: DEFAULT_MEMTABLE_BYTES,
            create_databases_on_write: false,
            limits: Limits::default(),
        }
    }

    /// Refuses settings that cannot work together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let bad = |what: String| Err(ConfigError(what));
        if l.max_body_bytes == 0 {
            return bad("max_body_bytes must be above 0".into());
        }
        if l.max_inflight_write_bytes < l.max_body_bytes {
            return bad(format!(
                "max_inflight_write_bytes ({}) must be at least max_body_bytes ({}), \
                 or a largest body could never be admitted",
                l.max_inflight_write_bytes, l.max_body_bytes
            ));
        }
        if l.max_inflight_write_bytes > u32::MAX as usize {
            return bad("max_inflight_write_bytes must be below 4 GiB".into());
        }
        if l.max_line_bytes == 0 {
            return bad("max_line_bytes must be above 0".into());
        }
        if l.max_concurrent_queries == 0 || l.max_connections == 0 {
            return bad("max_concurrent_queries and max_connections must be above 0".into());
        }
        Ok(())
    }

    /// The engine's options for this configuration.
    pub fn engine_options(&self) -> Options {
        Options {
            fsync: self.fsync,
            memtable_bytes: self.memtable_bytes,
            create_databases_on_write: self.create_databases_on_write,
            ..Options::default()
        }
    }
}

/// A setting that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The TOML file of `--config`: every key optional, the same names as the flags with `_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub fsync: Option<String>,
    pub memtable_bytes: Option<Size>,
    pub create_databases_on_write: Option<bool>,
    pub auth: Option<bool>,
    pub users_file: Option<PathBuf>,
    pub max_body_bytes: Option<Size>,
    pub max_line_bytes: Option<Size>,
    pub max_series_per_database: Option<usize>,
    pub max_concurrent_queries: Option<usize>,
    pub query_timeout: Option<Span>,
    pub max_query_values: Option<usize>,
    pub small_query_points: Option<u64>,
    pub small_query_time: Option<Span>,
    pub max_inflight_write_bytes: Option<Size>,
    pub max_connections: Option<usize>,
    pub header_read_timeout: Option<Span>,
    pub body_read_timeout: Option<Span>,
    pub shutdown_timeout: Option<Span>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("reading {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }
}

/// A byte size in a TOML file: an integer, or a string such as `"32MiB"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    pub fn get(&self) -> Result<usize, ConfigError> {
        match self {
            Size::Bytes(n) => usize::try_from(*n).map_err(|_| ConfigError("size too large".into())),
            Size::Text(s) => parse_size(s).map_err(ConfigError),
        }
    }
}

/// A duration in a TOML file: seconds as an integer, or a string such as `"500ms"`, `"2m"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Span {
    Seconds(u64),
    Text(String),
}

impl Span {
    pub fn get(&self) -> Result<Duration, ConfigError> {
        match self {
            Span::Seconds(n) => Ok(Duration::from_secs(*n)),
            Span::Text(s) => parse_duration(s).map_err(ConfigError),
        }
    }
}

/// `1048576`, `64KiB`, `32MiB`, `1GiB` (also `K`, `KB`, `M`, `MB`, `G`, `GB`, all binary).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {s:?} (examples: 1048576, 64KiB, 32MiB, 1GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("invalid size unit in {s:?} (use KiB, MiB or GiB)")),
    };
    n.checked_mul(1 << shift)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds; `0` means none.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (examples: 30s, 500ms, 2m)"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "invalid duration unit in {s:?} (use ms, s, m or h)"
            ))
        }
    })
}

/// `always`, `never`, or an interval such as `100ms` (fsync by a background thread).
pub fn parse_fsync(s: &str) -> Result<Fsync, String> {
    match s {
        "always" => Ok(Fsync::Always),
        "never" => Ok(Fsync::Never),
        other => match parse_duration(other) {
            Ok(d) if !d.is_zero() => Ok(Fsync::Interval(d)),
            _ => Err(format!(
                "invalid fsync {s:?}: use always, never, or an interval such as 100ms"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("32MiB"), Ok(32 << 20));
        assert_eq!(parse_size("2 GB"), Ok(2 << 30));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("2 fortnights").is_err());
        assert_eq!(
            parse_fsync("100ms"),
            Ok(Fsync::Interval(Duration::from_millis(100)))
        );
        assert_eq!(parse_fsync("always"), Ok(Fsync::Always));
        assert!(parse_fsync("0s").is_err());
    }

    #[test]
    fn file_config_reads_every_key_and_refuses_unknown_ones() {
        let c: FileConfig = toml::from_str(
            "bind = \"0.0.0.0:9000\"\nmax_body_bytes = \"1MiB\"\nquery_timeout = \"5s\"\n\
             body_read_timeout = 10\nauth = true\n",
        )
        .unwrap();
        assert_eq!(c.bind.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(c.max_body_bytes.unwrap().get(), Ok(1 << 20));
        assert_eq!(c.query_timeout.unwrap().get(), Ok(Duration::from_secs(5)));
        assert_eq!(
            c.body_read_timeout.unwrap().get(),
            Ok(Duration::from_secs(10))
        );
        assert!(toml::from_str::<FileConfig>("max_body = 1").is_err());
    }

    #[test]
    fn validation() {
        let mut c = Config::new("/tmp/x");
        assert_eq!(c.validate(), Ok(()));
        c.limits.max_inflight_write_bytes = c.limits.max_body_bytes - 1;
        assert!(c.validate().is_err());
    }
}
