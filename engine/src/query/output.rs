//! Query results in the shapes clients read: InfluxDB 1.x JSON and CSV.
//!
//! The JSON is what `/query` answers: `{"results":[{"statement_id":0,"series":[{"name":…,
//! "tags":{…},"columns":[…],"values":[[…]]}]}]}`; a failed statement carries `"error"` instead
//! of `"series"`, an empty one neither. Times are RFC 3339 strings (trailing zeros of the
//! fraction dropped, as Go's `RFC3339Nano`) or integers in the requested epoch unit, truncated
//! toward negative infinity as InfluxDB does. Floats print as Go's `encoding/json` prints them
//! (shortest round-trip digits, exponent form below 1e-6 and from 1e21), so a client comparing
//! against InfluxDB sees the same text. Non-finite floats, which JSON cannot carry, print `null`.
//!
//! The CSV is InfluxDB's `Accept: application/csv` form: a `name,tags,time,<columns…>` header
//! whenever the columns change, then one line per row; times are integers (nanoseconds unless
//! an epoch is requested).

use std::fmt::Write as _;

use super::emit::QueryEvent;
use super::statement::{QueryError, ResultSeries};
use crate::influxql::write_rfc3339;
use crate::model::OwnedFieldValue;

/// How timestamps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Epoch {
    #[default]
    Rfc3339,
    Hours,
    Minutes,
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl Epoch {
    /// The `epoch=` parameter of `/query`: `h`, `m`, `s`, `ms`, `u` (or `µ`), `ns`.
    pub fn parse(s: &str) -> Option<Epoch> {
        Some(match s {
            "h" => Epoch::Hours,
            "m" => Epoch::Minutes,
            "s" => Epoch::Seconds,
            "ms" => Epoch::Millis,
            "u" | "µ" | "us" => Epoch::Micros,
            "ns" | "n" => Epoch::Nanos,
            _ => return None,
        })
    }

    fn nanos_per_unit(self) -> i64 {
        match self {
            Epoch::Hours => 3_600_000_000_000,
            Epoch::Minutes => 60_000_000_000,
            Epoch::Seconds => 1_000_000_000,
            Epoch::Millis => 1_000_000,
            Epoch::Micros => 1_000,
            Epoch::Rfc3339 | Epoch::Nanos => 1,
        }
    }

    /// `ns` in this unit, as an integer (`None` for RFC 3339).
    pub fn integer(self, ns: i64) -> Option<i64> {
        (self != Epoch::Rfc3339).then(|| ns.div_euclid(self.nanos_per_unit()))
    }
}

/// The outcome of one statement, as [`crate::Db::query`] returns it.
pub type StatementOutcome = Result<Vec<ResultSeries>, QueryError>;

/// A whole query's results as InfluxDB 1.x JSON (statement ids count from 0).
pub fn to_json(results: &[StatementOutcome], epoch: Epoch, pretty: bool) -> Vec<u8> {
    let mut out = String::new();
    out.push_str("{\"results\":[");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_statement(&mut out, i, r, epoch);
    }
    out.push_str("]}");
    if pretty {
        out = indent(&out);
    }
    out.push('\n');
    out.into_bytes()
}

/// One event of a streamed query ([`crate::Db::query_stream`]) as a line of InfluxDB's
/// chunked response: `{"results":[{"statement_id":i,"series":[{…}]}]}`, with `"partial":true`
/// on the series and the result when the series goes on in the next line; a statement's end
/// as `{"results":[{"statement_id":i,"error":…}]}` when it failed, or `{"statement_id":i}`
/// when it `sent_series` none (InfluxDB answers every statement at least once); else nothing.
pub fn event_json(event: &QueryEvent, sent_series: bool, epoch: Epoch) -> Option<Vec<u8>> {
    let mut out = String::from("{\"results\":[");
    match event {
        QueryEvent::Series {
            statement,
            series,
            partial,
        } => {
            let _ = write!(out, "{{\"statement_id\":{statement},\"series\":[");
            write_series(&mut out, series, epoch, *partial);
            out.push(']');
            if *partial {
                out.push_str(",\"partial\":true");
            }
            out.push('}');
        }
        QueryEvent::End {
            statement,
            error: Some(e),
        } => write_statement(&mut out, *statement, &Err(e.clone()), epoch),
        QueryEvent::End {
            statement,
            error: None,
        } if !sent_series => write_statement(&mut out, *statement, &Ok(Vec::new()), epoch),
        QueryEvent::End { .. } => return None,
    }
    out.push_str("]}\n");
    Some(out.into_bytes())
}

/// `{"error":"…"}`: a request that failed as a whole (for instance a parse error).
pub fn error_json(message: &str) -> Vec<u8> {
    let mut out = String::from("{\"error\":");
    write_json_string(&mut out, message);
    out.push_str("}\n");
    out.into_bytes()
}

fn write_statement(out: &mut String, id: usize, r: &StatementOutcome, epoch: Epoch) {
    let _ = write!(out, "{{\"statement_id\":{id}");
    match r {
        Err(e) => {
            out.push_str(",\"error\":");
            write_json_string(out, &e.to_string());
        }
        Ok(series) if series.is_empty() => {}
        Ok(series) => {
            out.push_str(",\"series\":[");
            for (j, s) in series.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_series(out, s, epoch, false);
            }
            out.push(']');
        }
    }
    out.push('}');
}

fn write_series(out: &mut String, s: &ResultSeries, epoch: Epoch, partial: bool) {
    out.push('{');
    if !s.name.is_empty() {
        out.push_str("\"name\":");
        write_json_string(out, &s.name);
        out.push(',');
    }
    if !s.tags.is_empty() {
        out.push_str("\"tags\":{");
        for (i, (k, v)) in s.tags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(out, k);
            out.push(':');
            write_json_string(out, v);
        }
        out.push_str("},");
    }
    out.push_str("\"columns\":[");
    for (i, c) in s.columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, c);
    }
    out.push_str("],\"values\":[");
    let timed = s.has_time();
    for (i, (t, values)) in s.rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        if timed {
            match epoch.integer(*t) {
                Some(n) => out.push_str(itoa::Buffer::new().format(n)),
                None => {
                    out.push('"');
                    write_rfc3339(out, *t);
                    out.push('"');
                }
            }
        }
        for (j, v) in values.iter().enumerate() {
            if timed || j > 0 {
                out.push(',');
            }
            write_json_value(out, v.as_ref());
        }
        out.push(']');
    }
    out.push(']');
    if partial {
        out.push_str(",\"partial\":true");
    }
    out.push('}');
}

fn write_json_value(out: &mut String, v: Option<&OwnedFieldValue>) {
    match v {
        None => out.push_str("null"),
        Some(OwnedFieldValue::Float(f)) => write_go_float(out, *f),
        Some(OwnedFieldValue::Integer(i)) => out.push_str(itoa::Buffer::new().format(*i)),
        Some(OwnedFieldValue::Unsigned(u)) => out.push_str(itoa::Buffer::new().format(*u)),
        Some(OwnedFieldValue::Boolean(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(OwnedFieldValue::String(s)) => write_json_string(out, s),
    }
}

/// A float as Go's `encoding/json` writes it: shortest round-trip digits; exponent form
/// (`1e-7`, `1e+21`) below 1e-6 and from 1e21; non-finite values as `null`.
pub fn write_go_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    if write_short_decimal(out, f) {
        return;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Writes `f` if it is an integer or has at most three decimals, with at most 15 digits
/// (the usual sensor reading): the same text as the shortest round-trip form, found without
/// the general algorithm. `false` (nothing written) otherwise.
///
/// Why it is the same text: `m = round(f · 10^k)` for the smallest `k` with `m / 10^k == f`
/// (exact, `|m|` below 2^53) is the decimal nearest `f` among those with `k` decimals, and
/// none with fewer decimals reads back as `f`, so no shorter digit string does; trailing
/// zeros cannot occur (`m / 10` would have passed at `k − 1`).
fn write_short_decimal(out: &mut String, f: f64) -> bool {
    const SCALE: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
    if f == 0.0 && f.is_sign_negative() {
        return false; // "-0": left to the general path
    }
    for (k, &scale) in SCALE.iter().enumerate() {
        let m = (f * scale).round();
        if m.abs() >= 1e15 {
            return false;
        }
        if m / scale != f {
            continue;
        }
        let mut digits = itoa::Buffer::new();
        let text = digits.format(m.abs() as u64);
        if f < 0.0 {
            out.push('-');
        }
        if k == 0 {
            out.push_str(text);
        } else if text.len() > k {
            let (int, frac) = text.split_at(text.len() - k);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', k - text.len()));
            out.push_str(text);
        }
        return true;
    }
    false
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Re-indents compact JSON (as written above) with four spaces, for `pretty=true`.
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    };
    let bytes: Vec<char> = compact.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                if bytes.get(i + 1) == Some(&close) {
                    out.push(c);
                    out.push(close);
                    i += 2;
                    continue;
                }
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A whole query's results as InfluxDB's CSV (`Accept: application/csv`).
pub fn to_csv(results: &[StatementOutcome], epoch: Epoch) -> Vec<u8> {
    let epoch = if epoch == Epoch::Rfc3339 {
        Epoch::Nanos
    } else {
        epoch
    };
    let mut out = String::new();
    let mut last_columns: Option<&[String]> = None;
    for r in results {
        match r {
            Err(e) => {
                out.push_str("error\n");
                write_csv_field(&mut out, &e.to_string());
                out.push('\n');
                last_columns = None;
            }
            Ok(series) => {
                for s in series {
                    if last_columns != Some(s.columns.as_slice()) {
                        if last_columns.is_some() {
                            out.push('\n');
                        }
                        out.push_str("name,tags");
                        for c in &s.columns {
                            out.push(',');
                            write_csv_field(&mut out, c);
                        }
                        out.push('\n');
                        last_columns = Some(&s.columns);
                    }
                    let tags = s
                        .tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",");
                    let timed = s.has_time();
                    for (t, values) in &s.rows {
                        write_csv_field(&mut out, &s.name);
                        out.push(',');
                        write_csv_field(&mut out, &tags);
                        if timed {
                            let _ = write!(out, ",{}", epoch.integer(*t).unwrap_or(*t));
                        }
                        for v in values {
                            out.push(',');
                            match v {
                                None => {}
                                Some(OwnedFieldValue::Float(f)) => write_go_float(&mut out, *f),
                                Some(OwnedFieldValue::String(s)) => write_csv_field(&mut out, s),
                                Some(other) => {
                                    let mut s = String::new();
                                    write_json_value(&mut s, Some(other));
                                    out.push_str(&s);
                                }
                            }
                        }
                        out.push('\n');
                    }
                }
            }
        }
    }
    out.into_bytes()
}

fn write_csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> ResultSeries {
        ResultSeries {
            name: "air".into(),
            tags: vec![("district".into(), "north".into())],
            columns: vec!["time".into(), "mean".into(), "label".into()],
            rows: vec![
                (
                    1_793_491_200_000_000_000,
                    vec![
                        Some(OwnedFieldValue::Float(12.5)),
                        Some(OwnedFieldValue::String("a \"b\"".into())),
                    ],
                ),
                (1_793_491_200_500_000_000, vec![None, None]),
            ],
        }
    }

    #[test]
    fn json_matches_influxdb_shape() {
        let results = vec![
            Ok(vec![series()]),
            Ok(vec![]),
            Err(QueryError::Invalid("database not found: x".into())),
        ];
        let json = String::from_utf8(to_json(&results, Epoch::Rfc3339, false)).unwrap();
        assert_eq!(
            json,
            "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"air\",\"tags\":\
             {\"district\":\"north\"},\"columns\":[\"time\",\"mean\",\"label\"],\"values\":\
             [[\"2026-11-01T00:00:00Z\",12.5,\"a \\\"b\\\"\"],[\"2026-11-01T00:00:00.5Z\",null,\
             null]]}]},{\"statement_id\":1},{\"statement_id\":2,\"error\":\"database not found: \
             x\"}]}\n"
        );
        let ms = String::from_utf8(to_json(&results[..1], Epoch::Millis, false)).unwrap();
        assert!(ms.contains("[[1793491200000,12.5,"), "{ms}");
        assert!(ms.contains("[1793491200500,null,null]"), "{ms}");
    }

    #[test]
    fn streamed_events_are_influxdb_chunk_lines() {
        let text = |e: &QueryEvent, sent: bool| {
            event_json(e, sent, Epoch::Seconds).map(|b| String::from_utf8(b).unwrap())
        };
        let mut s = series();
        s.rows.truncate(1);
        let chunk = QueryEvent::Series {
            statement: 2,
            series: s,
            partial: true,
        };
        assert_eq!(
            text(&chunk, false).unwrap(),
            "{\"results\":[{\"statement_id\":2,\"series\":[{\"name\":\"air\",\"tags\":\
             {\"district\":\"north\"},\"columns\":[\"time\",\"mean\",\"label\"],\"values\":\
             [[1793491200,12.5,\"a \\\"b\\\"\"]],\"partial\":true}],\"partial\":true}]}\n"
        );
        let end = |error| QueryEvent::End {
            statement: 3,
            error,
        };
        // A statement that sent series ends silently; one that sent none says so; errors show.
        assert_eq!(text(&end(None), true), None);
        assert_eq!(
            text(&end(None), false).unwrap(),
            "{\"results\":[{\"statement_id\":3}]}\n"
        );
        assert_eq!(
            text(&end(Some(QueryError::Invalid("no".into()))), true).unwrap(),
            "{\"results\":[{\"statement_id\":3,\"error\":\"no\"}]}\n"
        );
    }

    #[test]
    fn pretty_json_is_the_same_document() {
        let results = vec![Ok(vec![series()])];
        let compact = String::from_utf8(to_json(&results, Epoch::Nanos, false)).unwrap();
        let pretty = String::from_utf8(to_json(&results, Epoch::Nanos, true)).unwrap();
        assert!(pretty.contains("\n    \"results\": ["), "{pretty}");
        let strip = |s: &str| {
            let mut out = String::new();
            let mut in_string = false;
            let mut prev = ' ';
            for c in s.chars() {
                if c == '"' && prev != '\\' {
                    in_string = !in_string;
                }
                if in_string || !c.is_whitespace() {
                    out.push(c);
                }
                prev = c;
            }
            out
        };
        assert_eq!(strip(&pretty), strip(&compact));
    }

    #[test]
    fn series_without_time_column() {
        let s = ResultSeries {
            name: "databases".into(),
            tags: vec![],
            columns: vec!["name".into()],
            rows: vec![(0, vec![Some(OwnedFieldValue::String("city".into()))])],
        };
        let json = String::from_utf8(to_json(&[Ok(vec![s.clone()])], Epoch::Rfc3339, false));
        assert_eq!(
            json.unwrap(),
            "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"databases\",\
             \"columns\":[\"name\"],\"values\":[[\"city\"]]}]}]}\n"
        );
        let csv = String::from_utf8(to_csv(&[Ok(vec![s])], Epoch::Rfc3339)).unwrap();
        assert_eq!(csv, "name,tags,name\ndatabases,,city\n");
    }

    #[test]
    fn floats_print_as_go_does() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (123456789.0, "123456789"),
            (f64::NAN, "null"),
        ];
        for (f, want) in cases {
            let mut s = String::new();
            write_go_float(&mut s, f);
            assert_eq!(s, want, "{f}");
        }
    }

    /// The shortest round-trip text, as the standard library finds it.
    fn shortest(f: f64) -> String {
        format!("{f}")
    }

    #[test]
    fn the_short_decimal_path_writes_the_shortest_form() {
        let check = |f: f64| {
            let mut s = String::new();
            let taken = write_short_decimal(&mut s, f);
            if taken {
                assert_eq!(s, shortest(f), "{f:e}");
                assert_eq!(s.parse::<f64>().unwrap(), f);
            }
            taken
        };
        for f in [
            0.0,
            0.001,
            -0.05,
            0.5,
            12.125,
            999.999,
            1e14,
            -99999999999999.9,
            1e15,
        ] {
            check(f);
        }
        let mut s = String::new();
        assert!(!write_short_decimal(&mut s, -0.0) && !write_short_decimal(&mut s, 0.0001));
        assert!(!write_short_decimal(&mut s, 1.0 / 3.0) && s.is_empty());
        // Decimals of every magnitude, and arbitrary doubles (which the path mostly refuses).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut decimals_taken = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = (x % 4) as i32;
            let m = (x >> 8) % 10u64.pow(1 + (x >> 4) as u32 % 15);
            let sign = if x & 1 == 0 { 1.0 } else { -1.0 };
            decimals_taken += usize::from(check(sign * m as f64 / 10f64.powi(k)));
            check(f64::from_bits(x >> 1));
        }
        // Decimals under 1e15 with up to three decimals are all taken (about 4 in 5 here).
        assert!(decimals_taken > 150_000, "{decimals_taken}");
    }

    #[test]
    fn csv_has_header_and_epoch_times() {
        let csv = String::from_utf8(to_csv(&[Ok(vec![series()])], Epoch::Seconds)).unwrap();
        assert_eq!(
            csv,
            "name,tags,time,mean,label\nair,district=north,1793491200,12.5,\"a \"\"b\"\"\"\n\
             air,district=north,1793491200,,\n"
        );
    }

    #[test]
    fn epoch_parameter_and_truncation() {
        assert_eq!(Epoch::parse("ms"), Some(Epoch::Millis));
        assert_eq!(Epoch::parse("x"), None);
        assert_eq!(Epoch::Seconds.integer(-1), Some(-1));
        assert_eq!(Epoch::Rfc3339.integer(5), None);
    }
}
