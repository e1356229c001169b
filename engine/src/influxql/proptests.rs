//! Property tests: random trees print and parse back to themselves; random text never makes the
//! parser (or the printer, or the time-range reader) panic, and whatever parses prints back to
//! the same tree.

use proptest::prelude::*;

use super::*;

// ------------------------------------------------------------------------------ text

/// Identifiers: plain ones, keywords, and ones that need quoting and escaping.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_][a-z0-9_]{0,6}",
        1 => prop::sample::select(vec![
            "from", "SELECT", "time", "key", "name", "true", "and", "fill", "tz", "now",
            "distinct", "future", "µs", "", "a.b", "a b",
        ])
        .prop_map(str::to_string),
        2 => "[a-zA-Z0-9_ \"'\\\\\n./*µ-]{0,8}",
    ]
}

/// Text of strings and time zones: anything but `\r`.
fn text() -> impl Strategy<Value = String> {
    "[^\r]{0,10}"
}

/// Regex text: no line break, no trailing backslash, no leading `*` (see the AST invariants).
fn regex_text() -> impl Strategy<Value = String> {
    "[a-z.*^$/\\\\ ()|+?µ]{0,8}".prop_map(|mut s| {
        if s.ends_with('\\') {
            s.push('x');
        }
        if s.starts_with('*') {
            s.insert(0, 'x');
        }
        s
    })
}

fn var_type() -> impl Strategy<Value = VarType> {
    prop::sample::select(vec![
        VarType::Float,
        VarType::Integer,
        VarType::Unsigned,
        VarType::String,
        VarType::Boolean,
        VarType::Field,
        VarType::Tag,
    ])
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (-1000i32..1000).prop_map(|v| f64::from(v) / 4.0),
    ]
}

fn duration() -> impl Strategy<Value = i64> {
    prop_oneof![
        (i64::MIN + 1)..=i64::MAX,
        (-100i64..100).prop_map(|v| v * 60_000_000_000),
    ]
}

// ------------------------------------------------------------------------------ expressions

/// The parser's shape for `lhs op rhs`: operands of looser precedence (or equal, on the right)
/// are parenthesised.
fn shaped(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let prec = |e: &Expr| match e {
        Expr::BinaryExpr { op, .. } if !e.is_negation() => Some(op.precedence()),
        _ => None,
    };
    let wrap = |e: Expr, parens: bool| if parens { Expr::Paren(Box::new(e)) } else { e };
    let p = op.precedence();
    let lhs_parens = prec(&lhs).is_some_and(|q| q < p);
    let rhs_parens = prec(&rhs).is_some_and(|q| q <= p);
    Expr::binary(op, wrap(lhs, lhs_parens), wrap(rhs, rhs_parens))
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => ident().prop_map(Expr::var),
        1 => (ident(), var_type()).prop_map(|(name, t)| Expr::VarRef {
            name,
            type_hint: Some(t),
        }),
        2 => any::<i64>().prop_map(Expr::IntegerLiteral),
        2 => finite().prop_map(Expr::NumberLiteral),
        1 => text().prop_map(Expr::StringLiteral),
        1 => any::<bool>().prop_map(Expr::BooleanLiteral),
        1 => duration().prop_map(Expr::DurationLiteral),
        1 => Just(Expr::Now),
        1 => prop::option::of(prop::sample::select(vec![VarType::Field, VarType::Tag]))
            .prop_map(|type_hint| Expr::Wildcard { type_hint }),
    ]
}

fn arith_op() -> impl Strategy<Value = BinaryOp> {
    prop::sample::select(vec![
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Mod,
        BinaryOp::BitAnd,
        BinaryOp::BitOr,
        BinaryOp::BitXor,
    ])
}

fn comparison_op() -> impl Strategy<Value = BinaryOp> {
    prop::sample::select(vec![
        BinaryOp::Eq,
        BinaryOp::NotEq,
        BinaryOp::Lt,
        BinaryOp::LtEq,
        BinaryOp::Gt,
        BinaryOp::GtEq,
    ])
}

fn call_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "mean", "count", "percentile", "distinct", "integral", "now", "select", "fill",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_][a-z0-9_ é]{0,5}",
    ]
}

/// A call as the parser makes one (`now()` without arguments is [`Expr::Now`]).
fn make_call(name: String, args: Vec<Expr>) -> Expr {
    if name == "now" && args.is_empty() {
        Expr::Now
    } else {
        Expr::Call { name, args }
    }
}

/// Expressions allowed in a `SELECT` list: no comparison or logical operators.
fn arith() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            3 => (arith_op(), inner.clone(), inner.clone())
                .prop_map(|(op, l, r)| shaped(op, l, r)),
            1 => inner.clone().prop_map(|e| Expr::Paren(Box::new(e))),
            1 => (
                call_name(),
                prop::collection::vec(
                    prop_oneof![4 => inner.clone(), 1 => regex_text().prop_map(Expr::RegexLiteral)],
                    0..3
                )
            )
                .prop_map(|(name, args)| make_call(name, args)),
            1 => inner.prop_map(|e| {
                // A unary minus before a non-literal.
                match e {
                    e @ (Expr::VarRef { .. } | Expr::Call { .. } | Expr::Paren(_) | Expr::Now) => {
                        Expr::binary(BinaryOp::Mul, Expr::IntegerLiteral(-1), e)
                    }
                    other => other,
                }
            }),
        ]
    })
}

/// Conditions: comparisons, regex matches, `AND`/`OR`, parentheses.
fn condition() -> impl Strategy<Value = Expr> {
    let atom = prop_oneof![
        4 => (comparison_op(), arith(), arith()).prop_map(|(op, l, r)| shaped(op, l, r)),
        2 => (any::<bool>(), arith(), regex_text()).prop_map(|(eq, l, re)| {
            let op = if eq { BinaryOp::EqRegex } else { BinaryOp::NotEqRegex };
            shaped(op, l, Expr::RegexLiteral(re))
        }),
        1 => arith(),
    ];
    atom.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![BinaryOp::And, BinaryOp::Or]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| shaped(op, l, r)),
            inner.prop_map(|e| Expr::Paren(Box::new(e))),
        ]
    })
}

// ------------------------------------------------------------------------------ statements

fn measurement_name() -> impl Strategy<Value = MeasurementName> {
    prop_oneof![
        3 => ident().prop_map(MeasurementName::Name),
        1 => regex_text().prop_map(MeasurementName::Regex),
    ]
}

fn non_empty_ident() -> impl Strategy<Value = String> {
    ident().prop_map(|s| if s.is_empty() { "x".to_string() } else { s })
}

fn source() -> impl Strategy<Value = Source> {
    (
        prop::option::of(non_empty_ident()),
        prop::option::of(non_empty_ident()),
        measurement_name(),
    )
        .prop_map(|(database, retention_policy, measurement)| Source {
            database,
            retention_policy,
            measurement,
        })
}

fn sources(min: usize) -> impl Strategy<Value = Vec<Source>> {
    prop::collection::vec(source(), min..3)
}

fn tag_dimension() -> impl Strategy<Value = Dimension> {
    prop_oneof![
        3 => ident()
            .prop_map(|s| {
                let tag = if s.eq_ignore_ascii_case("time") { s + "_" } else { s };
                Dimension::Tag(tag)
            }),
        1 => Just(Dimension::Wildcard),
        1 => regex_text().prop_map(Dimension::Regex),
    ]
}

fn dimensions() -> impl Strategy<Value = Vec<Dimension>> {
    let time = (
        1..=i64::MAX,
        prop_oneof![
            duration().prop_map(TimeOffset::Duration),
            Just(TimeOffset::Now),
        ],
    )
        .prop_map(|(interval_ns, offset)| Dimension::Time {
            interval_ns,
            offset,
        });
    (
        prop::option::of(time),
        prop::collection::vec(tag_dimension(), 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(time, mut tags, at)| {
            if let Some(time) = time {
                let i = at.index(tags.len() + 1);
                tags.insert(i, time);
            }
            tags
        })
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        Just(Fill::Null),
        Just(Fill::None),
        Just(Fill::Previous),
        Just(Fill::Linear),
        finite().prop_map(Fill::Number),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1u64..100, any::<u64>()]
}

fn field() -> impl Strategy<Value = Field> {
    (
        prop_oneof![4 => arith(), 1 => regex_text().prop_map(Expr::RegexLiteral)],
        prop::option::of(ident()),
    )
        .prop_map(|(expr, alias)| Field { expr, alias })
}

fn select() -> impl Strategy<Value = SelectStatement> {
    (
        prop::collection::vec(field(), 1..4),
        sources(1),
        prop::option::of(condition()),
        dimensions(),
        fill(),
        any::<bool>(),
        (count(), count(), count(), count()),
        prop::option::of(text()),
    )
        .prop_map(
            |(fields, sources, condition, dimensions, fill, order_desc, counts, timezone)| {
                SelectStatement {
                    fields,
                    sources,
                    condition,
                    dimensions,
                    fill,
                    order_desc,
                    limit: counts.0,
                    offset: counts.1,
                    slimit: counts.2,
                    soffset: counts.3,
                    timezone,
                }
            },
        )
}

fn tag_key_match() -> impl Strategy<Value = TagKeyMatch> {
    prop_oneof![
        ident().prop_map(TagKeyMatch::Eq),
        ident().prop_map(TagKeyMatch::NotEq),
        prop::collection::vec(ident(), 1..4).prop_map(TagKeyMatch::In),
        regex_text().prop_map(TagKeyMatch::Regex),
        regex_text().prop_map(TagKeyMatch::NotRegex),
    ]
}

fn unqualified(sources: Vec<Source>, keep_rp: bool) -> Vec<Source> {
    sources
        .into_iter()
        .map(|s| Source {
            database: None,
            retention_policy: if keep_rp { s.retention_policy } else { None },
            ..s
        })
        .collect()
}

fn statement() -> impl Strategy<Value = Statement> {
    let db = || prop::option::of(ident());
    let cond = || prop::option::of(condition());
    let rp_duration = || prop::option::of(0..=i64::MAX);
    prop_oneof![
        6 => select().prop_map(Statement::Select),
        1 => Just(Statement::ShowDatabases),
        1 => (db(), prop::option::of(measurement_name()), cond(), count(), count()).prop_map(
            |(database, with_measurement, condition, limit, offset)| Statement::ShowMeasurements {
                database,
                with_measurement,
                condition,
                limit,
                offset,
            }
        ),
        1 => (
            db(),
            sources(0),
            prop::option::of(tag_key_match()),
            cond(),
            (count(), count(), count(), count())
        )
            .prop_map(|(database, sources, with_key, condition, c)| Statement::ShowTagKeys {
                database,
                sources,
                with_key,
                condition,
                limit: c.0,
                offset: c.1,
                slimit: c.2,
                soffset: c.3,
            }),
        1 => (db(), sources(0), tag_key_match(), cond(), count(), count()).prop_map(
            |(database, sources, with_key, condition, limit, offset)| Statement::ShowTagValues {
                database,
                sources,
                with_key,
                condition,
                limit,
                offset,
            }
        ),
        1 => (db(), sources(0), count(), count()).prop_map(
            |(database, sources, limit, offset)| Statement::ShowFieldKeys {
                database,
                sources,
                limit,
                offset,
            }
        ),
        1 => (db(), sources(0), cond(), count(), count()).prop_map(
            |(database, sources, condition, limit, offset)| Statement::ShowSeries {
                database,
                sources,
                condition,
                limit,
                offset,
            }
        ),
        1 => db().prop_map(|database| Statement::ShowRetentionPolicies { database }),
        1 => (
            ident(),
            rp_duration(),
            prop::option::of(1..=i32::MAX as u32),
            rp_duration(),
            prop::option::of(ident())
        )
            .prop_map(|(name, duration, replication, shard_duration, rp_name)| {
                Statement::CreateDatabase {
                    name,
                    duration,
                    replication,
                    shard_duration,
                    rp_name,
                }
            }),
        1 => ident().prop_map(|name| Statement::DropDatabase { name }),
        1 => ident().prop_map(|name| Statement::DropMeasurement { name }),
        1 => (sources(1), cond()).prop_map(|(sources, condition)| Statement::DropSeries {
            sources: unqualified(sources, false),
            condition,
        }),
        1 => (sources(0), condition()).prop_map(|(sources, condition)| Statement::Delete {
            sources: unqualified(sources, true),
            condition: Some(condition),
        }),
    ]
}

// ------------------------------------------------------------------------------ soup

/// Text made of InfluxQL fragments, to reach deep into the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let fragments = vec![
        "SELECT",
        "select",
        "FROM",
        "WHERE",
        "GROUP BY",
        "time(10m)",
        "time",
        "fill(none)",
        "fill",
        "(",
        ")",
        ",",
        "*",
        "a",
        "\"b c\"",
        "'str'",
        "'2026-11-01T00:00:00Z'",
        "/re/",
        "/",
        "=~",
        "!~",
        "=",
        "<>",
        ">",
        "<=",
        "AND",
        "OR",
        "1",
        "1.5",
        "10m",
        "1h30m",
        "5y",
        "-",
        "+",
        "%",
        "now()",
        "now",
        "::field",
        "::",
        ".",
        "..",
        ";",
        "SHOW",
        "TAG",
        "KEYS",
        "VALUES",
        "WITH",
        "KEY",
        "IN",
        "MEASUREMENTS",
        "MEASUREMENT",
        "SERIES",
        "FIELD",
        "DATABASES",
        "RETENTION POLICIES",
        "ON",
        "CREATE DATABASE",
        "DURATION",
        "INF",
        "DROP",
        "DELETE",
        "LIMIT",
        "OFFSET",
        "SLIMIT",
        "SOFFSET",
        "ORDER BY time DESC",
        "tz('UTC')",
        "DISTINCT",
        "count",
        "mean(",
        "--c\n",
        "/*c*/",
        "\n",
        " ",
        "$x",
        "\"",
        "'",
        "µ",
        "\r",
        "9223372036854775808",
    ];
    prop::collection::vec(prop::sample::select(fragments), 0..24).prop_flat_map(|parts| {
        prop::collection::vec(prop::sample::select(vec!["", " "]), parts.len()).prop_map(
            move |seps| {
                parts
                    .iter()
                    .zip(seps)
                    .flat_map(|(p, s)| [*p, s])
                    .collect::<String>()
            },
        )
    })
}

/// Whatever parses prints back to itself; reading time bounds never panics.
fn check_total(src: &str) -> Result<(), TestCaseError> {
    if let Ok(query) = parse_query(src) {
        let printed = query.to_string();
        let again = parse_query(&printed);
        prop_assert_eq!(again.as_ref(), Ok(&query), "printed as {:?}", printed);
        for statement in &query.statements {
            if let Statement::Select(s) = statement {
                let _ = s.time_range(0);
                let _ = s.condition_without_time();
            }
        }
    }
    Ok(())
}

/// 512 cases, or `PROPTEST_CASES` for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_trees_print_and_parse_back(
        statements in prop::collection::vec(statement(), 1..3)
    ) {
        let query = Query { statements };
        let printed = query.to_string();
        let parsed = parse_query(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&query), "printed as {:?}", printed);
    }

    #[test]
    fn random_expressions_print_and_parse_back(expr in condition()) {
        let printed = expr.to_string();
        prop_assert_eq!(parse_expr(&printed), Ok(expr), "printed as {:?}", printed);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "(?s).{0,60}") {
        check_total(&src)?;
    }

    #[test]
    fn influxql_like_text_never_panics(src in token_soup()) {
        check_total(&src)?;
    }

    #[test]
    fn time_strings_round_trip(ns in MIN_TIME_LITERAL..=MAX_TIME_LITERAL) {
        prop_assert_eq!(parse_time_string(&format_rfc3339(ns)), Ok(ns));
    }

    #[test]
    fn durations_round_trip(ns in (i64::MIN + 1)..=i64::MAX) {
        prop_assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
    }

    #[test]
    fn time_bounds_of_random_pairs(a in any::<i64>(), b in any::<i64>()) {
        let q = format!("SELECT v FROM m WHERE time >= {a} AND time <= {b}");
        let Statement::Select(s) = parse_statement(&q).unwrap() else { unreachable!() };
        prop_assert_eq!(s.time_range(0), Ok((a, b)));
    }
}
