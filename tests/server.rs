//! End-to-end tests of `ganzhi serve`: the real binary on a free port (it binds port 0 and
//! prints `listening on ADDR`), a temporary data directory, real HTTP. One test binary; its
//! modules:

// Starting, stopping and talking to a server.
#[path = "server/common.rs"]
mod common;
// /ping, /health, SIGTERM (in-flight requests finish, data survives a restart).
#[path = "server/lifecycle.rs"]
mod lifecycle;
// /write and /api/v2/write: round trips, gzip, bad lines, unknown databases.
#[path = "server/write.rs"]
mod write;
// /query: JSON, CSV, epochs, chunked, form bodies, syntax errors, management statements.
#[path = "server/query.rs"]
mod query;
// Limits and hostile input: body size, line length, series, timeouts, garbage.
#[path = "server/limits.rs"]
mod limits;
// --auth: users and tokens, 401 and 403, `ganzhi user`.
#[path = "server/auth.rs"]
mod auth;
// /metrics and /internal/flush|compact.
#[path = "server/metrics.rs"]
mod metrics;
