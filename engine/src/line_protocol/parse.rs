//! The parser: a single forward pass over the body, one point at a time.
//!
//! Hot path: each token is found with a table-driven byte loop, borrowed from the body unless
//! it holds an escape sequence, and converted to `&str` by slicing a region of the body that
//! was validated as UTF-8 once (std's validator has an ASCII fast path). Numbers are parsed by
//! hand; floats go through a grammar check and either an exact fast path or `str::parse`.
//!
//! Error path: the bad point's extent is found with a quote-aware scan (the rule InfluxDB 1.x's
//! `scanLine` uses), so the parser resumes at the next line even when the bad line held a
//! string with a newline. Where quotes do not balance (a missing closing quote) the bad point
//! is its first physical line only, so the lines after it are not lost. The scan may go only a
//! bounded number of lines past what the parser already read, so the whole parse stays linear
//! in the body's length whatever the input.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use super::error::{clip, locate, LineError, LineErrorKind};
use super::scan::{self, is_key_escapable};
use super::value::{self, IntError};
use super::Line;
use crate::model::{FieldValue, Precision};

/// A result whose error carries the byte offset of the mistake.
pub(super) type Located<T> = Result<T, (LineErrorKind, usize)>;

type Tag<'a> = (Cow<'a, str>, Cow<'a, str>);
type Field<'a> = (Cow<'a, str>, FieldValue<'a>);
/// Says whether a line's measurement-and-tags bytes are known (see
/// [`LineParser::next_into_with`]).
pub type KnownSeries<'k> = &'k dyn Fn(&[u8]) -> bool;

/// A region `[start, end)` of the body known to be valid UTF-8. When `end` is short of the
/// body's length, an invalid sequence starts at `end`.
pub(super) struct Text<'a> {
    valid: &'a str,
    start: usize,
    end: usize,
}

impl<'a> Text<'a> {
    /// Validates `body[from..]` up to its first invalid sequence.
    fn validate(body: &'a [u8], from: usize) -> Text<'a> {
        let rest = body.get(from..).unwrap_or_default();
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => rest
                .get(..e.valid_up_to())
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
        };
        Text {
            valid,
            start: from,
            end: from + valid.len(),
        }
    }

    /// `body[a..b]` as text; `InvalidUtf8` at the first bad byte if it is not valid UTF-8.
    #[inline]
    pub(super) fn str(&self, a: usize, b: usize) -> Located<&'a str> {
        if a >= self.start && b <= self.end {
            if let Some(s) = self.valid.get(a - self.start..b - self.start) {
                return Ok(s);
            }
        }
        Err((LineErrorKind::InvalidUtf8, self.end.max(a)))
    }

    /// A key or measurement token, unescaped if it holds an escape sequence.
    #[inline]
    fn token(&self, a: usize, b: usize, escaped: bool) -> Located<Cow<'a, str>> {
        let raw = self.str(a, b)?;
        Ok(if escaped {
            Cow::Owned(scan::unescape(raw, is_key_escapable))
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// A token for an error message, whatever its bytes.
    fn lossy(&self, body: &[u8], a: usize, b: usize, escaped: bool) -> String {
        match self.token(a, b, escaped) {
            Ok(s) => s.into_owned(),
            Err(_) => String::from_utf8_lossy(body.get(a..b).unwrap_or_default()).into_owned(),
        }
    }
}

/// Where the line after a parsed point starts, and how many newlines its strings held.
struct Parsed {
    next: usize,
    newlines: usize,
}

/// Iterates over the points of a line protocol body: `Ok` for each good line, `Err` for each
/// bad one, in input order; a bad line never stops the iteration.
///
/// Blank lines and comment lines (first non-blank byte `#`) yield nothing.
pub struct LineParser<'a> {
    body: &'a [u8],
    precision: Precision,
    /// Where the next physical line starts.
    pos: usize,
    /// The 1-based number of the line at `pos`.
    line: usize,
    text: Text<'a>,
    /// The measurement and tags of the point last returned, as written: `body[a..b]`.
    series: (usize, usize),
    /// The line number of that point.
    series_line: usize,
}

impl<'a> LineParser<'a> {
    /// A parser over `body` whose timestamps are in `precision`.
    pub fn new(body: &'a [u8], precision: Precision) -> Self {
        LineParser {
            body,
            precision,
            pos: 0,
            line: 1,
            text: Text::validate(body, 0),
            series: (0, 0),
            series_line: 0,
        }
    }

    /// Moves to `next`, `lines` lines further, and revalidates UTF-8 if a bad sequence was
    /// passed over.
    fn advance(&mut self, next: usize, lines: usize) {
        self.pos = next.min(self.body.len());
        self.line += lines;
        if self.text.end < self.pos {
            self.text = Text::validate(self.body, self.pos);
        }
    }

    /// The `Err` for a point starting at `line_start` (`start` after the blanks) whose parse
    /// failed with `(kind, pos)`; advances past the point's logical line.
    fn fail(
        &mut self,
        line_start: usize,
        start: usize,
        line_no: usize,
        (mut kind, mut pos): (LineErrorKind, usize),
    ) -> LineError {
        let body = self.body;
        let (mut end, balanced) = if matches!(kind, LineErrorKind::UnterminatedString { .. }) {
            // No closing quote anywhere: the string cannot span lines.
            (scan::next_newline(body, start), true)
        } else {
            logical_line_end(body, start, pos)
        };
        if !balanced {
            // An unbalanced quote would swallow the following lines: take the physical line.
            end = scan::next_newline(body, start);
        }
        if pos > end {
            // The parse went past the line's end inside a string: redo it within the line.
            let within = body.get(..end).unwrap_or_default();
            match self.parse_point(within, start, &mut Line::empty(), None) {
                Err(found) => (kind, pos) = found,
                Ok(_) => pos = end,
            }
        }
        if self.text.end < end {
            (kind, pos) = (LineErrorKind::InvalidUtf8, self.text.end);
        }
        let error = locate(body, line_start, line_no, pos, kind);
        let newlines = body
            .get(line_start..end)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.advance(end + 1, newlines + 1);
        error
    }

    /// The measurement and tag set of the point last returned, exactly as written (escapes
    /// and tag order included). Two points with the same bytes here are in the same series;
    /// the converse does not hold (tags may come in another order).
    pub fn series_bytes(&self) -> &'a [u8] {
        self.body
            .get(self.series.0..self.series.1)
            .unwrap_or_default()
    }

    /// Parses the next point into `line`, reusing its vectors: the allocation-free form of
    /// [`Iterator::next`] for callers that handle one line at a time. `None` at the end of the
    /// body; on `Some(Err(..))`, `line` holds nothing meaningful.
    pub fn next_into(&mut self, line: &mut Line<'a>) -> Option<Result<(), LineError>> {
        self.next_into_with(line, None)
    }

    /// [`LineParser::next_into`], except that a point whose measurement-and-tags bytes (see
    /// [`LineParser::series_bytes`]) `known` accepts comes back with them unparsed: an empty
    /// measurement and no tags. `known` must accept only bytes that began a good line before
    /// (the same bytes parse the same way, so they need no new check); the caller can still
    /// have them parsed with [`LineParser::parse_series_into`].
    pub fn next_into_with(
        &mut self,
        line: &mut Line<'a>,
        known: Option<KnownSeries<'_>>,
    ) -> Option<Result<(), LineError>> {
        loop {
            let body = self.body;
            let line_start = self.pos;
            if line_start >= body.len() {
                return None;
            }
            let line_no = self.line;
            let start = scan::skip_blanks(body, line_start);
            if let Some(next) = scan::line_end(body, start) {
                self.advance(next, 1);
                continue;
            }
            if body.get(start) == Some(&b'#') {
                self.advance(scan::next_newline(body, start) + 1, 1);
                continue;
            }
            return Some(match self.parse_point(body, start, line, known) {
                Ok((parsed, series_end))
                    if parsed.next <= self.text.end || self.text.end == body.len() =>
                {
                    line.line_number = line_no;
                    self.series = (start, series_end);
                    self.series_line = line_no;
                    self.advance(parsed.next, parsed.newlines + 1);
                    Ok(())
                }
                // Unreachable (every byte of a good line is ASCII or inside a checked token),
                // but a line holding a bad UTF-8 sequence must never be returned.
                Ok(_) => Err(self.fail(
                    line_start,
                    start,
                    line_no,
                    (LineErrorKind::InvalidUtf8, self.text.end),
                )),
                Err(found) => Err(self.fail(line_start, start, line_no, found)),
            });
        }
    }

    /// Parses the measurement and tags of the point last returned into `line`, for a caller
    /// that had them skipped (see [`LineParser::next_into_with`]).
    pub fn parse_series_into(&self, line: &mut Line<'a>) -> Result<(), LineError> {
        let (start, end) = self.series;
        let body = self.body.get(..end + 1).unwrap_or(self.body);
        match self.parse_series(body, start, line) {
            Ok(e) if e == end => Ok(()),
            Ok(e) => Err(locate(
                self.body,
                start,
                self.series_line,
                e,
                LineErrorKind::MissingFields,
            )),
            Err((kind, pos)) => Err(locate(self.body, start, self.series_line, pos, kind)),
        }
    }

    /// Parses the measurement and the tags from `start` into `line`; returns where they end.
    fn parse_series(&self, body: &'a [u8], start: usize, line: &mut Line<'a>) -> Located<usize> {
        let text = &self.text;
        line.tags.clear();

        // Measurement.
        if body.get(start) == Some(&b',') {
            return Err((LineErrorKind::MissingMeasurement, start));
        }
        let (measurement_end, escaped) = scan::scan_escaped(body, start, scan::MEASUREMENT);
        if measurement_end == start {
            return Err((LineErrorKind::MissingMeasurement, start));
        }
        line.measurement = text.token(start, measurement_end, escaped)?;
        let mut i = measurement_end;

        // Tags.
        let tags = &mut line.tags;
        if body.get(i) == Some(&b',') {
            let tags_start = i + 1;
            let (end, sorted) = parse_tags(text, body, tags_start, tags)?;
            i = end;
            if !sorted {
                tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                if let Some(pair) = tags.windows(2).find(|pair| pair[0].0 == pair[1].0) {
                    let key = pair[0].0.clone().into_owned();
                    let at = duplicate_tag_position(text, body, tags_start, &key);
                    return Err((LineErrorKind::DuplicateTagKey { key }, at));
                }
            }
        }
        Ok(i)
    }

    /// Parses the point starting at `start` (first non-blank byte of its line) in `body` into
    /// `line` (its vectors cleared first), leaving the measurement and tags unparsed if
    /// `known` accepts their bytes. Returns where the next line starts and where the tag set
    /// ends.
    fn parse_point(
        &self,
        body: &'a [u8],
        start: usize,
        line: &mut Line<'a>,
        known: Option<KnownSeries<'_>>,
    ) -> Located<(Parsed, usize)> {
        let text = &self.text;
        line.fields.clear();
        line.timestamp = None;
        let skip = known.and_then(|known| {
            let end = scan::series_end(body, start);
            let raw = body.get(start..end)?;
            (body.get(end) == Some(&b' ') && known(raw)).then_some(end)
        });
        let mut i = match skip {
            Some(end) => {
                line.measurement = Cow::Borrowed("");
                line.tags.clear();
                end
            }
            None => self.parse_series(body, start, line)?,
        };
        if body.get(i) != Some(&b' ') {
            return Err((LineErrorKind::MissingFields, i));
        }
        let series_end = i;
        i = scan::skip_blanks(body, i + 1);

        // Fields.
        let fields = &mut line.fields;
        let mut newlines = 0;
        let mut seen = 0usize;
        loop {
            let key_start = i;
            if seen == 0 && scan::line_end(body, i).is_some() {
                return Err((LineErrorKind::MissingFields, key_start));
            }
            let (key_end, escaped) = scan::scan_escaped(body, i, scan::KEY);
            if key_end == key_start {
                return Err((LineErrorKind::MissingFieldKey, key_start));
            }
            if body.get(key_end) != Some(&b'=') {
                let key = text.lossy(body, key_start, key_end, escaped);
                return Err((LineErrorKind::FieldKeyWithoutValue { key }, key_start));
            }
            let key = text.token(key_start, key_end, escaped)?;
            let (value, value_end, value_newlines) =
                value::parse_value(text, body, key_end + 1, &key)?;
            newlines += value_newlines;
            seen += 1;
            if key == "time" {
                // InfluxDB 1.x silently drops such a field; dropping data silently is not ours
                // to do, so the line is rejected with a clear reason.
                return Err((LineErrorKind::TimeFieldKey, key_start));
            }
            fields.push((key, value));
            i = value_end;
            if body.get(i) == Some(&b',') {
                i += 1;
            } else {
                break;
            }
        }
        keep_last_duplicate_fields(fields);

        // Timestamp.
        if body.get(i) == Some(&b' ') {
            i = scan::skip_blanks(body, i + 1);
            if scan::line_end(body, i).is_none() && body.get(i) != Some(&b'\r') {
                let end = scan::find(body, i, scan::TIMESTAMP);
                let token = body.get(i..end).unwrap_or_default();
                let value = value::parse_i64(token).map_err(|e| {
                    let text = clip(token);
                    let kind = match e {
                        IntError::Syntax => LineErrorKind::InvalidTimestamp { text },
                        IntError::Range => LineErrorKind::TimestampOutOfRange { text },
                    };
                    (kind, i)
                })?;
                let nanos = self.precision.to_nanos(value).ok_or((
                    LineErrorKind::TimestampOverflow {
                        value,
                        precision: self.precision,
                    },
                    i,
                ))?;
                line.timestamp = Some(nanos);
                i = scan::skip_blanks(body, end);
            }
        }
        let next = match scan::line_end(body, i) {
            Some(next) => next,
            None if body.get(i) == Some(&b'\r') => {
                return Err((LineErrorKind::LoneCarriageReturn, i));
            }
            None => {
                let rest_end = scan::find(body, i, scan::TIMESTAMP);
                let text = clip(body.get(i..rest_end).unwrap_or_default());
                return Err((LineErrorKind::TrailingCharacters { text }, i));
            }
        };

        Ok((Parsed { next, newlines }, series_end))
    }
}

impl<'a> Iterator for LineParser<'a> {
    type Item = Result<Line<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = Line::empty();
        self.next_into(&mut line).map(|r| r.map(|()| line))
    }
}

impl std::iter::FusedIterator for LineParser<'_> {}

/// Parses `key=value[,key=value...]` from `i` (just after the measurement's comma). Returns
/// where the tag set ends and whether the keys were strictly increasing.
fn parse_tags<'a>(
    text: &Text<'a>,
    body: &'a [u8],
    mut i: usize,
    tags: &mut Vec<Tag<'a>>,
) -> Located<(usize, bool)> {
    let mut sorted = true;
    loop {
        let key_start = i;
        let (key_end, key_escaped) = scan::scan_escaped(body, i, scan::KEY);
        if key_end == key_start {
            return Err((LineErrorKind::MissingTagKey, key_start));
        }
        if body.get(key_end) != Some(&b'=') {
            let key = text.lossy(body, key_start, key_end, key_escaped);
            return Err((LineErrorKind::TagKeyWithoutValue { key }, key_start));
        }
        let key = text.token(key_start, key_end, key_escaped)?;
        if key == "time" {
            return Err((LineErrorKind::TimeTagKey, key_start));
        }
        let value_start = key_end + 1;
        let (value_end, value_escaped) = scan::scan_escaped(body, value_start, scan::KEY);
        if body.get(value_end) == Some(&b'=') {
            let key = key.into_owned();
            return Err((LineErrorKind::UnescapedEqualsInTagValue { key }, value_end));
        }
        if value_end == value_start {
            let key = key.into_owned();
            return Err((LineErrorKind::EmptyTagValue { key }, value_start));
        }
        let value = text.token(value_start, value_end, value_escaped)?;
        if let Some((last, _)) = tags.last() {
            match last.as_ref().cmp(key.as_ref()) {
                Ordering::Less => {}
                Ordering::Equal => {
                    let key = key.into_owned();
                    return Err((LineErrorKind::DuplicateTagKey { key }, key_start));
                }
                Ordering::Greater => sorted = false,
            }
        }
        tags.push((key, value));
        if body.get(value_end) == Some(&b',') {
            i = value_end + 1;
        } else {
            return Ok((value_end, sorted));
        }
    }
}

/// Where the second tag keyed `key` starts (error path of unsorted tag sets).
fn duplicate_tag_position(text: &Text<'_>, body: &[u8], tags_start: usize, key: &str) -> usize {
    let mut i = tags_start;
    let mut seen = false;
    loop {
        let (key_end, escaped) = scan::scan_escaped(body, i, scan::KEY);
        if text.token(i, key_end, escaped).is_ok_and(|k| k == key) {
            if seen {
                return i;
            }
            seen = true;
        }
        let (value_end, _) = scan::scan_escaped(body, key_end + 1, scan::KEY);
        if body.get(value_end) != Some(&b',') {
            return tags_start;
        }
        i = value_end + 1;
    }
}

/// InfluxDB 1.x keeps the last value written for a field key; the key keeps the position of
/// its first occurrence.
fn keep_last_duplicate_fields(fields: &mut Vec<Field<'_>>) {
    let n = fields.len();
    let duplicated = if n <= 16 {
        fields
            .iter()
            .enumerate()
            .skip(1)
            .any(|(j, (key, _))| fields.iter().take(j).any(|(k, _)| k == key))
    } else {
        let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
        keys.sort_unstable();
        keys.windows(2).any(|pair| pair[0] == pair[1])
    };
    if !duplicated {
        return;
    }
    let first: Vec<usize> = {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(n);
        fields
            .iter()
            .enumerate()
            .map(|(i, (k, _))| *seen.entry(k.as_ref()).or_insert(i))
            .collect()
    };
    let mut slot = vec![usize::MAX; n];
    let mut kept = Vec::with_capacity(n);
    for (i, (key, value)) in std::mem::take(fields).into_iter().enumerate() {
        let first = first.get(i).copied().unwrap_or(i);
        if first == i {
            if let Some(s) = slot.get_mut(i) {
                *s = kept.len();
            }
            kept.push((key, value));
        } else if let Some(entry) = slot.get(first).and_then(|&s| kept.get_mut(s)) {
            entry.1 = value;
        }
    }
    *fields = kept;
}

/// How many newlines inside quotes [`logical_line_end`] may cross past the error position.
/// The parser has already read everything up to the error, so this bounds the extra work an
/// error costs to a few lines, keeping the parser linear on any input.
const MAX_QUOTED_NEWLINES_PAST_ERROR: usize = 32;

/// The end of the logical line starting at `start` by InfluxDB 1.x's `scanLine` rule: a
/// newline ends it unless it is inside a string value (a `"` toggles quoting when it starts a
/// field value, i.e. after more `=` than `,` in the field set); a backslash skips the next byte
/// except a newline. Returns the index of the ending `\n` (or the body's length) and whether
/// the quotes were balanced there; a line still quoted after
/// [`MAX_QUOTED_NEWLINES_PAST_ERROR`] newlines past `error` counts as unbalanced.
fn logical_line_end(body: &[u8], start: usize, error: usize) -> (usize, bool) {
    let mut i = start;
    let mut in_fields = false;
    let mut quoted = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    let mut crossed = 0usize;
    while let Some(&b) = body.get(i) {
        match b {
            b'\\' => {
                i += if body.get(i + 1) == Some(&b'\n') {
                    1
                } else {
                    2
                };
                continue;
            }
            b'\n' if !quoted => return (i, true),
            b'\n' if i > error => {
                crossed += 1;
                if crossed > MAX_QUOTED_NEWLINES_PAST_ERROR {
                    return (i, false);
                }
            }
            b' ' => in_fields = true,
            b'=' if in_fields && !quoted => equals += 1,
            b',' if in_fields && !quoted => commas += 1,
            b'"' if in_fields && equals > commas => quoted = !quoted,
            _ => {}
        }
        i += 1;
    }
    (body.len(), !quoted)
}
