//! Ganzhi: an embedded time-series database for city sensor networks.

pub mod citygen;
