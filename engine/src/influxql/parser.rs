//! Recursive-descent parser following InfluxDB 1.x's `parser.go` clause by clause, so that
//! accepted queries, trees and error messages agree with it (differences are listed in the
//! module documentation).

use super::ast::{
    BinaryOp, Dimension, Expr, Field, Fill, MeasurementName, Query, SelectStatement, Source,
    Statement, TagKeyMatch, TimeOffset, VarType,
};
use super::display::quote_ident;
use super::duration::parse_duration;
use super::error::{line_column, ParseError, ParseErrorKind};
use super::lexer::{char_at, scan, scan_regex, Keyword, LexError, Token};

/// Parentheses and calls nested deeper than this are refused (the parser recurses on them).
const MAX_NESTING: usize = 100;
/// Expressions deeper than this are refused (a long `a OR b OR ...` chain is deep).
const MAX_DEPTH: usize = 1000;

const EXPECTED_STATEMENT: &[&str] = &[
    "SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET",
    "KILL",
];
const EXPECTED_SHOW: &[&str] = &[
    "CONTINUOUS",
    "DATABASES",
    "DIAGNOSTICS",
    "FIELD",
    "GRANTS",
    "MEASUREMENT",
    "MEASUREMENTS",
    "QUERIES",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SHARDS",
    "STATS",
    "SUBSCRIPTIONS",
    "TAG",
    "USERS",
];
const EXPECTED_CREATE: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "USER",
    "RETENTION",
    "SUBSCRIPTION",
];
const EXPECTED_DROP: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "MEASUREMENT",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SUBSCRIPTION",
    "USER",
];
const EXPECTED_OPERAND: &[&str] = &["identifier", "string", "number", "bool"];
const EXPECTED_IDENT: &[&str] = &["identifier"];

/// Parses a query: statements separated by `;` (an empty query has none).
pub fn parse_query(src: &str) -> Result<Query, ParseError> {
    let mut p = Parser::new(src);
    let mut statements = Vec::new();
    let mut need_separator = false;
    loop {
        let t = p.peek()?;
        match t.tok {
            Token::Eof => return Ok(Query { statements }),
            Token::Semicolon => {
                p.pos = t.end;
                need_separator = false;
            }
            _ if need_separator => return Err(p.unexpected(&t, &[";"])),
            _ => {
                statements.push(p.statement()?);
                need_separator = true;
            }
        }
    }
}

/// Parses exactly one statement (a trailing `;` is allowed).
pub fn parse_statement(src: &str) -> Result<Statement, ParseError> {
    let mut p = Parser::new(src);
    let statement = p.statement()?;
    p.eat(&Token::Semicolon)?;
    p.expect_eof()?;
    Ok(statement)
}

/// Parses one expression, as in a `WHERE` clause.
pub fn parse_expr(src: &str) -> Result<Expr, ParseError> {
    let mut p = Parser::new(src);
    let expr = p.expr()?;
    p.expect_eof()?;
    Ok(expr)
}

/// A token and where it is.
#[derive(Clone)]
struct Tok<'a> {
    tok: Token<'a>,
    start: usize,
    end: usize,
}

struct Parser<'a> {
    src: &'a str,
    /// Offset of the next unread byte.
    pos: usize,
    /// Current depth of parentheses and calls.
    nesting: usize,
    /// Whether a regex probe looked at the very end of the input: InfluxDB's scanner then
    /// counts the end one column further (see [`ParseError::column`]).
    eof_probed: bool,
    /// The last [`Parser::peek`]: the cursor it looked from and the token it found (the
    /// parser asks for the next token several times, trying keywords, before consuming it).
    peeked: std::cell::RefCell<Option<(usize, Tok<'a>)>>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            nesting: 0,
            eof_probed: false,
            peeked: std::cell::RefCell::new(None),
        }
    }

    // ---------------------------------------------------------------- tokens and errors

    fn error(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        let (line, column) = line_column(self.src, offset);
        ParseError {
            offset,
            line,
            column,
            kind,
        }
    }

    fn lex_error(&self, e: LexError) -> ParseError {
        self.error(e.offset, e.kind)
    }

    /// `found <t>, expected <expected>` at `t`.
    fn unexpected(&self, t: &Tok<'_>, expected: &'static [&'static str]) -> ParseError {
        let mut err = self.error(
            t.start,
            ParseErrorKind::Unexpected {
                found: t.tok.found_text(),
                expected,
            },
        );
        match t.tok {
            Token::Eof if self.eof_probed || ends_past_eof(self.src) => err.column += 1,
            // InfluxDB's scanner reports a string at the character before its quote.
            Token::Str(_) if err.column > 1 => err.column -= 1,
            _ => {}
        }
        err
    }

    /// The token at `pos` exactly (no skipping).
    fn token_at(&self, pos: usize) -> Result<Tok<'a>, ParseError> {
        let (tok, end) = scan(self.src, pos).map_err(|e| self.lex_error(e))?;
        Ok(Tok {
            tok,
            start: pos,
            end,
        })
    }

    /// The offset of the first token at or after `pos` that is not blank or a comment.
    fn skip_trivia(&self, mut pos: usize) -> Result<usize, ParseError> {
        loop {
            let t = self.token_at(pos)?;
            if !t.tok.is_trivia() {
                return Ok(pos);
            }
            pos = t.end;
        }
    }

    /// The next significant token, not consumed.
    fn peek(&self) -> Result<Tok<'a>, ParseError> {
        if let Some((at, t)) = self.peeked.borrow().as_ref() {
            if *at == self.pos {
                return Ok(t.clone());
            }
        }
        let mut pos = self.pos;
        let t = loop {
            let t = self.token_at(pos)?;
            if !t.tok.is_trivia() {
                break t;
            }
            pos = t.end;
        };
        *self.peeked.borrow_mut() = Some((self.pos, t.clone()));
        Ok(t)
    }

    /// The next significant token, consumed.
    fn next(&mut self) -> Result<Tok<'a>, ParseError> {
        let t = self.peek()?;
        self.pos = t.end;
        Ok(t)
    }

    /// The token right at the cursor, blanks included, not consumed.
    fn peek_raw(&self) -> Result<Tok<'a>, ParseError> {
        self.token_at(self.pos)
    }

    /// Consumes the next token if it is `tok`.
    fn eat(&mut self, tok: &Token<'_>) -> Result<bool, ParseError> {
        let t = self.peek()?;
        if t.tok == *tok {
            self.pos = t.end;
            return Ok(true);
        }
        Ok(false)
    }

    fn eat_keyword(&mut self, kw: Keyword) -> Result<bool, ParseError> {
        self.eat(&Token::Keyword(kw))
    }

    fn expect(
        &mut self,
        tok: &Token<'_>,
        expected: &'static [&'static str],
    ) -> Result<(), ParseError> {
        let t = self.next()?;
        if t.tok == *tok {
            Ok(())
        } else {
            Err(self.unexpected(&t, expected))
        }
    }

    fn expect_keyword(
        &mut self,
        kw: Keyword,
        expected: &'static [&'static str],
    ) -> Result<(), ParseError> {
        self.expect(&Token::Keyword(kw), expected)
    }

    fn expect_eof(&mut self) -> Result<(), ParseError> {
        let t = self.peek()?;
        match t.tok {
            Token::Eof => Ok(()),
            _ => Err(self.unexpected(&t, &["EOF"])),
        }
    }

    /// An identifier (bare or quoted); keywords are not identifiers.
    fn ident(&mut self) -> Result<String, ParseError> {
        let t = self.next()?;
        match t.tok {
            Token::Ident { text, .. } => Ok(text.into_owned()),
            _ => Err(self.unexpected(&t, EXPECTED_IDENT)),
        }
    }

    /// Whether the next token is the identifier `word` (any case, quoted or not): `fill` and
    /// `tz` are recognised this way, as in InfluxDB.
    fn peek_word(&self, word: &str) -> Result<Option<usize>, ParseError> {
        let t = self.peek()?;
        Ok(match t.tok {
            Token::Ident { text, .. } if text.eq_ignore_ascii_case(word) => Some(t.start),
            _ => None,
        })
    }

    /// Where a regex may start: if the next significant character is `/`, scans the regex.
    fn probe_regex(&mut self) -> Result<Option<String>, ParseError> {
        let start = self.skip_trivia(self.pos)?;
        match char_at(self.src, start) {
            Some('/') => {
                let (re, end) = scan_regex(self.src, start).map_err(|e| self.lex_error(e))?;
                self.pos = end;
                Ok(Some(re))
            }
            None => {
                self.eof_probed = true;
                Ok(None)
            }
            Some(_) => Ok(None),
        }
    }

    /// A regex that must be next (`found X, expected regex` otherwise).
    fn regex(&mut self) -> Result<String, ParseError> {
        match self.probe_regex()? {
            Some(re) => Ok(re),
            None => {
                let t = self.peek()?;
                Err(self.unexpected(&t, &["regex"]))
            }
        }
    }

    fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(offset, ParseErrorKind::NestedTooDeeply));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn unsupported(&self, offset: usize, what: &'static str) -> ParseError {
        self.error(offset, ParseErrorKind::Unsupported(what))
    }

    // ---------------------------------------------------------------- statements

    fn statement(&mut self) -> Result<Statement, ParseError> {
        let t = self.next()?;
        let start = t.start;
        match t.tok {
            Token::Keyword(Keyword::Select) => Ok(Statement::Select(self.select()?)),
            Token::Keyword(Keyword::Delete) => self.delete(),
            Token::Keyword(Keyword::Show) => self.show(start),
            Token::Keyword(Keyword::Create) => self.create(start),
            Token::Keyword(Keyword::Drop) => self.drop(start),
            Token::Keyword(Keyword::Explain) => Err(self.unsupported(start, "EXPLAIN")),
            Token::Keyword(Keyword::Grant) => Err(self.unsupported(start, "GRANT")),
            Token::Keyword(Keyword::Revoke) => Err(self.unsupported(start, "REVOKE")),
            Token::Keyword(Keyword::Alter) => Err(self.unsupported(start, "ALTER")),
            Token::Keyword(Keyword::Set) => Err(self.unsupported(start, "SET PASSWORD")),
            Token::Keyword(Keyword::Kill) => Err(self.unsupported(start, "KILL QUERY")),
            _ => Err(self.unexpected(&t, EXPECTED_STATEMENT)),
        }
    }

    fn show(&mut self, start: usize) -> Result<Statement, ParseError> {
        let t = self.next()?;
        let Token::Keyword(kw) = t.tok else {
            return Err(self.unexpected(&t, EXPECTED_SHOW));
        };
        match kw {
            Keyword::Databases => Ok(Statement::ShowDatabases),
            Keyword::Measurements => self.show_measurements(),
            Keyword::Series => {
                if self.eat_keyword(Keyword::Exact)? || self.eat_keyword(Keyword::Cardinality)? {
                    return Err(self.unsupported(start, "SHOW SERIES CARDINALITY"));
                }
                self.show_series()
            }
            Keyword::Tag => {
                let t = self.next()?;
                match t.tok {
                    Token::Keyword(Keyword::Keys) => self.show_tag_keys(),
                    Token::Keyword(Keyword::Values) => {
                        if self.eat_keyword(Keyword::Exact)?
                            || self.eat_keyword(Keyword::Cardinality)?
                        {
                            return Err(self.unsupported(start, "SHOW TAG VALUES CARDINALITY"));
                        }
                        self.show_tag_values()
                    }
                    Token::Keyword(Keyword::Key) => {
                        Err(self.unsupported(start, "SHOW TAG KEY CARDINALITY"))
                    }
                    _ => Err(self.unexpected(&t, &["KEY", "KEYS", "VALUES"])),
                }
            }
            Keyword::Field => {
                let t = self.next()?;
                match t.tok {
                    Token::Keyword(Keyword::Keys) => self.show_field_keys(),
                    Token::Keyword(Keyword::Key) => {
                        Err(self.unsupported(start, "SHOW FIELD KEY CARDINALITY"))
                    }
                    _ => Err(self.unexpected(&t, &["KEY", "KEYS"])),
                }
            }
            Keyword::Retention => {
                self.expect_keyword(Keyword::Policies, &["POLICIES"])?;
                let database = self.on_database()?;
                Ok(Statement::ShowRetentionPolicies { database })
            }
            Keyword::Measurement => {
                let t = self.next()?;
                match t.tok {
                    Token::Keyword(Keyword::Exact | Keyword::Cardinality) => {
                        Err(self.unsupported(start, "SHOW MEASUREMENT CARDINALITY"))
                    }
                    _ => Err(self.unexpected(&t, &["EXACT", "CARDINALITY"])),
                }
            }
            Keyword::Continuous => {
                self.expect_keyword(Keyword::Queries, &["QUERIES"])?;
                Err(self.unsupported(start, "SHOW CONTINUOUS QUERIES"))
            }
            Keyword::Grants => {
                self.expect_keyword(Keyword::For, &["FOR"])?;
                Err(self.unsupported(start, "SHOW GRANTS"))
            }
            Keyword::Shard => {
                self.expect_keyword(Keyword::Groups, &["GROUPS"])?;
                Err(self.unsupported(start, "SHOW SHARD GROUPS"))
            }
            Keyword::Diagnostics => Err(self.unsupported(start, "SHOW DIAGNOSTICS")),
            Keyword::Queries => Err(self.unsupported(start, "SHOW QUERIES")),
            Keyword::Shards => Err(self.unsupported(start, "SHOW SHARDS")),
            Keyword::Stats => Err(self.unsupported(start, "SHOW STATS")),
            Keyword::Subscriptions => Err(self.unsupported(start, "SHOW SUBSCRIPTIONS")),
            Keyword::Users => Err(self.unsupported(start, "SHOW USERS")),
            _ => Err(self.unexpected(&t, EXPECTED_SHOW)),
        }
    }

    fn create(&mut self, start: usize) -> Result<Statement, ParseError> {
        let t = self.next()?;
        match t.tok {
            Token::Keyword(Keyword::Database) => self.create_database(),
            Token::Keyword(Keyword::Continuous) => {
                self.expect_keyword(Keyword::Query, &["QUERY"])?;
                Err(self.unsupported(start, "CREATE CONTINUOUS QUERY"))
            }
            Token::Keyword(Keyword::User) => Err(self.unsupported(start, "CREATE USER")),
            Token::Keyword(Keyword::Retention) => {
                self.expect_keyword(Keyword::Policy, &["POLICY"])?;
                Err(self.unsupported(start, "CREATE RETENTION POLICY"))
            }
            Token::Keyword(Keyword::Subscription) => {
                Err(self.unsupported(start, "CREATE SUBSCRIPTION"))
            }
            _ => Err(self.unexpected(&t, EXPECTED_CREATE)),
        }
    }

    fn drop(&mut self, start: usize) -> Result<Statement, ParseError> {
        let t = self.next()?;
        match t.tok {
            Token::Keyword(Keyword::Database) => Ok(Statement::DropDatabase {
                name: self.ident()?,
            }),
            Token::Keyword(Keyword::Measurement) => Ok(Statement::DropMeasurement {
                name: self.ident()?,
            }),
            Token::Keyword(Keyword::Series) => self.drop_series(),
            Token::Keyword(Keyword::Continuous) => {
                self.expect_keyword(Keyword::Query, &["QUERY"])?;
                Err(self.unsupported(start, "DROP CONTINUOUS QUERY"))
            }
            Token::Keyword(Keyword::Retention) => {
                self.expect_keyword(Keyword::Policy, &["POLICY"])?;
                Err(self.unsupported(start, "DROP RETENTION POLICY"))
            }
            Token::Keyword(Keyword::Shard) => Err(self.unsupported(start, "DROP SHARD")),
            Token::Keyword(Keyword::Subscription) => {
                Err(self.unsupported(start, "DROP SUBSCRIPTION"))
            }
            Token::Keyword(Keyword::User) => Err(self.unsupported(start, "DROP USER")),
            _ => Err(self.unexpected(&t, EXPECTED_DROP)),
        }
    }

    /// `[ON db]`
    fn on_database(&mut self) -> Result<Option<String>, ParseError> {
        if self.eat_keyword(Keyword::On)? {
            Ok(Some(self.ident()?))
        } else {
            Ok(None)
        }
    }

    /// `[FROM sources]`
    fn opt_sources(&mut self) -> Result<Vec<Source>, ParseError> {
        if self.eat_keyword(Keyword::From)? {
            Ok(self.sources(false)?.into_iter().map(|(s, _)| s).collect())
        } else {
            Ok(Vec::new())
        }
    }

    /// `[WHERE expr]`
    fn condition(&mut self) -> Result<Option<Expr>, ParseError> {
        if self.eat_keyword(Keyword::Where)? {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    /// `[<kw> n]`; 0 when absent.
    fn opt_count(&mut self, kw: Keyword) -> Result<u64, ParseError> {
        if !self.eat_keyword(kw)? {
            return Ok(0);
        }
        let t = self.next()?;
        match t.tok {
            // Only digits: parsing fails on overflow alone, which saturates as in InfluxDB.
            Token::Integer(text) => Ok(text.parse().unwrap_or(u64::MAX)),
            _ => Err(self.unexpected(&t, &["integer"])),
        }
    }

    fn show_measurements(&mut self) -> Result<Statement, ParseError> {
        let mut database = None;
        if self.eat_keyword(Keyword::On)? {
            let t = self.next()?;
            match t.tok {
                Token::Ident { text, .. } => database = Some(text.into_owned()),
                Token::Mul => return Err(self.unsupported(t.start, "SHOW MEASUREMENTS ON *")),
                _ => return Err(self.unexpected(&t, &["identifier or *"])),
            }
            let t = self.peek()?;
            if t.tok == Token::Dot {
                return Err(self.unsupported(t.start, "SHOW MEASUREMENTS ON db.rp"));
            }
        }
        let mut with_measurement = None;
        if self.eat_keyword(Keyword::With)? {
            self.expect_keyword(Keyword::Measurement, &["MEASUREMENT"])?;
            let t = self.next()?;
            if !matches!(t.tok, Token::Eq | Token::EqRegex) {
                return Err(self.unexpected(&t, &["=", "=~"]));
            }
            let (source, offset) = self.source(false)?;
            if source.database.is_some() || source.retention_policy.is_some() {
                return Err(self.unsupported(offset, "a qualified name in WITH MEASUREMENT"));
            }
            with_measurement = Some(source.measurement);
        }
        let condition = self.condition()?;
        let limit = self.opt_count(Keyword::Limit)?;
        let offset = self.opt_count(Keyword::Offset)?;
        Ok(Statement::ShowMeasurements {
            database,
            with_measurement,
            condition,
            limit,
            offset,
        })
    }

    fn show_tag_keys(&mut self) -> Result<Statement, ParseError> {
        let database = self.on_database()?;
        let sources = self.opt_sources()?;
        let with_key = if self.peek()?.tok == Token::Keyword(Keyword::With) {
            Some(self.tag_key_match()?)
        } else {
            None
        };
        let condition = self.condition()?;
        Ok(Statement::ShowTagKeys {
            database,
            sources,
            with_key,
            condition,
            limit: self.opt_count(Keyword::Limit)?,
            offset: self.opt_count(Keyword::Offset)?,
            slimit: self.opt_count(Keyword::Slimit)?,
            soffset: self.opt_count(Keyword::Soffset)?,
        })
    }

    fn show_tag_values(&mut self) -> Result<Statement, ParseError> {
        let database = self.on_database()?;
        let sources = self.opt_sources()?;
        let with_key = self.tag_key_match()?;
        let condition = self.condition()?;
        Ok(Statement::ShowTagValues {
            database,
            sources,
            with_key,
            condition,
            limit: self.opt_count(Keyword::Limit)?,
            offset: self.opt_count(Keyword::Offset)?,
        })
    }

    /// `WITH KEY (= k | != k | IN (k, ..) | =~ /re/ | !~ /re/)`
    fn tag_key_match(&mut self) -> Result<TagKeyMatch, ParseError> {
        self.expect_keyword(Keyword::With, &["WITH"])?;
        self.expect_keyword(Keyword::Key, &["KEY"])?;
        let t = self.next()?;
        match t.tok {
            Token::Keyword(Keyword::In) => {
                self.expect(&Token::LParen, &["("])?;
                let mut keys = vec![self.ident()?];
                while self.eat(&Token::Comma)? {
                    keys.push(self.ident()?);
                }
                self.expect(&Token::RParen, &[")"])?;
                Ok(TagKeyMatch::In(keys))
            }
            Token::Eq => Ok(TagKeyMatch::Eq(self.ident()?)),
            Token::NotEq => Ok(TagKeyMatch::NotEq(self.ident()?)),
            Token::EqRegex => Ok(TagKeyMatch::Regex(self.regex()?)),
            Token::NotEqRegex => Ok(TagKeyMatch::NotRegex(self.regex()?)),
            _ => Err(self.unexpected(&t, &["IN", "=", "=~"])),
        }
    }

    fn show_field_keys(&mut self) -> Result<Statement, ParseError> {
        Ok(Statement::ShowFieldKeys {
            database: self.on_database()?,
            sources: self.opt_sources()?,
            limit: self.opt_count(Keyword::Limit)?,
            offset: self.opt_count(Keyword::Offset)?,
        })
    }

    fn show_series(&mut self) -> Result<Statement, ParseError> {
        Ok(Statement::ShowSeries {
            database: self.on_database()?,
            sources: self.opt_sources()?,
            condition: self.condition()?,
            limit: self.opt_count(Keyword::Limit)?,
            offset: self.opt_count(Keyword::Offset)?,
        })
    }

    /// `DURATION`/`SHARD DURATION` value: a duration or `INF` (0).
    fn rp_duration(&mut self) -> Result<i64, ParseError> {
        let t = self.next()?;
        match t.tok {
            Token::Duration(text) => parse_duration(text).map_err(|k| self.error(t.start, k)),
            Token::Keyword(Keyword::Inf) => Ok(0),
            _ => Err(self.unexpected(&t, &["duration"])),
        }
    }

    fn create_database(&mut self) -> Result<Statement, ParseError> {
        let name = self.ident()?;
        let (mut duration, mut replication, mut shard_duration, mut rp_name) =
            (None, None, None, None);
        if self.eat_keyword(Keyword::With)? {
            let t = self.peek()?;
            let is_limit = |text: &str| {
                text.eq_ignore_ascii_case("future") || text.eq_ignore_ascii_case("past")
            };
            match &t.tok {
                Token::Keyword(
                    Keyword::Duration | Keyword::Name | Keyword::Replication | Keyword::Shard,
                ) => {}
                Token::Ident { text, .. } if is_limit(text) => {}
                _ => {
                    return Err(self.unexpected(
                        &t,
                        &["DURATION", "NAME", "REPLICATION", "SHARD", "FUTURE", "PAST"],
                    ))
                }
            }
            if self.eat_keyword(Keyword::Duration)? {
                duration = Some(self.rp_duration()?);
            }
            if self.eat_keyword(Keyword::Replication)? {
                let t = self.next()?;
                let max = i32::MAX as u64;
                let n = match t.tok {
                    Token::Integer(text) => text
                        .parse::<u64>()
                        .map_err(|_| self.error(t.start, ParseErrorKind::InvalidInteger))?,
                    _ => return Err(self.unexpected(&t, &["integer"])),
                };
                if !(1..=max).contains(&n) {
                    let kind = ParseErrorKind::ValueOutOfRange {
                        value: n,
                        min: 1,
                        max,
                    };
                    return Err(self.error(t.start, kind));
                }
                replication = u32::try_from(n).ok();
            }
            if self.eat_keyword(Keyword::Shard)? {
                self.expect_keyword(Keyword::Duration, &["DURATION"])?;
                shard_duration = Some(self.rp_duration()?);
            }
            if let Some(offset) = self.peek_word("future")?.or(self.peek_word("past")?) {
                return Err(self.unsupported(offset, "FUTURE LIMIT / PAST LIMIT"));
            }
            if self.eat_keyword(Keyword::Name)? {
                rp_name = Some(self.ident()?);
            }
        }
        Ok(Statement::CreateDatabase {
            name,
            duration,
            replication,
            shard_duration,
            rp_name,
        })
    }

    fn drop_series(&mut self) -> Result<Statement, ParseError> {
        let t = self.peek()?;
        let mut sources = Vec::new();
        if self.eat_keyword(Keyword::From)? {
            for (source, offset) in self.sources(false)? {
                // InfluxDB checks both and reports the retention policy last.
                if source.retention_policy.is_some() {
                    return Err(self.error(offset, ParseErrorKind::RetentionPolicyNotSupported));
                }
                if source.database.is_some() {
                    return Err(self.error(offset, ParseErrorKind::DatabaseNotSupported));
                }
                sources.push(source);
            }
        }
        let condition = self.condition()?;
        if sources.is_empty() && condition.is_none() {
            return Err(self.unexpected(&t, &["FROM", "WHERE"]));
        }
        Ok(Statement::DropSeries { sources, condition })
    }

    fn delete(&mut self) -> Result<Statement, ParseError> {
        let t = self.peek()?;
        let mut sources = Vec::new();
        if self.eat_keyword(Keyword::From)? {
            for (source, offset) in self.sources(false)? {
                if source.database.is_some() {
                    return Err(self.error(offset, ParseErrorKind::DatabaseNotSupported));
                }
                sources.push(source);
            }
        }
        let condition = self.condition()?;
        if sources.is_empty() && condition.is_none() {
            return Err(self.unexpected(&t, &["FROM", "WHERE"]));
        }
        Ok(Statement::Delete { sources, condition })
    }

    // ---------------------------------------------------------------- SELECT

    fn select(&mut self) -> Result<SelectStatement, ParseError> {
        let mut fields = vec![self.field()?];
        while self.eat(&Token::Comma)? {
            fields.push(self.field()?);
        }
        let t = self.peek()?;
        if t.tok == Token::Keyword(Keyword::Into) {
            return Err(self.unsupported(t.start, "SELECT INTO"));
        }
        self.expect_keyword(Keyword::From, &["FROM"])?;
        let sources = self.sources(true)?.into_iter().map(|(s, _)| s).collect();
        let condition = self.condition()?;
        let dimensions = self.dimensions()?;
        let fill = self.fill()?;
        let order_desc = self.order_by()?;
        Ok(SelectStatement {
            fields,
            sources,
            condition,
            dimensions,
            fill,
            order_desc,
            limit: self.opt_count(Keyword::Limit)?,
            offset: self.opt_count(Keyword::Offset)?,
            slimit: self.opt_count(Keyword::Slimit)?,
            soffset: self.opt_count(Keyword::Soffset)?,
            timezone: self.tz()?,
        })
    }

    fn field(&mut self) -> Result<Field, ParseError> {
        let start = self.skip_trivia(self.pos)?;
        let expr = match self.probe_regex()? {
            Some(re) => Expr::RegexLiteral(re),
            None => {
                let expr = self.expr()?;
                if let Some(op) = boolean_operator(&expr) {
                    return Err(self.error(start, ParseErrorKind::InvalidSelectOperator(op)));
                }
                expr
            }
        };
        let alias = if self.eat_keyword(Keyword::As)? {
            Some(self.ident()?)
        } else {
            None
        };
        Ok(Field { expr, alias })
    }

    /// Comma-separated sources, each with its offset.
    fn sources(&mut self, in_select: bool) -> Result<Vec<(Source, usize)>, ParseError> {
        let mut sources = vec![self.source(in_select)?];
        while self.eat(&Token::Comma)? {
            sources.push(self.source(in_select)?);
        }
        Ok(sources)
    }

    /// `name`, `rp.name`, `db.rp.name`, `db..name`, `/re/`, `rp./re/`, `db.rp./re/`.
    fn source(&mut self, in_select: bool) -> Result<(Source, usize), ParseError> {
        let start = self.skip_trivia(self.pos)?;
        if let Some(re) = self.probe_regex()? {
            let source = Source {
                database: None,
                retention_policy: None,
                measurement: MeasurementName::Regex(re),
            };
            return Ok((source, start));
        }
        if in_select && self.peek()?.tok == Token::LParen {
            return Err(self.unsupported(start, "a subquery in FROM"));
        }
        let (mut idents, regex_follows) = self.segmented_idents()?;
        let measurement = if regex_follows {
            if idents.len() > 2 {
                idents.push(String::new());
                return Err(self.too_many_segments(start, &idents));
            }
            MeasurementName::Regex(self.regex()?)
        } else {
            MeasurementName::Name(idents.pop().unwrap_or_default())
        };
        let non_empty = |s: String| (!s.is_empty()).then_some(s);
        let mut idents = idents.into_iter();
        let (database, retention_policy) = match (idents.next(), idents.next()) {
            (Some(db), Some(rp)) => (non_empty(db), non_empty(rp)),
            (Some(rp), None) => (None, non_empty(rp)),
            _ => (None, None),
        };
        let source = Source {
            database,
            retention_policy,
            measurement,
        };
        Ok((source, start))
    }

    fn too_many_segments(&self, offset: usize, idents: &[String]) -> ParseError {
        let text = idents
            .iter()
            .map(|s| quote_ident(s).into_owned())
            .collect::<Vec<_>>()
            .join(".");
        self.error(offset, ParseErrorKind::TooManySegments(text))
    }

    /// `a`, `a.b`, `a..b`, `a.b.c` with the dots right after each segment. Returns the
    /// segments and whether a `/` (a regex) follows the last dot.
    fn segmented_idents(&mut self) -> Result<(Vec<String>, bool), ParseError> {
        let start = self.skip_trivia(self.pos)?;
        let mut idents = vec![self.ident()?];
        let mut regex_follows = false;
        loop {
            let t = self.peek_raw()?;
            if t.tok != Token::Dot {
                break;
            }
            self.pos = t.end;
            match char_at(self.src, self.pos) {
                Some('/') => {
                    regex_follows = true;
                    break;
                }
                Some('.') => {
                    idents.push(String::new());
                    continue;
                }
                None => self.eof_probed = true,
                Some(_) => {}
            }
            idents.push(self.ident()?);
        }
        if idents.len() > 3 {
            return Err(self.too_many_segments(start, &idents));
        }
        Ok((idents, regex_follows))
    }

    fn dimensions(&mut self) -> Result<Vec<Dimension>, ParseError> {
        if !self.eat_keyword(Keyword::Group)? {
            return Ok(Vec::new());
        }
        self.expect_keyword(Keyword::By, &["BY"])?;
        let mut dimensions = Vec::new();
        let mut has_time = false;
        loop {
            dimensions.push(self.dimension(&mut has_time)?);
            if !self.eat(&Token::Comma)? {
                return Ok(dimensions);
            }
        }
    }

    fn dimension(&mut self, has_time: &mut bool) -> Result<Dimension, ParseError> {
        let start = self.skip_trivia(self.pos)?;
        if let Some(re) = self.probe_regex()? {
            return Ok(Dimension::Regex(re));
        }
        let mut expr = self.expr()?;
        while let Expr::Paren(inner) = expr {
            expr = *inner;
        }
        let err = |kind| Err(self.error(start, kind));
        match expr {
            Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time") => {
                err(ParseErrorKind::TimeDimensionWithoutCall)
            }
            Expr::VarRef { name, .. } => Ok(Dimension::Tag(name)),
            Expr::Wildcard { .. } => Ok(Dimension::Wildcard),
            Expr::Call { name, args } if name == "time" => {
                let (interval, offset) = match args.as_slice() {
                    [interval] => (interval, None),
                    [interval, offset] => (interval, Some(offset)),
                    _ => return err(ParseErrorKind::TimeDimensionArity),
                };
                let Expr::DurationLiteral(interval_ns) = *interval else {
                    return err(ParseErrorKind::TimeDimensionNotDuration);
                };
                if *has_time {
                    return err(ParseErrorKind::MultipleTimeDimensions);
                }
                *has_time = true;
                if interval_ns <= 0 {
                    return err(ParseErrorKind::TimeDimensionNotPositive);
                }
                let offset = match offset {
                    None => TimeOffset::Duration(0),
                    Some(Expr::DurationLiteral(ns)) => TimeOffset::Duration(*ns),
                    Some(Expr::Now) => TimeOffset::Now,
                    Some(Expr::Call { name, .. }) if name == "now" => {
                        return err(ParseErrorKind::TimeDimensionOffsetNowArgs)
                    }
                    Some(Expr::Call { .. }) => return err(ParseErrorKind::TimeDimensionOffsetCall),
                    Some(_) => return err(ParseErrorKind::TimeDimensionOffset),
                };
                Ok(Dimension::Time {
                    interval_ns,
                    offset,
                })
            }
            Expr::Call { .. } | Expr::Now => err(ParseErrorKind::DimensionCall),
            _ => err(ParseErrorKind::InvalidDimension),
        }
    }

    fn fill(&mut self) -> Result<Fill, ParseError> {
        let Some(start) = self.peek_word("fill")? else {
            return Ok(Fill::Null);
        };
        let Expr::Call { args, .. } = self.expr()? else {
            return Err(self.error(start, ParseErrorKind::FillNotCall));
        };
        let [arg] = args.as_slice() else {
            return Err(self.error(start, ParseErrorKind::FillArity));
        };
        let option = |word: &str| match arg {
            Expr::VarRef {
                name,
                type_hint: None,
            } => name.eq_ignore_ascii_case(word),
            _ => false,
        };
        Ok(match arg {
            _ if option("null") => Fill::Null,
            _ if option("none") => Fill::None,
            _ if option("previous") => Fill::Previous,
            _ if option("linear") => Fill::Linear,
            Expr::IntegerLiteral(v) => Fill::Number(*v as f64),
            Expr::NumberLiteral(v) => Fill::Number(*v),
            _ => return Err(self.error(start, ParseErrorKind::FillValue)),
        })
    }

    /// `ORDER BY time [ASC|DESC]` or `ORDER BY ASC|DESC`; returns whether descending.
    fn order_by(&mut self) -> Result<bool, ParseError> {
        if !self.eat_keyword(Keyword::Order)? {
            return Ok(false);
        }
        self.expect_keyword(Keyword::By, &["BY"])?;
        let t = self.next()?;
        let desc = match t.tok {
            Token::Keyword(Keyword::Asc) => false,
            Token::Keyword(Keyword::Desc) => true,
            Token::Ident { .. } => {
                self.pos = t.start;
                let (name, desc) = self.sort_field()?;
                if name != "time" {
                    return Err(self.error(t.start, ParseErrorKind::OrderByNotTime));
                }
                desc
            }
            _ => return Err(self.unexpected(&t, &["identifier", "ASC", "DESC"])),
        };
        let mut extra = None;
        while self.eat(&Token::Comma)? {
            let start = self.skip_trivia(self.pos)?;
            self.sort_field()?;
            extra.get_or_insert(start);
        }
        match extra {
            Some(offset) => Err(self.error(offset, ParseErrorKind::OrderByNotTime)),
            None => Ok(desc),
        }
    }

    /// `name [ASC|DESC]`
    fn sort_field(&mut self) -> Result<(String, bool), ParseError> {
        let name = self.ident()?;
        let desc = if self.eat_keyword(Keyword::Desc)? {
            true
        } else {
            self.eat_keyword(Keyword::Asc)?;
            false
        };
        Ok((name, desc))
    }

    fn tz(&mut self) -> Result<Option<String>, ParseError> {
        let Some(start) = self.peek_word("tz")? else {
            return Ok(None);
        };
        let Expr::Call { args, .. } = self.expr()? else {
            return Err(self.error(start, ParseErrorKind::TzNotCall));
        };
        match args.as_slice() {
            [Expr::StringLiteral(tz)] => Ok(Some(tz.clone())),
            [_] => Err(self.error(start, ParseErrorKind::TzValue)),
            _ => Err(self.error(start, ParseErrorKind::TzArity)),
        }
    }

    // ---------------------------------------------------------------- expressions

    fn expr(&mut self) -> Result<Expr, ParseError> {
        Ok(self.expr_depth()?.0)
    }

    /// An expression and its depth (1 for a leaf).
    fn expr_depth(&mut self) -> Result<(Expr, usize), ParseError> {
        let lhs = self.unary()?;
        self.climb(lhs, 1)
    }

    /// Precedence climbing, left-associative: the same trees as InfluxDB's insertion
    /// algorithm. The operand after `=~`/`!~` is a regex, which may itself be the left operand
    /// of tighter operators (as in InfluxDB).
    fn climb(&mut self, mut lhs: (Expr, usize), min_prec: u8) -> Result<(Expr, usize), ParseError> {
        loop {
            let t = self.peek()?;
            let Some(op) = binary_op(&t.tok) else {
                return Ok(lhs);
            };
            let prec = op.precedence();
            if prec < min_prec {
                return Ok(lhs);
            }
            self.pos = t.end;
            let operand = if op.is_regex() {
                (Expr::RegexLiteral(self.regex()?), 1)
            } else {
                self.unary()?
            };
            let rhs = self.climb(operand, prec + 1)?;
            let depth = 1 + lhs.1.max(rhs.1);
            if depth > MAX_DEPTH {
                return Err(self.error(t.start, ParseErrorKind::NestedTooDeeply));
            }
            lhs = (Expr::binary(op, lhs.0, rhs.0), depth);
        }
    }

    fn unary(&mut self) -> Result<(Expr, usize), ParseError> {
        let t = self.next()?;
        match t.tok {
            Token::LParen => {
                self.enter(t.start)?;
                let (inner, depth) = self.expr_depth()?;
                self.leave();
                self.expect(&Token::RParen, &[")"])?;
                Ok((Expr::Paren(Box::new(inner)), depth + 1))
            }
            Token::Ident { text, .. } => {
                let after = self.peek_raw()?;
                if after.tok == Token::LParen {
                    self.pos = after.end;
                    return self.call(text.to_lowercase(), t.start);
                }
                self.pos = t.start;
                self.var_ref()
            }
            Token::Keyword(Keyword::Distinct) => {
                let after = self.peek_raw()?;
                match after.tok {
                    Token::LParen => {
                        self.pos = after.end;
                        self.call("distinct".to_string(), t.start)
                    }
                    ref tok if tok.is_trivia() => {
                        let field = self.next()?;
                        match field.tok {
                            Token::Ident { text, .. } => Ok((
                                Expr::Call {
                                    name: "distinct".to_string(),
                                    args: vec![Expr::var(text)],
                                },
                                2,
                            )),
                            _ => Err(self.unexpected(&field, EXPECTED_IDENT)),
                        }
                    }
                    _ => Err(self.unexpected(&after, &["(", "identifier"])),
                }
            }
            Token::Str(s) => Ok((Expr::StringLiteral(s.into_owned()), 1)),
            Token::Number(text) => Ok((Expr::NumberLiteral(self.number(text, t.start)?), 1)),
            Token::Integer(text) => match text.parse::<i64>() {
                Ok(v) => Ok((Expr::IntegerLiteral(v), 1)),
                Err(_) => Err(self.error(t.start, ParseErrorKind::InvalidInteger)),
            },
            Token::Keyword(Keyword::True) => Ok((Expr::BooleanLiteral(true), 1)),
            Token::Keyword(Keyword::False) => Ok((Expr::BooleanLiteral(false), 1)),
            Token::Duration(text) => {
                let ns = parse_duration(text).map_err(|k| self.error(t.start, k))?;
                Ok((Expr::DurationLiteral(ns), 1))
            }
            Token::Mul => {
                let type_hint = self.wildcard_type()?;
                Ok((Expr::Wildcard { type_hint }, 1))
            }
            Token::BoundParam("") => Err(self.error(t.start, ParseErrorKind::EmptyParameter)),
            Token::BoundParam(name) => {
                Err(self.error(t.start, ParseErrorKind::MissingParameter(name.to_string())))
            }
            Token::Add | Token::Sub => self.signed(t.tok == Token::Sub),
            _ => Err(self.unexpected(&t, EXPECTED_OPERAND)),
        }
    }

    fn number(&self, text: &str, offset: usize) -> Result<f64, ParseError> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(offset, ParseErrorKind::InvalidNumber)),
        }
    }

    /// After a unary `+` or `-`: literals take the sign; a variable, call or parenthesis
    /// becomes `-1 * operand` (as in InfluxDB); `+` leaves it as is.
    fn signed(&mut self, negative: bool) -> Result<(Expr, usize), ParseError> {
        let t = self.peek()?;
        match t.tok {
            Token::Integer(text) if negative => {
                self.pos = t.end;
                let v = match text.parse::<u64>() {
                    Ok(v) => v,
                    Err(_) => return Err(self.error(t.start, ParseErrorKind::InvalidInteger)),
                };
                match i64::try_from(-i128::from(v)) {
                    Ok(v) => Ok((Expr::IntegerLiteral(v), 1)),
                    Err(_) => {
                        Err(self.error(t.start, ParseErrorKind::IntegerUnderflow(format!("-{v}"))))
                    }
                }
            }
            Token::Integer(_)
            | Token::Number(_)
            | Token::Duration(_)
            | Token::LParen
            | Token::Ident { .. } => {
                let (expr, depth) = self.unary()?;
                Ok(match expr {
                    Expr::NumberLiteral(v) if negative => (Expr::NumberLiteral(-v), depth),
                    Expr::DurationLiteral(v) if negative => (Expr::DurationLiteral(-v), depth),
                    literal @ (Expr::NumberLiteral(_)
                    | Expr::IntegerLiteral(_)
                    | Expr::DurationLiteral(_)) => (literal, depth),
                    other if negative => (
                        Expr::binary(BinaryOp::Mul, Expr::IntegerLiteral(-1), other),
                        depth + 1,
                    ),
                    other => (other, depth),
                })
            }
            _ => Err(self.unexpected(&t, &["identifier", "number", "duration", "("])),
        }
    }

    /// `name(args)` after the `(`: arguments are expressions or regexes.
    fn call(&mut self, name: String, start: usize) -> Result<(Expr, usize), ParseError> {
        self.enter(start)?;
        let mut args = Vec::new();
        let mut depth = 1;
        if self.peek()?.tok != Token::RParen {
            loop {
                let (arg, d) = match self.probe_regex()? {
                    Some(re) => (Expr::RegexLiteral(re), 1),
                    None => self.expr_depth()?,
                };
                args.push(arg);
                depth = depth.max(d + 1);
                if !self.eat(&Token::Comma)? {
                    break;
                }
            }
        }
        self.expect(&Token::RParen, &[")"])?;
        self.leave();
        if name == "now" && args.is_empty() {
            return Ok((Expr::Now, 1));
        }
        Ok((Expr::Call { name, args }, depth))
    }

    /// A variable reference from the cursor: segments, then an optional `::type`.
    fn var_ref(&mut self) -> Result<(Expr, usize), ParseError> {
        let (idents, regex_follows) = self.segmented_idents()?;
        if regex_follows {
            let t = self.peek_raw()?;
            return Err(self.unexpected(&t, EXPECTED_IDENT));
        }
        let name = idents.join(".");
        let after = self.peek_raw()?;
        let mut type_hint = None;
        if after.tok == Token::DoubleColon {
            self.pos = after.end;
            let t = self.peek_raw()?;
            self.pos = t.end;
            type_hint = Some(match &t.tok {
                Token::Ident { text, .. } => match text.to_ascii_lowercase().as_str() {
                    "float" => VarType::Float,
                    "integer" => VarType::Integer,
                    "unsigned" => VarType::Unsigned,
                    "string" => VarType::String,
                    "boolean" => VarType::Boolean,
                    _ => {
                        return Err(self.unexpected(
                            &t,
                            &[
                                "float", "integer", "unsigned", "string", "boolean", "field", "tag",
                            ],
                        ))
                    }
                },
                Token::Keyword(Keyword::Field) => VarType::Field,
                Token::Keyword(Keyword::Tag) => VarType::Tag,
                _ => {
                    return Err(self.unexpected(
                        &t,
                        &["float", "integer", "string", "boolean", "field", "tag"],
                    ))
                }
            });
        }
        Ok((Expr::VarRef { name, type_hint }, 1))
    }

    /// After `*`: an optional `::field` or `::tag`.
    fn wildcard_type(&mut self) -> Result<Option<VarType>, ParseError> {
        let after = self.peek_raw()?;
        if after.tok != Token::DoubleColon {
            return Ok(None);
        }
        self.pos = after.end;
        let t = self.peek_raw()?;
        self.pos = t.end;
        match t.tok {
            Token::Keyword(Keyword::Field) => Ok(Some(VarType::Field)),
            Token::Keyword(Keyword::Tag) => Ok(Some(VarType::Tag)),
            _ => Err(self.unexpected(&t, &["field", "tag"])),
        }
    }
}

/// The binary operator a token spells, if any (`IN` is not an expression operator here).
fn binary_op(tok: &Token<'_>) -> Option<BinaryOp> {
    Some(match tok {
        Token::Add => BinaryOp::Add,
        Token::Sub => BinaryOp::Sub,
        Token::Mul => BinaryOp::Mul,
        Token::Div => BinaryOp::Div,
        Token::Mod => BinaryOp::Mod,
        Token::BitAnd => BinaryOp::BitAnd,
        Token::BitOr => BinaryOp::BitOr,
        Token::BitXor => BinaryOp::BitXor,
        Token::Keyword(Keyword::And) => BinaryOp::And,
        Token::Keyword(Keyword::Or) => BinaryOp::Or,
        Token::Eq => BinaryOp::Eq,
        Token::NotEq => BinaryOp::NotEq,
        Token::EqRegex => BinaryOp::EqRegex,
        Token::NotEqRegex => BinaryOp::NotEqRegex,
        Token::Lt => BinaryOp::Lt,
        Token::LtEq => BinaryOp::LtEq,
        Token::Gt => BinaryOp::Gt,
        Token::GtEq => BinaryOp::GtEq,
        _ => return None,
    })
}

/// The comparison or logical operator InfluxDB would report in a `SELECT` field: the last
/// outermost one in a pre-order walk (its walk stops below the first it finds on a path).
fn boolean_operator(expr: &Expr) -> Option<BinaryOp> {
    fn walk(expr: &Expr, found: &mut Option<BinaryOp>) {
        match expr {
            Expr::BinaryExpr { op, .. } if op.is_boolean() => *found = Some(*op),
            Expr::BinaryExpr { lhs, rhs, .. } => {
                walk(lhs, found);
                walk(rhs, found);
            }
            Expr::Call { args, .. } => args.iter().for_each(|a| walk(a, found)),
            Expr::Paren(inner) => walk(inner, found),
            _ => {}
        }
    }
    let mut found = None;
    walk(expr, &mut found);
    found
}

/// Whether InfluxDB's scanner, at the end of `src`, has already consumed the end once (after
/// a bare word, a blank or a line comment), which moves its reported end one column right.
fn ends_past_eof(src: &str) -> bool {
    let mut pos = 0;
    let mut last = false;
    loop {
        match scan(src, pos) {
            Ok((Token::Eof, _)) | Err(_) => return last,
            Ok((tok, end)) => {
                last = matches!(
                    tok,
                    Token::Blank
                        | Token::LineComment
                        | Token::Keyword(_)
                        | Token::BoundParam(_)
                        | Token::Ident { quoted: false, .. }
                );
                if end <= pos {
                    return false;
                }
                pos = end;
            }
        }
    }
}
