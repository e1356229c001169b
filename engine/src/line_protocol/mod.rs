//! InfluxDB line protocol: a fast, borrowing parser with precise errors, and canonical printing.
//!
//! ```text
//! measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
//! ```
//!
//! [`LineParser`] iterates over a request body (`&[u8]`) and yields one `Result` per point: a
//! [`Line`] for each good line and a [`LineError`] (line, column, excerpt, [`LineErrorKind`])
//! for each bad one, so callers can write the good points and report every bad line.
//!
//! # Invariants of a parsed [`Line`]
//! - **Borrowing**: the measurement, keys, tag values and string values borrow from the body
//!   (`Cow::Borrowed`) unless they held an escape sequence, in which case they are unescaped
//!   copies. Nothing is shared between lines or parsers.
//! - **Tags are sorted** by key, bytewise, and their keys are unique (a duplicate is an error).
//!   Tag keys and values are non-empty; no tag key is `time`.
//! - **Fields** are in input order, at least one, keys non-empty and unique: as in InfluxDB
//!   1.x, a repeated field key keeps its last value (at its first position). A field named
//!   `time` is an error (InfluxDB 1.x drops it silently; we refuse to lose data without a
//!   word). Floats are finite.
//! - **Timestamps** are nanoseconds: the written value times the precision, overflow refused.
//! - All text is valid UTF-8; a line holding invalid UTF-8 is reported as a bad line.
//!
//! # Syntax accepted (InfluxDB 1.x's `models/points.go`, with the differences noted)
//! - Lines end at `\n` or `\r\n`; the last line needs no newline. Leading spaces and tabs are
//!   skipped; blank lines and lines whose first non-blank byte is `#` are ignored. A quoted
//!   string value may hold raw newlines; line numbers still count them.
//! - Sections are separated by a space followed by any spaces and tabs; blanks may trail.
//! - In the measurement, tag keys, tag values and field keys, `\,` `\ ` `\=` `\\` stand for
//!   `,` ` ` `=` `\`; a backslash before any other byte is a literal backslash. An unescaped
//!   `=` is literal in a measurement, separates key from value in tags and fields, and is an
//!   error inside a tag value.
//! - Field values: floats (`1`, `-1.5`, `1.`, `.5`, `1e10`, `1E-5`, `-1.5e+10`; no `+`
//!   sign, no NaN or infinity), integers `123i` (`i64`), unsigned `123u` (`u64`, no minus
//!   sign), booleans `t T true True TRUE f F false False FALSE`, strings `"..."` where `\"`
//!   and `\\` are escapes and other backslashes are literal.
//! - The timestamp is an optionally `-`-signed decimal integer.
//!
//! # Canonical form
//! `Display` for [`Line`] and [`series_key`] print the canonical form: the measurement, the
//! tags sorted by key, the fields in order, the timestamp in nanoseconds if any, single
//! separators, no trailing newline; escaping is minimal (see [`escape`] for the
//! exact rules) and floats use their shortest round-trip text. Parsing the canonical form of a
//! [`Line`] gives the same `Line` back (floats bit for bit), for every `Line` the parser can
//! produce.

mod error;
pub mod escape;
mod parse;
mod scan;
mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

pub use error::{LineError, LineErrorKind};
pub use escape::{
    parse_series_key, series_key, write_field_key, write_field_value, write_measurement,
    write_string_value, write_tag_component,
};
pub use parse::LineParser;

use crate::model::FieldValue;

/// One point of line protocol. See the [module documentation](self) for the invariants a
/// parsed `Line` keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub measurement: Cow<'a, str>,
    /// Sorted by key (bytewise), keys unique.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// In input order.
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    /// Nanoseconds since the Unix epoch, if the line has a timestamp.
    pub timestamp: Option<i64>,
    /// 1-based line where the point starts.
    pub line_number: usize,
}

impl Line<'_> {
    /// A line with no measurement, tags or fields: a buffer for [`LineParser::next_into`].
    pub fn empty() -> Self {
        Line {
            measurement: Cow::Borrowed(""),
            tags: Vec::new(),
            fields: Vec::new(),
            timestamp: None,
            line_number: 0,
        }
    }

    /// This point's series key (see [`series_key`]).
    pub fn series_key(&self) -> String {
        series_key(&self.measurement, &self.tags)
    }

    /// Copies everything borrowed, so the line can outlive the body it was parsed from.
    pub fn into_owned(self) -> Line<'static> {
        let own = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
        Line {
            measurement: own(self.measurement),
            tags: self
                .tags
                .into_iter()
                .map(|(k, v)| (own(k), own(v)))
                .collect(),
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (own(k), v.into_owned()))
                .collect(),
            timestamp: self.timestamp,
            line_number: self.line_number,
        }
    }
}

/// Canonical line protocol; tags are printed sorted even if `tags` is not.
impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape::fmt_measurement(f, &self.measurement)?;
        let write_tag = |f: &mut fmt::Formatter<'_>, (k, v): &(Cow<'_, str>, Cow<'_, str>)| {
            f.write_str(",")?;
            escape::fmt_key(f, k)?;
            f.write_str("=")?;
            escape::fmt_key(f, v)
        };
        if self.tags.windows(2).all(|pair| pair[0].0 <= pair[1].0) {
            for tag in &self.tags {
                write_tag(f, tag)?;
            }
        } else {
            let mut sorted: Vec<_> = self.tags.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            for tag in sorted {
                write_tag(f, tag)?;
            }
        }
        for (i, (key, value)) in self.fields.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { "," })?;
            escape::fmt_key(f, key)?;
            f.write_str("=")?;
            escape::fmt_field_value(f, value)?;
        }
        if let Some(t) = self.timestamp {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}
