//! Unit tests of the syntax rules, errors, recovery, precision and canonical printing.

use std::borrow::Cow;

use super::*;
use crate::model::{FieldValue, Precision};
use LineErrorKind as K;

fn parse_with(body: &[u8], precision: Precision) -> Vec<Result<Line<'_>, LineError>> {
    LineParser::new(body, precision).collect()
}

fn parse(body: &str) -> Vec<Result<Line<'_>, LineError>> {
    parse_with(body.as_bytes(), Precision::Nanoseconds)
}

fn one(body: &str) -> Line<'_> {
    let mut all = parse(body);
    assert_eq!(all.len(), 1, "{body:?}: {all:?}");
    match all.remove(0) {
        Ok(line) => line,
        Err(e) => panic!("{body:?}: {e}"),
    }
}

fn fail_bytes(body: &[u8]) -> LineError {
    let mut all = parse_with(body, Precision::Nanoseconds);
    assert_eq!(all.len(), 1, "{body:?}: {all:?}");
    match all.remove(0) {
        Ok(line) => panic!("{body:?} parsed as {line:?}"),
        Err(e) => e,
    }
}

/// Asserts `body` is one bad line with this kind at this line and column.
#[track_caller]
fn check(body: &str, kind: LineErrorKind, line: usize, column: usize) {
    let e = fail_bytes(body.as_bytes());
    assert_eq!(
        (&e.kind, e.line, e.column),
        (&kind, line, column),
        "{body:?}: {e}"
    );
}

fn k(s: &str) -> String {
    s.to_owned()
}

fn field<'a>(line: &'a Line<'_>, key: &str) -> &'a FieldValue<'a> {
    match line.fields.iter().find(|(k, _)| k == key) {
        Some((_, v)) => v,
        None => panic!("no field {key:?} in {line:?}"),
    }
}

fn float(line: &Line<'_>, key: &str) -> f64 {
    match field(line, key) {
        FieldValue::Float(v) => *v,
        other => panic!("{key}: {other:?}"),
    }
}

fn tags<'a>(line: &'a Line<'_>) -> Vec<(&'a str, &'a str)> {
    line.tags
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect()
}

macro_rules! is_borrowed {
    ($cow:expr) => {
        matches!($cow, Cow::Borrowed(_))
    };
}

// ---------------------------------------------------------------- good lines

#[test]
fn sensor_line() {
    let line = one("air_quality,district=haidian,station=aq-0042 pm25=37,pm10=61,no2=18.5,temperature=21.4,humidity=54 1732406400000000000");
    assert_eq!(line.measurement, "air_quality");
    assert_eq!(
        tags(&line),
        [("district", "haidian"), ("station", "aq-0042")]
    );
    let keys: Vec<&str> = line.fields.iter().map(|(k, _)| k.as_ref()).collect();
    assert_eq!(keys, ["pm25", "pm10", "no2", "temperature", "humidity"]);
    assert_eq!(float(&line, "pm25"), 37.0);
    assert_eq!(float(&line, "no2"), 18.5);
    assert_eq!(float(&line, "temperature"), 21.4);
    assert_eq!(line.timestamp, Some(1_732_406_400_000_000_000));
    assert_eq!(line.line_number, 1);
    assert!(is_borrowed!(&line.measurement));
    assert!(line
        .tags
        .iter()
        .all(|(k, v)| is_borrowed!(k) && is_borrowed!(v)));
    assert!(line.fields.iter().all(|(k, _)| is_borrowed!(k)));
}

#[test]
fn minimal_line_without_tags_or_timestamp() {
    let line = one("cpu value=1");
    assert_eq!(line.measurement, "cpu");
    assert!(line.tags.is_empty());
    assert_eq!(
        line.fields,
        vec![(Cow::from("value"), FieldValue::Float(1.0))]
    );
    assert_eq!(line.timestamp, None);
}

#[test]
fn tags_are_sorted_bytewise() {
    let line = one("m,zone=z,b=2,a=1,B=0,é=e,aa=3 f=1");
    assert_eq!(
        tags(&line),
        [
            ("B", "0"),
            ("a", "1"),
            ("aa", "3"),
            ("b", "2"),
            ("zone", "z"),
            ("é", "e")
        ]
    );
}

#[test]
fn blanks_between_sections_and_around_the_line() {
    let line = one("  \t cpu,host=a  \t f=1,g=2 \t  123 \t ");
    assert_eq!(line.measurement, "cpu");
    assert_eq!(tags(&line), [("host", "a")]);
    assert_eq!(line.fields.len(), 2);
    assert_eq!(line.timestamp, Some(123));
    let line = one("cpu f=1   ");
    assert_eq!(line.timestamp, None);
    let line = one("cpu f=1 \t\r\n");
    assert_eq!(line.timestamp, None);
}

#[test]
fn a_tab_does_not_end_a_measurement_or_key() {
    // As in InfluxDB 1.x, only a space ends a section; a tab is part of the token.
    let line = one("c\tpu,h\tost=a\tb f\tx=1");
    assert_eq!(line.measurement, "c\tpu");
    assert_eq!(tags(&line), [("h\tost", "a\tb")]);
    assert_eq!(line.fields[0].0, "f\tx");
    check("cpu\tf=1", K::MissingFields, 1, 8);
}

#[test]
fn comments_blank_lines_crlf_and_final_newline() {
    let body = "# header\n\n   \n\t# indented comment\r\ncpu f=1\r\n\r\ncpu f=2\n  \ncpu f=3";
    let lines: Vec<Line<'_>> = parse(body).into_iter().map(Result::unwrap).collect();
    let summary: Vec<(usize, f64)> = lines
        .iter()
        .map(|l| (l.line_number, float(l, "f")))
        .collect();
    assert_eq!(summary, [(5, 1.0), (7, 2.0), (9, 3.0)]);
    assert!(parse("").is_empty());
    assert!(parse("\n\n# only comments\n").is_empty());
    assert!(parse("# comment with \"quote\n").is_empty());
    assert_eq!(one("cpu f=1\n").fields.len(), 1);
    assert_eq!(one("cpu f=1 5\r\n").timestamp, Some(5));
    assert_eq!(
        one("cpu f=\"x\"\r\n").fields[0].1,
        FieldValue::String("x".into())
    );
}

#[test]
fn escapes_in_measurement_tags_and_field_keys() {
    let line = one(r"my\ meas\,x=y,tag\ key\,\=k=v\ a\,l\=ue field\ \,\=key=1");
    assert_eq!(line.measurement, "my meas,x=y");
    assert_eq!(tags(&line), [("tag key,=k", "v a,l=ue")]);
    assert_eq!(line.fields[0].0, "field ,=key");
    assert!(!is_borrowed!(&line.measurement));
    assert!(!is_borrowed!(&line.tags[0].0) && !is_borrowed!(&line.tags[0].1));
    assert!(!is_borrowed!(&line.fields[0].0));
}

#[test]
fn backslash_escapes_and_literals() {
    let line = one(r"m\=1\\,path=C:\temp\x,dbl=a\\b f\o\\o=1");
    assert_eq!(line.measurement, r"m=1\");
    assert_eq!(tags(&line), [("dbl", r"a\b"), ("path", r"C:\temp\x")]);
    assert!(
        is_borrowed!(&line.tags[1].1),
        "a literal backslash needs no copy"
    );
    assert_eq!(line.fields[0].0, r"f\o\o");
    // An unescaped '=' is literal in a measurement.
    assert_eq!(one("a=b f=1").measurement, "a=b");
    // A measurement may start with '=' or a quote; quotes are literal in keys.
    assert_eq!(one("=m f=1").measurement, "=m");
    let line = one("\"m\",\"t\"=\"v\" \"f\"=1");
    assert_eq!(line.measurement, "\"m\"");
    assert_eq!(tags(&line), [("\"t\"", "\"v\"")]);
    assert_eq!(line.fields[0].0, "\"f\"");
}

#[test]
fn float_forms() {
    let line = one(
        "m a=1,b=-1,c=1.5,d=-1.5,e=1.,f=.5,g=1e10,h=1E-5,i=-1.5e+10,j=0,k=-0,l=007,m=-.5e-3,n=1.7976931348623157e308",
    );
    let expect = [
        ("a", 1.0),
        ("b", -1.0),
        ("c", 1.5),
        ("d", -1.5),
        ("e", 1.0),
        ("f", 0.5),
        ("g", 1e10),
        ("h", 1e-5),
        ("i", -1.5e10),
        ("j", 0.0),
        ("k", -0.0),
        ("l", 7.0),
        ("m", -0.5e-3),
        ("n", f64::MAX),
    ];
    for (key, v) in expect {
        assert_eq!(float(&line, key).to_bits(), v.to_bits(), "{key}");
    }
}

#[test]
fn integers_unsigned_booleans() {
    let line = one(
        "m a=1i,b=-1i,c=9223372036854775807i,d=-9223372036854775808i,e=0u,f=18446744073709551615u,g=-0i",
    );
    assert_eq!(field(&line, "a"), &FieldValue::Integer(1));
    assert_eq!(field(&line, "b"), &FieldValue::Integer(-1));
    assert_eq!(field(&line, "c"), &FieldValue::Integer(i64::MAX));
    assert_eq!(field(&line, "d"), &FieldValue::Integer(i64::MIN));
    assert_eq!(field(&line, "e"), &FieldValue::Unsigned(0));
    assert_eq!(field(&line, "f"), &FieldValue::Unsigned(u64::MAX));
    assert_eq!(field(&line, "g"), &FieldValue::Integer(0));
    let line = one("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE");
    let values: Vec<&FieldValue<'_>> = line.fields.iter().map(|(_, v)| v).collect();
    let t = FieldValue::Boolean(true);
    let f = FieldValue::Boolean(false);
    assert_eq!(values, [&t, &t, &t, &t, &t, &f, &f, &f, &f, &f]);
}

#[test]
fn string_values() {
    let line = one(
        r#"m a="plain",b="with, commas= and spaces",c="q\"uote",d="back\\slash",e="lit\eral",f="",g="\\",h="é中🦀""#,
    );
    let s = |key: &str| match field(&line, key) {
        FieldValue::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(s("a"), "plain");
    assert!(is_borrowed!(&s("a")));
    assert_eq!(s("b"), "with, commas= and spaces");
    assert!(is_borrowed!(&s("b")));
    assert_eq!(s("c"), "q\"uote");
    assert!(!is_borrowed!(&s("c")));
    assert_eq!(s("d"), r"back\slash");
    assert_eq!(s("e"), r"lit\eral");
    assert!(is_borrowed!(&s("e")));
    assert_eq!(s("f"), "");
    assert_eq!(s("g"), "\\");
    assert_eq!(s("h"), "é中🦀");
}

#[test]
fn string_with_newlines_keeps_line_numbers() {
    let body = "m s=\"one\ntwo\r\nthree\",f=1 7\nm f=2\n";
    let lines: Vec<Line<'_>> = parse(body).into_iter().map(Result::unwrap).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0].fields[0].1,
        FieldValue::String("one\ntwo\r\nthree".into())
    );
    assert_eq!(lines[0].timestamp, Some(7));
    assert_eq!(lines[0].line_number, 1);
    assert_eq!(lines[1].line_number, 4);
}

#[test]
fn duplicate_fields_keep_the_last_value() {
    let line = one("m a=1,b=2,a=3i,c=4,b=\"x\"");
    assert_eq!(
        line.fields,
        vec![
            (Cow::from("a"), FieldValue::Integer(3)),
            (Cow::from("b"), FieldValue::String("x".into())),
            (Cow::from("c"), FieldValue::Float(4.0)),
        ]
    );
    // The large-field-count path.
    let mut body = String::from("m ");
    for i in 0..40 {
        body.push_str(&format!("k{}={i}i,", i % 20));
    }
    body.pop();
    let line = one(&body);
    assert_eq!(line.fields.len(), 20);
    for (i, (key, value)) in line.fields.iter().enumerate() {
        assert_eq!(key, &format!("k{i}"));
        assert_eq!(value, &FieldValue::Integer(i as i64 + 20));
    }
}

#[test]
fn fields_named_time_are_rejected() {
    check("m time=1,f=2,time=3", K::TimeFieldKey, 1, 3);
    check("m f=2,time=3", K::TimeFieldKey, 1, 7);
    check("m time=1", K::TimeFieldKey, 1, 3);
    // The value of a dropped field is still checked.
    check(
        "m f=1,time=x",
        K::InvalidFieldValue {
            key: k("time"),
            text: k("x"),
        },
        1,
        12,
    );
}

#[test]
fn precision_conversion() {
    let cases = [
        (Precision::Nanoseconds, 1_500, 1_500),
        (Precision::Microseconds, 1_500, 1_500_000),
        (Precision::Milliseconds, 1_500, 1_500_000_000),
        (Precision::Seconds, 1_500, 1_500_000_000_000),
        (Precision::Minutes, 2, 120_000_000_000),
        (Precision::Hours, -2, -7_200_000_000_000),
        (Precision::Seconds, -1_500, -1_500_000_000_000),
    ];
    for (precision, written, nanos) in cases {
        let body = format!("m f=1 {written}");
        let lines = parse_with(body.as_bytes(), precision);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].as_ref().map(|l| l.timestamp), Ok(Some(nanos)));
    }
    let extremes = format!("m f=1 {}\nm f=1 {}", i64::MAX, i64::MIN);
    let lines: Vec<Option<i64>> = parse(&extremes)
        .into_iter()
        .map(|l| l.unwrap().timestamp)
        .collect();
    assert_eq!(lines, [Some(i64::MAX), Some(i64::MIN)]);
}

#[test]
fn precision_overflow() {
    let body = b"m f=1 9223372036854\nm f=1 9223372036855\nm f=1 -9223372036855";
    let got = parse_with(body, Precision::Milliseconds);
    assert_eq!(
        got[0].as_ref().map(|l| l.timestamp),
        Ok(Some(9_223_372_036_854_000_000))
    );
    let e = got[1].as_ref().unwrap_err();
    assert_eq!(
        (&e.kind, e.line, e.column),
        (
            &K::TimestampOverflow {
                value: 9_223_372_036_855,
                precision: Precision::Milliseconds
            },
            2,
            7
        )
    );
    let e = got[2].as_ref().unwrap_err();
    assert!(matches!(
        e.kind,
        K::TimestampOverflow {
            value: -9_223_372_036_855,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "line 3, column 7: timestamp -9223372036855 in precision ms overflows i64 nanoseconds (near: `m f=1 -9223372036855`)"
    );
}

// ---------------------------------------------------------------- bad lines

#[test]
fn measurement_and_structure_errors() {
    check(",a=b f=1", K::MissingMeasurement, 1, 1);
    check("  ,a=b f=1", K::MissingMeasurement, 1, 3);
    check("cpu", K::MissingFields, 1, 4);
    check("cpu\n", K::MissingFields, 1, 4);
    check("cpu,host=a", K::MissingFields, 1, 11);
    check("cpu ", K::MissingFields, 1, 5);
    check("cpu   \r\n", K::MissingFields, 1, 7);
    check(r"cpu\ f=1", K::MissingFields, 1, 9);
}

#[test]
fn tag_errors() {
    check("cpu,=a f=1", K::MissingTagKey, 1, 5);
    check("cpu, f=1", K::MissingTagKey, 1, 5);
    check("cpu,a=1, f=1", K::MissingTagKey, 1, 9);
    check("cpu,a=1,,b=2 f=1", K::MissingTagKey, 1, 9);
    check(
        "cpu,host f=1",
        K::TagKeyWithoutValue { key: k("host") },
        1,
        5,
    );
    check("cpu,host", K::TagKeyWithoutValue { key: k("host") }, 1, 5);
    check(
        "cpu,a=1,host,b=2 f=1",
        K::TagKeyWithoutValue { key: k("host") },
        1,
        9,
    );
    check("cpu,host= f=1", K::EmptyTagValue { key: k("host") }, 1, 10);
    check(
        "cpu,host=,a=b f=1",
        K::EmptyTagValue { key: k("host") },
        1,
        10,
    );
    check(
        "cpu,host=a=b f=1",
        K::UnescapedEqualsInTagValue { key: k("host") },
        1,
        11,
    );
    check(
        "cpu,host=a,host=b f=1",
        K::DuplicateTagKey { key: k("host") },
        1,
        12,
    );
    check(
        "cpu,b=1,a=2,b=3 f=1",
        K::DuplicateTagKey { key: k("b") },
        1,
        13,
    );
    check(
        r"cpu,a\ b=1,c=2,a\ b=3 f=1",
        K::DuplicateTagKey { key: k("a b") },
        1,
        16,
    );
    check("cpu,time=1 f=1", K::TimeTagKey, 1, 5);
    check("cpu,a=1,time=1 f=1", K::TimeTagKey, 1, 9);
}

#[test]
fn field_key_errors() {
    check("cpu =1", K::MissingFieldKey, 1, 5);
    check("cpu f=1,=2", K::MissingFieldKey, 1, 9);
    check("cpu f=1,", K::MissingFieldKey, 1, 9);
    check("cpu f=1,,g=2", K::MissingFieldKey, 1, 9);
    check("cpu f", K::FieldKeyWithoutValue { key: k("f") }, 1, 5);
    check("cpu f=1,g 2", K::FieldKeyWithoutValue { key: k("g") }, 1, 9);
    check(
        "cpu f=1,g,h=2",
        K::FieldKeyWithoutValue { key: k("g") },
        1,
        9,
    );
    check("cpu f=", K::MissingFieldValue { key: k("f") }, 1, 7);
    check("cpu f=,g=1", K::MissingFieldValue { key: k("f") }, 1, 7);
    check("cpu f= 1", K::MissingFieldValue { key: k("f") }, 1, 7);
    check("cpu f=\r\n", K::MissingFieldValue { key: k("f") }, 1, 7);
}

#[test]
fn float_errors() {
    for bad in [
        "1.2.3", "1e", "1e+", "+1", "0x10", "1_000", "-", ".", "-.", "1.5.", "1e5.5", "1-2",
        "1.5e3x", "--1",
    ] {
        check(
            &format!("cpu temp={bad}"),
            K::InvalidFloat {
                key: k("temp"),
                text: k(bad),
            },
            1,
            10,
        );
    }
    for bad in [
        "NaN", "nan", "-nan", "inf", "-Inf", "+inf", "Infinity", "INF",
    ] {
        check(
            &format!("cpu temp={bad}"),
            K::NonFiniteFloat {
                key: k("temp"),
                text: k(bad),
            },
            1,
            10,
        );
    }
    check(
        "cpu temp=1e400",
        K::FloatOutOfRange {
            key: k("temp"),
            text: k("1e400"),
        },
        1,
        10,
    );
    check(
        "cpu temp=-1e309",
        K::FloatOutOfRange {
            key: k("temp"),
            text: k("-1e309"),
        },
        1,
        10,
    );
    check(
        "cpu temp=1\t",
        K::InvalidFloat {
            key: k("temp"),
            text: k("1\t"),
        },
        1,
        10,
    );
}

#[test]
fn integer_and_unsigned_errors() {
    let f = |text: &str| (k("n"), k(text));
    for bad in ["1.5i", "1e3i", "-i", "--1i", "1i2i", "0x1i", "+1i"] {
        let (key, text) = f(bad);
        check(&format!("m n={bad}"), K::InvalidInteger { key, text }, 1, 5);
    }
    check("m n=1 i", K::InvalidTimestamp { text: k("i") }, 1, 7);
    let (key, text) = f("9223372036854775808i");
    check(
        "m n=9223372036854775808i",
        K::IntegerOutOfRange { key, text },
        1,
        5,
    );
    let (key, text) = f("-9223372036854775809i");
    check(
        "m n=-9223372036854775809i",
        K::IntegerOutOfRange { key, text },
        1,
        5,
    );
    let (key, text) = f("-1u");
    check("m n=-1u", K::NegativeUnsigned { key, text }, 1, 5);
    let (key, text) = f("-0u");
    check("m n=-0u", K::NegativeUnsigned { key, text }, 1, 5);
    let (key, text) = f("18446744073709551616u");
    check(
        "m n=18446744073709551616u",
        K::UnsignedOutOfRange { key, text },
        1,
        5,
    );
    let (key, text) = f("1.5u");
    check("m n=1.5u", K::InvalidUnsigned { key, text }, 1, 5);
    let (key, text) = f("-u");
    check("m n=-u", K::InvalidUnsigned { key, text }, 1, 5);
    let (key, text) = f("i");
    check("m n=i", K::InvalidFieldValue { key, text }, 1, 5);
    let (key, text) = f("u");
    check("m n=u", K::InvalidFieldValue { key, text }, 1, 5);
}

#[test]
fn boolean_and_unknown_value_errors() {
    for bad in ["tru", "TRue", "falsey", "F1", "trUE", "fAlse", "t\"x\""] {
        check(
            &format!("m ok={bad}"),
            K::InvalidBoolean {
                key: k("ok"),
                text: k(bad),
            },
            1,
            6,
        );
    }
    for bad in ["abc", "yes", "'s'", "@", "\\"] {
        check(
            &format!("m ok={bad}"),
            K::InvalidFieldValue {
                key: k("ok"),
                text: k(bad),
            },
            1,
            6,
        );
    }
}

#[test]
fn string_errors() {
    check("m s=\"abc", K::UnterminatedString { key: k("s") }, 1, 5);
    check("m s=\"abc\\\"", K::UnterminatedString { key: k("s") }, 1, 5);
    check(
        "m s=\"a\"b",
        K::CharactersAfterString {
            key: k("s"),
            text: k("b"),
        },
        1,
        8,
    );
    check(
        "m s=\"a\"\"b\",f=1",
        K::CharactersAfterString {
            key: k("s"),
            text: k("\"b\""),
        },
        1,
        8,
    );
    check("m s=\"a\"\rx", K::LoneCarriageReturn, 1, 8);
}

#[test]
fn timestamp_errors() {
    check("cpu f=1 abc", K::InvalidTimestamp { text: k("abc") }, 1, 9);
    check("cpu f=1 12a", K::InvalidTimestamp { text: k("12a") }, 1, 9);
    check("cpu f=1 -", K::InvalidTimestamp { text: k("-") }, 1, 9);
    check("cpu f=1 +5", K::InvalidTimestamp { text: k("+5") }, 1, 9);
    check("cpu f=1 1.5", K::InvalidTimestamp { text: k("1.5") }, 1, 9);
    check("cpu f=1 1,2", K::InvalidTimestamp { text: k("1,2") }, 1, 9);
    check(
        "cpu f=1 99999999999999999999",
        K::TimestampOutOfRange {
            text: k("99999999999999999999"),
        },
        1,
        9,
    );
    check(
        "cpu f=1 9223372036854775808",
        K::TimestampOutOfRange {
            text: k("9223372036854775808"),
        },
        1,
        9,
    );
    check("cpu f=1 1 2", K::TrailingCharacters { text: k("2") }, 1, 11);
    check(
        "cpu f=1 1 \t x y",
        K::TrailingCharacters { text: k("x") },
        1,
        13,
    );
    check("cpu f=1\rx", K::LoneCarriageReturn, 1, 8);
    check("cpu f=1 5\r", K::LoneCarriageReturn, 1, 10);
    check("cpu f=1 \r", K::LoneCarriageReturn, 1, 9);
}

#[test]
fn invalid_utf8() {
    let e = fail_bytes(b"cpu,host=\xff f=1");
    assert_eq!((&e.kind, e.line, e.column), (&K::InvalidUtf8, 1, 10));
    let e = fail_bytes(b"c\xc3pu f=1");
    assert_eq!((&e.kind, e.line, e.column), (&K::InvalidUtf8, 1, 2));
    let e = fail_bytes(b"cpu s=\"ok \xe4\xb8\"");
    assert_eq!((&e.kind, e.line, e.column), (&K::InvalidUtf8, 1, 11));
    // Even where a syntax error comes first, the line is reported as not UTF-8.
    let e = fail_bytes(b"cpu f=1 12\xff");
    assert_eq!((&e.kind, e.line, e.column), (&K::InvalidUtf8, 1, 11));
    // Only the bad lines fail.
    let body = b"a f=1\nb,t=\xfe f=1\n# \xff in a comment\nc f=\"\xc3\xa9\"\nd f=\xff\ne f=1";
    let got = parse_with(body, Precision::Nanoseconds);
    let summary: Vec<Result<(String, usize), (usize, usize)>> = got
        .iter()
        .map(|r| match r {
            Ok(l) => Ok((l.measurement.to_string(), l.line_number)),
            Err(e) => Err((e.line, e.column)),
        })
        .collect();
    assert_eq!(
        summary,
        [
            Ok((k("a"), 1)),
            Err((2, 5)),
            Ok((k("c"), 4)),
            Err((5, 5)),
            Ok((k("e"), 6))
        ]
    );
    // The error excerpt is lossy text.
    assert_eq!(got[1].as_ref().unwrap_err().excerpt, "b,t=\u{fffd} f=1");
}

// ---------------------------------------------------------------- recovery

#[test]
fn mixed_body_reports_every_bad_line() {
    let body = concat!(
        "m f=1\n",                  // 1 good
        "m f=\"a\nb\"\n",           // 2-3 good, string with a newline
        "m f=bad\n",                // 4 bad
        "# comment\n",              // 5
        "\n",                       // 6
        "m,t=a f=1i 5\r\n",         // 7 good
        "m,a=b=c s=\"x\ny\",g=1\n", // 8-9 bad, string with a newline after the error
        "m f=2\n",                  // 10 good
        "m s=\"p\nq\",f=oops\n",    // 11-12 bad, error after the string's newline
        "m f=3",                    // 13 good, no final newline
    );
    let got = parse(body);
    let summary: Vec<Result<usize, (usize, usize)>> = got
        .iter()
        .map(|r| match r {
            Ok(l) => Ok(l.line_number),
            Err(e) => Err((e.line, e.column)),
        })
        .collect();
    assert_eq!(
        summary,
        [
            Ok(1),
            Ok(2),
            Err((4, 5)),
            Ok(7),
            Err((8, 6)),
            Ok(10),
            Err((12, 6)),
            Ok(13)
        ]
    );
    let errors: Vec<&LineError> = got.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(
        errors[0].kind,
        K::InvalidFieldValue {
            key: k("f"),
            text: k("bad")
        }
    );
    assert_eq!(errors[1].kind, K::UnescapedEqualsInTagValue { key: k("a") });
    assert_eq!(errors[1].excerpt, "m,a=b=c s=\"x");
    assert_eq!(
        errors[2].kind,
        K::InvalidFieldValue {
            key: k("f"),
            text: k("oops")
        }
    );
    assert_eq!(errors[2].excerpt, "q\",f=oops");
}

#[test]
fn unterminated_string_resumes_at_the_next_line() {
    let body = "m s=\"abc\nm f=1\nm g=\"x\"\nm h=\"y\"";
    let got = parse(body);
    assert_eq!(got.len(), 4, "{got:?}");
    let e = got[0].as_ref().unwrap_err();
    assert_eq!(
        (&e.kind, e.line, e.column),
        (&K::UnterminatedString { key: k("s") }, 1, 5)
    );
    let good: Vec<usize> = got[1..]
        .iter()
        .map(|r| r.as_ref().unwrap().line_number)
        .collect();
    assert_eq!(good, [2, 3, 4]);
}

#[test]
fn unbalanced_quotes_fall_back_to_physical_lines() {
    // Each line leaves the 1.x quote rule inside a string; taken literally, every bad line
    // would run to the end of the body (and the parser would be quadratic).
    let n = 20_000;
    let body = "m \"a=1 \"\n".repeat(n);
    let got = parse(&body);
    assert_eq!(got.len(), n);
    for (i, result) in got.iter().enumerate() {
        let e = result.as_ref().unwrap_err();
        assert_eq!(
            (&e.kind, e.line, e.column),
            (&K::InvalidTimestamp { text: k("\"") }, i + 1, 8)
        );
    }
    // An opening quote with no partner: the bad point is its physical line.
    let body = "m f=\"x\n".to_owned() + &"m a=\"p\",b=\"q\"\n".repeat(100);
    let got = parse(&body);
    assert_eq!(got.len(), 101);
    assert!(got[1..].iter().all(Result::is_ok));
}

#[test]
fn error_display() {
    let body = "air,site=a temp=1\nair,site=b temp=2\nair,site=a temp=1.2.3\n";
    let got = parse(body);
    let e = got[2].as_ref().unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3, column 17: invalid float value \"1.2.3\" for field \"temp\" (near: `air,site=a temp=1.2.3`)"
    );
    let e: Box<dyn std::error::Error> = Box::new(e.clone());
    assert!(e.to_string().starts_with("line 3"));
}

#[test]
fn long_lines_are_trimmed_in_excerpts_and_texts() {
    let long_tags: String = (0..30).map(|i| format!(",tag{i:02}=value")).collect();
    let body = format!("m{long_tags} f=1,g=oops,h=3{}", ",x=1".repeat(30));
    let e = fail_bytes(body.as_bytes());
    assert!(matches!(e.kind, K::InvalidFieldValue { .. }));
    assert_eq!(e.column, body.find("oops").unwrap() + 1);
    assert!(
        e.excerpt.starts_with('…') && e.excerpt.ends_with('…'),
        "{}",
        e.excerpt
    );
    assert!(e.excerpt.contains("g=oops"));
    assert!(e.excerpt.len() <= 60 + 2 * '…'.len_utf8());
    // Multibyte characters are not cut.
    let body = format!("m f=\"{}\",g=bad", "é".repeat(50));
    let e = fail_bytes(body.as_bytes());
    assert!(
        e.excerpt.ends_with("g=bad") && e.excerpt.starts_with('…'),
        "{}",
        e.excerpt
    );
    // Bad text is cut to 64 bytes.
    let body = format!("m f={}x", "1".repeat(200));
    let e = fail_bytes(body.as_bytes());
    match e.kind {
        K::InvalidFloat { text, .. } => assert_eq!(text, format!("{}…", "1".repeat(64))),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- printing

#[test]
fn display_is_canonical() {
    let line = one("  m,b=2,a=1   f=1.50,g=-3i,h=7u,i=T,j=\"q\\\"\\\\\\x\"  \t 123  ");
    assert_eq!(
        line.to_string(),
        "m,a=1,b=2 f=1.5,g=-3i,h=7u,i=true,j=\"q\\\"\\\\\\\\x\" 123"
    );
    let line = one(r"my\ m\,e=as,t\=k\ =v\,\\ f\ \=k=1");
    assert_eq!(line.to_string(), r"my\ m\,e=as,t\=k\ =v\,\\ f\ \=k=1");
    // `\ ` is an escaped space: the tag value runs on into the field.
    check(
        r"m,path=C:\temp\ f=1",
        K::UnescapedEqualsInTagValue { key: k("path") },
        1,
        18,
    );
    let line = one(r"m,path=C:\temp\\ f=1");
    assert_eq!(line.tags[0].1, r"C:\temp\");
    assert_eq!(line.to_string(), r"m,path=C:\temp\\ f=1");
    let line = one(r"m,p=C:\temp f=1");
    assert_eq!(line.to_string(), r"m,p=C:\temp f=1");
}

#[test]
fn display_sorts_tags_and_formats_floats() {
    let mut line = one("m f=1");
    line.tags = vec![("z".into(), "1".into()), ("a".into(), "2".into())];
    line.fields = vec![
        ("a".into(), FieldValue::Float(1e21)),
        ("b".into(), FieldValue::Float(1.5e-8)),
        ("c".into(), FieldValue::Float(0.1)),
        ("d".into(), FieldValue::Float(-0.0)),
        ("e".into(), FieldValue::Float(123456.789)),
        ("f".into(), FieldValue::Float(f64::MIN_POSITIVE / 4.0)),
        ("g".into(), FieldValue::Float(-1e300)),
        ("h".into(), FieldValue::Float(1e20)),
    ];
    line.timestamp = Some(-5);
    let text = line.to_string();
    assert_eq!(
        text,
        "m,a=2,z=1 a=1e21,b=1.5e-8,c=0.1,d=-0,e=123456.789,f=5.562684646268003e-309,g=-1e300,h=100000000000000000000 -5"
    );
    let back = one(&text);
    for ((_, a), (_, b)) in back.fields.iter().zip(&line.fields) {
        assert!(a.bit_eq(b), "{a:?} != {b:?}");
    }
}

#[test]
fn writers() {
    let mut s = String::new();
    write_measurement(&mut s, "a b,c=d\\");
    s.push('|');
    write_tag_component(&mut s, "a b,c=d\\e\\");
    s.push('|');
    write_field_key(&mut s, "=");
    s.push('|');
    write_string_value(&mut s, "say \"hi\" \\o/");
    s.push('|');
    write_field_value(&mut s, &FieldValue::Unsigned(3));
    assert_eq!(s, r#"a\ b\,c=d\\|a\ b\,c\=d\e\\|\=|"say \"hi\" \\o/"|3u"#);
}

#[test]
fn into_owned_outlives_the_body() {
    let owned: Line<'static> = {
        let body = String::from("m,t=v f=\"s\" 1");
        one(&body).into_owned()
    };
    assert_eq!(owned.to_string(), "m,t=v f=\"s\" 1");
}

#[test]
fn series_keys() {
    let line = one(r"cpu\ load,zone=a\=1,host=h\,1 f=1");
    assert_eq!(line.series_key(), r"cpu\ load,host=h\,1,zone=a\=1");
    assert_eq!(series_key("m", &[] as &[(&str, &str)]), "m");
    assert_eq!(series_key("a=b", &[("k", "v w")]), r"a=b,k=v\ w");
    assert_eq!(
        parse_series_key(r"cpu\ load,host=h\,1,zone=a\=1"),
        Some((
            k("cpu load"),
            vec![(k("host"), k("h,1")), (k("zone"), k("a=1"))]
        ))
    );
    assert_eq!(parse_series_key("m"), Some((k("m"), vec![])));
    assert_eq!(parse_series_key(""), Some((k(""), vec![])));
    assert_eq!(
        parse_series_key("m,a=b\nc"),
        Some((k("m"), vec![(k("a"), k("b\nc"))]))
    );
    for bad in ["m x", "m,a", "m,a=b=c", "m,a=b c", "m,a=b,", "m,a b=c"] {
        assert_eq!(parse_series_key(bad), None, "{bad:?}");
    }
}
