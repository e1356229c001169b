//! Points for the embedded API: what a gateway program builds instead of line protocol text.

use std::borrow::Cow;

use crate::line_protocol::Line;
use crate::model::{FieldValue, OwnedFieldValue};

/// One point: a measurement, tags, at least one field, and an optional timestamp in
/// nanoseconds (the write's receive time if absent).
///
/// ```
/// use ganzhi_engine::Point;
/// let p = Point::new("air_quality")
///     .tag("district", "haidian")
///     .tag("station", "aq-0042")
///     .field("pm25", 37.0)
///     .field("status", "ok")
///     .timestamp(1_732_406_400_000_000_000);
/// assert_eq!(p.fields.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, OwnedFieldValue)>,
    pub timestamp: Option<i64>,
}

impl Point {
    pub fn new(measurement: impl Into<String>) -> Self {
        Point {
            measurement: measurement.into(),
            tags: Vec::new(),
            fields: Vec::new(),
            timestamp: None,
        }
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn field(mut self, key: impl Into<String>, value: impl Into<OwnedFieldValue>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    pub fn timestamp(mut self, nanos: i64) -> Self {
        self.timestamp = Some(nanos);
        self
    }

    /// Checks the point against the rules line protocol enforces by its syntax, and returns it
    /// as a [`Line`] (tags sorted) so both write paths share one resolver.
    pub(crate) fn to_line(&self, line_number: usize) -> Result<Line<'_>, String> {
        check_name("measurement", &self.measurement)?;
        let mut tags: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(self.tags.len());
        for (k, v) in &self.tags {
            check_name("tag key", k)?;
            check_name("tag value", v)?;
            if k == "time" {
                return Err("tag key \"time\" is reserved".into());
            }
            tags.push((Cow::Borrowed(k), Cow::Borrowed(v)));
        }
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = tags.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("duplicate tag key {:?}", w[0].0));
        }
        if self.fields.is_empty() {
            return Err("a point needs at least one field".into());
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, (k, v)) in self.fields.iter().enumerate() {
            check_name("field key", k)?;
            if k == "time" {
                return Err("field key \"time\" is reserved".into());
            }
            if self.fields[..i].iter().any(|(prev, _)| prev == k) {
                return Err(format!("duplicate field key {k:?}"));
            }
            let v = match v {
                FieldValue::String(s) => FieldValue::String(Cow::Borrowed(s.as_ref())),
                FieldValue::Float(x) => FieldValue::Float(*x),
                FieldValue::Integer(x) => FieldValue::Integer(*x),
                FieldValue::Unsigned(x) => FieldValue::Unsigned(*x),
                FieldValue::Boolean(x) => FieldValue::Boolean(*x),
            };
            fields.push((Cow::Borrowed(k.as_str()), v));
        }
        Ok(Line {
            measurement: Cow::Borrowed(&self.measurement),
            tags,
            fields,
            timestamp: self.timestamp,
            line_number,
        })
    }
}

/// Names must be printable as line protocol: non-empty and without line breaks.
fn check_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("empty {what}"));
    }
    if s.contains(['\n', '\r']) {
        return Err(format!("{what} {s:?} contains a line break"));
    }
    Ok(())
}
