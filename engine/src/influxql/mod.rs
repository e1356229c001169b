//! InfluxQL (InfluxDB 1.x's query language): lexer, typed syntax tree, parser and printer.
//! No execution: this module owns the text ↔ tree mapping and the reading of time bounds.
//!
//! ```
//! use ganzhi_engine::influxql::{parse_query, Statement};
//! let text = "select MEAN(pm25) from air where time > now() - 60m group by time(5m)";
//! let q = parse_query(text).unwrap();
//! let Statement::Select(select) = &q.statements[0] else { unreachable!() };
//! let now = 1_700_000_000_000_000_000;
//! assert_eq!(select.time_range(now).unwrap(), (now - 3_600_000_000_000 + 1, i64::MAX));
//! assert_eq!(select.condition_without_time(), None);
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT mean(pm25) FROM air WHERE time > now() - 1h GROUP BY time(5m)"
//! );
//! ```
//!
//! # Supported
//! - Several statements separated by `;`; keywords in any case; comments `-- ...` and
//!   `/* ... */`; identifiers bare (`[A-Za-z_][A-Za-z0-9_]*`, not a keyword) or double-quoted
//!   with `\"`, `\\`, `\n` escapes; strings in single quotes with `\'`, `\\`, `\n` escapes.
//! - `SELECT` fields (`*`, `*::field`, regexes, expressions, `AS alias`), `FROM` sources
//!   (`m`, `"m"`, `rp.m`, `db.rp.m`, `db..m`, `/re/`, `db.rp./re/`), `WHERE`,
//!   `GROUP BY time(interval[, offset | now()])`, tags, `*`, `/re/`,
//!   `fill(null|none|previous|linear|<number>)`, `ORDER BY time [ASC|DESC]`, `LIMIT`, `OFFSET`,
//!   `SLIMIT`, `SOFFSET`, `tz('zone')` — in InfluxDB's fixed clause order.
//! - Expressions with InfluxDB's operators and precedence (`OR` < `AND` < comparisons
//!   `= != <> < <= > >= =~ !~` < `+ - | ^` < `* / % &`), parentheses, unary `-`/`+`, calls
//!   (any identifier directly followed by `(`; `DISTINCT x` is `distinct(x)`), `now()`,
//!   `name::type` casts, integer / float / string / boolean / duration literals (`ns u µ ms s m h
//!   d w`, also compound like `1h30m`), and regexes after `=~`/`!~`.
//! - `SHOW DATABASES`, `SHOW MEASUREMENTS`, `SHOW TAG KEYS`, `SHOW TAG VALUES`,
//!   `SHOW FIELD KEYS`, `SHOW SERIES`, `SHOW RETENTION POLICIES`, `CREATE DATABASE` (with
//!   `DURATION`, `REPLICATION`, `SHARD DURATION`, `NAME`), `DROP DATABASE`,
//!   `DROP MEASUREMENT`, `DROP SERIES`, `DELETE`, with the clauses listed on [`Statement`].
//! - [`SelectStatement::time_range`] and [`SelectStatement::condition_without_time`] (and the
//!   free functions [`time_range`], [`condition_without_time`] for other statements): the time
//!   bounds of a `WHERE` clause (RFC 3339 and date strings, epochs with units, `now()`
//!   arithmetic) and the rest of it.
//! - Errors ([`ParseError`]) carry the byte offset, line and column, and print InfluxDB's text
//!   (`found FROM, expected identifier at line 1, char 8`), which InfluxDB's HTTP API sends
//!   prefixed with `error parsing query: `. Positions match InfluxDB's, quirks included.
//!
//! # Not supported (a clear error, never a wrong tree)
//! - Valid InfluxQL that ganzhi does not implement: `SELECT INTO`, subqueries, bound parameters
//!   (`$x`), user / privilege / retention-policy / continuous-query / subscription / shard /
//!   cardinality / `SHOW STATS`-like statements, `EXPLAIN`, `KILL QUERY`, `FUTURE LIMIT` and
//!   `PAST LIMIT`, `ORDER BY` in `SHOW` statements, `SHOW MEASUREMENTS ON db.rp` or `ON *`, and
//!   `GROUP BY time(.., '2020-01-01T..')` (a time-string offset).
//! - Unsigned integer literals above `i64::MAX` (InfluxDB reads them as unsigned).
//! - Regexes are kept as text; compiling them (and reporting a bad one) is the executor's job.
//! - `tz()` zones are not checked, and a time string without a zone is UTC even under `tz()`
//!   (InfluxDB reads it in that zone).
//!
//! # Deliberate differences from InfluxDB 1.x
//! - A time comparison under `OR` is an error (`cannot use OR with time conditions`); InfluxDB
//!   1.4+ silently intersects such bounds.
//! - Every error carries a position, including those InfluxDB reports without one (`fill`,
//!   `tz`, `GROUP BY` and `ORDER BY` checks, `database not supported`, ...); lexical errors
//!   name themselves (`unterminated string`, `bad escape: \q`) where InfluxDB reports the
//!   token as found.
//! - `GROUP BY time(0s)` and negative intervals are errors; `fill(NULL)` and friends are
//!   accepted in any case; whitespace before a `(` or `::` ends an identifier as in InfluxDB,
//!   but a comment is always whitespace (InfluxDB reads `/*` as a regex where one may start).
//! - Numbers over ±2⁶³ in time arithmetic and durations overflowing `i64` are errors instead
//!   of wrapping.
//! - Unary `+x` is `x` (InfluxDB makes it `1 * x`); `DISTINCT x` prints as `distinct(x)`.
//!
//! # Layout
//! `lexer` (tokens from a byte offset) → `parser` (recursive descent, one function per clause)
//! → `ast` (the tree and its invariants) → `display` (printing); `condition` reads time bounds,
//! with `timestamp` (RFC 3339, civil-day arithmetic) and `duration`; `error` words the errors.
//! The module depends on nothing else in the crate and on no other crate.

mod ast;
mod condition;
mod display;
mod duration;
mod error;
mod lexer;
mod parser;
mod timestamp;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use ast::{
    BinaryOp, Dimension, Expr, Field, Fill, MeasurementName, Query, SelectStatement, Source,
    Statement, TagKeyMatch, TimeOffset, VarType,
};
pub use condition::{condition_without_time, time_range, ConditionError};
pub use display::{quote_ident, quote_string};
pub use duration::{format_duration, parse_duration};
pub use error::{ParseError, ParseErrorKind};
pub use parser::{parse_expr, parse_query, parse_statement};
pub use timestamp::{
    format_rfc3339, is_time_string, parse_time_string, write_rfc3339, MAX_TIME_LITERAL,
    MIN_TIME_LITERAL,
};
