//! The data model, shared by every layer: field values and types, timestamp precision.
//!
//! Invariants:
//! - A timestamp is an `i64` count of nanoseconds since the Unix epoch, whatever precision it was
//!   written in; [`Precision::to_nanos`] is the only conversion and it refuses overflow.
//! - A field's [`FieldType`] is fixed per database, measurement and field key (enforced by the
//!   schema in `catalog`, not here).

use std::borrow::Cow;
use std::fmt;

/// One field value. Strings borrow from the input where they can (`FieldValue<'a>` from the
/// parser), and own their text once stored (`FieldValue<'static>`).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(Cow<'a, str>),
    Boolean(bool),
}

/// A field value that owns its string.
pub type OwnedFieldValue = FieldValue<'static>;

impl FieldValue<'_> {
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::String(_) => FieldType::String,
            FieldValue::Boolean(_) => FieldType::Boolean,
        }
    }

    /// Copies a borrowed string so the value can outlive its input.
    pub fn into_owned(self) -> OwnedFieldValue {
        match self {
            FieldValue::Float(v) => FieldValue::Float(v),
            FieldValue::Integer(v) => FieldValue::Integer(v),
            FieldValue::Unsigned(v) => FieldValue::Unsigned(v),
            FieldValue::String(s) => FieldValue::String(Cow::Owned(s.into_owned())),
            FieldValue::Boolean(v) => FieldValue::Boolean(v),
        }
    }

    /// Bit-exact equality: floats compare by their bits, so NaN equals the same NaN and
    /// `-0.0 != 0.0`. This is the equality storage round trips must keep.
    pub fn bit_eq(&self, other: &FieldValue<'_>) -> bool {
        match (self, other) {
            (FieldValue::Float(a), FieldValue::Float(b)) => a.to_bits() == b.to_bits(),
            _ => self == other,
        }
    }
}

impl From<f64> for FieldValue<'static> {
    fn from(v: f64) -> Self {
        FieldValue::Float(v)
    }
}
impl From<i64> for FieldValue<'static> {
    fn from(v: i64) -> Self {
        FieldValue::Integer(v)
    }
}
impl From<u64> for FieldValue<'static> {
    fn from(v: u64) -> Self {
        FieldValue::Unsigned(v)
    }
}
impl From<bool> for FieldValue<'static> {
    fn from(v: bool) -> Self {
        FieldValue::Boolean(v)
    }
}
impl From<String> for FieldValue<'static> {
    fn from(v: String) -> Self {
        FieldValue::String(Cow::Owned(v))
    }
}
impl From<&str> for FieldValue<'static> {
    fn from(v: &str) -> Self {
        FieldValue::String(Cow::Owned(v.to_owned()))
    }
}

/// The type of a field, fixed once the field is first written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FieldType {
    Float = 1,
    Integer = 2,
    Unsigned = 3,
    String = 4,
    Boolean = 5,
}

impl FieldType {
    /// The type's byte in on-disk formats (see FORMAT.md).
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<FieldType> {
        Some(match code {
            1 => FieldType::Float,
            2 => FieldType::Integer,
            3 => FieldType::Unsigned,
            4 => FieldType::String,
            5 => FieldType::Boolean,
            _ => return None,
        })
    }

    /// The name InfluxDB uses for the type (`SHOW FIELD KEYS`, error messages).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Unsigned => "unsigned",
            FieldType::String => "string",
            FieldType::Boolean => "boolean",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The unit of timestamps in a write request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
}

impl Precision {
    /// Accepts InfluxDB 2.x spellings (`ns`, `us`, `ms`, `s`) and 1.x ones (`n`, `u`, `ms`,
    /// `s`, `m`, `h`). `m` is minutes, as in InfluxDB 1.x.
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "ns" | "n" => Precision::Nanoseconds,
            "us" | "u" | "µ" | "µs" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => return None,
        })
    }

    /// Nanoseconds in one unit of this precision.
    pub fn nanos_per_unit(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
            Precision::Minutes => 60_000_000_000,
            Precision::Hours => 3_600_000_000_000,
        }
    }

    /// Converts a timestamp in this precision to nanoseconds; `None` on overflow.
    pub fn to_nanos(self, t: i64) -> Option<i64> {
        t.checked_mul(self.nanos_per_unit())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            Precision::Microseconds => "us",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
            Precision::Minutes => "m",
            Precision::Hours => "h",
        }
    }
}
