//! Unit tests: one per statement form and clause with the exact tree expected, InfluxDB's
//! error messages and positions (most cases are InfluxDB 1.x's own `parser_test.go` cases),
//! time-range extraction and the printing helpers.

use super::lexer::{scan, Token};
use super::timestamp::{civil_from_days, days_from_civil};
use super::*;

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;
const W: i64 = 7 * D;

// ------------------------------------------------------------------------------ helpers

fn var(name: &str) -> Expr {
    Expr::var(name)
}

fn typed(name: &str, t: VarType) -> Expr {
    Expr::VarRef {
        name: name.to_string(),
        type_hint: Some(t),
    }
}

fn int(v: i64) -> Expr {
    Expr::IntegerLiteral(v)
}

fn num(v: f64) -> Expr {
    Expr::NumberLiteral(v)
}

fn string(s: &str) -> Expr {
    Expr::StringLiteral(s.to_string())
}

fn dur(ns: i64) -> Expr {
    Expr::DurationLiteral(ns)
}

fn regex(re: &str) -> Expr {
    Expr::RegexLiteral(re.to_string())
}

fn bin(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr::binary(op, lhs, rhs)
}

fn paren(e: Expr) -> Expr {
    Expr::Paren(Box::new(e))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        name: name.to_string(),
        args,
    }
}

fn neg(e: Expr) -> Expr {
    bin(BinaryOp::Mul, int(-1), e)
}

fn star() -> Expr {
    Expr::Wildcard { type_hint: None }
}

fn field(expr: Expr) -> Field {
    Field { expr, alias: None }
}

fn aliased(expr: Expr, alias: &str) -> Field {
    Field {
        expr,
        alias: Some(alias.to_string()),
    }
}

fn m(name: &str) -> Source {
    Source {
        database: None,
        retention_policy: None,
        measurement: MeasurementName::Name(name.to_string()),
    }
}

fn qualified(db: Option<&str>, rp: Option<&str>, measurement: MeasurementName) -> Source {
    Source {
        database: db.map(str::to_string),
        retention_policy: rp.map(str::to_string),
        measurement,
    }
}

fn name(n: &str) -> MeasurementName {
    MeasurementName::Name(n.to_string())
}

fn re_name(re: &str) -> MeasurementName {
    MeasurementName::Regex(re.to_string())
}

/// `SELECT <fields> FROM <sources>` with every other clause at its default.
fn select(fields: Vec<Field>, sources: Vec<Source>) -> SelectStatement {
    SelectStatement {
        fields,
        sources,
        ..SelectStatement::default()
    }
}

/// `SELECT <field> FROM m WHERE <condition>`.
fn select_where(condition: Expr) -> SelectStatement {
    SelectStatement {
        condition: Some(condition),
        ..select(vec![field(var("value"))], vec![m("m")])
    }
}

/// Parses `src` as one statement, compares with `expected`, and checks that printing it
/// parses back to the same statement.
#[track_caller]
fn check(src: &str, expected: Statement) {
    let query = parse_query(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(query.statements, vec![expected], "parsing {src:?}");
    let printed = query.to_string();
    let again = parse_query(&printed).unwrap_or_else(|e| panic!("reparsing {printed:?}: {e}"));
    assert_eq!(again, query, "round trip through {printed:?}");
}

#[track_caller]
fn check_select(src: &str, expected: SelectStatement) {
    check(src, Statement::Select(expected));
}

/// The condition of `SELECT value FROM m WHERE <cond>`.
#[track_caller]
fn check_where(cond: &str, expected: Expr) {
    check_select(
        &format!("SELECT value FROM m WHERE {cond}"),
        select_where(expected),
    );
}

/// Parses `src`, expecting InfluxDB's error text `message`.
#[track_caller]
fn check_err(src: &str, message: &str) {
    match parse_query(src) {
        Ok(q) => panic!("{src:?} parsed as {q:?}, expected error {message:?}"),
        Err(e) => assert_eq!(e.to_string(), message, "error for {src:?}"),
    }
}

#[track_caller]
fn err(src: &str) -> ParseError {
    match parse_query(src) {
        Ok(q) => panic!("{src:?} parsed as {q:?}"),
        Err(e) => e,
    }
}

/// Time bounds of `SELECT value FROM m WHERE <cond>` at `now`.
#[track_caller]
fn range(cond: &str, now: i64) -> Result<(i64, i64), ConditionError> {
    let q = parse_query(&format!("SELECT value FROM m WHERE {cond}")).unwrap();
    match &q.statements[0] {
        Statement::Select(s) => s.time_range(now),
        other => panic!("not a select: {other:?}"),
    }
}

#[track_caller]
fn range_err(cond: &str) -> String {
    range(cond, 0).unwrap_err().to_string()
}

/// 2026-11-01T00:00:00Z.
const NOV_1_2026: i64 = 1_793_491_200_000_000_000;
/// A fixed `now()`: 2000-01-01T00:00:00Z.
const NOW: i64 = 946_684_800_000_000_000;

// ------------------------------------------------------------------------------ lexer

#[test]
fn keywords_are_case_insensitive() {
    let expected = select(vec![field(star())], vec![m("cpu")]);
    check_select("select * from cpu", expected.clone());
    check_select("SeLeCt * FrOm cpu", expected);
}

#[test]
fn comments_are_whitespace() {
    check_select(
        "SELECT /* all of it */ value -- the field\nFROM cpu -- done",
        select(vec![field(var("value"))], vec![m("cpu")]),
    );
}

#[test]
fn quoted_identifiers_unescape() {
    check_select(
        r#"SELECT "a \"b\" \\ c", "from", "x
y" FROM "my measurement""#
            .replace('\n', "\\n")
            .as_str(),
        select(
            vec![
                field(var("a \"b\" \\ c")),
                field(var("from")),
                field(var("x\ny")),
            ],
            vec![m("my measurement")],
        ),
    );
}

#[test]
fn string_literals_unescape() {
    check_where(
        r#"a = 'it\'s' AND b = 'back\\slash' AND c = 'line\nbreak' AND d = 'say \"hi\"'"#,
        bin(
            BinaryOp::And,
            bin(
                BinaryOp::And,
                bin(
                    BinaryOp::And,
                    bin(BinaryOp::Eq, var("a"), string("it's")),
                    bin(BinaryOp::Eq, var("b"), string("back\\slash")),
                ),
                bin(BinaryOp::Eq, var("c"), string("line\nbreak")),
            ),
            bin(BinaryOp::Eq, var("d"), string("say \"hi\"")),
        ),
    );
}

#[test]
fn number_literals() {
    for (text, expected) in [
        ("1", int(1)),
        ("0", int(0)),
        ("9223372036854775807", int(i64::MAX)),
        ("-9223372036854775808", int(i64::MIN)),
        ("-5", int(-5)),
        ("1.5", num(1.5)),
        (".5", num(0.5)),
        ("-0.25", num(-0.25)),
        ("100.0", num(100.0)),
    ] {
        check_where(
            &format!("v = {text}"),
            bin(BinaryOp::Eq, var("v"), expected),
        );
    }
}

#[test]
fn duration_literals_in_every_unit() {
    for (text, ns) in [
        ("1ns", NS),
        ("7u", 7 * US),
        ("7µ", 7 * US),
        ("15ms", 15 * MS),
        ("10s", 10 * S),
        ("5m", 5 * M),
        ("2h", 2 * H),
        ("3d", 3 * D),
        ("1w", W),
        ("1h30m", H + 30 * M),
        ("1732406400000ms", 1_732_406_400_000 * MS),
        ("-5m", -5 * M),
    ] {
        check_where(
            &format!("time > {text}"),
            bin(BinaryOp::Gt, var("time"), dur(ns)),
        );
    }
}

#[test]
fn operators_lex_as_influxdb_does() {
    let ops = [
        ("=", BinaryOp::Eq),
        ("!=", BinaryOp::NotEq),
        ("<>", BinaryOp::NotEq),
        ("<", BinaryOp::Lt),
        ("<=", BinaryOp::LtEq),
        (">", BinaryOp::Gt),
        (">=", BinaryOp::GtEq),
    ];
    for (text, op) in ops {
        check_where(&format!("a {text} 1"), bin(op, var("a"), int(1)));
    }
    // No blanks needed.
    check_where("a>=1", bin(BinaryOp::GtEq, var("a"), int(1)));
}

#[test]
fn scanner_tokens() {
    let tokens = |src: &str| {
        let mut pos = 0;
        let mut out = Vec::new();
        loop {
            let (tok, end) = scan(src, pos).unwrap();
            if tok == Token::Eof {
                return out;
            }
            if !tok.is_trivia() {
                out.push(tok.found_text());
            }
            pos = end;
        }
    };
    assert_eq!(
        tokens("select 1. 1.5 .5 10m 1x2 $p a.b \"q\" 'str' =~ !~ :: ; ! @"),
        [
            "SELECT", "1", "1.5", ".5", "10m", "1x2", "$p", "a", ".", "b", "q", "str", "=~", "!~",
            "::", ";", "!", "@"
        ]
    );
}

// ------------------------------------------------------------------------------ SELECT

#[test]
fn select_fields_aliases_and_wildcards() {
    check_select(
        r#"SELECT *, value AS v, "other field" AS "my alias", *::field, host::tag, value::float FROM cpu"#,
        select(
            vec![
                field(star()),
                aliased(var("value"), "v"),
                aliased(var("other field"), "my alias"),
                field(Expr::Wildcard {
                    type_hint: Some(VarType::Field),
                }),
                field(typed("host", VarType::Tag)),
                field(typed("value", VarType::Float)),
            ],
            vec![m("cpu")],
        ),
    );
    check_select(
        "SELECT /^usage_/ FROM cpu",
        select(vec![field(regex("^usage_"))], vec![m("cpu")]),
    );
}

#[test]
fn select_every_aggregate_and_selector() {
    for function in [
        "count", "sum", "mean", "median", "mode", "spread", "stddev", "min", "max", "first",
        "last", "distinct",
    ] {
        check_select(
            &format!("SELECT {}(value) FROM cpu", function.to_uppercase()),
            select(
                vec![field(call(function, vec![var("value")]))],
                vec![m("cpu")],
            ),
        );
    }
    check_select(
        "SELECT percentile(value, 95), integral(value), integral(value, 1s), count(*), \
         count(/re/), COUNT(DISTINCT(value)), DISTINCT host FROM cpu",
        select(
            vec![
                field(call("percentile", vec![var("value"), int(95)])),
                field(call("integral", vec![var("value")])),
                field(call("integral", vec![var("value"), dur(S)])),
                field(call("count", vec![star()])),
                field(call("count", vec![regex("re")])),
                field(call("count", vec![call("distinct", vec![var("value")])])),
                field(call("distinct", vec![var("host")])),
            ],
            vec![m("cpu")],
        ),
    );
}

#[test]
fn select_arithmetic_precedence_and_unary_minus() {
    // (a + b) * 2 - -c / 3 % 4: * / % bind tighter than + -, all left-associative.
    check_select(
        "SELECT (a + b) * 2 - -c / 3 % 4 AS x FROM m",
        select(
            vec![aliased(
                bin(
                    BinaryOp::Sub,
                    bin(
                        BinaryOp::Mul,
                        paren(bin(BinaryOp::Add, var("a"), var("b"))),
                        int(2),
                    ),
                    bin(
                        BinaryOp::Mod,
                        bin(BinaryOp::Div, neg(var("c")), int(3)),
                        int(4),
                    ),
                ),
                "x",
            )],
            vec![m("m")],
        ),
    );
    check_select(
        "SELECT a - b - c, a + b * c, -(a), -max(b), +a, 2 * -1.5 FROM m",
        select(
            vec![
                field(bin(
                    BinaryOp::Sub,
                    bin(BinaryOp::Sub, var("a"), var("b")),
                    var("c"),
                )),
                field(bin(
                    BinaryOp::Add,
                    var("a"),
                    bin(BinaryOp::Mul, var("b"), var("c")),
                )),
                field(neg(paren(var("a")))),
                field(neg(call("max", vec![var("b")]))),
                field(var("a")),
                field(bin(BinaryOp::Mul, int(2), num(-1.5))),
            ],
            vec![m("m")],
        ),
    );
    check_select(
        "SELECT a & b | c ^ d FROM m",
        select(
            vec![field(bin(
                BinaryOp::BitXor,
                bin(
                    BinaryOp::BitOr,
                    bin(BinaryOp::BitAnd, var("a"), var("b")),
                    var("c"),
                ),
                var("d"),
            ))],
            vec![m("m")],
        ),
    );
}

#[test]
fn select_call_needs_adjacent_paren() {
    // As in InfluxDB, `mean (x)` is not a call.
    check_err(
        "SELECT mean (value) FROM m",
        "found (, expected FROM at line 1, char 13",
    );
}

#[test]
fn from_forms() {
    check_select(
        r#"SELECT v FROM cpu, "my db"."my rp"."my m", db..m2, rp.m3, /^disk/, db.rp./x/, rp./y/, db../z/"#,
        select(
            vec![field(var("v"))],
            vec![
                m("cpu"),
                qualified(Some("my db"), Some("my rp"), name("my m")),
                qualified(Some("db"), None, name("m2")),
                qualified(None, Some("rp"), name("m3")),
                qualified(None, None, re_name("^disk")),
                qualified(Some("db"), Some("rp"), re_name("x")),
                qualified(None, Some("rp"), re_name("y")),
                qualified(Some("db"), None, re_name("z")),
            ],
        ),
    );
}

#[test]
fn where_time_comparisons_stay_as_written() {
    check_where(
        "time >= '2026-11-01T00:00:00Z' AND time < now() - 1h",
        bin(
            BinaryOp::And,
            bin(BinaryOp::GtEq, var("time"), string("2026-11-01T00:00:00Z")),
            bin(
                BinaryOp::Lt,
                var("time"),
                bin(BinaryOp::Sub, Expr::Now, dur(H)),
            ),
        ),
    );
}

#[test]
fn where_tag_comparisons() {
    check_where(
        r"host = 'a' AND host != 'b' AND host <> 'c' AND host =~ /^web\d+$/ AND host !~ /x\/y/",
        bin(
            BinaryOp::And,
            bin(
                BinaryOp::And,
                bin(
                    BinaryOp::And,
                    bin(
                        BinaryOp::And,
                        bin(BinaryOp::Eq, var("host"), string("a")),
                        bin(BinaryOp::NotEq, var("host"), string("b")),
                    ),
                    bin(BinaryOp::NotEq, var("host"), string("c")),
                ),
                bin(BinaryOp::EqRegex, var("host"), regex(r"^web\d+$")),
            ),
            bin(BinaryOp::NotEqRegex, var("host"), regex("x/y")),
        ),
    );
}

#[test]
fn where_field_comparisons() {
    check_where(
        "usage > 90.5 OR ok = true OR ok = FALSE OR status = 'down' OR count <= 3",
        bin(
            BinaryOp::Or,
            bin(
                BinaryOp::Or,
                bin(
                    BinaryOp::Or,
                    bin(
                        BinaryOp::Or,
                        bin(BinaryOp::Gt, var("usage"), num(90.5)),
                        bin(BinaryOp::Eq, var("ok"), Expr::BooleanLiteral(true)),
                    ),
                    bin(BinaryOp::Eq, var("ok"), Expr::BooleanLiteral(false)),
                ),
                bin(BinaryOp::Eq, var("status"), string("down")),
            ),
            bin(BinaryOp::LtEq, var("count"), int(3)),
        ),
    );
}

#[test]
fn where_and_binds_tighter_than_or() {
    let (a, b, c) = (
        bin(BinaryOp::Eq, var("a"), int(1)),
        bin(BinaryOp::Eq, var("b"), int(2)),
        bin(BinaryOp::Eq, var("c"), int(3)),
    );
    check_where(
        "a = 1 OR b = 2 AND c = 3",
        bin(
            BinaryOp::Or,
            a.clone(),
            bin(BinaryOp::And, b.clone(), c.clone()),
        ),
    );
    check_where(
        "(a = 1 OR b = 2) AND c = 3",
        bin(
            BinaryOp::And,
            paren(bin(BinaryOp::Or, a.clone(), b.clone())),
            c.clone(),
        ),
    );
    check_where(
        "a = 1 AND b = 2 OR c = 3",
        bin(BinaryOp::Or, bin(BinaryOp::And, a, b), c),
    );
    // Arithmetic inside comparisons.
    check_where(
        "a + 1 > b * 2",
        bin(
            BinaryOp::Gt,
            bin(BinaryOp::Add, var("a"), int(1)),
            bin(BinaryOp::Mul, var("b"), int(2)),
        ),
    );
}

#[test]
fn group_by_time_tags_wildcard_regex() {
    let base = || select(vec![field(call("mean", vec![var("v")]))], vec![m("m")]);
    let time = |interval_ns, offset| Dimension::Time {
        interval_ns,
        offset,
    };
    for (clause, dimensions) in [
        ("time(10m)", vec![time(10 * M, TimeOffset::Duration(0))]),
        (
            "time(10m, 5m)",
            vec![time(10 * M, TimeOffset::Duration(5 * M))],
        ),
        (
            "time(10m, -5m)",
            vec![time(10 * M, TimeOffset::Duration(-5 * M))],
        ),
        ("time(1h, now())", vec![time(H, TimeOffset::Now)]),
        (
            r#"time(1d), host, "data center""#,
            vec![
                time(D, TimeOffset::Duration(0)),
                Dimension::Tag("host".into()),
                Dimension::Tag("data center".into()),
            ],
        ),
        ("*", vec![Dimension::Wildcard]),
        (
            "/^reg/, time(5s)",
            vec![
                Dimension::Regex("^reg".into()),
                time(5 * S, TimeOffset::Duration(0)),
            ],
        ),
    ] {
        check_select(
            &format!("SELECT mean(v) FROM m GROUP BY {clause}"),
            SelectStatement {
                dimensions,
                ..base()
            },
        );
    }
}

#[test]
fn fill_options() {
    for (clause, fill) in [
        ("fill(null)", Fill::Null),
        ("fill(none)", Fill::None),
        ("fill(previous)", Fill::Previous),
        ("fill(linear)", Fill::Linear),
        ("FILL(NONE)", Fill::None),
        ("fill(0)", Fill::Number(0.0)),
        ("fill(100)", Fill::Number(100.0)),
        ("fill(-1.5)", Fill::Number(-1.5)),
    ] {
        check_select(
            &format!("SELECT mean(v) FROM m GROUP BY time(1m) {clause}"),
            SelectStatement {
                dimensions: vec![Dimension::Time {
                    interval_ns: M,
                    offset: TimeOffset::Duration(0),
                }],
                fill,
                ..select(vec![field(call("mean", vec![var("v")]))], vec![m("m")])
            },
        );
    }
}

#[test]
fn order_limit_offset_slimit_soffset_tz() {
    let base = || select(vec![field(var("v"))], vec![m("m")]);
    check_select(
        "SELECT v FROM m ORDER BY time DESC LIMIT 10 OFFSET 20 SLIMIT 3 SOFFSET 4 tz('Asia/Shanghai')",
        SelectStatement {
            order_desc: true,
            limit: 10,
            offset: 20,
            slimit: 3,
            soffset: 4,
            timezone: Some("Asia/Shanghai".into()),
            ..base()
        },
    );
    check_select(
        "SELECT v FROM m ORDER BY DESC",
        SelectStatement {
            order_desc: true,
            ..base()
        },
    );
    check_select("SELECT v FROM m ORDER BY time ASC", base());
    check_select("SELECT v FROM m ORDER BY ASC LIMIT 0", base());
}

#[test]
fn grafana_query() {
    let src = r#"SELECT mean("value") AS "mean_value" FROM "autogen"."cpu" WHERE ("host" =~ /^server1$/) and time >= 1732406400000ms and time <= 1732410000000ms GROUP BY time(10s), "host" fill(null) ORDER BY time DESC LIMIT 100 tz('Asia/Shanghai')"#;
    let expected = SelectStatement {
        fields: vec![aliased(call("mean", vec![var("value")]), "mean_value")],
        sources: vec![qualified(None, Some("autogen"), name("cpu"))],
        condition: Some(bin(
            BinaryOp::And,
            bin(
                BinaryOp::And,
                paren(bin(BinaryOp::EqRegex, var("host"), regex("^server1$"))),
                bin(BinaryOp::GtEq, var("time"), dur(1_732_406_400_000 * MS)),
            ),
            bin(BinaryOp::LtEq, var("time"), dur(1_732_410_000_000 * MS)),
        )),
        dimensions: vec![
            Dimension::Time {
                interval_ns: 10 * S,
                offset: TimeOffset::Duration(0),
            },
            Dimension::Tag("host".into()),
        ],
        fill: Fill::Null,
        order_desc: true,
        limit: 100,
        timezone: Some("Asia/Shanghai".into()),
        ..SelectStatement::default()
    };
    check_select(src, expected.clone());
    assert_eq!(
        expected.time_range(0).unwrap(),
        (1_732_406_400_000 * MS, 1_732_410_000_000 * MS)
    );
    assert_eq!(
        expected.condition_without_time(),
        Some(bin(BinaryOp::EqRegex, var("host"), regex("^server1$")))
    );
}

#[test]
fn several_statements_and_empty_queries() {
    let q = parse_query("SHOW DATABASES; SELECT v FROM m;").unwrap();
    assert_eq!(
        q.statements,
        vec![
            Statement::ShowDatabases,
            Statement::Select(select(vec![field(var("v"))], vec![m("m")])),
        ]
    );
    assert_eq!(q.to_string(), "SHOW DATABASES; SELECT v FROM m");
    assert_eq!(parse_query("").unwrap(), Query::default());
    assert_eq!(parse_query(" ; ;; -- nothing").unwrap(), Query::default());
    check_err(
        "SHOW DATABASES SHOW DATABASES",
        "found SHOW, expected ; at line 1, char 16",
    );
}

#[test]
fn parse_statement_and_parse_expr() {
    assert_eq!(
        parse_statement("SHOW DATABASES;").unwrap(),
        Statement::ShowDatabases
    );
    assert_eq!(
        parse_statement("").unwrap_err().to_string(),
        "found EOF, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, \
         SET, KILL at line 1, char 1"
    );
    assert_eq!(
        parse_expr("now() - 10m").unwrap(),
        bin(BinaryOp::Sub, Expr::Now, dur(10 * M))
    );
    assert!(parse_expr("a b").is_err());
}

// ------------------------------------------------------------------------------ SHOW etc.

#[test]
fn show_databases_and_retention_policies() {
    check("SHOW DATABASES", Statement::ShowDatabases);
    check(
        "SHOW RETENTION POLICIES",
        Statement::ShowRetentionPolicies { database: None },
    );
    check(
        r#"show retention policies on "telegraf""#,
        Statement::ShowRetentionPolicies {
            database: Some("telegraf".into()),
        },
    );
}

#[test]
fn show_measurements() {
    check(
        "SHOW MEASUREMENTS",
        Statement::ShowMeasurements {
            database: None,
            with_measurement: None,
            condition: None,
            limit: 0,
            offset: 0,
        },
    );
    check(
        "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cpu.*/ WHERE host = 'a' LIMIT 100 OFFSET 5",
        Statement::ShowMeasurements {
            database: Some("db".into()),
            with_measurement: Some(re_name("cpu.*")),
            condition: Some(bin(BinaryOp::Eq, var("host"), string("a"))),
            limit: 100,
            offset: 5,
        },
    );
    check(
        r#"SHOW MEASUREMENTS WITH MEASUREMENT = "and/or""#,
        Statement::ShowMeasurements {
            database: None,
            with_measurement: Some(name("and/or")),
            condition: None,
            limit: 0,
            offset: 0,
        },
    );
}

#[test]
fn show_tag_keys() {
    check(
        "SHOW TAG KEYS",
        Statement::ShowTagKeys {
            database: None,
            sources: vec![],
            with_key: None,
            condition: None,
            limit: 0,
            offset: 0,
            slimit: 0,
            soffset: 0,
        },
    );
    check(
        r#"SHOW TAG KEYS ON db FROM "cpu", /^disk/ WITH KEY =~ /h.*/ WHERE region = 'eu' LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4"#,
        Statement::ShowTagKeys {
            database: Some("db".into()),
            sources: vec![m("cpu"), qualified(None, None, re_name("^disk"))],
            with_key: Some(TagKeyMatch::Regex("h.*".into())),
            condition: Some(bin(BinaryOp::Eq, var("region"), string("eu"))),
            limit: 1,
            offset: 2,
            slimit: 3,
            soffset: 4,
        },
    );
}

#[test]
fn show_tag_values_with_every_key_form() {
    for (clause, with_key) in [
        (r#"= "host""#, TagKeyMatch::Eq("host".into())),
        ("!= host", TagKeyMatch::NotEq("host".into())),
        (
            r#"IN (host, "data center")"#,
            TagKeyMatch::In(vec!["host".into(), "data center".into()]),
        ),
        ("=~ /^h/", TagKeyMatch::Regex("^h".into())),
        ("!~ /^h/", TagKeyMatch::NotRegex("^h".into())),
    ] {
        check(
            &format!("SHOW TAG VALUES FROM cpu WITH KEY {clause}"),
            Statement::ShowTagValues {
                database: None,
                sources: vec![m("cpu")],
                with_key,
                condition: None,
                limit: 0,
                offset: 0,
            },
        );
    }
    check(
        "SHOW TAG VALUES ON db WITH KEY = host WHERE region =~ /^us$/ LIMIT 10 OFFSET 1",
        Statement::ShowTagValues {
            database: Some("db".into()),
            sources: vec![],
            with_key: TagKeyMatch::Eq("host".into()),
            condition: Some(bin(BinaryOp::EqRegex, var("region"), regex("^us$"))),
            limit: 10,
            offset: 1,
        },
    );
}

#[test]
fn show_field_keys_and_series() {
    check(
        "SHOW FIELD KEYS",
        Statement::ShowFieldKeys {
            database: None,
            sources: vec![],
            limit: 0,
            offset: 0,
        },
    );
    check(
        r#"SHOW FIELD KEYS ON "db" FROM "cpu" LIMIT 5 OFFSET 1"#,
        Statement::ShowFieldKeys {
            database: Some("db".into()),
            sources: vec![m("cpu")],
            limit: 5,
            offset: 1,
        },
    );
    check(
        "SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 5 OFFSET 1",
        Statement::ShowSeries {
            database: Some("db".into()),
            sources: vec![m("cpu")],
            condition: Some(bin(BinaryOp::Eq, var("host"), string("a"))),
            limit: 5,
            offset: 1,
        },
    );
    check(
        "SHOW SERIES",
        Statement::ShowSeries {
            database: None,
            sources: vec![],
            condition: None,
            limit: 0,
            offset: 0,
        },
    );
}

#[test]
fn create_database_with_options() {
    check(
        "CREATE DATABASE city",
        Statement::CreateDatabase {
            name: "city".into(),
            duration: None,
            replication: None,
            shard_duration: None,
            rp_name: None,
        },
    );
    check(
        r#"CREATE DATABASE "my db" WITH DURATION 30d REPLICATION 1 SHARD DURATION 1d NAME "thirty days""#,
        Statement::CreateDatabase {
            name: "my db".into(),
            duration: Some(30 * D),
            replication: Some(1),
            shard_duration: Some(D),
            rp_name: Some("thirty days".into()),
        },
    );
    check(
        "CREATE DATABASE db WITH DURATION INF",
        Statement::CreateDatabase {
            name: "db".into(),
            duration: Some(0),
            replication: None,
            shard_duration: None,
            rp_name: None,
        },
    );
    check(
        "CREATE DATABASE db WITH NAME rp",
        Statement::CreateDatabase {
            name: "db".into(),
            duration: None,
            replication: None,
            shard_duration: None,
            rp_name: Some("rp".into()),
        },
    );
}

#[test]
fn drop_statements_and_delete() {
    check(
        "DROP DATABASE city",
        Statement::DropDatabase {
            name: "city".into(),
        },
    );
    check(
        r#"DROP MEASUREMENT "air quality""#,
        Statement::DropMeasurement {
            name: "air quality".into(),
        },
    );
    check(
        "DROP SERIES FROM cpu WHERE host = 'a'",
        Statement::DropSeries {
            sources: vec![m("cpu")],
            condition: Some(bin(BinaryOp::Eq, var("host"), string("a"))),
        },
    );
    check(
        "DROP SERIES WHERE host = 'a'",
        Statement::DropSeries {
            sources: vec![],
            condition: Some(bin(BinaryOp::Eq, var("host"), string("a"))),
        },
    );
    check(
        "DELETE FROM cpu, rp.mem, /^disk/",
        Statement::Delete {
            sources: vec![
                m("cpu"),
                qualified(None, Some("rp"), name("mem")),
                qualified(None, None, re_name("^disk")),
            ],
            condition: None,
        },
    );
    check(
        "DELETE WHERE time < '2026-11-01'",
        Statement::Delete {
            sources: vec![],
            condition: Some(bin(BinaryOp::Lt, var("time"), string("2026-11-01"))),
        },
    );
}

// ------------------------------------------------------------------------------ errors

#[rustfmt::skip]
#[test]
fn influxdb_error_messages_and_positions() {
    // Cases from InfluxDB 1.x's parser_test.go (positions included).
    for (src, message) in [
        ("SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8"),
        ("blah blah", "found blah, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"),
        ("SELECT field1 X", "found X, expected FROM at line 1, char 15"),
        (r#"SELECT field1 FROM "series" WHERE X +;"#, "found ;, expected identifier, string, number, bool at line 1, char 38"),
        ("SELECT field1 FROM myseries GROUP", "found EOF, expected BY at line 1, char 35"),
        ("SELECT field1 FROM myseries LIMIT", "found EOF, expected integer at line 1, char 35"),
        ("SELECT field1 FROM myseries LIMIT 10.5", "found 10.5, expected integer at line 1, char 35"),
        ("SELECT field1 FROM myseries OFFSET", "found EOF, expected integer at line 1, char 36"),
        ("SELECT field1 FROM myseries OFFSET 10.5", "found 10.5, expected integer at line 1, char 36"),
        ("SELECT field1 FROM myseries ORDER", "found EOF, expected BY at line 1, char 35"),
        ("SELECT field1 FROM myseries ORDER BY", "found EOF, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY /", "found /, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY 1", "found 1, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY time ASC,", "found EOF, expected identifier at line 1, char 47"),
        ("SELECT field1 AS", "found EOF, expected identifier at line 1, char 18"),
        ("SELECT field1 FROM 12", "found 12, expected identifier at line 1, char 20"),
        ("SELECT 10.5h FROM myseries", "found h, expected FROM at line 1, char 12"),
        ("SELECT distinct FROM myseries", "found FROM, expected identifier at line 1, char 17"),
        ("SELECT count(distinct) FROM myseries", "found ), expected (, identifier at line 1, char 22"),
        ("SELECT field1 from myseries WHERE host =~ 'asd' LIMIT 1", "found asd, expected regex at line 1, char 42"),
        ("SELECT value > 2 FROM cpu", "invalid operator > in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT value = 2 FROM cpu", "invalid operator = in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT s =~ /foo/ FROM cpu", "invalid operator =~ in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("DELETE", "found EOF, expected FROM, WHERE at line 1, char 8"),
        ("DELETE FROM", "found EOF, expected identifier at line 1, char 13"),
        ("DELETE FROM &foo.myseries", "found &, expected identifier at line 1, char 13"),
        ("DELETE FROM ^foo.myseries", "found ^, expected identifier at line 1, char 13"),
        ("DELETE FROM *foo.myseries", "found *, expected identifier at line 1, char 13"),
        ("DELETE FROM myseries WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"),
        ("DROP MEASUREMENT", "found EOF, expected identifier at line 1, char 18"),
        ("DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13"),
        ("DROP SERIES FROM", "found EOF, expected identifier at line 1, char 18"),
        ("DROP SERIES FROM src WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"),
        ("SHOW CONTINUOUS", "found EOF, expected QUERIES at line 1, char 17"),
        ("SHOW RETENTION", "found EOF, expected POLICIES at line 1, char 16"),
        ("SHOW RETENTION ON", "found ON, expected POLICIES at line 1, char 16"),
        ("SHOW RETENTION POLICIES ON", "found EOF, expected identifier at line 1, char 28"),
        ("SHOW SHARD", "found EOF, expected GROUPS at line 1, char 12"),
        ("SHOW FOO", "found FOO, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS at line 1, char 6"),
        ("SHOW GRANTS", "found EOF, expected FOR at line 1, char 13"),
        ("DROP CONTINUOUS", "found EOF, expected QUERY at line 1, char 17"),
        ("CREATE CONTINUOUS", "found EOF, expected QUERY at line 1, char 19"),
        ("DROP FOO", "found FOO, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER at line 1, char 6"),
        ("CREATE FOO", "found FOO, expected CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION at line 1, char 8"),
        ("CREATE DATABASE", "found EOF, expected identifier at line 1, char 17"),
        (r#"CREATE DATABASE "testdb" WITH"#, "found EOF, expected DURATION, NAME, REPLICATION, SHARD, FUTURE, PAST at line 1, char 31"),
        (r#"CREATE DATABASE "testdb" WITH DURATION"#, "found EOF, expected duration at line 1, char 40"),
        (r#"CREATE DATABASE "testdb" WITH REPLICATION"#, "found EOF, expected integer at line 1, char 43"),
        (r#"CREATE DATABASE "testdb" WITH NAME"#, "found EOF, expected identifier at line 1, char 36"),
        (r#"CREATE DATABASE "testdb" WITH SHARD"#, "found EOF, expected DURATION at line 1, char 37"),
        ("DROP DATABASE", "found EOF, expected identifier at line 1, char 15"),
        ("DROP RETENTION", "found EOF, expected POLICY at line 1, char 16"),
        // From clients' compatibility suites.
        ("select * from", "found EOF, expected identifier at line 1, char 15"),
        ("SELECT * FORM m", "found FORM, expected FROM at line 1, char 10"),
        ("selec * from m", "found selec, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"),
        ("select * from m garbage", "found garbage, expected ; at line 1, char 17"),
    ] {
        check_err(src, message);
    }
}

#[rustfmt::skip]
#[test]
fn influxdb_compile_time_errors_are_parse_errors_here() {
    // InfluxDB reports these when compiling, without a position; we report them with one.
    for (src, message) in [
        ("SELECT field1 FROM myseries ORDER BY time, field1", "only ORDER BY time supported at this time at line 1, char 44"),
        ("SELECT field1 FROM myseries ORDER BY value", "only ORDER BY time supported at this time at line 1, char 38"),
        ("SELECT mean(value) FROM cpu FILL + value", "fill must be a function call at line 1, char 29"),
        ("SELECT mean(v) FROM m GROUP BY time(1m) fill()", "fill requires an argument, e.g.: 0, null, none, previous, linear at line 1, char 41"),
        ("SELECT mean(v) FROM m GROUP BY time(1m) fill(foo)", "expected number argument in fill() at line 1, char 41"),
        ("SELECT mean(v) FROM m GROUP BY time(1m) fill('x')", "expected number argument in fill() at line 1, char 41"),
        ("SELECT v FROM m tz", "tz must be a function call at line 1, char 17"),
        ("SELECT v FROM m tz('a', 'b')", "tz requires exactly one argument at line 1, char 17"),
        ("SELECT v FROM m tz(8)", "expected string argument in tz() at line 1, char 17"),
        ("SELECT count(v) FROM m GROUP BY time", "time() is a function and expects at least one argument at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time()", "time dimension expected 1 or 2 arguments at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(5m, 30s, 1ms)", "time dimension expected 1 or 2 arguments at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(b)", "time dimension must have duration argument at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time('unexpected')", "time dimension must have duration argument at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(1s), time(2s)", "multiple time dimensions not allowed at line 1, char 43"),
        ("SELECT count(v) FROM m GROUP BY time(1s, b)", "time dimension offset must be duration or now() at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(5m, unexpected())", "time dimension offset function must be now() at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(5m, now(1m))", "time dimension offset now() function requires no arguments at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY time(0s)", "time dimension interval must be positive at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY now()", "only time() calls allowed in dimensions at line 1, char 33"),
        ("SELECT count(v) FROM m GROUP BY 'unexpected'", "only time and tag dimensions allowed at line 1, char 33"),
        ("DELETE FROM foo..myseries", "database not supported at line 1, char 13"),
        (r#"DROP SERIES FROM "foo".myseries"#, "retention policy not supported at line 1, char 18"),
        ("DROP SERIES FROM foo..myseries", "database not supported at line 1, char 18"),
        ("CREATE DATABASE db WITH REPLICATION 0", "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 37"),
    ] {
        check_err(src, message);
    }
}

#[test]
fn missing_from_identifier() {
    let e = err("SELECT * FROM WHERE x = 1");
    assert_eq!(
        e.to_string(),
        "found WHERE, expected identifier at line 1, char 15"
    );
    assert_eq!((e.offset, e.line, e.column), (14, 1, 15));
    assert_eq!(
        e.kind,
        ParseErrorKind::Unexpected {
            found: "WHERE".into(),
            expected: &["identifier"],
        }
    );
}

#[test]
fn unbalanced_parentheses() {
    check_err(
        "SELECT (a + b FROM m",
        "found FROM, expected ) at line 1, char 15",
    );
    check_err(
        "SELECT mean(value FROM m",
        "found FROM, expected ) at line 1, char 19",
    );
    check_err(
        "SELECT a) FROM m",
        "found ), expected FROM at line 1, char 9",
    );
    check_err(
        "SELECT v FROM m WHERE (a = 1 OR b = 2",
        "found EOF, expected ) at line 1, char 38",
    );
    check_err(
        "SELECT v FROM m WHERE (a = 1))",
        "found ), expected ; at line 1, char 30",
    );
}

#[test]
fn bad_durations() {
    check_err(
        "SELECT mean(v) FROM m GROUP BY time(5y)",
        "invalid duration at line 1, char 37",
    );
    check_err(
        "SELECT v FROM m WHERE time > now() - 1h2",
        "invalid duration at line 1, char 38",
    );
    check_err(
        "SELECT v FROM m WHERE time > 100000000000w",
        "overflowed duration 100000000000w: choose a smaller duration or INF at line 1, char 30",
    );
    check_err(
        "CREATE DATABASE db WITH DURATION 1x",
        "invalid duration at line 1, char 34",
    );
    check_err(
        "CREATE DATABASE db WITH DURATION -1h",
        "found -, expected duration at line 1, char 34",
    );
}

#[test]
fn unterminated_tokens() {
    check_err(
        "SELECT v FROM m WHERE host = 'abc",
        "unterminated string at line 1, char 30",
    );
    check_err(
        "SELECT v FROM m WHERE host = 'abc\n'",
        "unterminated string at line 1, char 30",
    );
    check_err(
        "SELECT v FROM m WHERE host =~ /abc",
        "unterminated regex at line 1, char 31",
    );
    check_err(
        r#"SELECT "v FROM m"#,
        "unterminated quoted identifier at line 1, char 8",
    );
    check_err(
        "SELECT v /* FROM m",
        "unterminated comment at line 1, char 10",
    );
    check_err(
        r"SELECT v FROM m WHERE a = 'x\q'",
        r"bad escape: \q at line 1, char 29",
    );
}

#[test]
fn group_by_time_without_interval() {
    check_err(
        "SELECT mean(v) FROM m GROUP BY time",
        "time() is a function and expects at least one argument at line 1, char 32",
    );
    check_err(
        "SELECT mean(v) FROM m GROUP BY time()",
        "time dimension expected 1 or 2 arguments at line 1, char 32",
    );
    check_err(
        "SELECT mean(v) FROM m GROUP BY time(",
        "found EOF, expected identifier, string, number, bool at line 1, char 38",
    );
}

#[test]
fn positions_count_lines_and_characters() {
    let e = err("SELECT value\r\nFROM\n  12");
    assert_eq!((e.line, e.column, e.offset), (3, 3, 21));
    assert_eq!(
        e.to_string(),
        "found 12, expected identifier at line 3, char 3"
    );
    // Columns count characters, not bytes.
    let e = err("SELECT \"µ\" FROM 12");
    assert_eq!((e.line, e.column, e.offset), (1, 17, 17));
}

#[rustfmt::skip]
#[test]
fn unsupported_statements_and_clauses() {
    for (src, message) in [
        ("GRANT ALL TO bob", "GRANT is not supported at line 1, char 1"),
        ("SHOW USERS", "SHOW USERS is not supported at line 1, char 1"),
        ("SHOW CONTINUOUS QUERIES", "SHOW CONTINUOUS QUERIES is not supported at line 1, char 1"),
        ("SHOW SERIES CARDINALITY", "SHOW SERIES CARDINALITY is not supported at line 1, char 1"),
        ("SHOW TAG KEY CARDINALITY", "SHOW TAG KEY CARDINALITY is not supported at line 1, char 1"),
        ("CREATE USER bob WITH PASSWORD 'x'", "CREATE USER is not supported at line 1, char 1"),
        ("DROP RETENTION POLICY rp ON db", "DROP RETENTION POLICY is not supported at line 1, char 1"),
        ("SELECT * INTO x FROM y", "SELECT INTO is not supported at line 1, char 10"),
        ("SELECT * FROM (SELECT * FROM y)", "a subquery in FROM is not supported at line 1, char 15"),
        ("SELECT * FROM m WHERE host = $host", "missing parameter: host at line 1, char 30"),
        ("CREATE DATABASE db WITH DURATION 1d FUTURE LIMIT 1h", "FUTURE LIMIT / PAST LIMIT is not supported at line 1, char 37"),
        ("SHOW MEASUREMENTS ON *", "SHOW MEASUREMENTS ON * is not supported at line 1, char 22"),
        ("SHOW MEASUREMENTS ON db.rp", "SHOW MEASUREMENTS ON db.rp is not supported at line 1, char 24"),
        ("SHOW MEASUREMENTS ON 1", "found 1, expected identifier or * at line 1, char 22"),
    ] {
        check_err(src, message);
    }
}

#[test]
fn too_deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("SELECT {}1{} FROM m", "(".repeat(500), ")".repeat(500));
    assert_eq!(err(&deep).kind, ParseErrorKind::NestedTooDeeply);
    let calls = format!("SELECT {}1{} FROM m", "f(".repeat(500), ")".repeat(500));
    assert_eq!(err(&calls).kind, ParseErrorKind::NestedTooDeeply);
    let long = format!("SELECT v FROM m WHERE {}", vec!["a = 1"; 5000].join(" OR "));
    assert_eq!(err(&long).kind, ParseErrorKind::NestedTooDeeply);
    // Within the limits all is fine.
    let ok = format!("SELECT v FROM m WHERE {}", vec!["a = 1"; 400].join(" OR "));
    assert!(parse_query(&ok).is_ok());
}

// ------------------------------------------------------------------------------ time range

#[test]
fn time_range_rfc3339_with_fraction_and_offset() {
    assert_eq!(
        range("time >= '2026-11-01T08:00:00.123456789+08:00'", NOW).unwrap(),
        (NOV_1_2026 + 123_456_789, i64::MAX)
    );
    assert_eq!(
        range("time <= '2026-10-31T19:00:00.5-05:00'", NOW).unwrap(),
        (i64::MIN, NOV_1_2026 + 500 * MS)
    );
    // More than nine fraction digits are cut, as in Go.
    assert_eq!(
        range("time = '2026-11-01T00:00:00.0000000019Z'", NOW).unwrap(),
        (NOV_1_2026 + 1, NOV_1_2026 + 1)
    );
    // Date only and InfluxDB's `YYYY-MM-DD HH:MM:SS` (UTC).
    assert_eq!(
        range("time >= '2026-11-01' AND time < '2026-11-01 12:30:00'", NOW).unwrap(),
        (NOV_1_2026, NOV_1_2026 + 12 * H + 30 * M - 1)
    );
}

#[test]
fn time_range_epochs_with_units_and_bare_nanoseconds() {
    assert_eq!(
        range("time >= 1732406400000ms AND time <= 1732410000000ms", NOW).unwrap(),
        (1_732_406_400_000 * MS, 1_732_410_000_000 * MS)
    );
    assert_eq!(range("time >= 10s", NOW).unwrap(), (10 * S, i64::MAX));
    assert_eq!(
        range("time >= 10000000000", NOW).unwrap(),
        (10 * S, i64::MAX)
    );
    assert_eq!(
        range("time >= 10000000000.0", NOW).unwrap(),
        (10 * S, i64::MAX)
    );
    assert_eq!(range("time > 1000", NOW).unwrap(), (1001, i64::MAX));
    assert_eq!(range("time < -5", NOW).unwrap(), (i64::MIN, -6));
}

#[test]
fn time_range_now_arithmetic() {
    assert_eq!(
        range("time > now() - 1h", NOW).unwrap(),
        (NOW - H + 1, i64::MAX)
    );
    assert_eq!(
        range("time >= now() - 10m AND time <= now() + 1d", NOW).unwrap(),
        (NOW - 10 * M, NOW + D)
    );
    assert_eq!(range("time > now()", NOW).unwrap(), (NOW + 1, i64::MAX));
    assert_eq!(
        range("time < (now() - 2h) + 30m", NOW).unwrap(),
        (i64::MIN, NOW - 90 * M - 1)
    );
    assert_eq!(
        range("time > '2026-11-01T00:00:00Z' - 1d", NOW).unwrap(),
        (NOV_1_2026 - D + 1, i64::MAX)
    );
    assert_eq!(
        range("time > now() - 2000000000", NOW).unwrap(),
        (NOW - 2 * S + 1, i64::MAX)
    );
}

#[test]
fn time_range_strict_and_inclusive_bounds() {
    assert_eq!(range("time > 100", 0).unwrap(), (101, i64::MAX));
    assert_eq!(range("time >= 100", 0).unwrap(), (100, i64::MAX));
    assert_eq!(range("time < 100", 0).unwrap(), (i64::MIN, 99));
    assert_eq!(range("time <= 100", 0).unwrap(), (i64::MIN, 100));
    assert_eq!(range("time = 100", 0).unwrap(), (100, 100));
    // The time reference may be on the right.
    assert_eq!(range("100 < time", 0).unwrap(), (101, i64::MAX));
    assert_eq!(range("100 >= time", 0).unwrap(), (i64::MIN, 100));
}

#[test]
fn time_range_between_like_bounds_intersect() {
    assert_eq!(range("time >= 100 AND time < 200", 0).unwrap(), (100, 199));
    assert_eq!(
        range(
            "host = 'a' AND (time > 50 AND (time >= 100 AND region = 'eu')) AND time <= 300 AND time < 400",
            0
        )
        .unwrap(),
        (100, 300)
    );
    // Contradictions give an empty range.
    let (min, max) = range("time > 200 AND time < 100", 0).unwrap();
    assert!(min > max);
    let (min, max) = range("time > 9223372036854775807", 0).unwrap();
    assert!(min > max);
}

#[test]
fn time_range_without_time_is_unbounded() {
    assert_eq!(range("host = 'a'", NOW).unwrap(), (i64::MIN, i64::MAX));
    assert_eq!(
        select(vec![field(var("v"))], vec![m("m")])
            .time_range(NOW)
            .unwrap(),
        (i64::MIN, i64::MAX)
    );
    // Time inside an OR of other tags is fine when the OR holds no time.
    assert_eq!(
        range("(host = 'a' OR host = 'b') AND time >= 5", NOW).unwrap(),
        (5, i64::MAX)
    );
}

#[rustfmt::skip]
#[test]
fn time_range_errors() {
    for (cond, message) in [
        ("time > now() - 1h OR host = 'a'", "cannot use OR with time conditions"),
        ("host = 'server01' OR (time >= now() - 10m AND host = 'server02')", "cannot use OR with time conditions"),
        ("time >= now() - 10m OR time < now() - 5m", "cannot use OR with time conditions"),
        ("time != '2000-01-01T00:00:00Z'", "invalid time comparison operator: !="),
        ("time <> 5", "invalid time comparison operator: !="),
        ("time >= 'today'", "invalid operation: time and *influxql.StringLiteral are not compatible"),
        ("time =~ /x/", "invalid operation: time and *influxql.RegexLiteral are not compatible"),
        ("time > host", "invalid operation: time and *influxql.VarRef are not compatible"),
        ("time > '2026-13-01T00:00:00Z'", "invalid timestamp string"),
        ("time > '2026-02-29'", "invalid timestamp string"),
        ("time > '2026-11-01T00:00:00'", "invalid timestamp string"),
        ("time > '2026-11-01T24:00:00Z'", "invalid timestamp string"),
        ("time > '2262-04-11 23:47:17'", "time 2262-04-11T23:47:17Z overflows time literal"),
        ("time > '1677-09-20 19:12:43'", "time 1677-09-20T19:12:43Z underflows time literal"),
        ("value", "invalid condition expression: value"),
        ("value AND host = 'server01'", "invalid condition expression: value"),
        ("host = 'server01' OR (value)", "invalid condition expression: value"),
        ("time > now() + 15000w + 15000w", "time arithmetic overflows"),
    ] {
        assert_eq!(range_err(cond), message, "condition {cond:?}");
    }
}

#[test]
fn condition_without_time_keeps_the_rest() {
    let rest = |cond: &str| {
        let q = parse_query(&format!("SELECT v FROM m WHERE {cond}")).unwrap();
        match &q.statements[0] {
            Statement::Select(s) => s.condition_without_time().map(|e| e.to_string()),
            _ => unreachable!(),
        }
    };
    // InfluxDB's own ConditionExpr cases.
    assert_eq!(
        rest("host = 'server01'").as_deref(),
        Some("host = 'server01'")
    );
    assert_eq!(
        rest("time >= '2000-01-01T00:00:00Z' AND time < '2000-01-01T01:00:00Z'"),
        None
    );
    assert_eq!(
        rest("host = 'server01' AND (region = 'uswest' AND time >= now() - 10m)").as_deref(),
        Some("host = 'server01' AND (region = 'uswest')")
    );
    assert_eq!(
        rest("(host = 'server01' AND region = 'uswest') AND time >= now() - 10m").as_deref(),
        Some("host = 'server01' AND region = 'uswest'")
    );
    assert_eq!(
        rest("(time >= 1 AND time < 2) AND host = 'server01'").as_deref(),
        Some("host = 'server01'")
    );
    assert_eq!(rest("time > 1 AND true").as_deref(), None);
    assert_eq!(condition_without_time(None), None);
}

#[test]
fn time_range_free_function_serves_other_statements() {
    let Statement::Delete { condition, .. } =
        parse_statement("DELETE FROM cpu WHERE time < '2026-11-01'").unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        time_range(condition.as_ref(), 0).unwrap(),
        (i64::MIN, NOV_1_2026 - 1)
    );
}

// ------------------------------------------------------------------------------ printing

#[test]
fn display_quotes_only_when_needed() {
    let q = parse_query(
        r#"SELECT "from", "a b", "_ok", ok2, "2x", "µ", "", "say \"hi\"" FROM "select"."rp"."m""#,
    )
    .unwrap();
    assert_eq!(
        q.to_string(),
        r#"SELECT "from", "a b", _ok, ok2, "2x", "µ", "", "say \"hi\"" FROM "select".rp.m"#
    );
    assert_eq!(quote_ident("future"), "\"future\"");
    assert_eq!(quote_string("it's\n\\"), r"'it\'s\n\\'");
}

#[rustfmt::skip]
#[test]
fn display_canonical_forms() {
    for (src, printed) in [
        ("select MEAN(v) from m where a<>1", "SELECT mean(v) FROM m WHERE a != 1"),
        ("SELECT v FROM m WHERE x = 1.0 AND y = 1.50", "SELECT v FROM m WHERE x = 1.0 AND y = 1.5"),
        ("SELECT v FROM m WHERE time > now() - 60m", "SELECT v FROM m WHERE time > now() - 1h"),
        ("SELECT v FROM m WHERE time > 90s AND d = 1500ms", "SELECT v FROM m WHERE time > 90s AND d = 1500ms"),
        ("SELECT v FROM m WHERE h =~ /a\\/b/", "SELECT v FROM m WHERE h =~ /a\\/b/"),
        ("SELECT -a * -(b), -1 * c FROM m", "SELECT -a * -(b), -c FROM m"),
        ("SELECT DISTINCT v FROM m", "SELECT distinct(v) FROM m"),
        ("SELECT mean(v) FROM m GROUP BY time(10m, 0s) fill(0)", "SELECT mean(v) FROM m GROUP BY time(10m) fill(0)"),
        ("SELECT mean(v) FROM m GROUP BY time(10m) fill(null)", "SELECT mean(v) FROM m GROUP BY time(10m)"),
        ("SELECT mean(v) FROM m GROUP BY time(1w,now()) fill(2.5)", "SELECT mean(v) FROM m GROUP BY time(1w, now()) fill(2.5)"),
        ("SELECT v FROM m ORDER BY time ASC LIMIT 0", "SELECT v FROM m"),
        ("SELECT v FROM db..m", "SELECT v FROM db..m"),
        ("SELECT v FROM m tz('Asia/Shanghai')", "SELECT v FROM m tz('Asia/Shanghai')"),
        ("CREATE DATABASE db WITH DURATION 0s SHARD DURATION 168h", "CREATE DATABASE db WITH DURATION INF SHARD DURATION 1w"),
        ("show tag values with key in (a, \"b c\")", "SHOW TAG VALUES WITH KEY IN (a, \"b c\")"),
        ("delete from m where time < 5", "DELETE FROM m WHERE time < 5"),
    ] {
        assert_eq!(
            parse_query(src).unwrap().to_string(),
            printed,
            "printing {src:?}"
        );
    }
}

#[test]
fn display_adds_parentheses_a_hand_built_tree_needs() {
    // Not parser-shaped: (a + b) * c without a Paren node.
    let e = bin(
        BinaryOp::Mul,
        bin(BinaryOp::Add, var("a"), var("b")),
        var("c"),
    );
    assert_eq!(e.to_string(), "(a + b) * c");
    let e = bin(
        BinaryOp::Sub,
        var("a"),
        bin(BinaryOp::Sub, var("b"), var("c")),
    );
    assert_eq!(e.to_string(), "a - (b - c)");
    assert_eq!(
        Expr::TimeLiteral(NOV_1_2026 + 500 * MS).to_string(),
        "'2026-11-01T00:00:00.5Z'"
    );
}

// ------------------------------------------------------------------------------ helpers

#[test]
fn civil_day_arithmetic_round_trips() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    for days in (-200_000..200_000).step_by(7) {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
}

#[test]
fn rfc3339_parse_and_format() {
    assert_eq!(parse_time_string("1970-01-01T00:00:00Z").unwrap(), 0);
    assert_eq!(parse_time_string("1969-12-31T23:59:59Z").unwrap(), -S);
    assert_eq!(
        parse_time_string("2026-11-01T00:00:00Z").unwrap(),
        NOV_1_2026
    );
    assert_eq!(
        parse_time_string("2026-11-01 8:00:00").unwrap(),
        NOV_1_2026 + 8 * H
    );
    assert_eq!(parse_time_string("2024-02-29").unwrap(), 1_709_164_800 * S);
    assert_eq!(
        parse_time_string("2262-04-11T23:47:16.854775806Z").unwrap(),
        MAX_TIME_LITERAL
    );
    assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    assert_eq!(
        format_rfc3339(NOV_1_2026 + 120 * US),
        "2026-11-01T00:00:00.00012Z"
    );
    assert_eq!(format_rfc3339(i64::MAX), "2262-04-11T23:47:16.854775807Z");
    assert_eq!(format_rfc3339(i64::MIN), "1677-09-21T00:12:43.145224192Z");
    for ns in [
        0,
        1,
        -1,
        NOV_1_2026 + 123_456_789,
        MAX_TIME_LITERAL,
        MIN_TIME_LITERAL,
    ] {
        assert_eq!(parse_time_string(&format_rfc3339(ns)).unwrap(), ns);
    }
    assert!(is_time_string("2026-11-01"));
    assert!(!is_time_string("today"));
    assert!(!is_time_string("2026-1-01"));
}

#[test]
fn durations_parse_and_format() {
    assert_eq!(parse_duration("1h30m").unwrap(), 90 * M);
    assert_eq!(parse_duration("-2d").unwrap(), -2 * D);
    assert_eq!(parse_duration("1n"), Err(ParseErrorKind::InvalidDuration));
    assert_eq!(parse_duration("h"), Err(ParseErrorKind::InvalidDuration));
    assert_eq!(parse_duration("1h2"), Err(ParseErrorKind::InvalidDuration));
    assert_eq!(parse_duration("9223372036854775807ns").unwrap(), i64::MAX);
    assert_eq!(
        parse_duration("9223372036854775808ns"),
        Err(ParseErrorKind::InvalidDuration)
    );
    for (ns, text) in [
        (0, "0s"),
        (2 * W, "2w"),
        (3 * D, "3d"),
        (90 * M, "90m"),
        (1500 * MS, "1500ms"),
        (7 * US, "7u"),
        (3, "3ns"),
        (-5 * M, "-5m"),
    ] {
        assert_eq!(format_duration(ns), text);
        assert_eq!(parse_duration(text).unwrap(), ns);
    }
}
