//! The InfluxDB 1.x `/query` JSON response, as serde types.
//!
//! ```json
//! {"results": [{"statement_id": 0,
//!               "series": [{"name": "air_quality", "tags": {"district": "haidian"},
//!                           "columns": ["time", "mean"], "values": [[1732406400000000000, 37.5]]}]},
//!              {"statement_id": 1, "error": "measurement not found"}]}
//! ```
//! Values stay `serde_json::Value`: a column holds numbers, strings, booleans or nulls, and the
//! time column is an integer (with `epoch`) or an RFC 3339 string (without).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The whole answer to one `/query` request: one result per statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    #[serde(default)]
    pub results: Vec<StatementResult>,
    /// An error for the request as a whole (most servers answer those with HTTP 400 instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of one statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementResult {
    #[serde(default)]
    pub statement_id: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<Series>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Set when the statement failed; its `series` are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// More chunks of this statement follow (chunked responses only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// One series of a result: rows of `columns`, for one measurement and tag set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    /// The GROUP BY tags of this series (absent without GROUP BY).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub values: Vec<Vec<Value>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// An informational message attached to a statement's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub level: String,
    pub text: String,
}

impl QueryResponse {
    /// `Err` with the first error in the response (request-level, then per statement), so a
    /// caller can write `client.query(…)?.check()?`.
    pub fn check(self) -> Result<QueryResponse> {
        if let Some(message) = &self.error {
            return Err(Error::Query {
                message: message.clone(),
            });
        }
        if let Some(r) = self.results.iter().find(|r| r.error.is_some()) {
            return Err(Error::Statement {
                statement_id: r.statement_id,
                message: r.error.clone().unwrap_or_default(),
            });
        }
        Ok(self)
    }

    /// Every series of every statement, in order.
    pub fn series(&self) -> impl Iterator<Item = &Series> {
        self.results.iter().flat_map(|r| r.series.iter())
    }
}

impl Series {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_influxdb_1x_json_with_errors_tags_and_nulls() {
        let doc = r#"{"results":[
            {"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},
              "columns":["time","v","s"],"values":[[1,2.5,null],[2,3,"x"]]}]},
            {"statement_id":1,"error":"measurement not found"},
            {"statement_id":2}]}"#;
        let r: QueryResponse = serde_json::from_str(doc).unwrap();
        assert_eq!(r.results.len(), 3);
        let s = &r.results[0].series[0];
        assert_eq!(s.name, "cpu");
        assert_eq!(s.tags["host"], "a");
        assert_eq!(s.column("v"), Some(1));
        assert_eq!(s.values[0][1], serde_json::json!(2.5));
        assert!(s.values[0][2].is_null());
        assert!(r.results[2].series.is_empty());
        match r.clone().check() {
            Err(Error::Statement {
                statement_id: 1,
                message,
            }) => assert_eq!(message, "measurement not found"),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.series().count(), 1);
    }

    #[test]
    fn round_trips_through_json() {
        let r = QueryResponse {
            results: vec![StatementResult {
                statement_id: 0,
                series: vec![Series {
                    name: "m".into(),
                    columns: vec!["time".into(), "f".into()],
                    values: vec![vec![1.into(), 2.into()]],
                    ..Series::default()
                }],
                ..StatementResult::default()
            }],
            error: None,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","f"],"values":[[1,2]]}]}]}"#
        );
        assert_eq!(serde_json::from_str::<QueryResponse>(&text).unwrap(), r);
    }
}
