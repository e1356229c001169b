//! Evaluating InfluxQL expressions over one row: `WHERE` conditions on fields (and tags) and
//! the arithmetic of `SELECT` lists.
//!
//! An [`Expr`] is compiled once into an [`Eval`] whose variable references are slot numbers
//! into the row being evaluated, and whose regular expressions are compiled; evaluation then
//! allocates nothing but the strings it returns.
//!
//! Semantics are InfluxDB 1.x's: arithmetic on two integers stays an integer except `/`, which
//! is a float; mixing integers and floats gives a float; dividing by zero gives 0; a missing
//! value (`None`) makes an arithmetic result missing and a comparison false.

use regex::Regex;

use super::statement::QueryError;
use crate::influxql::{BinaryOp, Expr};
use crate::model::{FieldValue, OwnedFieldValue};

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Eval {
    Slot(usize),
    Const(Option<OwnedFieldValue>),
    Binary(BinaryOp, Box<Eval>, Box<Eval>),
    Regex {
        operand: Box<Eval>,
        re: Regex,
        negate: bool,
    },
}

impl Eval {
    /// Compiles `e`; `slot` names the slot of a variable reference (`None`: an unknown name,
    /// which evaluates to a missing value as in InfluxDB).
    pub fn compile(
        e: &Expr,
        slot: &mut dyn FnMut(&str) -> Option<usize>,
    ) -> Result<Eval, QueryError> {
        Ok(match e {
            Expr::Paren(inner) => Eval::compile(inner, slot)?,
            Expr::VarRef { name, .. } => match slot(name) {
                Some(i) => Eval::Slot(i),
                None => Eval::Const(None),
            },
            Expr::NumberLiteral(f) => Eval::Const(Some(FieldValue::Float(*f))),
            Expr::IntegerLiteral(i) => Eval::Const(Some(FieldValue::Integer(*i))),
            Expr::StringLiteral(s) => Eval::Const(Some(FieldValue::String(s.clone().into()))),
            Expr::BooleanLiteral(b) => Eval::Const(Some(FieldValue::Boolean(*b))),
            Expr::DurationLiteral(d) | Expr::TimeLiteral(d) => {
                Eval::Const(Some(FieldValue::Integer(*d)))
            }
            Expr::BinaryExpr { op, lhs, rhs } if op.is_regex() => {
                let Expr::RegexLiteral(pattern) = rhs.as_ref() else {
                    return Err(QueryError::Invalid(format!(
                        "invalid operation: {e} (the right side of {} must be a regular \
                         expression)",
                        op.as_str()
                    )));
                };
                Eval::Regex {
                    operand: Box::new(Eval::compile(lhs, slot)?),
                    re: compile_regex(pattern)?,
                    negate: *op == BinaryOp::NotEqRegex,
                }
            }
            Expr::BinaryExpr { op, lhs, rhs } => Eval::Binary(
                *op,
                Box::new(Eval::compile(lhs, slot)?),
                Box::new(Eval::compile(rhs, slot)?),
            ),
            other => {
                return Err(QueryError::Unsupported(format!(
                    "the expression {other} here"
                )))
            }
        })
    }

    /// The value of the expression over `row`.
    pub fn value(&self, row: &[Option<OwnedFieldValue>]) -> Option<OwnedFieldValue> {
        match self {
            Eval::Slot(i) => row.get(*i).cloned().flatten(),
            Eval::Const(v) => v.clone(),
            Eval::Regex { .. } => Some(FieldValue::Boolean(self.truth(row))),
            Eval::Binary(op, l, r) => match op {
                BinaryOp::And | BinaryOp::Or => Some(FieldValue::Boolean(self.truth(row))),
                op if op.is_boolean() => Some(FieldValue::Boolean(self.truth(row))),
                op => arithmetic(*op, l.value(row)?, r.value(row)?),
            },
        }
    }

    /// Whether the expression, as a condition, holds for `row`.
    pub fn truth(&self, row: &[Option<OwnedFieldValue>]) -> bool {
        match self {
            Eval::Binary(BinaryOp::And, l, r) => l.truth(row) && r.truth(row),
            Eval::Binary(BinaryOp::Or, l, r) => l.truth(row) || r.truth(row),
            Eval::Binary(op, l, r) if op.is_boolean() => match (l.value(row), r.value(row)) {
                (Some(a), Some(b)) => compare(*op, &a, &b),
                _ => false,
            },
            Eval::Regex {
                operand,
                re,
                negate,
            } => match operand.value(row) {
                Some(FieldValue::String(s)) => re.is_match(&s) != *negate,
                // A missing tag is the empty string; a missing field matches nothing.
                None => *negate,
                Some(_) => false,
            },
            other => matches!(other.value(row), Some(FieldValue::Boolean(true))),
        }
    }
}

pub fn compile_regex(pattern: &str) -> Result<Regex, QueryError> {
    Regex::new(pattern)
        .map_err(|e| QueryError::Invalid(format!("invalid regular expression /{pattern}/: {e}")))
}

fn compare(op: BinaryOp, a: &OwnedFieldValue, b: &OwnedFieldValue) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (FieldValue::String(x), FieldValue::String(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => {
            return match op {
                BinaryOp::Eq => x == y,
                BinaryOp::NotEq => x != y,
                _ => false,
            }
        }
        (FieldValue::Integer(x), FieldValue::Integer(y)) => Some(x.cmp(y)),
        (FieldValue::Unsigned(x), FieldValue::Unsigned(y)) => Some(x.cmp(y)),
        (x, y) => match (number(x), number(y)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    };
    let Some(ord) = ord else { return false };
    match op {
        BinaryOp::Eq => ord == Ordering::Equal,
        BinaryOp::NotEq => ord != Ordering::Equal,
        BinaryOp::Lt => ord == Ordering::Less,
        BinaryOp::LtEq => ord != Ordering::Greater,
        BinaryOp::Gt => ord == Ordering::Greater,
        BinaryOp::GtEq => ord != Ordering::Less,
        _ => false,
    }
}

fn number(v: &OwnedFieldValue) -> Option<f64> {
    match v {
        FieldValue::Float(x) => Some(*x),
        FieldValue::Integer(x) => Some(*x as f64),
        FieldValue::Unsigned(x) => Some(*x as f64),
        _ => None,
    }
}

fn arithmetic(op: BinaryOp, a: OwnedFieldValue, b: OwnedFieldValue) -> Option<OwnedFieldValue> {
    use FieldValue::{Boolean, Float, Integer, Unsigned};
    Some(match (a, b) {
        (Integer(x), Integer(y)) => match op {
            BinaryOp::Add => Integer(x.wrapping_add(y)),
            BinaryOp::Sub => Integer(x.wrapping_sub(y)),
            BinaryOp::Mul => Integer(x.wrapping_mul(y)),
            BinaryOp::Div => Float(if y == 0 { 0.0 } else { x as f64 / y as f64 }),
            BinaryOp::Mod => Integer(if y == 0 { 0 } else { x.wrapping_rem(y) }),
            BinaryOp::BitAnd => Integer(x & y),
            BinaryOp::BitOr => Integer(x | y),
            BinaryOp::BitXor => Integer(x ^ y),
            _ => return None,
        },
        (Unsigned(x), Unsigned(y)) => match op {
            BinaryOp::Add => Unsigned(x.wrapping_add(y)),
            BinaryOp::Sub => Unsigned(x.wrapping_sub(y)),
            BinaryOp::Mul => Unsigned(x.wrapping_mul(y)),
            BinaryOp::Div => Float(if y == 0 { 0.0 } else { x as f64 / y as f64 }),
            BinaryOp::Mod => Unsigned(if y == 0 { 0 } else { x % y }),
            BinaryOp::BitAnd => Unsigned(x & y),
            BinaryOp::BitOr => Unsigned(x | y),
            BinaryOp::BitXor => Unsigned(x ^ y),
            _ => return None,
        },
        (Boolean(x), Boolean(y)) => match op {
            BinaryOp::BitAnd => Boolean(x & y),
            BinaryOp::BitOr => Boolean(x | y),
            BinaryOp::BitXor => Boolean(x ^ y),
            _ => return None,
        },
        (a, b) => {
            let (x, y) = (number(&a)?, number(&b)?);
            Float(match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div if y == 0.0 => 0.0,
                BinaryOp::Div => x / y,
                BinaryOp::Mod if y == 0.0 => 0.0,
                BinaryOp::Mod => x % y,
                _ => return None,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::influxql::parse_expr;

    fn eval(
        text: &str,
        names: &[&str],
        row: &[Option<OwnedFieldValue>],
    ) -> Option<OwnedFieldValue> {
        let e = parse_expr(text).unwrap();
        let ev = Eval::compile(&e, &mut |n| names.iter().position(|x| *x == n)).unwrap();
        ev.value(row)
    }

    #[test]
    fn arithmetic_keeps_influxdb_types() {
        let row = [Some(FieldValue::Integer(7)), Some(FieldValue::Float(2.0))];
        let names = ["a", "b"];
        assert_eq!(eval("a + 1", &names, &row), Some(FieldValue::Integer(8)));
        assert_eq!(eval("a / 2", &names, &row), Some(FieldValue::Float(3.5)));
        assert_eq!(eval("a * b", &names, &row), Some(FieldValue::Float(14.0)));
        assert_eq!(eval("a / 0", &names, &row), Some(FieldValue::Float(0.0)));
        assert_eq!(
            eval("(a - 1) % 4", &names, &row),
            Some(FieldValue::Integer(2))
        );
        assert_eq!(eval("a + missing", &names, &row), None);
    }

    #[test]
    fn conditions_compare_across_numeric_types_and_match_regexes() {
        let names = ["v", "s"];
        let row = [
            Some(FieldValue::Integer(10)),
            Some(FieldValue::String("north-3".into())),
        ];
        let truth = |text: &str| {
            let e = parse_expr(text).unwrap();
            Eval::compile(&e, &mut |n| names.iter().position(|x| *x == n))
                .unwrap()
                .truth(&row)
        };
        assert!(truth("v > 9.5"));
        assert!(!truth("v < 10"));
        assert!(truth("v >= 10 AND s =~ /^north/"));
        assert!(truth("v = 3 OR s !~ /south/"));
        assert!(!truth("missing > 0"));
        assert!(truth("s = 'north-3'"));
        assert!(!truth("s = 10"));
    }

    #[test]
    fn bad_regex_is_a_clear_error() {
        let e = parse_expr("s =~ /a(/").unwrap();
        let err = Eval::compile(&e, &mut |_| Some(0)).unwrap_err();
        assert!(
            err.to_string().contains("invalid regular expression"),
            "{err}"
        );
    }
}
