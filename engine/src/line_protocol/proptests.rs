//! Property tests: canonical round trips, no panic on any input, series key round trips.

use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::model::{FieldValue, Precision};

/// Characters that matter to the syntax, a few multibyte ones, and anything else.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            ',', ' ', '=', '\\', '"', '\t', '#', '\r', '\n', 'é', '中', '🦀', 't', 'i', 'u', 'e',
            '0', '1', '-', '.',
        ]),
        4 => prop::char::range('a', 'z'),
        1 => any::<char>(),
    ]
}

fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// A non-empty name without a newline (no escape exists for a newline outside strings), and
/// not `time` (refused as a tag key, dropped as a field key).
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 1..8).prop_map(|chars| {
        let name: String = chars
            .into_iter()
            .map(|c| if c == '\n' { 'n' } else { c })
            .collect();
        if name == "time" {
            "time_".to_owned()
        } else {
            name
        }
    })
}

/// `s`, made representable where it must not start with a blank or `#`.
fn no_leading_blank(mut s: String) -> String {
    if s.starts_with(['\t', '#']) {
        s.insert(0, 'x');
    }
    s
}

fn measurement() -> impl Strategy<Value = String> {
    // A leading tab would be taken as a blank, a leading '#' as a comment.
    name().prop_map(no_leading_blank)
}

fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(FieldValue::Float),
        prop::sample::select(vec![
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            1e21,
            1e-7,
            9.999999999999999e20,
            0.1,
        ])
        .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1]).prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        prop::sample::select(vec![0, u64::MAX]).prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        tricky_string(12).prop_map(|s| FieldValue::String(Cow::Owned(s))),
    ]
}

fn arbitrary_line() -> impl Strategy<Value = Line<'static>> {
    let tags = prop::collection::btree_map(name(), name(), 0..4);
    let fields = prop::collection::vec((name(), field_value()), 1..5).prop_map(|fields| {
        let mut unique: Vec<(String, FieldValue<'static>)> = Vec::new();
        for (key, value) in fields {
            // The first field key follows the blanks separating it from the tags.
            let key = if unique.is_empty() {
                no_leading_blank(key)
            } else {
                key
            };
            if unique.iter().all(|(k, _)| *k != key) {
                unique.push((key, value));
            }
        }
        unique
    });
    (measurement(), tags, fields, prop::option::of(any::<i64>())).prop_map(
        |(measurement, tags, fields, timestamp): (_, BTreeMap<String, String>, _, _)| Line {
            measurement: Cow::Owned(measurement),
            tags: tags
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
                .collect(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), v))
                .collect(),
            timestamp,
            line_number: 1,
        },
    )
}

/// Equality with floats compared by their bits.
fn same(a: &Line<'_>, b: &Line<'_>) -> bool {
    a.measurement == b.measurement
        && a.tags == b.tags
        && a.timestamp == b.timestamp
        && a.line_number == b.line_number
        && a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|((ka, va), (kb, vb))| ka == kb && va.bit_eq(vb))
}

fn parse(body: &[u8]) -> Vec<Result<Line<'_>, LineError>> {
    LineParser::new(body, Precision::Nanoseconds).collect()
}

/// Bytes that exercise every branch of the parser, including bad UTF-8.
fn syntax_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(b",= \\\"\n\r\t#aefimnstTuFE019-.+\xff\xc3\xa9\x80".to_vec()),
        0..120,
    )
}

/// Every line the parser returns keeps the invariants, and its canonical text parses back to it.
fn check_invariants(body: &[u8]) -> Result<(), TestCaseError> {
    let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut last_line = 0;
    for result in parse(body) {
        match result {
            Ok(line) => {
                prop_assert!(line.line_number > last_line && line.line_number <= lines);
                last_line = line.line_number;
                prop_assert!(!line.measurement.is_empty());
                prop_assert!(line.tags.windows(2).all(|p| p[0].0 < p[1].0), "{:?}", line);
                prop_assert!(line
                    .tags
                    .iter()
                    .all(|(k, v)| !k.is_empty() && !v.is_empty() && k != "time"));
                prop_assert!(!line.fields.is_empty());
                prop_assert!(line.fields.iter().all(|(k, v)| !k.is_empty()
                    && k != "time"
                    && !matches!(v, FieldValue::Float(f) if !f.is_finite())));
                let text = line.to_string();
                let mut again = parse(text.as_bytes());
                prop_assert_eq!(again.len(), 1, "{:?} printed as {:?}", line, text);
                let mut reparsed = match again.remove(0) {
                    Ok(l) => l,
                    Err(e) => return Err(TestCaseError::fail(format!("{text:?}: {e}"))),
                };
                reparsed.line_number = line.line_number;
                prop_assert!(same(&line, &reparsed), "{:?} vs {:?}", line, reparsed);
            }
            Err(e) => {
                prop_assert!(e.line > last_line && e.line <= lines, "{} of {}", e, lines);
                last_line = e.line;
                prop_assert!(e.column >= 1);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
    Ok(())
}

/// Parsing with every good line's series bytes marked known (its tags skipped, then parsed by
/// `parse_series_into`) gives what a plain parse gives, line for line, errors included.
fn check_skipping(body: &[u8]) -> Result<(), TestCaseError> {
    let plain = parse(body);
    let mut known = std::collections::HashSet::new();
    let mut parser = LineParser::new(body, Precision::Nanoseconds);
    let mut line = Line::empty();
    let mut raws = Vec::new();
    while let Some(r) = parser.next_into(&mut line) {
        if r.is_ok() {
            known.insert(parser.series_bytes().to_vec());
        }
        raws.push(parser.series_bytes().to_vec());
    }
    let is_known = |raw: &[u8]| known.contains(raw);
    let mut parser = LineParser::new(body, Precision::Nanoseconds);
    let mut i = 0;
    while let Some(r) = parser.next_into_with(&mut line, Some(&is_known)) {
        prop_assert!(i < plain.len(), "more results than the plain parse");
        match (r, &plain[i]) {
            (Ok(()), Ok(want)) => {
                prop_assert_eq!(parser.series_bytes(), &raws[i][..]);
                if line.measurement.is_empty() {
                    prop_assert!(line.tags.is_empty());
                    prop_assert!(known.contains(parser.series_bytes()));
                    if let Err(e) = parser.parse_series_into(&mut line) {
                        return Err(TestCaseError::fail(format!("reparse: {e}")));
                    }
                }
                prop_assert!(same(&line, want), "{:?} vs {:?}", line, want);
            }
            (Err(got), Err(want)) => {
                prop_assert_eq!((got.line, got.column), (want.line, want.column));
                prop_assert_eq!(got.to_string(), want.to_string());
            }
            (got, want) => {
                return Err(TestCaseError::fail(format!("{got:?} vs {want:?}")));
            }
        }
        i += 1;
    }
    prop_assert_eq!(i, plain.len());
    Ok(())
}

proptest! {
    // At least 512 cases; more with PROPTEST_CASES.
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(512),
        ..ProptestConfig::default()
    })]

    /// The vectorized series-end search agrees with the escape-aware byte scan, from any
    /// start, on bytes dense in spaces, escapes and line ends.
    #[test]
    fn series_end_agrees_with_the_byte_scan(
        body in proptest::collection::vec(
            prop_oneof![
                Just(b' '), Just(b'\\'), Just(b'\n'), Just(b'\r'), Just(b','), Just(b'='),
                Just(b'a'), Just(b'"'),
            ],
            0..40,
        ),
        from in 0usize..42,
    ) {
        prop_assert_eq!(
            scan::series_end(&body, from),
            scan::scan_escaped(&body, from, scan::SERIES_END).0,
            "{:?} from {}", String::from_utf8_lossy(&body), from
        );
    }

    #[test]
    fn canonical_text_round_trips(line in arbitrary_line()) {
        let text = line.to_string();
        let mut parsed = parse(text.as_bytes());
        prop_assert_eq!(parsed.len(), 1, "{:?}", text);
        match parsed.remove(0) {
            Ok(back) => prop_assert!(same(&line, &back), "{:?}\n{:?}\n{:?}", text, line, back),
            Err(e) => prop_assert!(false, "{:?}: {}", text, e),
        }
    }

    #[test]
    fn bodies_of_canonical_lines_round_trip(
        lines in prop::collection::vec(arbitrary_line(), 1..6),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let separator = if crlf { "\r\n" } else { "\n" };
        let mut body = String::new();
        let mut expected = Vec::new();
        let mut line_number = 1;
        for mut line in lines {
            let text = line.to_string();
            line.line_number = line_number;
            line_number += 1 + text.matches('\n').count();
            body.push_str(&text);
            body.push_str(separator);
            expected.push(line);
        }
        if !final_newline {
            body.truncate(body.len() - separator.len());
        }
        check_skipping(body.as_bytes())?;
        let parsed = parse(body.as_bytes());
        prop_assert_eq!(parsed.len(), expected.len());
        for (got, want) in parsed.iter().zip(&expected) {
            match got {
                Ok(got) => prop_assert!(same(got, want), "{:?} vs {:?}", got, want),
                Err(e) => prop_assert!(false, "{:?}: {}", body, e),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
        check_invariants(&body)?;
        check_skipping(&body)?;
    }

    #[test]
    fn syntax_heavy_bytes_never_panic(body in syntax_bytes()) {
        check_invariants(&body)?;
        check_skipping(&body)?;
    }

    #[test]
    fn mutated_canonical_lines_never_panic(
        line in arbitrary_line(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut body = line.to_string().into_bytes();
        for (at, byte) in edits {
            let i = at.index(body.len() + 1);
            body.insert(i, byte);
        }
        check_invariants(&body)?;
        // The mutated line after its original: a known series with other bytes after it.
        let mut twice = line.to_string().into_bytes();
        twice.push(b'\n');
        twice.extend_from_slice(&body);
        check_skipping(&twice)?;
    }

    #[test]
    fn series_keys_round_trip(
        measurement in tricky_string(10),
        tags in prop::collection::vec((tricky_string(6), tricky_string(6)), 0..5),
    ) {
        let key = series_key(&measurement, &tags);
        prop_assert_eq!(parse_series_key(&key), Some((measurement, tags)));
    }
}
