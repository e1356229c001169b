//! `Display` for every node: valid InfluxQL, in InfluxDB's canonical layout, that parses back
//! to the same tree for every tree the parser can produce (see the invariants in [`super::ast`]).
//!
//! Identifiers are quoted only when they must be (empty, not `[A-Za-z_][A-Za-z0-9_]*`, or a
//! keyword); strings use `'` with `\\`, `\'` and `\n` escapes; regexes escape `/` as `\/`;
//! floats print in their shortest round-trip decimal form, always with a `.`; durations in
//! their largest exact unit.

use std::borrow::Cow;
use std::fmt::{self, Display, Formatter, Write};

use super::ast::{
    BinaryOp, Dimension, Expr, Field, Fill, MeasurementName, Query, SelectStatement, Source,
    Statement, TagKeyMatch, TimeOffset, VarType,
};
use super::duration::format_duration;
use super::lexer::Keyword;
use super::timestamp::format_rfc3339;

/// Words that must be quoted as identifiers: InfluxQL's keywords, plus three that newer
/// InfluxDB releases reserve (so our output stays valid there too).
fn is_reserved(word: &str) -> bool {
    Keyword::lookup(word).is_some()
        || ["future", "past", "verbose"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether `ident` cannot be written bare.
pub(crate) fn needs_quotes(ident: &str) -> bool {
    let mut chars = ident.chars();
    match chars.next() {
        None => true,
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => true,
        Some(_) => !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || is_reserved(ident),
    }
}

/// An identifier as InfluxQL: bare if possible, else in `"` with `\\`, `\"` and `\n` escaped.
pub fn quote_ident(ident: &str) -> Cow<'_, str> {
    if !needs_quotes(ident) {
        return Cow::Borrowed(ident);
    }
    let mut out = String::with_capacity(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// A string literal as InfluxQL: in `'` with `\\`, `\'` and `\n` escaped.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn write_regex(f: &mut Formatter<'_>, re: &str) -> fmt::Result {
    f.write_char('/')?;
    for c in re.chars() {
        if c == '/' {
            f.write_str("\\/")?;
        } else {
            f.write_char(c)?;
        }
    }
    f.write_char('/')
}

/// A float that scans back as the same number: shortest round-trip digits, never an
/// exponent, always a `.`.
fn write_float(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    let text = v.to_string();
    f.write_str(&text)?;
    if v.is_finite() && !text.contains('.') {
        f.write_str(".0")?;
    }
    Ok(())
}

/// Writes `items` separated by `, `.
fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn write_sources(f: &mut Formatter<'_>, sources: &[Source]) -> fmt::Result {
    if !sources.is_empty() {
        f.write_str(" FROM ")?;
        write_list(f, sources)?;
    }
    Ok(())
}

fn write_on(f: &mut Formatter<'_>, database: &Option<String>) -> fmt::Result {
    match database {
        Some(db) => write!(f, " ON {}", quote_ident(db)),
        None => Ok(()),
    }
}

fn write_where(f: &mut Formatter<'_>, condition: &Option<Expr>) -> fmt::Result {
    match condition {
        Some(c) => write!(f, " WHERE {c}"),
        None => Ok(()),
    }
}

fn write_counts(f: &mut Formatter<'_>, counts: &[(&str, u64)]) -> fmt::Result {
    for &(word, n) in counts {
        if n > 0 {
            write!(f, " {word} {n}")?;
        }
    }
    Ok(())
}

/// A retention or shard duration; 0 is `INF`.
fn write_rp_duration(f: &mut Formatter<'_>, ns: i64) -> fmt::Result {
    if ns == 0 {
        f.write_str("INF")
    } else {
        f.write_str(&format_duration(ns))
    }
}

impl Display for VarType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarType::Float => "float",
            VarType::Integer => "integer",
            VarType::Unsigned => "unsigned",
            VarType::String => "string",
            VarType::Boolean => "boolean",
            VarType::Field => "field",
            VarType::Tag => "tag",
        })
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The precedence of `e` as an operand, if it is a binary expression that could need
/// parentheses (a negation `-x` binds tighter than everything).
fn operand_precedence(e: &Expr) -> Option<u8> {
    match e {
        Expr::BinaryExpr { op, .. } if !e.is_negation() => Some(op.precedence()),
        _ => None,
    }
}

fn write_operand(f: &mut Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// `name(args)`. `distinct` is a keyword, but `distinct(` parses as the call, so it is
/// written bare unless `quote_distinct`.
fn write_call(
    f: &mut Formatter<'_>,
    name: &str,
    args: &[Expr],
    quote_distinct: bool,
) -> fmt::Result {
    if name == "distinct" && !quote_distinct {
        f.write_str(name)?;
    } else if name == "distinct" {
        f.write_str("\"distinct\"")?;
    } else {
        f.write_str(&quote_ident(name))?;
    }
    f.write_char('(')?;
    write_list(f, args)?;
    f.write_char(')')
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::VarRef { name, type_hint } => {
                f.write_str(&quote_ident(name))?;
                match type_hint {
                    Some(t) => write!(f, "::{t}"),
                    None => Ok(()),
                }
            }
            Expr::Call { name, args } => write_call(f, name, args, false),
            Expr::BinaryExpr { rhs, .. } if self.is_negation() => match &**rhs {
                // `-DISTINCT(x)` does not parse (a keyword may not follow `-`), the quoted
                // identifier does.
                Expr::Call { name, args } => {
                    f.write_char('-')?;
                    write_call(f, name, args, true)
                }
                rhs => write!(f, "-{rhs}"),
            },
            Expr::BinaryExpr { op, lhs, rhs } => {
                let prec = op.precedence();
                let lhs_parens = operand_precedence(lhs).is_some_and(|p| p < prec);
                let rhs_parens = operand_precedence(rhs).is_some_and(|p| p <= prec);
                write_operand(f, lhs, lhs_parens)?;
                write!(f, " {op} ")?;
                write_operand(f, rhs, rhs_parens)
            }
            Expr::Paren(inner) => write!(f, "({inner})"),
            Expr::NumberLiteral(v) => write_float(f, *v),
            Expr::IntegerLiteral(v) => write!(f, "{v}"),
            Expr::StringLiteral(s) => f.write_str(&quote_string(s)),
            Expr::BooleanLiteral(b) => f.write_str(if *b { "true" } else { "false" }),
            Expr::DurationLiteral(ns) => f.write_str(&format_duration(*ns)),
            Expr::TimeLiteral(ns) => write!(f, "'{}'", format_rfc3339(*ns)),
            Expr::RegexLiteral(re) => write_regex(f, re),
            Expr::Wildcard { type_hint } => {
                f.write_char('*')?;
                match type_hint {
                    Some(t) => write!(f, "::{t}"),
                    None => Ok(()),
                }
            }
            Expr::Now => f.write_str("now()"),
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match &self.alias {
            Some(alias) => write!(f, " AS {}", quote_ident(alias)),
            None => Ok(()),
        }
    }
}

impl Display for MeasurementName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MeasurementName::Name(name) => f.write_str(&quote_ident(name)),
            MeasurementName::Regex(re) => write_regex(f, re),
        }
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match (&self.database, &self.retention_policy) {
            (Some(db), Some(rp)) => write!(f, "{}.{}.", quote_ident(db), quote_ident(rp))?,
            (Some(db), None) => write!(f, "{}..", quote_ident(db))?,
            (None, Some(rp)) => write!(f, "{}.", quote_ident(rp))?,
            (None, None) => {}
        }
        write!(f, "{}", self.measurement)
    }
}

impl Display for TimeOffset {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeOffset::Duration(ns) => f.write_str(&format_duration(*ns)),
            TimeOffset::Now => f.write_str("now()"),
        }
    }
}

impl Display for Dimension {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Time {
                interval_ns,
                offset,
            } => {
                write!(f, "time({}", format_duration(*interval_ns))?;
                if *offset != TimeOffset::Duration(0) {
                    write!(f, ", {offset}")?;
                }
                f.write_char(')')
            }
            Dimension::Tag(tag) => f.write_str(&quote_ident(tag)),
            Dimension::Wildcard => f.write_char('*'),
            Dimension::Regex(re) => write_regex(f, re),
        }
    }
}

impl Display for Fill {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Fill::Null => f.write_str("fill(null)"),
            Fill::None => f.write_str("fill(none)"),
            Fill::Previous => f.write_str("fill(previous)"),
            Fill::Linear => f.write_str("fill(linear)"),
            // Integral values print as integers (`fill(0)`) while they are exact.
            Fill::Number(v) if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 => {
                write!(f, "fill({})", *v as i64)
            }
            Fill::Number(v) => {
                f.write_str("fill(")?;
                write_float(f, *v)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for TagKeyMatch {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TagKeyMatch::Eq(key) => write!(f, "= {}", quote_ident(key)),
            TagKeyMatch::NotEq(key) => write!(f, "!= {}", quote_ident(key)),
            TagKeyMatch::In(keys) => {
                f.write_str("IN (")?;
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&quote_ident(key))?;
                }
                f.write_char(')')
            }
            TagKeyMatch::Regex(re) => {
                f.write_str("=~ ")?;
                write_regex(f, re)
            }
            TagKeyMatch::NotRegex(re) => {
                f.write_str("!~ ")?;
                write_regex(f, re)
            }
        }
    }
}

impl Display for SelectStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        write_list(f, &self.fields)?;
        write_sources(f, &self.sources)?;
        write_where(f, &self.condition)?;
        if !self.dimensions.is_empty() {
            f.write_str(" GROUP BY ")?;
            write_list(f, &self.dimensions)?;
        }
        if self.fill != Fill::Null {
            write!(f, " {}", self.fill)?;
        }
        if self.order_desc {
            f.write_str(" ORDER BY time DESC")?;
        }
        write_counts(
            f,
            &[
                ("LIMIT", self.limit),
                ("OFFSET", self.offset),
                ("SLIMIT", self.slimit),
                ("SOFFSET", self.soffset),
            ],
        )?;
        match &self.timezone {
            Some(tz) => write!(f, " tz({})", quote_string(tz)),
            None => Ok(()),
        }
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select(select) => write!(f, "{select}"),
            Statement::ShowDatabases => f.write_str("SHOW DATABASES"),
            Statement::ShowMeasurements {
                database,
                with_measurement,
                condition,
                limit,
                offset,
            } => {
                f.write_str("SHOW MEASUREMENTS")?;
                write_on(f, database)?;
                match with_measurement {
                    Some(MeasurementName::Name(name)) => {
                        write!(f, " WITH MEASUREMENT = {}", quote_ident(name))?
                    }
                    Some(re @ MeasurementName::Regex(_)) => write!(f, " WITH MEASUREMENT =~ {re}")?,
                    None => {}
                }
                write_where(f, condition)?;
                write_counts(f, &[("LIMIT", *limit), ("OFFSET", *offset)])
            }
            Statement::ShowTagKeys {
                database,
                sources,
                with_key,
                condition,
                limit,
                offset,
                slimit,
                soffset,
            } => {
                f.write_str("SHOW TAG KEYS")?;
                write_on(f, database)?;
                write_sources(f, sources)?;
                if let Some(key) = with_key {
                    write!(f, " WITH KEY {key}")?;
                }
                write_where(f, condition)?;
                write_counts(
                    f,
                    &[
                        ("LIMIT", *limit),
                        ("OFFSET", *offset),
                        ("SLIMIT", *slimit),
                        ("SOFFSET", *soffset),
                    ],
                )
            }
            Statement::ShowTagValues {
                database,
                sources,
                with_key,
                condition,
                limit,
                offset,
            } => {
                f.write_str("SHOW TAG VALUES")?;
                write_on(f, database)?;
                write_sources(f, sources)?;
                write!(f, " WITH KEY {with_key}")?;
                write_where(f, condition)?;
                write_counts(f, &[("LIMIT", *limit), ("OFFSET", *offset)])
            }
            Statement::ShowFieldKeys {
                database,
                sources,
                limit,
                offset,
            } => {
                f.write_str("SHOW FIELD KEYS")?;
                write_on(f, database)?;
                write_sources(f, sources)?;
                write_counts(f, &[("LIMIT", *limit), ("OFFSET", *offset)])
            }
            Statement::ShowSeries {
                database,
                sources,
                condition,
                limit,
                offset,
            } => {
                f.write_str("SHOW SERIES")?;
                write_on(f, database)?;
                write_sources(f, sources)?;
                write_where(f, condition)?;
                write_counts(f, &[("LIMIT", *limit), ("OFFSET", *offset)])
            }
            Statement::ShowRetentionPolicies { database } => {
                f.write_str("SHOW RETENTION POLICIES")?;
                write_on(f, database)
            }
            Statement::CreateDatabase {
                name,
                duration,
                replication,
                shard_duration,
                rp_name,
            } => {
                write!(f, "CREATE DATABASE {}", quote_ident(name))?;
                if duration.is_none()
                    && replication.is_none()
                    && shard_duration.is_none()
                    && rp_name.is_none()
                {
                    return Ok(());
                }
                f.write_str(" WITH")?;
                if let Some(d) = duration {
                    f.write_str(" DURATION ")?;
                    write_rp_duration(f, *d)?;
                }
                if let Some(n) = replication {
                    write!(f, " REPLICATION {n}")?;
                }
                if let Some(d) = shard_duration {
                    f.write_str(" SHARD DURATION ")?;
                    write_rp_duration(f, *d)?;
                }
                if let Some(rp) = rp_name {
                    write!(f, " NAME {}", quote_ident(rp))?;
                }
                Ok(())
            }
            Statement::DropDatabase { name } => write!(f, "DROP DATABASE {}", quote_ident(name)),
            Statement::DropMeasurement { name } => {
                write!(f, "DROP MEASUREMENT {}", quote_ident(name))
            }
            Statement::DropSeries { sources, condition } => {
                f.write_str("DROP SERIES")?;
                write_sources(f, sources)?;
                write_where(f, condition)
            }
            Statement::Delete { sources, condition } => {
                f.write_str("DELETE")?;
                write_sources(f, sources)?;
                write_where(f, condition)
            }
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, statement) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{statement}")?;
        }
        Ok(())
    }
}
