//! Byte classes and the token scanners shared by the line parser and the series-key parser.
//!
//! Every delimiter of line protocol is ASCII, so scanning works on bytes and a token found
//! between two delimiters of a valid UTF-8 text is itself valid UTF-8.

/// Stops a measurement token: `,` ` ` `\` `\n` (and `\r`, which ends it only before `\n`).
pub(super) const MEASUREMENT: u8 = 1 << 0;
/// Stops a tag key, tag value or field key token: `=` `,` ` ` `\` `\n` (and `\r`, as above).
pub(super) const KEY: u8 = 1 << 1;
/// Stops an unquoted field value: `,` ` ` `\n` `\r`.
pub(super) const VALUE: u8 = 1 << 2;
/// Stops the scan inside a quoted string: `"` `\` `\n`.
pub(super) const STRING: u8 = 1 << 3;
/// Stops a measurement inside a series key: `,` ` ` `\`.
pub(super) const SERIES_MEASUREMENT: u8 = 1 << 4;
/// Stops a tag key or value inside a series key: `=` `,` ` ` `\`.
pub(super) const SERIES_KEY: u8 = 1 << 5;
/// Stops a timestamp: ` ` `\t` `\n` `\r`.
pub(super) const TIMESTAMP: u8 = 1 << 6;
/// Stops the measurement-and-tags section of a line: ` ` `\` `\n` (and `\r`, as above).
pub(super) const SERIES_END: u8 = 1 << 7;

const fn build_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    t[b',' as usize] = MEASUREMENT | KEY | VALUE | SERIES_MEASUREMENT | SERIES_KEY;
    t[b' ' as usize] =
        MEASUREMENT | KEY | VALUE | SERIES_MEASUREMENT | SERIES_KEY | TIMESTAMP | SERIES_END;
    t[b'\\' as usize] = MEASUREMENT | KEY | STRING | SERIES_MEASUREMENT | SERIES_KEY | SERIES_END;
    t[b'\n' as usize] = MEASUREMENT | KEY | VALUE | STRING | TIMESTAMP | SERIES_END;
    t[b'=' as usize] = KEY | SERIES_KEY;
    t[b'\r' as usize] = MEASUREMENT | KEY | VALUE | TIMESTAMP | SERIES_END;
    t[b'"' as usize] = STRING;
    t[b'\t' as usize] = TIMESTAMP;
    t
}

static CLASSES: [u8; 256] = build_classes();

/// Index of the first byte at or after `from` whose class intersects `mask`, or `bytes.len()`.
#[inline]
pub(super) fn find(bytes: &[u8], from: usize, mask: u8) -> usize {
    match bytes.get(from..) {
        Some(rest) => {
            from + rest
                .iter()
                .position(|&b| CLASSES[usize::from(b)] & mask != 0)
                .unwrap_or(rest.len())
        }
        None => bytes.len(),
    }
}

/// The bytes a backslash escapes in measurements, tag keys, tag values and field keys.
#[inline]
pub(super) fn is_key_escapable(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'=' | b'\\')
}

/// The bytes a backslash escapes inside a string field value.
#[inline]
pub(super) fn is_string_escapable(b: u8) -> bool {
    matches!(b, b'"' | b'\\')
}

/// Scans a measurement, key or tag value from `i` to the first *unescaped* byte in `mask`
/// (`mask` must stop at backslashes). Returns the end and whether an escape sequence occurred.
/// A backslash before a byte that is not escapable is an ordinary byte, and so is a `\r` that
/// does not start a `\r\n` line ending.
#[inline]
pub(super) fn scan_escaped(bytes: &[u8], mut i: usize, mask: u8) -> (usize, bool) {
    let mut escaped = false;
    loop {
        i = find(bytes, i, mask);
        match bytes.get(i) {
            Some(b'\\') => {
                if bytes.get(i + 1).is_some_and(|&n| is_key_escapable(n)) {
                    escaped = true;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Some(b'\r') if bytes.get(i + 1) != Some(&b'\n') => i += 1,
            _ => return (i, escaped),
        }
    }
}

/// Where a series (measurement and tags) starting at `from` ends: what
/// `scan_escaped(bytes, from, SERIES_END).0` returns, found with a vectorized search in the
/// usual case of a series without escapes.
#[inline]
pub(super) fn series_end(bytes: &[u8], from: usize) -> usize {
    let Some(rest) = bytes.get(from..) else {
        return bytes.len();
    };
    let Some(k) = memchr::memchr3(b' ', b'\\', b'\n', rest) else {
        // No space or newline: scan_escaped stops only at a `\r\n`, and there is no `\n`.
        return bytes.len();
    };
    let at = from + k;
    match bytes[at] {
        b'\\' => scan_escaped(bytes, from, SERIES_END).0,
        // A `\r\n` line end stops at its `\r`; a lone `\r` does not stop the scan.
        b'\n' if at > from && bytes[at - 1] == b'\r' => at - 1,
        _ => at,
    }
}

/// Removes the escape backslashes from `s`: a backslash followed by a byte for which
/// `escapable` holds is dropped, every other backslash is kept.
pub(super) fn unescape(s: &str, escapable: fn(u8) -> bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && bytes.get(i + 1).is_some_and(|&n| escapable(n)) {
            // `i` and `i + 1` index ASCII bytes, so both are char boundaries.
            out.push_str(s.get(copied..i).unwrap_or_default());
            copied = i + 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out
}

/// Skips spaces and tabs.
#[inline]
pub(super) fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// If `i` is at the end of a line (`\n`, `\r\n` or the end of the input), the index where the
/// next line starts.
#[inline]
pub(super) fn line_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i) {
        None => Some(bytes.len()),
        Some(b'\n') => Some(i + 1),
        Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => Some(i + 2),
        Some(_) => None,
    }
}

/// Index of the next `\n` at or after `from`, or `bytes.len()`.
#[inline]
pub(super) fn next_newline(bytes: &[u8], from: usize) -> usize {
    match bytes.get(from..) {
        Some(rest) => from + rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
        None => bytes.len(),
    }
}
