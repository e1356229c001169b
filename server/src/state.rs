//! What every request shares: the engine, the settings, the authenticator, the counters and
//! the semaphores that enforce the limits.

use std::sync::Arc;

use ganzhi_engine::Db;
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::body::BodyLimits;
use crate::config::{Config, ConfigError};
use crate::metrics::{Gauges, Metrics};

#[derive(Debug)]
pub struct State {
    pub db: Db,
    pub config: Config,
    pub auth: Auth,
    pub metrics: Metrics,
    /// One permit per byte of request body held in memory (`max_inflight_write_bytes`).
    pub inflight: Arc<Semaphore>,
    /// One permit per running query (`max_concurrent_queries`); a query's permit is held by
    /// its blocking task, so a query that timed out still counts until it really ends.
    pub queries: Arc<Semaphore>,
    /// One permit per open connection (`max_connections`).
    pub connections: Arc<Semaphore>,
    pub body_limits: BodyLimits,
}

impl State {
    pub fn new(db: Db, config: Config) -> Result<State, ConfigError> {
        config.validate()?;
        let auth = Auth::new(&config.auth)?;
        let l = &config.limits;
        Ok(State {
            inflight: Arc::new(Semaphore::new(l.max_inflight_write_bytes)),
            queries: Arc::new(Semaphore::new(l.max_concurrent_queries)),
            connections: Arc::new(Semaphore::new(l.max_connections)),
            body_limits: BodyLimits {
                max_bytes: l.max_body_bytes,
                timeout: l.body_read_timeout,
            },
            db,
            auth,
            metrics: Metrics::default(),
            config,
        })
    }

    pub fn gauges(&self) -> Gauges {
        let l = &self.config.limits;
        Gauges {
            inflight_write_bytes: l.max_inflight_write_bytes - self.inflight.available_permits(),
            queries_running: l.max_concurrent_queries - self.queries.available_permits(),
            connections: l.max_connections - self.connections.available_permits(),
        }
    }
}
