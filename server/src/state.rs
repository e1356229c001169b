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
    /// Queries found not small lately, so not tried on the worker thread again.
    pub large_queries: RecentSet,
}

/// A lossy set of recent hashes: one slot per hash modulo its size, the latest one kept. A
/// hash another has displaced is just not found.
#[derive(Debug)]
pub struct RecentSet {
    slots: Vec<std::sync::atomic::AtomicU64>,
}

impl RecentSet {
    pub fn new(slots: usize) -> RecentSet {
        RecentSet {
            slots: (0..slots.max(1))
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        }
    }

    fn slot(&self, hash: u64) -> &std::sync::atomic::AtomicU64 {
        &self.slots[(hash % self.slots.len() as u64) as usize]
    }

    pub fn insert(&self, hash: u64) {
        self.slot(hash)
            .store(hash, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn contains(&self, hash: u64) -> bool {
        // 0 marks an empty slot: the hash 0 is never found.
        hash != 0 && self.slot(hash).load(std::sync::atomic::Ordering::Relaxed) == hash
    }
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
            large_queries: RecentSet::new(1024),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recent_set_keeps_the_latest_hash_per_slot() {
        let set = RecentSet::new(4);
        assert!(!set.contains(5));
        set.insert(5);
        assert!(set.contains(5));
        // 9 takes 5's slot (both 1 modulo 4); 6 has a slot of its own.
        set.insert(9);
        set.insert(6);
        assert!(!set.contains(5));
        assert!(set.contains(9) && set.contains(6));
        set.insert(0);
        assert!(!set.contains(0));
    }
}
