//! Parse errors: where the mistake is (line, column, excerpt) and what it is.

use std::fmt;

use crate::model::Precision;

/// At most this many bytes of the offending line are shown in [`LineError::excerpt`].
const EXCERPT_BYTES: usize = 60;
/// At most this many bytes of bad input are kept in an error kind's `text`.
const TEXT_BYTES: usize = 64;

/// One line that could not be parsed.
///
/// `line` and `column` locate the offending byte itself: for a point whose string value spans
/// several lines, `line` may be later than the line the point starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number of the offending byte.
    pub line: usize,
    /// 1-based byte column of the offending byte within its line.
    pub column: usize,
    /// The offending line, trimmed to about 60 bytes around the column (`…` marks a cut).
    pub excerpt: String,
    pub kind: LineErrorKind,
}

/// What is wrong with a line. Keys are unescaped; `text` is the offending input as written,
/// cut to 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineErrorKind {
    /// The line is not valid UTF-8; the column is the first invalid byte.
    InvalidUtf8,
    /// The line starts with a comma.
    MissingMeasurement,
    /// The line ends before any field (`cpu`, `cpu,host=a`, `cpu `).
    MissingFields,
    /// A comma in the tag set is not followed by a tag key (`cpu,=a`, `cpu, f=1`).
    MissingTagKey,
    /// A tag key is not followed by `=` (`cpu,host f=1`).
    TagKeyWithoutValue { key: String },
    /// A tag's value is empty (`cpu,host= f=1`).
    EmptyTagValue { key: String },
    /// A tag value contains an unescaped `=` (`cpu,host=a=b f=1`).
    UnescapedEqualsInTagValue { key: String },
    /// Two tags have the same key.
    DuplicateTagKey { key: String },
    /// A tag key is `time`, which InfluxDB 1.x refuses.
    TimeTagKey,
    /// A field key is empty (`cpu =1`, `cpu f=1,=2`, `cpu f=1,`).
    MissingFieldKey,
    /// A field key is not followed by `=` (`cpu temp`, `cpu f=1,g 2`).
    FieldKeyWithoutValue { key: String },
    /// `=` is followed by nothing (`cpu temp=`, `cpu temp=,g=1`).
    MissingFieldValue { key: String },
    /// Not a float in line protocol's grammar (`1.2.3`, `1e`, `+1`, `0x10`).
    InvalidFloat { key: String, text: String },
    /// A well-formed float too large for `f64` (`1e400`).
    FloatOutOfRange { key: String, text: String },
    /// `NaN`, `inf`, `infinity` in any case or sign: InfluxDB stores finite floats only.
    NonFiniteFloat { key: String, text: String },
    /// Not an integer (`12.5i`, `1e3i`, `--1i`).
    InvalidInteger { key: String, text: String },
    /// An integer outside the `i64` range.
    IntegerOutOfRange { key: String, text: String },
    /// Not an unsigned integer (`1.5u`, `u`).
    InvalidUnsigned { key: String, text: String },
    /// An unsigned integer above `u64::MAX`.
    UnsignedOutOfRange { key: String, text: String },
    /// An unsigned integer written with a minus sign (`-1u`, `-0u`).
    NegativeUnsigned { key: String, text: String },
    /// Starts like a boolean but is not one of `t T true True TRUE f F false False FALSE`.
    InvalidBoolean { key: String, text: String },
    /// A value that starts like no type at all (`abc`; strings must be double-quoted).
    InvalidFieldValue { key: String, text: String },
    /// A string value whose closing quote is missing; the column is the opening quote.
    UnterminatedString { key: String },
    /// Something other than `,`, a space or the end of the line follows a string's closing quote.
    CharactersAfterString { key: String, text: String },
    /// Every field is named `time`: InfluxDB 1.x drops such fields, leaving no field.
    TimeFieldKey,
    /// The timestamp is not an optionally signed decimal integer.
    InvalidTimestamp { text: String },
    /// The timestamp does not fit in an `i64`.
    TimestampOutOfRange { text: String },
    /// The timestamp fits in an `i64` in its precision but not once converted to nanoseconds.
    TimestampOverflow { value: i64, precision: Precision },
    /// Something other than blanks follows the timestamp.
    TrailingCharacters { text: String },
    /// A `\r` that is not part of a `\r\n` line ending, where a line could end.
    LoneCarriageReturn,
}

impl fmt::Display for LineErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LineErrorKind::*;
        match self {
            InvalidUtf8 => f.write_str("invalid UTF-8"),
            MissingMeasurement => f.write_str("missing measurement"),
            MissingFields => f.write_str("missing fields (a point needs at least one field)"),
            MissingTagKey => f.write_str("missing tag key"),
            TagKeyWithoutValue { key } => write!(f, "tag key {key:?} is not followed by '='"),
            EmptyTagValue { key } => write!(f, "empty value for tag {key:?}"),
            UnescapedEqualsInTagValue { key } => {
                write!(f, "unescaped '=' in the value of tag {key:?} (write \\=)")
            }
            DuplicateTagKey { key } => write!(f, "duplicate tag key {key:?}"),
            TimeTagKey => f.write_str("tag key \"time\" is not allowed"),
            MissingFieldKey => f.write_str("missing field key"),
            FieldKeyWithoutValue { key } => write!(f, "field key {key:?} is not followed by '='"),
            MissingFieldValue { key } => write!(f, "missing value for field {key:?}"),
            InvalidFloat { key, text } => {
                write!(f, "invalid float value {text:?} for field {key:?}")
            }
            FloatOutOfRange { key, text } => {
                write!(f, "float value {text:?} for field {key:?} is out of range")
            }
            NonFiniteFloat { key, text } => write!(
                f,
                "non-finite float value {text:?} for field {key:?} is not supported"
            ),
            InvalidInteger { key, text } => {
                write!(f, "invalid integer value {text:?} for field {key:?}")
            }
            IntegerOutOfRange { key, text } => write!(
                f,
                "integer value {text:?} for field {key:?} is out of the i64 range"
            ),
            InvalidUnsigned { key, text } => {
                write!(f, "invalid unsigned value {text:?} for field {key:?}")
            }
            UnsignedOutOfRange { key, text } => write!(
                f,
                "unsigned value {text:?} for field {key:?} is out of the u64 range"
            ),
            NegativeUnsigned { key, text } => {
                write!(f, "negative unsigned value {text:?} for field {key:?}")
            }
            InvalidBoolean { key, text } => {
                write!(f, "invalid boolean value {text:?} for field {key:?}")
            }
            InvalidFieldValue { key, text } => write!(
                f,
                "invalid value {text:?} for field {key:?} (strings must be double-quoted)"
            ),
            UnterminatedString { key } => {
                write!(f, "unterminated string value for field {key:?}")
            }
            CharactersAfterString { key, text } => write!(
                f,
                "unexpected {text:?} after the string value of field {key:?}"
            ),
            TimeFieldKey => f.write_str("field key \"time\" is reserved for the timestamp"),
            InvalidTimestamp { text } => write!(f, "invalid timestamp {text:?}"),
            TimestampOutOfRange { text } => {
                write!(
                    f,
                    "timestamp {text:?} does not fit in a signed 64-bit integer"
                )
            }
            TimestampOverflow { value, precision } => write!(
                f,
                "timestamp {value} in precision {} overflows i64 nanoseconds",
                precision.as_str()
            ),
            TrailingCharacters { text } => {
                write!(f, "unexpected {text:?} after the timestamp")
            }
            LoneCarriageReturn => f.write_str("carriage return not followed by a newline"),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {} (near: `{}`)",
            self.line, self.column, self.kind, self.excerpt
        )
    }
}

impl std::error::Error for LineError {}

/// Builds the error for a mistake at byte `pos` of a point that starts at byte `line_start`
/// (before leading blanks) on line `line_no`.
pub(super) fn locate(
    body: &[u8],
    line_start: usize,
    line_no: usize,
    pos: usize,
    kind: LineErrorKind,
) -> LineError {
    let pos = pos.clamp(line_start.min(body.len()), body.len());
    let before = body.get(line_start..pos).unwrap_or_default();
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    let physical_start = match before.iter().rposition(|&b| b == b'\n') {
        Some(k) => line_start + k + 1,
        None => line_start,
    };
    let physical_end = super::scan::next_newline(body, pos);
    let mut text = body.get(physical_start..physical_end).unwrap_or_default();
    if let Some(stripped) = text.strip_suffix(b"\r") {
        text = stripped;
    }
    LineError {
        line: line_no + newlines,
        column: pos - physical_start + 1,
        excerpt: excerpt(text, pos - physical_start),
        kind,
    }
}

/// Up to [`EXCERPT_BYTES`] bytes of `line` around byte `at`, cut at character boundaries.
fn excerpt(line: &[u8], at: usize) -> String {
    if line.len() <= EXCERPT_BYTES {
        return String::from_utf8_lossy(line).into_owned();
    }
    let mut end = (at.saturating_sub(EXCERPT_BYTES / 2) + EXCERPT_BYTES).min(line.len());
    let mut start = end.saturating_sub(EXCERPT_BYTES);
    while start > 0 && line.get(start).is_some_and(|&b| is_continuation(b)) {
        start -= 1;
    }
    while end < line.len() && line.get(end).is_some_and(|&b| is_continuation(b)) {
        end += 1;
    }
    let mut out = String::with_capacity(EXCERPT_BYTES + 8);
    if start > 0 {
        out.push('…');
    }
    out.push_str(&String::from_utf8_lossy(
        line.get(start..end).unwrap_or_default(),
    ));
    if end < line.len() {
        out.push('…');
    }
    out
}

fn is_continuation(b: u8) -> bool {
    b & 0b1100_0000 == 0b1000_0000
}

/// The offending input for an error kind: lossy UTF-8, cut to [`TEXT_BYTES`] bytes.
pub(super) fn clip(bytes: &[u8]) -> String {
    if bytes.len() <= TEXT_BYTES {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut end = TEXT_BYTES;
    while end > 0 && bytes.get(end).is_some_and(|&b| is_continuation(b)) {
        end -= 1;
    }
    let mut out = String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned();
    out.push('…');
    out
}
