//! Field values and timestamps: the number grammars, booleans and quoted strings.

use std::borrow::Cow;

use super::error::{clip, LineErrorKind};
use super::parse::{Located, Text};
use super::scan::{self, is_string_escapable};
use crate::model::FieldValue;

/// Why an integer did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IntError {
    Syntax,
    Range,
}

/// Parses an optionally `-`-signed decimal `i64` (no `+`, no blanks, at least one digit).
#[inline]
pub(super) fn parse_i64(text: &[u8]) -> Result<i64, IntError> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = parse_digits(digits)?;
    if negative {
        if magnitude > 1u64 << 63 {
            return Err(IntError::Range);
        }
        // 2^63 wraps to i64::MIN, which is its negation.
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).map_err(|_| IntError::Range)
    }
}

/// Parses a non-empty run of decimal digits into a `u64`.
#[inline]
pub(super) fn parse_digits(digits: &[u8]) -> Result<u64, IntError> {
    if digits.is_empty() {
        return Err(IntError::Syntax);
    }
    if digits.len() <= 19 {
        // 19 digits stay below 10^19 < 2^64: no overflow check needed.
        let mut v = 0u64;
        // Eight at a time (nanosecond timestamps have 19), the rest one by one.
        let mut chunks = digits.chunks_exact(8);
        for chunk in &mut chunks {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            v = v * 100_000_000 + eight_digits(eight).ok_or(IntError::Syntax)?;
        }
        for &b in chunks.remainder() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return Err(IntError::Syntax);
            }
            v = v * 10 + u64::from(d);
        }
        return Ok(v);
    }
    let mut v = Some(0u64);
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(IntError::Syntax);
        }
        v = v.and_then(|v| v.checked_mul(10)?.checked_add(u64::from(d)));
    }
    v.ok_or(IntError::Range)
}

/// The value of eight ASCII decimal digits, or `None` if any byte is not one (the SWAR method:
/// all eight bytes checked and combined in a few 64-bit operations).
#[inline]
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    let v = u64::from_le_bytes(bytes);
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 keeps it 3. (A byte with a
    // high nibble of 3 carries nothing into the next byte when 6 is added.)
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let digits =
        (v & HIGH) | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) == 0x3333_3333_3333_3333;
    if !digits {
        return None;
    }
    // Pairs, then quadruples, then the eight: the first digit is the lowest byte.
    let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    Some((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32)
}

/// Why a float did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FloatError {
    Syntax,
    Range,
}

/// Exact powers of ten for the fast path (10^22 is the largest exactly representable).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses InfluxDB's float grammar: `-? (digits (. digits?)? | . digits) ([eE] [+-]? digits)?`.
#[inline]
fn parse_f64(text: &[u8]) -> Result<f64, FloatError> {
    let negative = text.first() == Some(&b'-');
    let mut i = usize::from(negative);
    let mut mantissa = 0u64;
    let int_start = i;
    while let Some(&b) = text.get(i).filter(|b| b.is_ascii_digit()) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if text.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(&b) = text.get(i).filter(|b| b.is_ascii_digit()) {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits + frac_digits == 0 {
        return Err(FloatError::Syntax);
    }
    let mut exponent = false;
    if matches!(text.get(i), Some(b'e' | b'E')) {
        exponent = true;
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return Err(FloatError::Syntax);
        }
    }
    if i != text.len() {
        return Err(FloatError::Syntax);
    }
    if !exponent && int_digits + frac_digits <= 15 {
        // Clinger's fast path: the mantissa (< 10^15 < 2^53) and 10^k (k <= 15) are exact,
        // so one correctly rounded division gives the correctly rounded result.
        let scale = POW10.get(frac_digits).copied().unwrap_or(1.0);
        let v = mantissa as f64 / scale;
        return Ok(if negative { -v } else { v });
    }
    let s = std::str::from_utf8(text).map_err(|_| FloatError::Syntax)?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(FloatError::Range),
        Err(_) => Err(FloatError::Syntax),
    }
}

/// `nan`, `inf`, `infinity` in any case, optionally signed.
fn is_non_finite_literal(text: &[u8]) -> bool {
    let unsigned = match text.split_first() {
        Some((b'-' | b'+', rest)) => rest,
        _ => text,
    };
    [&b"nan"[..], b"inf", b"infinity"]
        .iter()
        .any(|lit| unsigned.eq_ignore_ascii_case(lit))
}

fn parse_bool(text: &[u8]) -> Option<bool> {
    match text {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => Some(true),
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => Some(false),
        _ => None,
    }
}

/// Parses the field value starting at `start` (just after the `=`). Returns the value, the
/// index just after it, and the number of newlines inside it (only strings have any).
#[inline]
pub(super) fn parse_value<'a>(
    text: &Text<'a>,
    body: &'a [u8],
    start: usize,
    key: &str,
) -> Located<(FieldValue<'a>, usize, usize)> {
    let first = match body.get(start) {
        None | Some(b',' | b' ' | b'\n' | b'\r') => {
            return Err((
                LineErrorKind::MissingFieldValue {
                    key: key.to_owned(),
                },
                start,
            ))
        }
        Some(b'"') => return parse_string(text, body, start, key),
        Some(&b) => b,
    };
    let end = scan::find(body, start, scan::VALUE);
    let token = body.get(start..end).unwrap_or_default();
    let value = match first {
        b'0'..=b'9' | b'-' | b'+' | b'.' => parse_number(token, key),
        b't' | b'T' | b'f' | b'F' => parse_bool(token).map(FieldValue::Boolean).ok_or_else(|| {
            LineErrorKind::InvalidBoolean {
                key: key.to_owned(),
                text: clip(token),
            }
        }),
        _ if is_non_finite_literal(token) => Err(LineErrorKind::NonFiniteFloat {
            key: key.to_owned(),
            text: clip(token),
        }),
        _ => Err(LineErrorKind::InvalidFieldValue {
            key: key.to_owned(),
            text: clip(token),
        }),
    };
    match value {
        Ok(v) => Ok((v, end, 0)),
        Err(kind) => Err((kind, start)),
    }
}

#[inline]
fn parse_number<'a>(token: &[u8], key: &str) -> Result<FieldValue<'a>, LineErrorKind> {
    let err = |make: fn(String, String) -> LineErrorKind| make(key.to_owned(), clip(token));
    match token.split_last() {
        Some((b'i', number)) => parse_i64(number)
            .map(FieldValue::Integer)
            .map_err(|e| match e {
                IntError::Syntax => err(|key, text| LineErrorKind::InvalidInteger { key, text }),
                IntError::Range => err(|key, text| LineErrorKind::IntegerOutOfRange { key, text }),
            }),
        Some((b'u', number)) => {
            let (negative, digits) = match number.split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, number),
            };
            match parse_digits(digits) {
                Err(IntError::Syntax) => Err(err(|key, text| LineErrorKind::InvalidUnsigned {
                    key,
                    text,
                })),
                _ if negative => Err(err(|key, text| LineErrorKind::NegativeUnsigned {
                    key,
                    text,
                })),
                Err(IntError::Range) => Err(err(|key, text| LineErrorKind::UnsignedOutOfRange {
                    key,
                    text,
                })),
                Ok(v) => Ok(FieldValue::Unsigned(v)),
            }
        }
        _ => parse_f64(token)
            .map(FieldValue::Float)
            .map_err(|e| match e {
                FloatError::Syntax if is_non_finite_literal(token) => {
                    err(|key, text| LineErrorKind::NonFiniteFloat { key, text })
                }
                FloatError::Syntax => err(|key, text| LineErrorKind::InvalidFloat { key, text }),
                FloatError::Range => err(|key, text| LineErrorKind::FloatOutOfRange { key, text }),
            }),
    }
}

/// Parses a double-quoted string starting at the opening quote `start`. `\"` and `\\` are
/// escapes; any other backslash is literal; raw newlines are part of the string.
fn parse_string<'a>(
    text: &Text<'a>,
    body: &'a [u8],
    start: usize,
    key: &str,
) -> Located<(FieldValue<'a>, usize, usize)> {
    let content = start + 1;
    let mut i = content;
    let mut escaped = false;
    let mut newlines = 0;
    let close = loop {
        i = scan::find(body, i, scan::STRING);
        match body.get(i) {
            Some(b'"') => break i,
            Some(b'\\') => {
                if body.get(i + 1).is_some_and(|&n| is_string_escapable(n)) {
                    escaped = true;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Some(_) => {
                newlines += 1;
                i += 1;
            }
            None => {
                return Err((
                    LineErrorKind::UnterminatedString {
                        key: key.to_owned(),
                    },
                    start,
                ))
            }
        }
    };
    let after = close + 1;
    if !matches!(body.get(after), None | Some(b',' | b' ' | b'\n' | b'\r')) {
        let junk_end = scan::find(body, after, scan::VALUE);
        return Err((
            LineErrorKind::CharactersAfterString {
                key: key.to_owned(),
                text: clip(body.get(after..junk_end).unwrap_or_default()),
            },
            after,
        ));
    }
    let raw = text.str(content, close)?;
    let value = if escaped {
        Cow::Owned(scan::unescape(raw, is_string_escapable))
    } else {
        Cow::Borrowed(raw)
    };
    Ok((FieldValue::String(value), after, newlines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Digit runs of every length up to 20, with any byte anywhere: what std parses.
        #[test]
        fn digits_parse_as_std_parses(
            digits in proptest::collection::vec(
                prop_oneof![8 => b'0'..=b'9', 1 => any::<u8>()], 1..21),
        ) {
            let ours = parse_digits(&digits);
            let std = std::str::from_utf8(&digits).ok().and_then(|t| {
                t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse::<u64>())
            });
            match std {
                Some(Ok(v)) => prop_assert_eq!(ours, Ok(v)),
                Some(Err(_)) => prop_assert_eq!(ours, Err(IntError::Range)),
                None => prop_assert_eq!(ours, Err(IntError::Syntax)),
            }
        }
    }

    #[test]
    fn eight_digit_groups() {
        assert_eq!(eight_digits(*b"12345678"), Some(12_345_678));
        assert_eq!(eight_digits(*b"00000000"), Some(0));
        assert_eq!(eight_digits(*b"99999999"), Some(99_999_999));
        for bad in [
            *b"1234567/",
            *b":2345678",
            *b"1234 678",
            *b"\xff2345678",
            *b"\xfa3456789",
            *b"12345\x3a78",
        ] {
            assert_eq!(eight_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"0"), Ok(0));
        assert_eq!(parse_i64(b"-0"), Ok(0));
        assert_eq!(parse_i64(b"007"), Ok(7));
        assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(IntError::Range));
        assert_eq!(parse_i64(b"-9223372036854775809"), Err(IntError::Range));
        assert_eq!(parse_i64(b"99999999999999999999999"), Err(IntError::Range));
        assert_eq!(parse_i64(b"99999999999999999999x"), Err(IntError::Syntax));
        assert_eq!(parse_i64(b""), Err(IntError::Syntax));
        assert_eq!(parse_i64(b"-"), Err(IntError::Syntax));
        assert_eq!(parse_i64(b"+1"), Err(IntError::Syntax));
        assert_eq!(parse_i64(b"1 "), Err(IntError::Syntax));
        assert_eq!(parse_digits(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_digits(b"18446744073709551616"), Err(IntError::Range));
        assert_eq!(parse_digits(b"00000000000000000000001"), Ok(1));
    }

    #[test]
    fn floats() {
        let ok = |s: &str| parse_f64(s.as_bytes()).map(f64::to_bits);
        for (s, v) in [
            ("1", 1.0),
            ("-1", -1.0),
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5", -0.5),
            ("1e10", 1e10),
            ("1E-5", 1e-5),
            ("-1.5e+10", -1.5e10),
            ("0.1", 0.1),
            ("123456789012345", 123456789012345.0),
            ("1234567890123456789", 1234567890123456789.0),
            ("0.30000000000000004", 0.30000000000000004),
            ("1e-400", 0.0),
            ("1.7976931348623157e308", f64::MAX),
        ] {
            assert_eq!(ok(s), Ok(v.to_bits()), "{s}");
        }
        assert_eq!(ok("-0"), Ok((-0.0f64).to_bits()));
        assert_eq!(ok("-0.0e0"), Ok((-0.0f64).to_bits()));
        for s in [
            "", "-", ".", "-.", "1e", "1e+", "e5", "1.2.3", "+1", "1..", "0x10", "1_0", "inf",
            "nan", "NaN", "-inf", "infinity", "1 ", " 1", "1e5.5",
        ] {
            assert_eq!(ok(s), Err(FloatError::Syntax), "{s:?}");
        }
        assert_eq!(ok("1e400"), Err(FloatError::Range));
        assert_eq!(ok("-1e309"), Err(FloatError::Range));
    }

    #[test]
    fn non_finite_literals() {
        for s in [
            "nan",
            "NaN",
            "-nan",
            "inf",
            "+Inf",
            "-INF",
            "Infinity",
            "-infinity",
        ] {
            assert!(is_non_finite_literal(s.as_bytes()), "{s}");
        }
        for s in ["na", "infinit", "1", "", "-"] {
            assert!(!is_non_finite_literal(s.as_bytes()), "{s}");
        }
    }
}
