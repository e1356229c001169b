//! The write-ahead log: the only file written before a write is acknowledged.
//!
//! A directory of numbered segment files (`segment`), each a header and a run of checksummed
//! frames holding compact binary write records (`record`). Writers share fsyncs through group
//! commit (`writer`); opening replays every segment and cuts torn or corrupt tails (`recovery`).
//!
//! **Invariant:** a record is acknowledged only after it is written (and, with
//! `Fsync::Always`, fsynced) — and every record before it in the log is too.

pub mod record;
pub mod recovery;
pub mod segment;
pub mod writer;

pub use recovery::{RecoveryReport, Truncation};
pub use writer::{Fsync, WalStats, WalWriter};
