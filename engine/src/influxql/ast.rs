//! The typed syntax tree of InfluxQL. Durations and times are `i64` nanoseconds.
//!
//! Invariants of a tree made by the parser (the `Display` round trip relies on them):
//! - identifiers, strings and time zones never hold `\r` (a raw line break ends a quoted
//!   token; only `\n` can be written, as the escape `\n`);
//! - regular expressions hold no line break, never end with a backslash and never start with
//!   `*` (`/*` opens a comment; such a regex would be invalid anyway);
//! - call names are lowercase; a zero-argument `now()` is [`Expr::Now`], never a call;
//! - floats are finite; [`Expr::TimeLiteral`] never appears (time strings stay strings until
//!   [`SelectStatement::time_range`] reads them);
//! - a binary expression's operands are parenthesised as written: a child of lower precedence
//!   than its parent (or of equal precedence, on the right) is always inside [`Expr::Paren`].
//!   The one exception is unary minus on a non-literal, which InfluxDB represents as
//!   `-1 * operand` and which binds tighter than anything ([`Expr::is_negation`]).

/// A whole query: one or more statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub statements: Vec<Statement>,
}

/// One statement. `limit`/`offset` fields use 0 for "none", as InfluxDB does (`LIMIT 0` means
/// no limit).
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(SelectStatement),
    /// `SHOW DATABASES`
    ShowDatabases,
    /// `SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT = name | =~ /re/] [WHERE ..] [LIMIT n]
    /// [OFFSET n]`
    ShowMeasurements {
        database: Option<String>,
        with_measurement: Option<MeasurementName>,
        condition: Option<Expr>,
        limit: u64,
        offset: u64,
    },
    /// `SHOW TAG KEYS [ON db] [FROM ..] [WITH KEY ..] [WHERE ..] [LIMIT n] [OFFSET n]
    /// [SLIMIT n] [SOFFSET n]`
    ShowTagKeys {
        database: Option<String>,
        sources: Vec<Source>,
        with_key: Option<TagKeyMatch>,
        condition: Option<Expr>,
        limit: u64,
        offset: u64,
        slimit: u64,
        soffset: u64,
    },
    /// `SHOW TAG VALUES [ON db] [FROM ..] WITH KEY .. [WHERE ..] [LIMIT n] [OFFSET n]`
    ShowTagValues {
        database: Option<String>,
        sources: Vec<Source>,
        with_key: TagKeyMatch,
        condition: Option<Expr>,
        limit: u64,
        offset: u64,
    },
    /// `SHOW FIELD KEYS [ON db] [FROM ..] [LIMIT n] [OFFSET n]`
    ShowFieldKeys {
        database: Option<String>,
        sources: Vec<Source>,
        limit: u64,
        offset: u64,
    },
    /// `SHOW SERIES [ON db] [FROM ..] [WHERE ..] [LIMIT n] [OFFSET n]`
    ShowSeries {
        database: Option<String>,
        sources: Vec<Source>,
        condition: Option<Expr>,
        limit: u64,
        offset: u64,
    },
    /// `SHOW RETENTION POLICIES [ON db]`
    ShowRetentionPolicies {
        database: Option<String>,
    },
    /// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]]`.
    /// `WITH` was written exactly when one of the options is `Some`. A duration of 0 is
    /// infinite (`INF`), as in InfluxDB.
    CreateDatabase {
        name: String,
        duration: Option<i64>,
        replication: Option<u32>,
        shard_duration: Option<i64>,
        rp_name: Option<String>,
    },
    /// `DROP DATABASE name`
    DropDatabase {
        name: String,
    },
    /// `DROP MEASUREMENT name`
    DropMeasurement {
        name: String,
    },
    /// `DROP SERIES [FROM ..] [WHERE ..]`: at least one of the two; sources name neither a
    /// database nor a retention policy.
    DropSeries {
        sources: Vec<Source>,
        condition: Option<Expr>,
    },
    /// `DELETE [FROM ..] [WHERE ..]`: at least one of the two; sources name no database.
    Delete {
        sources: Vec<Source>,
        condition: Option<Expr>,
    },
}

/// `SELECT`, clause by clause. Only `ORDER BY time` exists in InfluxQL, hence `order_desc`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectStatement {
    /// At least one.
    pub fields: Vec<Field>,
    /// At least one.
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Dimension>,
    pub fill: Fill,
    pub order_desc: bool,
    /// 0 = no limit.
    pub limit: u64,
    pub offset: u64,
    /// 0 = no series limit.
    pub slimit: u64,
    pub soffset: u64,
    /// The `tz('...')` argument as written; not checked against any time zone database.
    pub timezone: Option<String>,
}

/// One item of the `SELECT` list.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub expr: Expr,
    pub alias: Option<String>,
}

/// A measurement reference in `FROM`: `name`, `rp.name`, `db.rp.name`, `db..name`, or a
/// regex in the last position. Empty database and retention policy segments are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub database: Option<String>,
    pub retention_policy: Option<String>,
    pub measurement: MeasurementName,
}

/// A measurement by name or by regular expression.
#[derive(Debug, Clone, PartialEq)]
pub enum MeasurementName {
    Name(String),
    Regex(String),
}

/// `WITH KEY` of `SHOW TAG KEYS` / `SHOW TAG VALUES`.
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeyMatch {
    Eq(String),
    NotEq(String),
    /// Non-empty.
    In(Vec<String>),
    Regex(String),
    NotRegex(String),
}

/// One `GROUP BY` item.
#[derive(Debug, Clone, PartialEq)]
pub enum Dimension {
    /// `time(interval[, offset])`; `interval_ns > 0`. The offset is kept as written (not
    /// reduced modulo the interval).
    Time {
        interval_ns: i64,
        offset: TimeOffset,
    },
    /// A tag key; never `time` (any case). A `::type` cast written on it is dropped.
    Tag(String),
    Wildcard,
    Regex(String),
}

/// The second argument of `GROUP BY time(..)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOffset {
    /// Nanoseconds, possibly negative; `Duration(0)` when no offset was written.
    Duration(i64),
    /// `now()`: the offset is the query's now modulo the interval.
    Now,
}

impl Default for TimeOffset {
    fn default() -> Self {
        TimeOffset::Duration(0)
    }
}

/// `fill(..)`; `Null` when absent, as in InfluxDB.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Fill {
    #[default]
    Null,
    None,
    Previous,
    Linear,
    /// `fill(0)`, `fill(-1.5)`: finite.
    Number(f64),
}

/// An expression. Literals are typed as InfluxQL types them: `1` is an integer, `1.0` a
/// number, `10m` a duration, `'x'` a string (even when it spells a time).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field or tag; `"a"."b"` and `a.b` both become the name `a.b`. `type_hint` is a cast
    /// written `name::float` (or `::integer`, `::unsigned`, `::string`, `::boolean`, `::field`,
    /// `::tag`).
    VarRef {
        name: String,
        type_hint: Option<VarType>,
    },
    /// `name(args)`: any identifier directly followed by `(`; the name is lowercased.
    /// `DISTINCT x` is the call `distinct(x)`.
    Call {
        name: String,
        args: Vec<Expr>,
    },
    BinaryExpr {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
    NumberLiteral(f64),
    IntegerLiteral(i64),
    StringLiteral(String),
    BooleanLiteral(bool),
    /// Nanoseconds.
    DurationLiteral(i64),
    /// Nanoseconds since the Unix epoch. Never made by the parser; printed as an RFC 3339
    /// string (which parses back as a [`Expr::StringLiteral`]).
    TimeLiteral(i64),
    RegexLiteral(String),
    /// `*`, `*::field` or `*::tag`.
    Wildcard {
        type_hint: Option<VarType>,
    },
    /// `now()`.
    Now,
}

/// A `::type` cast on a variable reference (only `Field` and `Tag` on a wildcard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
    Field,
    Tag,
}

/// Binary operators, InfluxDB's precedence from loosest to tightest: `OR`; `AND`;
/// comparisons; `+ - | ^`; `* / % &`. All associate to the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    And,
    Or,
    Eq,
    NotEq,
    EqRegex,
    NotEqRegex,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl BinaryOp {
    /// 1 (`OR`) to 5 (`*`); higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::EqRegex
            | BinaryOp::NotEqRegex
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => 3,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::BitOr | BinaryOp::BitXor => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::BitAnd => 5,
        }
    }

    /// `=~` and `!~`, whose right operand is a regular expression.
    pub fn is_regex(self) -> bool {
        matches!(self, BinaryOp::EqRegex | BinaryOp::NotEqRegex)
    }

    /// Comparisons and `AND`/`OR`: the operators InfluxDB refuses in a `SELECT` list.
    pub fn is_boolean(self) -> bool {
        self.precedence() <= 3
    }

    /// The spelling InfluxQL prints (`<>` prints as `!=`).
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::EqRegex => "=~",
            BinaryOp::NotEqRegex => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
        }
    }
}

impl Expr {
    /// A `name` reference without a cast.
    pub fn var(name: impl Into<String>) -> Expr {
        Expr::VarRef {
            name: name.into(),
            type_hint: None,
        }
    }

    /// `lhs op rhs`, exactly as given (no parentheses added).
    pub fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr::BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        }
    }

    /// Whether this is the `-1 * operand` InfluxDB makes of a unary minus before a variable,
    /// call or parenthesis (printed back as `-operand`).
    pub fn is_negation(&self) -> bool {
        match self {
            Expr::BinaryExpr { op, lhs, rhs } => {
                *op == BinaryOp::Mul
                    && **lhs == Expr::IntegerLiteral(-1)
                    && matches!(
                        **rhs,
                        Expr::VarRef { .. } | Expr::Call { .. } | Expr::Paren(_) | Expr::Now
                    )
            }
            _ => false,
        }
    }

    /// Whether this is a reference to the `time` column (any case, any cast), as InfluxDB
    /// recognises time conditions.
    pub fn is_time_ref(&self) -> bool {
        matches!(self, Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"))
    }
}

impl SelectStatement {
    /// The `GROUP BY time(..)` interval and offset, if any.
    pub fn group_by_time(&self) -> Option<(i64, TimeOffset)> {
        self.dimensions.iter().find_map(|d| match *d {
            Dimension::Time {
                interval_ns,
                offset,
            } => Some((interval_ns, offset)),
            _ => None,
        })
    }
}
