//! Query execution: InfluxQL statements (`statement` dispatches to `select` and `meta`),
//! windowed aggregation pushed down into the segments' block statistics (`exec`) with
//! InfluxDB's window alignment (`window`) and typed aggregates (`aggregate`), per-row
//! expression evaluation (`eval`), results handed out series by series in chunks with the
//! statement's paging (`emit`), and the JSON and CSV result shapes (`output`).

pub mod aggregate;
mod builder;
pub mod emit;
mod eval;
pub mod exec;
pub mod limits;
mod meta;
pub mod output;
mod select;
pub mod statement;
pub mod window;

pub use aggregate::Aggregate;
pub use builder::Select;
pub use emit::{Collector, QueryEvent};
pub use exec::{AggregateQuery, AggregateSeries, ExecStats};
pub use limits::{QueryLimits, SmallQuery};
pub use statement::{QueryError, ResultSeries};
