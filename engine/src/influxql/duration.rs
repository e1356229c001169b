//! InfluxQL durations: `10s`, `1h30m`, `1732406400000ms`, read into and written from `i64`
//! nanoseconds.

use super::error::ParseErrorKind;

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;
const W: i64 = 7 * D;

/// Parses a duration as InfluxDB does: an optional `-`, then one or more `<digits><unit>`
/// segments summed (`1h30m`), units `ns`, `u` or `µ`, `ms`, `s`, `m`, `h`, `d`, `w`.
///
/// Errors are [`ParseErrorKind::InvalidDuration`] and [`ParseErrorKind::DurationOverflow`]
/// (beyond `i64` nanoseconds, where InfluxDB wraps silently in some cases; we refuse).
pub fn parse_duration(text: &str) -> Result<i64, ParseErrorKind> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 2 {
        return Err(ParseErrorKind::InvalidDuration);
    }
    let negative = chars.first() == Some(&'-');
    let mut i = usize::from(negative);
    let mut total: i64 = 0;
    while i < chars.len() {
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start || i >= chars.len() {
            return Err(ParseErrorKind::InvalidDuration);
        }
        let digits: String = chars.get(start..i).unwrap_or_default().iter().collect();
        let n: i64 = digits
            .parse()
            .map_err(|_| ParseErrorKind::InvalidDuration)?;
        let next = chars.get(i + 1).copied();
        let (unit, len, scale) = match chars.get(i).copied() {
            Some('n') if next == Some('s') => ("ns", 2, NS),
            Some('u') => ("u", 1, US),
            Some('µ') => ("µ", 1, US),
            Some('m') if next == Some('s') => ("ms", 2, MS),
            Some('m') => ("m", 1, M),
            Some('s') => ("s", 1, S),
            Some('h') => ("h", 1, H),
            Some('d') => ("d", 1, D),
            Some('w') => ("w", 1, W),
            _ => return Err(ParseErrorKind::InvalidDuration),
        };
        total = n
            .checked_mul(scale)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| ParseErrorKind::DurationOverflow(format!("{n}{unit}")))?;
        i += len;
    }
    Ok(if negative { -total } else { total })
}

/// Writes a duration in its largest exact unit, as InfluxDB does: `0s`, `2w`, `90m`,
/// `1500ms`, `7u`, `3ns`; negative durations get a leading `-`.
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    for (scale, unit) in [
        (W, "w"),
        (D, "d"),
        (H, "h"),
        (M, "m"),
        (S, "s"),
        (MS, "ms"),
        (US, "u"),
    ] {
        if ns % scale == 0 {
            return format!("{}{unit}", ns / scale);
        }
    }
    format!("{ns}ns")
}
