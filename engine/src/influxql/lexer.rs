//! The scanner: one token at a time, from any byte offset of the query text.
//!
//! The parser drives it by offset (`scan(src, pos)`), which makes backtracking free and lets
//! regular expressions be scanned only where the grammar allows one (`/` is otherwise the
//! division operator), as in InfluxDB's scanner.
//!
//! Every offset returned lies on a `char` boundary of `src`; nothing here slices at any other
//! place, so no input can make the scanner panic.

use std::borrow::Cow;

use super::error::ParseErrorKind;

/// InfluxQL keywords (case-insensitive), including the word operators and boolean literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    All,
    Alter,
    Analyze,
    And,
    Any,
    As,
    Asc,
    Begin,
    By,
    Cardinality,
    Continuous,
    Create,
    Database,
    Databases,
    Default,
    Delete,
    Desc,
    Destinations,
    Diagnostics,
    Distinct,
    Drop,
    Duration,
    End,
    Every,
    Exact,
    Explain,
    False,
    Field,
    For,
    From,
    Grant,
    Grants,
    Group,
    Groups,
    In,
    Inf,
    Insert,
    Into,
    Key,
    Keys,
    Kill,
    Limit,
    Measurement,
    Measurements,
    Name,
    Offset,
    On,
    Or,
    Order,
    Password,
    Policies,
    Policy,
    Privileges,
    Queries,
    Query,
    Read,
    Replication,
    Resample,
    Retention,
    Revoke,
    Select,
    Series,
    Set,
    Shard,
    Shards,
    Show,
    Slimit,
    Soffset,
    Stats,
    Subscription,
    Subscriptions,
    Tag,
    To,
    True,
    User,
    Users,
    Values,
    Where,
    With,
    Write,
}

/// Keyword spellings, uppercase, as InfluxDB prints them in error messages.
const KEYWORDS: &[(&str, Keyword)] = &[
    ("ALL", Keyword::All),
    ("ALTER", Keyword::Alter),
    ("ANALYZE", Keyword::Analyze),
    ("AND", Keyword::And),
    ("ANY", Keyword::Any),
    ("AS", Keyword::As),
    ("ASC", Keyword::Asc),
    ("BEGIN", Keyword::Begin),
    ("BY", Keyword::By),
    ("CARDINALITY", Keyword::Cardinality),
    ("CONTINUOUS", Keyword::Continuous),
    ("CREATE", Keyword::Create),
    ("DATABASE", Keyword::Database),
    ("DATABASES", Keyword::Databases),
    ("DEFAULT", Keyword::Default),
    ("DELETE", Keyword::Delete),
    ("DESC", Keyword::Desc),
    ("DESTINATIONS", Keyword::Destinations),
    ("DIAGNOSTICS", Keyword::Diagnostics),
    ("DISTINCT", Keyword::Distinct),
    ("DROP", Keyword::Drop),
    ("DURATION", Keyword::Duration),
    ("END", Keyword::End),
    ("EVERY", Keyword::Every),
    ("EXACT", Keyword::Exact),
    ("EXPLAIN", Keyword::Explain),
    ("FALSE", Keyword::False),
    ("FIELD", Keyword::Field),
    ("FOR", Keyword::For),
    ("FROM", Keyword::From),
    ("GRANT", Keyword::Grant),
    ("GRANTS", Keyword::Grants),
    ("GROUP", Keyword::Group),
    ("GROUPS", Keyword::Groups),
    ("IN", Keyword::In),
    ("INF", Keyword::Inf),
    ("INSERT", Keyword::Insert),
    ("INTO", Keyword::Into),
    ("KEY", Keyword::Key),
    ("KEYS", Keyword::Keys),
    ("KILL", Keyword::Kill),
    ("LIMIT", Keyword::Limit),
    ("MEASUREMENT", Keyword::Measurement),
    ("MEASUREMENTS", Keyword::Measurements),
    ("NAME", Keyword::Name),
    ("OFFSET", Keyword::Offset),
    ("ON", Keyword::On),
    ("OR", Keyword::Or),
    ("ORDER", Keyword::Order),
    ("PASSWORD", Keyword::Password),
    ("POLICIES", Keyword::Policies),
    ("POLICY", Keyword::Policy),
    ("PRIVILEGES", Keyword::Privileges),
    ("QUERIES", Keyword::Queries),
    ("QUERY", Keyword::Query),
    ("READ", Keyword::Read),
    ("REPLICATION", Keyword::Replication),
    ("RESAMPLE", Keyword::Resample),
    ("RETENTION", Keyword::Retention),
    ("REVOKE", Keyword::Revoke),
    ("SELECT", Keyword::Select),
    ("SERIES", Keyword::Series),
    ("SET", Keyword::Set),
    ("SHARD", Keyword::Shard),
    ("SHARDS", Keyword::Shards),
    ("SHOW", Keyword::Show),
    ("SLIMIT", Keyword::Slimit),
    ("SOFFSET", Keyword::Soffset),
    ("STATS", Keyword::Stats),
    ("SUBSCRIPTION", Keyword::Subscription),
    ("SUBSCRIPTIONS", Keyword::Subscriptions),
    ("TAG", Keyword::Tag),
    ("TO", Keyword::To),
    ("TRUE", Keyword::True),
    ("USER", Keyword::User),
    ("USERS", Keyword::Users),
    ("VALUES", Keyword::Values),
    ("WHERE", Keyword::Where),
    ("WITH", Keyword::With),
    ("WRITE", Keyword::Write),
];

impl Keyword {
    /// The keyword a bare word spells, ignoring ASCII case.
    pub(crate) fn lookup(word: &str) -> Option<Keyword> {
        KEYWORDS
            .iter()
            .find(|(text, _)| text.eq_ignore_ascii_case(word))
            .map(|&(_, kw)| kw)
    }

    /// The uppercase spelling.
    pub(crate) fn as_str(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|&&(_, kw)| kw == self)
            .map_or("", |&(text, _)| text)
    }
}

/// One token. Text borrows from the query unless an escape sequence forced a copy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token<'a> {
    Eof,
    /// A run of spaces, tabs, `\n` and `\r`.
    Blank,
    /// `-- ...` up to (not including) the end of the line.
    LineComment,
    /// `/* ... */`.
    BlockComment,
    /// A bare identifier that is not a keyword, or a double-quoted one (unescaped).
    Ident {
        text: Cow<'a, str>,
        quoted: bool,
    },
    Keyword(Keyword),
    /// `digits.digits`, `.digits` or `digits.`; the text never ends with the dot.
    Number(&'a str),
    Integer(&'a str),
    /// Digits followed by letters (and `µ`), then any letters and digits: `10m`, `1h30m`, `5y`.
    Duration(&'a str),
    /// A single-quoted string, unescaped.
    Str(Cow<'a, str>),
    /// `$name`: a bound parameter (unsupported, but recognised for InfluxDB's messages).
    BoundParam(&'a str),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    NotEq,
    EqRegex,
    NotEqRegex,
    Lt,
    LtEq,
    Gt,
    GtEq,
    LParen,
    RParen,
    Comma,
    Colon,
    DoubleColon,
    Semicolon,
    Dot,
    /// A character that starts no token (`!` alone, `@`, non-ASCII outside quotes, ...).
    Illegal(char),
}

impl Token<'_> {
    /// What InfluxDB's messages call this token after "found": keywords in uppercase,
    /// identifiers and literals as written (strings without their quotes), `EOF` at the end.
    pub(crate) fn found_text(&self) -> String {
        match self {
            Token::Eof => "EOF".to_string(),
            Token::Blank => "WS".to_string(),
            Token::LineComment | Token::BlockComment => "COMMENT".to_string(),
            Token::Ident { text, .. } | Token::Str(text) => text.to_string(),
            Token::Keyword(kw) => kw.as_str().to_string(),
            Token::Number(text) | Token::Integer(text) | Token::Duration(text) => text.to_string(),
            Token::BoundParam(name) => format!("${name}"),
            Token::Illegal(c) => c.to_string(),
            Token::Add => "+".to_string(),
            Token::Sub => "-".to_string(),
            Token::Mul => "*".to_string(),
            Token::Div => "/".to_string(),
            Token::Mod => "%".to_string(),
            Token::BitAnd => "&".to_string(),
            Token::BitOr => "|".to_string(),
            Token::BitXor => "^".to_string(),
            Token::Eq => "=".to_string(),
            Token::NotEq => "!=".to_string(),
            Token::EqRegex => "=~".to_string(),
            Token::NotEqRegex => "!~".to_string(),
            Token::Lt => "<".to_string(),
            Token::LtEq => "<=".to_string(),
            Token::Gt => ">".to_string(),
            Token::GtEq => ">=".to_string(),
            Token::LParen => "(".to_string(),
            Token::RParen => ")".to_string(),
            Token::Comma => ",".to_string(),
            Token::Colon => ":".to_string(),
            Token::DoubleColon => "::".to_string(),
            Token::Semicolon => ";".to_string(),
            Token::Dot => ".".to_string(),
        }
    }

    /// Whitespace or a comment.
    pub(crate) fn is_trivia(&self) -> bool {
        matches!(
            self,
            Token::Blank | Token::LineComment | Token::BlockComment
        )
    }
}

/// A scanning error: the offset it points at and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub offset: usize,
    pub kind: ParseErrorKind,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_unit_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == 'µ'
}

/// The first `char` of `src` at byte `pos`, if `pos` is in range and on a boundary.
pub(crate) fn char_at(src: &str, pos: usize) -> Option<char> {
    src.get(pos..).and_then(|rest| rest.chars().next())
}

/// The offset just past the longest run of chars from `pos` satisfying `pred`.
fn take_while(src: &str, pos: usize, pred: impl Fn(char) -> bool) -> usize {
    let rest = src.get(pos..).unwrap_or("");
    let len = rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
    pos + len
}

/// Slice `src[start..end]`, or "" if the range is not valid (never the case for offsets made
/// here, but slicing must not be able to panic).
fn slice(src: &str, start: usize, end: usize) -> &str {
    src.get(start..end).unwrap_or("")
}

/// Scans the token starting exactly at `pos` (no whitespace skipping). Returns the token and
/// the offset just past it.
pub(crate) fn scan(src: &str, pos: usize) -> Result<(Token<'_>, usize), LexError> {
    let Some(c) = char_at(src, pos) else {
        return Ok((Token::Eof, pos));
    };
    let next = char_at(src, pos + c.len_utf8());
    let one = pos + c.len_utf8();
    let tok = match c {
        c if is_blank(c) => return Ok((Token::Blank, take_while(src, pos, is_blank))),
        c if is_ident_start(c) => {
            let end = take_while(src, pos, is_ident_char);
            let word = slice(src, pos, end);
            let tok = match Keyword::lookup(word) {
                Some(kw) => Token::Keyword(kw),
                None => Token::Ident {
                    text: Cow::Borrowed(word),
                    quoted: false,
                },
            };
            return Ok((tok, end));
        }
        c if c.is_ascii_digit() => return Ok(scan_number(src, pos)),
        '.' if next.is_some_and(|n| n.is_ascii_digit()) => return Ok(scan_number(src, pos)),
        '"' => {
            let (text, end) = scan_quoted(src, pos, '"')?;
            return Ok((Token::Ident { text, quoted: true }, end));
        }
        '\'' => {
            let (text, end) = scan_quoted(src, pos, '\'')?;
            return Ok((Token::Str(text), end));
        }
        '$' => {
            let end = take_while(src, one, is_ident_char);
            return Ok((Token::BoundParam(slice(src, one, end)), end));
        }
        '-' if next == Some('-') => {
            let end = take_while(src, pos, |c| c != '\n' && c != '\r');
            return Ok((Token::LineComment, end));
        }
        '/' if next == Some('*') => {
            let body = pos + 2;
            let rest = src.get(body..).unwrap_or("");
            return match rest.find("*/") {
                Some(i) => Ok((Token::BlockComment, body + i + 2)),
                None => Err(LexError {
                    offset: pos,
                    kind: ParseErrorKind::UnterminatedComment,
                }),
            };
        }
        '.' => Token::Dot,
        '+' => Token::Add,
        '-' => Token::Sub,
        '*' => Token::Mul,
        '/' => Token::Div,
        '%' => Token::Mod,
        '&' => Token::BitAnd,
        '|' => Token::BitOr,
        '^' => Token::BitXor,
        '(' => Token::LParen,
        ')' => Token::RParen,
        ',' => Token::Comma,
        ';' => Token::Semicolon,
        '=' if next == Some('~') => return Ok((Token::EqRegex, pos + 2)),
        '=' => Token::Eq,
        '!' if next == Some('=') => return Ok((Token::NotEq, pos + 2)),
        '!' if next == Some('~') => return Ok((Token::NotEqRegex, pos + 2)),
        '>' if next == Some('=') => return Ok((Token::GtEq, pos + 2)),
        '>' => Token::Gt,
        '<' if next == Some('=') => return Ok((Token::LtEq, pos + 2)),
        '<' if next == Some('>') => return Ok((Token::NotEq, pos + 2)),
        '<' => Token::Lt,
        ':' if next == Some(':') => return Ok((Token::DoubleColon, pos + 2)),
        ':' => Token::Colon,
        other => Token::Illegal(other),
    };
    Ok((tok, one))
}

/// Numbers as InfluxDB scans them: digits, then `.` and digits; no exponent and no sign. A
/// dot not followed by a digit is consumed but left out of the text (`1.` is the number 1).
/// Digits directly followed by a letter start a duration.
fn scan_number(src: &str, pos: usize) -> (Token<'_>, usize) {
    let int_end = take_while(src, pos, |c| c.is_ascii_digit());
    if char_at(src, int_end) == Some('.') {
        let frac_start = int_end + 1;
        let frac_end = take_while(src, frac_start, |c| c.is_ascii_digit());
        if frac_end > frac_start {
            return (Token::Number(slice(src, pos, frac_end)), frac_end);
        }
        return (Token::Number(slice(src, pos, int_end)), frac_start);
    }
    if char_at(src, int_end).is_some_and(is_unit_char) {
        let units_end = take_while(src, int_end, is_unit_char);
        let end = take_while(src, units_end, |c| is_unit_char(c) || c.is_ascii_digit());
        return (Token::Duration(slice(src, pos, end)), end);
    }
    (Token::Integer(slice(src, pos, int_end)), int_end)
}

/// A string or quoted identifier from its opening `quote` at `pos`. Escapes: `\n`, `\\`,
/// `\"`, `\'`; any other is an error. A raw line break (`\n` or `\r`) ends it unterminated.
fn scan_quoted(src: &str, pos: usize, quote: char) -> Result<(Cow<'_, str>, usize), LexError> {
    let unterminated = || LexError {
        offset: pos,
        kind: if quote == '"' {
            ParseErrorKind::UnterminatedIdentifier
        } else {
            ParseErrorKind::UnterminatedString
        },
    };
    let body = pos + 1;
    let rest = src.get(body..).unwrap_or("");
    let mut owned: Option<String> = None;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => {
                let text = match owned {
                    Some(s) => Cow::Owned(s),
                    None => Cow::Borrowed(slice(src, body, body + i)),
                };
                return Ok((text, body + i + 1));
            }
            '\n' | '\r' => return Err(unterminated()),
            '\\' => {
                let buf = owned.get_or_insert_with(|| slice(rest, 0, i).to_string());
                match chars.next() {
                    Some((_, 'n')) => buf.push('\n'),
                    Some((_, '\\')) => buf.push('\\'),
                    Some((_, '"')) => buf.push('"'),
                    Some((_, '\'')) => buf.push('\''),
                    Some((_, other)) => {
                        return Err(LexError {
                            offset: body + i,
                            kind: ParseErrorKind::BadEscape(format!("\\{other}")),
                        })
                    }
                    None => return Err(unterminated()),
                }
            }
            c => {
                if let Some(buf) = owned.as_mut() {
                    buf.push(c);
                }
            }
        }
    }
    Err(unterminated())
}

/// A regular expression from its opening `/` at `pos`, returning its unescaped text and the
/// offset past the closing `/`. `\/` stands for `/`; a backslash before any other character
/// is kept as is (the regex engine reads it), as InfluxDB does. A line break or the end of
/// the input before the closing `/` is an error.
pub(crate) fn scan_regex(src: &str, pos: usize) -> Result<(String, usize), LexError> {
    let unterminated = LexError {
        offset: pos,
        kind: ParseErrorKind::UnterminatedRegex,
    };
    let body = pos + 1;
    let rest = src.get(body..).unwrap_or("");
    let mut out = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' => return Ok((out, body + i + 1)),
            '\n' | '\r' => return Err(unterminated),
            '\\' if chars.peek().map(|&(_, n)| n) == Some('/') => {
                chars.next();
                out.push('/');
            }
            c => out.push(c),
        }
    }
    Err(unterminated)
}
