//! Time strings in conditions (`'2026-11-01T00:00:00Z'`) and RFC 3339 output, with the civil
//! calendar done by day arithmetic (proleptic Gregorian, Howard Hinnant's algorithms).

use super::condition::ConditionError;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i128 = 86_400;

/// InfluxDB's smallest usable time literal (`MinTime + 1`; the two lowest values are internal
/// sentinels).
pub const MIN_TIME_LITERAL: i64 = i64::MIN + 3;
/// InfluxDB's largest time (`MaxTime`).
pub const MAX_TIME_LITERAL: i64 = i64::MAX - 1;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1–12, `day` 1–31).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=12, 1..=31).
    (year, month as u32, day as u32)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether InfluxDB reads this string as a time when it is compared with `time`: it starts
/// with `YYYY-MM-DD`.
pub fn is_time_string(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b.iter().take(10).enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Reads a time string as InfluxDB 1.x does, into nanoseconds since the epoch:
/// - `YYYY-MM-DD` (midnight UTC);
/// - `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC);
/// - RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
///
/// The hour may have one digit; a fraction has any number of digits (`.` or `,`), cut to
/// nanoseconds. Fields are range-checked (no leap seconds). Errors: `invalid timestamp string`,
/// or out of InfluxDB's time range
/// ([`MIN_TIME_LITERAL`]..=[`MAX_TIME_LITERAL`]).
pub fn parse_time_string(s: &str) -> Result<i64, ConditionError> {
    let ns = parse_civil(s).ok_or(ConditionError::InvalidTimestamp)?;
    if ns > i128::from(MAX_TIME_LITERAL) {
        return Err(ConditionError::TimeOverflow(format_rfc3339_seconds(ns)));
    }
    if ns < i128::from(MIN_TIME_LITERAL) {
        return Err(ConditionError::TimeUnderflow(format_rfc3339_seconds(ns)));
    }
    // In range, checked just above.
    Ok(ns as i64)
}

/// A cursor over the ASCII bytes of a time string.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn parse_civil(s: &str) -> Option<i128> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = i64::from(c.digits(4)?);
    c.eat(b'-')?;
    let month = c.digits(2)?;
    c.eat(b'-')?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = i128::from(days_from_civil(year, month, day));
    if c.at_end() {
        return Some(days * SECS_PER_DAY * NANOS_PER_SEC);
    }
    let rfc3339 = match c.peek()? {
        b'T' => true,
        b' ' => false,
        _ => return None,
    };
    c.i += 1;
    let hour_start = c.i;
    let hour = match c.digits(2) {
        Some(h) => h,
        None => {
            c.i = hour_start;
            c.digits(1)?
        }
    };
    c.eat(b':')?;
    let minute = c.digits(2)?;
    c.eat(b':')?;
    let second = c.digits(2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut nanos: i128 = 0;
    if matches!(c.peek(), Some(b'.' | b',')) && c.b.get(c.i + 1).is_some_and(u8::is_ascii_digit) {
        c.i += 1;
        let mut scale = 100_000_000;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            nanos += i128::from(d - b'0') * scale;
            scale /= 10;
            c.i += 1;
        }
    }
    let mut offset_secs: i128 = 0;
    if rfc3339 {
        match c.peek()? {
            b'Z' => c.i += 1,
            sign @ (b'+' | b'-') => {
                c.i += 1;
                let oh = c.digits(2)?;
                c.eat(b':')?;
                let om = c.digits(2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let secs = i128::from(oh * 3600 + om * 60);
                offset_secs = if sign == b'+' { secs } else { -secs };
            }
            _ => return None,
        }
    }
    if !c.at_end() {
        return None;
    }
    let secs = days * SECS_PER_DAY + i128::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Some(secs * NANOS_PER_SEC + nanos)
}

/// `YYYY-MM-DDTHH:MM:SS` of a second count since the epoch (any `i128` within ±10⁹ years).
fn write_civil_seconds(out: &mut String, secs: i128) {
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let days = i64::try_from(days).unwrap_or(if days < 0 { i64::MIN / 2 } else { i64::MAX / 2 });
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    out.push_str(&format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"));
}

/// RFC 3339 at second precision (InfluxDB's wording of an out-of-range time).
pub(crate) fn format_rfc3339_seconds(ns: i128) -> String {
    let mut out = String::new();
    write_civil_seconds(&mut out, ns.div_euclid(NANOS_PER_SEC));
    out.push('Z');
    out
}

/// RFC 3339 in UTC with the fraction's trailing zeros removed, as Go's `RFC3339Nano`:
/// `2026-11-01T00:00:00Z`, `2026-11-01T00:00:00.5Z`.
pub fn format_rfc3339(ns: i64) -> String {
    let mut out = String::with_capacity(30);
    write_rfc3339(&mut out, ns);
    out
}

/// Appends [`format_rfc3339`]'s text to `out`, digit by digit: result encoding writes one per
/// row, and the formatting machinery took a tenth of a windowed query's time.
pub fn write_rfc3339(out: &mut String, ns: i64) {
    const NANOS: i64 = 1_000_000_000;
    const DAY: i64 = 86_400;
    let secs = ns.div_euclid(NANOS);
    let frac = ns.rem_euclid(NANOS);
    let (y, mo, d) = civil_from_days(secs.div_euclid(DAY));
    let sod = secs.rem_euclid(DAY);
    // Nanoseconds in an i64 span the years 1677 to 2262: always four digits.
    let mut buf = [0u8; 30];
    let mut n = 0;
    let mut put = |value: i64, width: usize, after: u8| {
        let mut v = value;
        for k in (0..width).rev() {
            buf[n + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        n += width;
        if after != 0 {
            buf[n] = after;
            n += 1;
        }
    };
    put(y, 4, b'-');
    put(i64::from(mo), 2, b'-');
    put(i64::from(d), 2, b'T');
    put(sod / 3600, 2, b':');
    put(sod / 60 % 60, 2, b':');
    put(sod % 60, 2, 0);
    if frac != 0 {
        // Go's RFC3339Nano: the fraction without its trailing zeros.
        let (mut digits, mut f) = (9, frac);
        while f % 10 == 0 {
            f /= 10;
            digits -= 1;
        }
        put(-1, 0, b'.');
        put(f, digits, 0);
    }
    put(-1, 0, b'Z');
    // Every byte written is an ASCII digit or separator.
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}
