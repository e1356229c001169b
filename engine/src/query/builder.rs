//! Building a `SELECT` in Rust instead of text: windowed aggregations (and raw reads) for
//! programs that embed the engine. A [`Select`] is a [`SelectStatement`] under construction;
//! [`crate::Db::select`] runs it through the same executor as InfluxQL, and `Display` prints
//! it as InfluxQL (for logs, or to send the same query to a server).
//!
//! ```
//! use std::time::Duration;
//! use ganzhi_engine::query::Select;
//! let q = Select::aggregate("mean", "pm25")
//!     .from("air_quality")
//!     .where_tag("district", "haidian")
//!     .range(0, 86_400_000_000_000)
//!     .every(Duration::from_secs(300))
//!     .group_by(&["station"]);
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT mean(pm25) FROM air_quality WHERE district = 'haidian' AND time >= 0 \
//!      AND time < 86400000000000 GROUP BY time(5m), station"
//! );
//! ```

use std::fmt;
use std::time::Duration;

use crate::influxql::{
    BinaryOp, Dimension, Expr, Field, Fill, MeasurementName, SelectStatement, Source, TimeOffset,
};

/// A `SELECT` being built; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    statement: SelectStatement,
}

impl Select {
    /// `SELECT <function>(<field>)`: `count`, `sum`, `mean`, `median`, `mode`, `spread`,
    /// `stddev`, `min`, `max`, `first`, `last`, `distinct`, `integral`.
    pub fn aggregate(function: &str, field: &str) -> Select {
        Select::empty().and_aggregate(function, field)
    }

    /// `SELECT percentile(<field>, p)`.
    pub fn percentile(field: &str, p: f64) -> Select {
        let mut s = Select::empty();
        s.statement.fields.push(Field {
            expr: Expr::Call {
                name: "percentile".into(),
                args: vec![Expr::var(field), Expr::NumberLiteral(p)],
            },
            alias: None,
        });
        s
    }

    /// `SELECT <field>, …`: raw points.
    pub fn fields(fields: &[&str]) -> Select {
        let mut s = Select::empty();
        s.statement.fields = fields
            .iter()
            .map(|f| Field {
                expr: Expr::var(*f),
                alias: None,
            })
            .collect();
        s
    }

    fn empty() -> Select {
        Select {
            statement: SelectStatement::default(),
        }
    }

    /// One more aggregate column.
    pub fn and_aggregate(mut self, function: &str, field: &str) -> Select {
        self.statement.fields.push(Field {
            expr: Expr::Call {
                name: function.to_ascii_lowercase(),
                args: vec![Expr::var(field)],
            },
            alias: None,
        });
        self
    }

    /// Names the last column (`AS alias`).
    pub fn alias(mut self, alias: &str) -> Select {
        if let Some(f) = self.statement.fields.last_mut() {
            f.alias = Some(alias.to_owned());
        }
        self
    }

    /// `FROM <measurement>` (again for several).
    pub fn from(mut self, measurement: &str) -> Select {
        self.statement.sources.push(Source {
            database: None,
            retention_policy: None,
            measurement: MeasurementName::Name(measurement.to_owned()),
        });
        self
    }

    fn and_condition(mut self, c: Expr) -> Select {
        self.statement.condition = Some(match self.statement.condition.take() {
            None => c,
            Some(prev) => Expr::binary(BinaryOp::And, prev, c),
        });
        self
    }

    /// `AND <key> = '<value>'`.
    pub fn where_tag(self, key: &str, value: &str) -> Select {
        self.and_condition(Expr::binary(
            BinaryOp::Eq,
            Expr::var(key),
            Expr::StringLiteral(value.to_owned()),
        ))
    }

    /// `AND <key> =~ /<regex>/`.
    pub fn where_tag_matches(self, key: &str, regex: &str) -> Select {
        self.and_condition(Expr::binary(
            BinaryOp::EqRegex,
            Expr::var(key),
            Expr::RegexLiteral(regex.to_owned()),
        ))
    }

    /// `AND time >= start AND time < end` (nanoseconds since the epoch; end excluded).
    pub fn range(self, start: i64, end: i64) -> Select {
        self.and_condition(Expr::binary(
            BinaryOp::GtEq,
            Expr::var("time"),
            Expr::IntegerLiteral(start),
        ))
        .and_condition(Expr::binary(
            BinaryOp::Lt,
            Expr::var("time"),
            Expr::IntegerLiteral(end),
        ))
    }

    /// `GROUP BY time(<interval>)`.
    pub fn every(self, interval: Duration) -> Select {
        self.every_with_offset(interval, Duration::ZERO)
    }

    /// `GROUP BY time(<interval>, <offset>)`.
    pub fn every_with_offset(mut self, interval: Duration, offset: Duration) -> Select {
        let ns = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        self.statement
            .dimensions
            .retain(|d| !matches!(d, Dimension::Time { .. }));
        self.statement.dimensions.insert(
            0,
            Dimension::Time {
                interval_ns: ns(interval).max(1),
                offset: TimeOffset::Duration(ns(offset)),
            },
        );
        self
    }

    /// `GROUP BY <tag>, …`.
    pub fn group_by(mut self, tags: &[&str]) -> Select {
        self.statement
            .dimensions
            .extend(tags.iter().map(|t| Dimension::Tag(t.to_string())));
        self
    }

    /// `fill(…)`.
    pub fn fill(mut self, fill: Fill) -> Select {
        self.statement.fill = fill;
        self
    }

    /// `ORDER BY time DESC`.
    pub fn descending(mut self) -> Select {
        self.statement.order_desc = true;
        self
    }

    /// `LIMIT n` (rows per series).
    pub fn limit(mut self, n: u64) -> Select {
        self.statement.limit = n;
        self
    }

    /// The statement built so far.
    pub fn statement(&self) -> &SelectStatement {
        &self.statement
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::influxql::Statement::Select(self.statement.clone()).fmt(f)
    }
}
