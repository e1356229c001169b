//! Query execution. For now: windowed aggregation of one field with `GROUP BY` tags, pushed
//! down into the segments' block statistics (`exec`), with InfluxDB's window alignment
//! (`window`) and typed aggregates (`aggregate`). InfluxQL parsing and the full statement
//! executor come with issue 4.

pub mod aggregate;
pub mod exec;
pub mod output;
pub mod statement;
pub mod window;

pub use aggregate::Aggregate;
pub use exec::{AggregateQuery, AggregateSeries, ExecStats};
pub use statement::{QueryError, ResultSeries};
