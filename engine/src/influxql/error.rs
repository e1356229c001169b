//! Parse errors: where (byte offset, line, column) and what, worded as InfluxDB 1.x words them.

use std::fmt;

use super::ast::BinaryOp;

/// A query that could not be parsed.
///
/// `Display` prints InfluxDB's text, e.g. `found FROM, expected identifier at line 1, char 8`;
/// InfluxDB's HTTP API prefixes it with `error parsing query: `, which is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending token in the query (the query's length at its end).
    pub offset: usize,
    /// 1-based line. `\n`, `\r\n` and a lone `\r` each end a line.
    pub line: usize,
    /// 1-based column in characters. Where InfluxDB's scanner miscounts, this column follows
    /// it so that messages match InfluxDB's: at the end of the input it counts one column
    /// further when the query ends in a word or a blank (or the parser was looking for a regex
    /// there), and it places an unexpected `'string'` one column left of its quote.
    pub column: usize,
    pub kind: ParseErrorKind,
}

/// What is wrong. The `Display` texts are InfluxDB's where InfluxDB has one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// `found X, expected A, B`: `found` is the token as InfluxDB names it (keywords in
    /// uppercase, literals as written, `EOF`).
    Unexpected {
        found: String,
        expected: &'static [&'static str],
    },
    /// A `'` string without its closing quote on the same line.
    UnterminatedString,
    /// A `"` identifier without its closing quote on the same line.
    UnterminatedIdentifier,
    /// A `/` regex without its closing `/` on the same line.
    UnterminatedRegex,
    /// `/*` without `*/`.
    UnterminatedComment,
    /// A backslash escape other than `\n`, `\\`, `\"`, `\'` in a string or identifier.
    BadEscape(String),
    /// Not a duration (`5y`, `1n`, `1h2`).
    InvalidDuration,
    /// A duration beyond `i64` nanoseconds; holds the offending `<n><unit>`.
    DurationOverflow(String),
    /// A number too large for an `f64`.
    InvalidNumber,
    /// An integer too large for an `i64`.
    InvalidInteger,
    /// `-N` below `i64::MIN`.
    IntegerUnderflow(String),
    /// An integer outside the range a clause allows (`REPLICATION 0`).
    ValueOutOfRange {
        value: u64,
        min: u64,
        max: u64,
    },
    /// A comparison or `AND`/`OR` in the `SELECT` list.
    InvalidSelectOperator(BinaryOp),
    FillNotCall,
    FillArity,
    FillValue,
    TzNotCall,
    TzArity,
    TzValue,
    OrderByNotTime,
    /// `GROUP BY time` without parentheses.
    TimeDimensionWithoutCall,
    TimeDimensionArity,
    TimeDimensionNotDuration,
    /// `GROUP BY time(0s)` or a negative interval (InfluxDB accepts and ignores them).
    TimeDimensionNotPositive,
    TimeDimensionOffset,
    TimeDimensionOffsetCall,
    TimeDimensionOffsetNowArgs,
    MultipleTimeDimensions,
    DimensionCall,
    InvalidDimension,
    /// `DELETE`/`DROP SERIES` with `db.` in `FROM`.
    DatabaseNotSupported,
    /// `DROP SERIES` with `rp.` in `FROM`.
    RetentionPolicyNotSupported,
    /// More than `db.rp.name`.
    TooManySegments(String),
    /// `$name` (bound parameters are not supported, so every one is missing).
    MissingParameter(String),
    EmptyParameter,
    /// Parentheses and calls nested deeper than 100, or an expression deeper than 1000.
    NestedTooDeeply,
    /// Valid InfluxQL that ganzhi does not implement (`GRANT`, `SELECT INTO`, subqueries...).
    Unsupported(&'static str),
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match self {
            Unexpected { found, expected } => {
                write!(f, "found {found}, expected {}", expected.join(", "))
            }
            UnterminatedString => f.write_str("unterminated string"),
            UnterminatedIdentifier => f.write_str("unterminated quoted identifier"),
            UnterminatedRegex => f.write_str("unterminated regex"),
            UnterminatedComment => f.write_str("unterminated comment"),
            BadEscape(text) => write!(f, "bad escape: {text}"),
            InvalidDuration => f.write_str("invalid duration"),
            DurationOverflow(text) => write!(
                f,
                "overflowed duration {text}: choose a smaller duration or INF"
            ),
            InvalidNumber => f.write_str("unable to parse number"),
            InvalidInteger => f.write_str("unable to parse integer"),
            IntegerUnderflow(text) => write!(f, "constant {text} underflows int64"),
            ValueOutOfRange { value, min, max } => {
                write!(f, "invalid value {value}: must be {min} <= n <= {max}")
            }
            InvalidSelectOperator(op) => write!(
                f,
                "invalid operator {} in SELECT clause; operator is intended for WHERE clause",
                op.as_str()
            ),
            FillNotCall => f.write_str("fill must be a function call"),
            FillArity => {
                f.write_str("fill requires an argument, e.g.: 0, null, none, previous, linear")
            }
            FillValue => f.write_str("expected number argument in fill()"),
            TzNotCall => f.write_str("tz must be a function call"),
            TzArity => f.write_str("tz requires exactly one argument"),
            TzValue => f.write_str("expected string argument in tz()"),
            OrderByNotTime => f.write_str("only ORDER BY time supported at this time"),
            TimeDimensionWithoutCall => {
                f.write_str("time() is a function and expects at least one argument")
            }
            TimeDimensionArity => f.write_str("time dimension expected 1 or 2 arguments"),
            TimeDimensionNotDuration => f.write_str("time dimension must have duration argument"),
            TimeDimensionNotPositive => f.write_str("time dimension interval must be positive"),
            TimeDimensionOffset => f.write_str("time dimension offset must be duration or now()"),
            TimeDimensionOffsetCall => f.write_str("time dimension offset function must be now()"),
            TimeDimensionOffsetNowArgs => {
                f.write_str("time dimension offset now() function requires no arguments")
            }
            MultipleTimeDimensions => f.write_str("multiple time dimensions not allowed"),
            DimensionCall => f.write_str("only time() calls allowed in dimensions"),
            InvalidDimension => f.write_str("only time and tag dimensions allowed"),
            DatabaseNotSupported => f.write_str("database not supported"),
            RetentionPolicyNotSupported => f.write_str("retention policy not supported"),
            TooManySegments(text) => write!(f, "too many segments in {text}"),
            MissingParameter(name) => write!(f, "missing parameter: {name}"),
            EmptyParameter => f.write_str("empty bound parameter"),
            NestedTooDeeply => f.write_str("expression nested too deeply"),
            Unsupported(what) => write!(f, "{what} is not supported"),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // InfluxDB puts the position in the middle of this one.
            ParseErrorKind::InvalidSelectOperator(op) => write!(
                f,
                "invalid operator {} in SELECT clause at line {}, char {}; \
                 operator is intended for WHERE clause",
                op.as_str(),
                self.line,
                self.column
            ),
            kind => write!(f, "{kind} at line {}, char {}", self.line, self.column),
        }
    }
}

impl std::error::Error for ParseError {}

/// 1-based line and column (in characters) of byte `offset` in `src`.
pub(crate) fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset).unwrap_or(src);
    let (mut line, mut column) = (1, 1);
    let mut chars = before.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => (line, column) = (line + 1, 1),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                (line, column) = (line + 1, 1);
            }
            _ => column += 1,
        }
    }
    (line, column)
}
