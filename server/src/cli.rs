//! The command-line side of the server: `ganzhi serve` and `ganzhi user`, as clap arguments
//! that the binary embeds, and their resolution into a [`Config`].
//!
//! Precedence, highest first: flag, environment variable (clap reads both), the `--config`
//! TOML file, the default. Every flag is optional here so that a value from the file is not
//! hidden by a default.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::auth::users::{Grant, UsersFile};
use crate::config::{
    parse_duration, parse_fsync, parse_size, Config, ConfigError, FileConfig, DEFAULT_DATA_DIR,
    USERS_FILE_NAME,
};

/// `ganzhi serve`: the InfluxDB-compatible HTTP API.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port; the bound address is printed as
    /// `listening on ADDR:PORT`). [default: 127.0.0.1:8086]
    #[arg(long, env = "GANZHI_BIND", value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// Data directory (created if missing). [default: ./ganzhi-data]
    #[arg(long, env = "GANZHI_DATA_DIR", value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
    /// TOML file with any of these settings, keys named like the flags with `_`
    /// (e.g. `max_body_bytes = "16MiB"`); flags and environment variables override it.
    #[arg(long, env = "GANZHI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When writes reach the disk: `always` (acknowledged = fdatasynced), `never` (OS cache),
    /// or an interval such as `100ms`. [default: always]
    #[arg(long, env = "GANZHI_FSYNC", value_name = "MODE")]
    pub fsync: Option<String>,
    /// Flush the memtables to segments once they hold this much. [default: 12MiB]
    #[arg(long, env = "GANZHI_MEMTABLE_BYTES", value_name = "SIZE")]
    pub memtable_bytes: Option<String>,
    /// Create a database on its first write instead of answering 404. [default: false]
    #[arg(long, env = "GANZHI_CREATE_DATABASES_ON_WRITE", value_name = "BOOL",
          num_args = 0..=1, default_missing_value = "true")]
    pub create_databases_on_write: Option<bool>,
    /// Require credentials (users and tokens of the users file). [default: false]
    #[arg(long, env = "GANZHI_AUTH", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true")]
    pub auth: Option<bool>,
    /// The users and tokens, made with `ganzhi user add|token`. [default: DATA_DIR/users.toml]
    #[arg(long, env = "GANZHI_USERS_FILE", value_name = "FILE")]
    pub users_file: Option<PathBuf>,
    /// Largest request body after gzip decompression; larger ones get 413. [default: 32MiB]
    #[arg(long, env = "GANZHI_MAX_BODY_BYTES", value_name = "SIZE")]
    pub max_body_bytes: Option<String>,
    /// Longest line of line protocol; longer lines are rejected, the others written.
    /// [default: 1MiB]
    #[arg(long, env = "GANZHI_MAX_LINE_BYTES", value_name = "SIZE")]
    pub max_line_bytes: Option<String>,
    /// Writes to a database that has this many series are refused (0: no limit).
    /// [default: 1000000]
    #[arg(long, env = "GANZHI_MAX_SERIES_PER_DATABASE", value_name = "N")]
    pub max_series_per_database: Option<usize>,
    /// Queries running at once; more are answered 503. [default: 16]
    #[arg(long, env = "GANZHI_MAX_CONCURRENT_QUERIES", value_name = "N")]
    pub max_concurrent_queries: Option<usize>,
    /// A query running longer is answered 503 (0: no limit). [default: 60s]
    #[arg(long, env = "GANZHI_QUERY_TIMEOUT", value_name = "DURATION")]
    pub query_timeout: Option<String>,
    /// A statement whose result has more values fails (0: no limit). [default: 50000000]
    #[arg(long, env = "GANZHI_MAX_QUERY_VALUES", value_name = "N")]
    pub max_query_values: Option<usize>,
    /// A read-only query whose statements each plan to decode at most this many points is
    /// answered on the request's worker thread, without a hand-off to the blocking pool
    /// (0: never). [default: 50000]
    #[arg(long, env = "GANZHI_SMALL_QUERY_POINTS", value_name = "N")]
    pub small_query_points: Option<u64>,
    /// Such a query still running after this is given up and run on the blocking pool.
    /// [default: 1ms]
    #[arg(long, env = "GANZHI_SMALL_QUERY_TIME", value_name = "DURATION")]
    pub small_query_time: Option<String>,
    /// Request bodies held in memory at once over all connections; more wait.
    /// [default: 64MiB]
    #[arg(long, env = "GANZHI_MAX_INFLIGHT_WRITE_BYTES", value_name = "SIZE")]
    pub max_inflight_write_bytes: Option<String>,
    /// Open connections; more wait in the listen backlog. [default: 1024]
    #[arg(long, env = "GANZHI_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// A request's headers must arrive within this (also closes idle keep-alive
    /// connections). [default: 30s]
    #[arg(long, env = "GANZHI_HEADER_READ_TIMEOUT", value_name = "DURATION")]
    pub header_read_timeout: Option<String>,
    /// A request's body must arrive within this; 408 otherwise. [default: 60s]
    #[arg(long, env = "GANZHI_BODY_READ_TIMEOUT", value_name = "DURATION")]
    pub body_read_timeout: Option<String>,
    /// At SIGTERM/SIGINT, how long in-flight requests get to finish. [default: 30s]
    #[arg(long, env = "GANZHI_SHUTDOWN_TIMEOUT", value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
}

fn flag<T>(
    name: &str,
    flag: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    flag.map(|s| parse(s).map_err(|e| ConfigError(format!("--{name}: {e}"))))
        .transpose()
}

impl ServeArgs {
    /// Flags and environment over the `--config` file over the defaults, validated.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let mut c = Config::new(data_dir);
        if let Some(bind) = self.bind.clone().or(file.bind) {
            c.bind = bind;
        }
        if let Some(f) = flag("fsync", self.fsync.as_deref(), parse_fsync)? {
            c.fsync = f;
        } else if let Some(f) = &file.fsync {
            c.fsync = parse_fsync(f).map_err(ConfigError)?;
        }
        let size = |name: &str, f: &Option<String>, file: &Option<crate::config::Size>| match flag(
            name,
            f.as_deref(),
            parse_size,
        )? {
            Some(v) => Ok(Some(v)),
            None => file.as_ref().map(|s| s.get()).transpose(),
        };
        let span = |name: &str, f: &Option<String>, file: &Option<crate::config::Span>| match flag(
            name,
            f.as_deref(),
            parse_duration,
        )? {
            Some(v) => Ok::<Option<Duration>, ConfigError>(Some(v)),
            None => file.as_ref().map(|s| s.get()).transpose(),
        };
        if let Some(v) = size("memtable-bytes", &self.memtable_bytes, &file.memtable_bytes)? {
            c.memtable_bytes = v;
        }
        if let Some(v) = self
            .create_databases_on_write
            .or(file.create_databases_on_write)
        {
            c.create_databases_on_write = v;
        }
        c.auth.enabled = self.auth.or(file.auth).unwrap_or(false);
        if let Some(p) = self.users_file.clone().or(file.users_file) {
            c.auth.users_file = p;
        }
        let l = &mut c.limits;
        if let Some(v) = size("max-body-bytes", &self.max_body_bytes, &file.max_body_bytes)? {
            l.max_body_bytes = v;
        }
        if let Some(v) = size("max-line-bytes", &self.max_line_bytes, &file.max_line_bytes)? {
            l.max_line_bytes = v;
        }
        if let Some(v) = size(
            "max-inflight-write-bytes",
            &self.max_inflight_write_bytes,
            &file.max_inflight_write_bytes,
        )? {
            l.max_inflight_write_bytes = v;
        }
        if let Some(v) = self
            .max_series_per_database
            .or(file.max_series_per_database)
        {
            l.max_series_per_database = v;
        }
        if let Some(v) = self.max_concurrent_queries.or(file.max_concurrent_queries) {
            l.max_concurrent_queries = v;
        }
        if let Some(v) = self.max_query_values.or(file.max_query_values) {
            l.max_query_values = v;
        }
        if let Some(v) = self.small_query_points.or(file.small_query_points) {
            l.small_query_points = v;
        }
        if let Some(v) = span(
            "small-query-time",
            &self.small_query_time,
            &file.small_query_time,
        )? {
            l.small_query_time = v;
        }
        if let Some(v) = self.max_connections.or(file.max_connections) {
            l.max_connections = v;
        }
        if let Some(v) = span("query-timeout", &self.query_timeout, &file.query_timeout)? {
            l.query_timeout = v;
        }
        if let Some(v) = span(
            "header-read-timeout",
            &self.header_read_timeout,
            &file.header_read_timeout,
        )? {
            l.header_read_timeout = v;
        }
        if let Some(v) = span(
            "body-read-timeout",
            &self.body_read_timeout,
            &file.body_read_timeout,
        )? {
            l.body_read_timeout = v;
        }
        if let Some(v) = span(
            "shutdown-timeout",
            &self.shutdown_timeout,
            &file.shutdown_timeout,
        )? {
            l.shutdown_timeout = v;
        }
        c.validate()?;
        Ok(c)
    }
}

/// `ganzhi user`: manages the users file that `serve --auth` checks credentials against.
#[derive(Debug, Clone, Args)]
pub struct UserArgs {
    /// The users file. [default: DATA_DIR/users.toml]
    #[arg(long, env = "GANZHI_USERS_FILE", value_name = "FILE", global = true)]
    pub users_file: Option<PathBuf>,
    /// Data directory whose users file to use when --users-file is not given.
    /// [default: ./ganzhi-data]
    #[arg(long, env = "GANZHI_DATA_DIR", value_name = "PATH", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: UserCommand,
}

/// What a user or token may do.
#[derive(Debug, Clone, Default, Args)]
pub struct GrantArgs {
    /// May do everything, including CREATE/DROP DATABASE, /internal/* and /metrics.
    #[arg(long)]
    pub admin: bool,
    /// A database this one may query (repeatable; `*` for every database).
    #[arg(long, value_name = "DB")]
    pub read: Vec<String>,
    /// A database this one may write to (repeatable; `*` for every database).
    #[arg(long, value_name = "DB")]
    pub write: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Adds a user (or replaces its password and permissions). The password is read from
    /// GANZHI_PASSWORD, or else from the first line of standard input; it is stored as an
    /// Argon2id hash.
    Add {
        name: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// Creates an API token (for `Authorization: Token …`) and prints it once; only its
    /// SHA-256 is stored.
    Token {
        /// A name to recognise the token by (and to remove it).
        name: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// Removes a user or token by name.
    Remove { name: String },
    /// Lists users and tokens with their permissions (never secrets).
    List,
}

impl UserArgs {
    fn path(&self) -> PathBuf {
        self.users_file.clone().unwrap_or_else(|| {
            self.data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
                .join(USERS_FILE_NAME)
        })
    }

    /// Carries out the command; what it prints goes to `out`.
    pub fn run(&self, out: &mut dyn std::io::Write) -> Result<(), ConfigError> {
        let path = self.path();
        let io = |e: std::io::Error| ConfigError(format!("{e}"));
        let mut file = UsersFile::load_or_empty(&path)?;
        match &self.command {
            UserCommand::Add { name, grant } => {
                let password = match std::env::var("GANZHI_PASSWORD") {
                    Ok(p) => p,
                    Err(_) => {
                        let mut line = String::new();
                        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
                        line.trim_end_matches(['\r', '\n']).to_owned()
                    }
                };
                if password.is_empty() {
                    return Err(ConfigError(
                        "empty password: set GANZHI_PASSWORD or give it on standard input".into(),
                    ));
                }
                file.add_user(name, &password, grant_of(grant))?;
                file.store(&path)?;
                writeln!(out, "user {name} saved in {}", path.display()).map_err(io)?;
            }
            UserCommand::Token { name, grant } => {
                let token = file.add_token(name, grant_of(grant))?;
                file.store(&path)?;
                writeln!(out, "{token}").map_err(io)?;
            }
            UserCommand::Remove { name } => {
                if !file.remove(name) {
                    return Err(ConfigError(format!(
                        "no user or token {name:?} in {}",
                        path.display()
                    )));
                }
                file.store(&path)?;
                writeln!(out, "removed {name}").map_err(io)?;
            }
            UserCommand::List => {
                for line in file.describe() {
                    writeln!(out, "{line}").map_err(io)?;
                }
            }
        }
        Ok(())
    }
}

fn grant_of(g: &GrantArgs) -> Grant {
    Grant {
        admin: g.admin,
        read: g.read.clone(),
        write: g.write.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ganzhi.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9999\"\nmax_body_bytes = \"1MiB\"\nquery_timeout = \"5s\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            max_body_bytes: Some("2MiB".into()),
            ..ServeArgs::default()
        };
        let c = args.resolve().unwrap();
        assert_eq!(c.bind, "0.0.0.0:9999");
        assert_eq!(c.limits.max_body_bytes, 2 << 20);
        assert_eq!(c.limits.query_timeout, Duration::from_secs(5));
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert!(!c.auth.enabled);
    }

    #[test]
    fn a_bad_flag_is_named() {
        let args = ServeArgs {
            max_line_bytes: Some("lots".into()),
            ..ServeArgs::default()
        };
        let e = args.resolve().unwrap_err();
        assert!(e.0.starts_with("--max-line-bytes:"), "{e}");
    }
}
