//! Canonical escaping (the writers used by `Display` and [`series_key`]) and series keys.
//!
//! Canonical escaping:
//! - measurement: `,` and ` ` are escaped (`\,` `\ `); `=` is written as is;
//! - tag keys, tag values, field keys: `,` ` ` `=` are escaped;
//! - in all of those, a backslash is doubled only where it would otherwise start an escape:
//!   before `,` ` ` `=` `\` or at the end of the text (`C:\temp` stays `C:\temp`);
//! - string field values are double-quoted, with every `"` and `\` escaped (as InfluxDB 1.x's
//!   `EscapeStringField` does).
//!
//! Not every string can be written: a newline in a measurement, tag or field key (it ends the
//! line), a measurement starting with `#` (a comment) or with a tab, and a first field key
//! starting with a tab (both are taken as blanks) have no escape in line protocol.

use std::fmt::{self, Write};

use super::scan::{self, is_key_escapable};
use crate::model::FieldValue;

#[derive(Clone, Copy)]
enum Component {
    Measurement,
    Key,
}

fn escape_into<W: Write + ?Sized>(out: &mut W, s: &str, component: Component) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'\\' => match bytes.get(i + 1) {
                None => true,
                Some(&next) => is_key_escapable(next),
            },
            b',' | b' ' => true,
            b'=' => matches!(component, Component::Key),
            _ => false,
        };
        if escape {
            // `i` indexes an ASCII byte, so it is a char boundary.
            out.write_str(s.get(copied..i).unwrap_or_default())?;
            out.write_char('\\')?;
            copied = i;
        }
    }
    out.write_str(s.get(copied..).unwrap_or_default())
}

/// Writes a measurement with canonical escaping.
pub fn write_measurement(out: &mut String, measurement: &str) {
    // Writing to a `String` cannot fail.
    let _ = fmt_measurement(out, measurement);
}

/// Writes a tag key or a tag value with canonical escaping.
pub fn write_tag_component(out: &mut String, text: &str) {
    let _ = fmt_key(out, text);
}

/// Writes a field key with canonical escaping (the same as a tag key's).
pub fn write_field_key(out: &mut String, key: &str) {
    let _ = fmt_key(out, key);
}

/// Writes a string field value: double quotes around the text, `"` and `\` escaped.
pub fn write_string_value(out: &mut String, value: &str) {
    let _ = fmt_string_value(out, value);
}

/// Writes a field value as line protocol: `1.5`, `-3i`, `7u`, `true`, `"text"`.
///
/// Floats use the shortest text that parses back to the same bits, in plain notation for
/// magnitudes in `[1e-7, 1e21)` (and zero), in exponent notation otherwise. NaN and
/// infinities have no line protocol form; they are written as Rust prints them.
pub fn write_field_value(out: &mut String, value: &FieldValue<'_>) {
    let _ = fmt_field_value(out, value);
}

pub(super) fn fmt_measurement<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    escape_into(out, s, Component::Measurement)
}

pub(super) fn fmt_key<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    escape_into(out, s, Component::Key)
}

pub(super) fn fmt_string_value<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut copied = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b'"' || b == b'\\' {
            out.write_str(s.get(copied..i).unwrap_or_default())?;
            out.write_char('\\')?;
            copied = i;
        }
    }
    out.write_str(s.get(copied..).unwrap_or_default())?;
    out.write_char('"')
}

pub(super) fn fmt_field_value<W: Write + ?Sized>(out: &mut W, v: &FieldValue<'_>) -> fmt::Result {
    match v {
        FieldValue::Float(x) => {
            let a = x.abs();
            if a == 0.0 || (1e-7..1e21).contains(&a) || !x.is_finite() {
                write!(out, "{x}")
            } else {
                write!(out, "{x:e}")
            }
        }
        FieldValue::Integer(x) => write!(out, "{x}i"),
        FieldValue::Unsigned(x) => write!(out, "{x}u"),
        FieldValue::Boolean(x) => out.write_str(if *x { "true" } else { "false" }),
        FieldValue::String(s) => fmt_string_value(out, s),
    }
}

/// The canonical series key `measurement,k=v,k2=v2`, escaped as line protocol. The tags are
/// written in the order given: pass them sorted by key (as [`Line::tags`](super::Line) are).
pub fn series_key(measurement: &str, sorted_tags: &[(impl AsRef<str>, impl AsRef<str>)]) -> String {
    let mut key = String::with_capacity(
        measurement.len()
            + sorted_tags
                .iter()
                .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
                .sum::<usize>(),
    );
    write_measurement(&mut key, measurement);
    for (k, v) in sorted_tags {
        key.push(',');
        write_tag_component(&mut key, k.as_ref());
        key.push('=');
        write_tag_component(&mut key, v.as_ref());
    }
    key
}

/// The inverse of [`series_key`]: the unescaped measurement and tags, in the key's order.
/// `None` if `key` is not something [`series_key`] writes (an unescaped space, a tag without
/// `=`, an unescaped `=` in a tag value). Empty components are accepted, since
/// [`series_key`] writes them.
pub fn parse_series_key(key: &str) -> Option<(String, Vec<(String, String)>)> {
    let bytes = key.as_bytes();
    let (end, escaped) = scan::scan_escaped(bytes, 0, scan::SERIES_MEASUREMENT);
    let measurement = component(key, 0, end, escaped)?;
    let mut tags = Vec::new();
    let mut i = end;
    loop {
        match bytes.get(i) {
            None => return Some((measurement, tags)),
            Some(b',') => i += 1,
            Some(_) => return None,
        }
        let (key_end, key_escaped) = scan::scan_escaped(bytes, i, scan::SERIES_KEY);
        if bytes.get(key_end) != Some(&b'=') {
            return None;
        }
        let tag_key = component(key, i, key_end, key_escaped)?;
        let (value_end, value_escaped) = scan::scan_escaped(bytes, key_end + 1, scan::SERIES_KEY);
        if bytes.get(value_end) == Some(&b'=') {
            return None;
        }
        let tag_value = component(key, key_end + 1, value_end, value_escaped)?;
        tags.push((tag_key, tag_value));
        i = value_end;
    }
}

fn component(key: &str, start: usize, end: usize, escaped: bool) -> Option<String> {
    let raw = key.get(start..end)?;
    Some(if escaped {
        scan::unescape(raw, is_key_escapable)
    } else {
        raw.to_owned()
    })
}
