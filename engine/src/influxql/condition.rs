//! Splitting a `WHERE` condition into its time bounds and the rest, as InfluxDB's
//! `ConditionExpr` does.
//!
//! Time comparisons are the binary comparisons with `time` (any case) on one side. They may be
//! combined with `AND` and parentheses at any depth; one under an `OR` is an error (InfluxDB
//! 1.3 refused it with the same words; later 1.x releases silently intersect the bounds, which
//! returns wrong rows). What `time` is compared with may be an RFC 3339 / date string, an
//! integer or float (nanoseconds since the epoch), a duration (`1732406400000ms`), `now()`,
//! or `+ - * / %` arithmetic over those, e.g. `now() - 1h`.

use std::fmt;

use super::ast::{BinaryOp, Expr, SelectStatement};
use super::timestamp::{
    format_rfc3339_seconds, is_time_string, parse_time_string, MAX_TIME_LITERAL, MIN_TIME_LITERAL,
};

/// Why a condition's time bounds cannot be read. `Display` texts are InfluxDB's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConditionError {
    /// A time comparison under `OR`.
    TimeInOr,
    /// `time != x`, `time =~ /x/`-like operators that give no range.
    InvalidTimeOperator(BinaryOp),
    /// `time` compared with something that is not a time: holds InfluxDB's Go type name for it
    /// (`*influxql.StringLiteral`, ...), which InfluxDB puts in its message.
    IncompatibleTime(&'static str),
    /// A string that starts like a date but is not one of the accepted forms.
    InvalidTimestamp,
    /// A time after InfluxDB's maximum; holds it in RFC 3339.
    TimeOverflow(String),
    /// A time before InfluxDB's minimum; holds it in RFC 3339.
    TimeUnderflow(String),
    /// Time arithmetic (`now() + 300000w`) beyond `i64` nanoseconds.
    ArithmeticOverflow,
    /// A condition that is not a comparison (`WHERE value`); holds it printed.
    InvalidCondition(String),
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionError::TimeInOr => f.write_str("cannot use OR with time conditions"),
            ConditionError::InvalidTimeOperator(op) => {
                write!(f, "invalid time comparison operator: {}", op.as_str())
            }
            ConditionError::IncompatibleTime(ty) => {
                write!(f, "invalid operation: time and {ty} are not compatible")
            }
            ConditionError::InvalidTimestamp => f.write_str("invalid timestamp string"),
            ConditionError::TimeOverflow(t) => write!(f, "time {t} overflows time literal"),
            ConditionError::TimeUnderflow(t) => write!(f, "time {t} underflows time literal"),
            ConditionError::ArithmeticOverflow => f.write_str("time arithmetic overflows"),
            ConditionError::InvalidCondition(e) => write!(f, "invalid condition expression: {e}"),
        }
    }
}

impl std::error::Error for ConditionError {}

impl SelectStatement {
    /// The inclusive time bounds of the `WHERE` clause in nanoseconds: see [`time_range`].
    pub fn time_range(&self, now_ns: i64) -> Result<(i64, i64), ConditionError> {
        time_range(self.condition.as_ref(), now_ns)
    }

    /// The `WHERE` clause without its time comparisons: see [`condition_without_time`].
    pub fn condition_without_time(&self) -> Option<Expr> {
        condition_without_time(self.condition.as_ref())
    }
}

/// Inclusive bounds `(min, max)` in nanoseconds since the epoch that the time comparisons of
/// `condition` allow; `now_ns` is the value of `now()`. No lower bound is `i64::MIN`, no upper
/// bound `i64::MAX`; contradictory bounds give `min > max` (nothing matches).
///
/// `time > t` is `min = t + 1`, `time < t` is `max = t - 1`, `time = t` bounds both; `t < time`
/// reads as `time > t`. Several comparisons intersect.
pub fn time_range(condition: Option<&Expr>, now_ns: i64) -> Result<(i64, i64), ConditionError> {
    let mut bounds = Bounds::default();
    if let Some(expr) = condition {
        collect(expr, now_ns, &mut bounds)?;
    }
    let min = bounds.min.unwrap_or(i128::from(i64::MIN));
    let max = bounds.max.unwrap_or(i128::from(i64::MAX));
    match (i64::try_from(min), i64::try_from(max)) {
        (Ok(min), Ok(max)) => Ok((min, max)),
        // Out of i64 only through the ±1 of a strict comparison: the range is empty.
        _ => Ok((i64::MAX, i64::MIN)),
    }
}

/// `condition` with every time comparison removed, as InfluxDB's `ConditionExpr` leaves it:
/// an `AND` that loses one side becomes the other side, parentheses that lose their content
/// vanish, outer parentheses are dropped, and a remaining bare `true` is no condition.
pub fn condition_without_time(condition: Option<&Expr>) -> Option<Expr> {
    let rest = strip_time(condition?)?;
    let rest = match rest {
        Expr::Paren(inner) => *inner,
        other => other,
    };
    match rest {
        Expr::BooleanLiteral(true) => None,
        other => Some(other),
    }
}

/// Bounds in `i128` so that `t + 1` and `t - 1` never overflow.
#[derive(Default)]
struct Bounds {
    min: Option<i128>,
    max: Option<i128>,
}

impl Bounds {
    fn raise_min(&mut self, v: i128) {
        self.min = Some(self.min.map_or(v, |m| m.max(v)));
    }

    fn lower_max(&mut self, v: i128) {
        self.max = Some(self.max.map_or(v, |m| m.min(v)));
    }
}

/// Walks `AND`/`OR`/parentheses, narrowing `bounds`; returns whether a time comparison was
/// found (so that an enclosing `OR` can refuse it).
fn collect(expr: &Expr, now: i64, bounds: &mut Bounds) -> Result<bool, ConditionError> {
    match expr {
        Expr::BinaryExpr { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let left = collect(lhs, now, bounds)?;
            let right = collect(rhs, now, bounds)?;
            if *op == BinaryOp::Or && (left || right) {
                return Err(ConditionError::TimeInOr);
            }
            Ok(left || right)
        }
        Expr::BinaryExpr { op, lhs, rhs } => {
            if lhs.is_time_ref() {
                bound(*op, rhs, now, bounds)?;
                Ok(true)
            } else if rhs.is_time_ref() {
                bound(flip(*op), lhs, now, bounds)?;
                Ok(true)
            } else {
                Ok(false)
            }
        }
        Expr::Paren(inner) => collect(inner, now, bounds),
        Expr::BooleanLiteral(_) => Ok(false),
        other => Err(ConditionError::InvalidCondition(other.to_string())),
    }
}

/// `a op b` as `b op' a`.
fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::GtEq => BinaryOp::LtEq,
        other => other,
    }
}

/// Applies `time op value` to `bounds`. As in InfluxDB, the value's type is checked before
/// the operator.
fn bound(op: BinaryOp, value: &Expr, now: i64, bounds: &mut Bounds) -> Result<(), ConditionError> {
    let t = i128::from(time_value(value, now)?);
    match op {
        BinaryOp::Gt => bounds.raise_min(t + 1),
        BinaryOp::GtEq => bounds.raise_min(t),
        BinaryOp::Lt => bounds.lower_max(t - 1),
        BinaryOp::LtEq => bounds.lower_max(t),
        BinaryOp::Eq => {
            bounds.raise_min(t);
            bounds.lower_max(t);
        }
        other => return Err(ConditionError::InvalidTimeOperator(other)),
    }
    Ok(())
}

/// A reduced operand of a time comparison.
#[derive(Clone, Copy)]
enum Value {
    Time(i128),
    Duration(i128),
    Integer(i128),
    Number(f64),
}

/// The nanosecond value `time` is compared with.
fn time_value(expr: &Expr, now: i64) -> Result<i64, ConditionError> {
    let value = match reduce(expr, now)? {
        Some(v) => v,
        None => return Err(ConditionError::IncompatibleTime(go_type(expr))),
    };
    match value {
        Value::Time(t) => {
            if t > i128::from(MAX_TIME_LITERAL) {
                Err(ConditionError::TimeOverflow(format_rfc3339_seconds(t)))
            } else if t < i128::from(MIN_TIME_LITERAL) {
                Err(ConditionError::TimeUnderflow(format_rfc3339_seconds(t)))
            } else {
                Ok(t as i64)
            }
        }
        Value::Duration(v) | Value::Integer(v) => {
            i64::try_from(v).map_err(|_| ConditionError::ArithmeticOverflow)
        }
        // Go's int64(float): we saturate (and NaN is 0).
        Value::Number(f) => Ok(f as i64),
    }
}

/// Evaluates what InfluxDB's `Reduce` evaluates in a time comparison; `None` when the
/// expression is not a time, number or duration.
fn reduce(expr: &Expr, now: i64) -> Result<Option<Value>, ConditionError> {
    Ok(Some(match expr {
        Expr::Now => Value::Time(i128::from(now)),
        Expr::TimeLiteral(t) => Value::Time(i128::from(*t)),
        Expr::StringLiteral(s) if is_time_string(s) => {
            Value::Time(i128::from(parse_time_string(s)?))
        }
        Expr::DurationLiteral(d) => Value::Duration(i128::from(*d)),
        Expr::IntegerLiteral(i) => Value::Integer(i128::from(*i)),
        Expr::NumberLiteral(f) => Value::Number(*f),
        Expr::Paren(inner) => return reduce(inner, now),
        Expr::BinaryExpr { op, lhs, rhs } => {
            let (Some(l), Some(r)) = (reduce(lhs, now)?, reduce(rhs, now)?) else {
                return Ok(None);
            };
            return arithmetic(*op, l, r);
        }
        _ => return Ok(None),
    }))
}

/// `i64`-range check for an intermediate result.
fn fit(v: i128) -> Result<i128, ConditionError> {
    if i64::try_from(v).is_ok() {
        Ok(v)
    } else {
        Err(ConditionError::ArithmeticOverflow)
    }
}

fn arithmetic(op: BinaryOp, l: Value, r: Value) -> Result<Option<Value>, ConditionError> {
    use BinaryOp::{Add, Div, Mod, Mul, Sub};
    use Value::{Duration, Integer, Number, Time};
    Ok(Some(match (op, l, r) {
        (Add, Time(t), Duration(d) | Integer(d)) | (Add, Duration(d) | Integer(d), Time(t)) => {
            Time(fit(t + d)?)
        }
        (Sub, Time(t), Duration(d) | Integer(d)) => Time(fit(t - d)?),
        (Sub, Time(a), Time(b)) => Duration(fit(a - b)?),
        (Add | Sub | Mul | Div | Mod, Duration(a), Duration(b) | Integer(b))
        | (Add | Sub | Mul, Integer(a), Duration(b)) => match int_op(op, a, b)? {
            Some(v) => Duration(v),
            None => return Ok(None),
        },
        // InfluxQL divides integers as floats (`1 / 2` is 0.5, `x / 0` is 0).
        (Div, Integer(a), Integer(b)) => Number(if b == 0 { 0.0 } else { a as f64 / b as f64 }),
        (Add | Sub | Mul | Mod, Integer(a), Integer(b)) => match int_op(op, a, b)? {
            Some(v) => Integer(v),
            None => return Ok(None),
        },
        (_, Number(a), Number(b)) => float_op(op, a, b),
        (_, Number(a), Integer(b)) => float_op(op, a, b as f64),
        (_, Integer(a), Number(b)) => float_op(op, a as f64, b),
        _ => return Ok(None),
    }))
}

fn int_op(op: BinaryOp, a: i128, b: i128) -> Result<Option<i128>, ConditionError> {
    let v = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a.checked_mul(b).ok_or(ConditionError::ArithmeticOverflow)?,
        BinaryOp::Div if b == 0 => 0,
        BinaryOp::Div => a / b,
        BinaryOp::Mod if b == 0 => 0,
        BinaryOp::Mod => a % b,
        _ => return Ok(None),
    };
    fit(v).map(Some)
}

fn float_op(op: BinaryOp, a: f64, b: f64) -> Value {
    Value::Number(match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0.0 => 0.0,
        BinaryOp::Div => a / b,
        BinaryOp::Mod => a % b,
        _ => f64::NAN,
    })
}

/// The Go type InfluxDB names in `invalid operation: time and %T are not compatible`.
fn go_type(expr: &Expr) -> &'static str {
    match expr {
        Expr::VarRef { .. } => "*influxql.VarRef",
        Expr::Call { .. } => "*influxql.Call",
        Expr::BinaryExpr { .. } => "*influxql.BinaryExpr",
        Expr::Paren(inner) => match **inner {
            Expr::BinaryExpr { .. } | Expr::Paren(_) => "*influxql.ParenExpr",
            ref other => go_type(other),
        },
        Expr::NumberLiteral(_) => "*influxql.NumberLiteral",
        Expr::IntegerLiteral(_) => "*influxql.IntegerLiteral",
        Expr::StringLiteral(_) => "*influxql.StringLiteral",
        Expr::BooleanLiteral(_) => "*influxql.BooleanLiteral",
        Expr::DurationLiteral(_) => "*influxql.DurationLiteral",
        Expr::TimeLiteral(_) => "*influxql.TimeLiteral",
        Expr::RegexLiteral(_) => "*influxql.RegexLiteral",
        Expr::Wildcard { .. } => "*influxql.Wildcard",
        Expr::Now => "*influxql.Call",
    }
}

/// `expr` without time comparisons; `None` when nothing is left.
fn strip_time(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::BinaryExpr { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            match (strip_time(lhs), strip_time(rhs)) {
                (Some(l), Some(r)) => Some(Expr::binary(*op, l, r)),
                (Some(side), None) | (None, Some(side)) => Some(side),
                (None, None) => None,
            }
        }
        Expr::BinaryExpr { lhs, rhs, .. } if lhs.is_time_ref() || rhs.is_time_ref() => None,
        Expr::Paren(inner) => strip_time(inner).map(|e| Expr::Paren(Box::new(e))),
        other => Some(other.clone()),
    }
}
