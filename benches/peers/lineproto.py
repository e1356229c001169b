"""Reading a line-protocol file the way the peer harness needs it.

`split_line` cuts one line into (series key, [(field, value token)], timestamp). The fast path is a
plain split on spaces, commas and `=`: correct for `ganzhi gen` output, which has no string fields
and no escapes. Lines that contain a quote or a backslash take a slow, careful path that honours
quoted strings and backslash escapes, so a stray string field does not miscount.

`read_batches` reads the file once, cuts it into batches of N lines for the loaders and counts
what ganzhi counts: one field value per field per line.
"""

from __future__ import annotations

import dataclasses
from collections import Counter


@dataclasses.dataclass
class Dataset:
    path: str
    batches: list[bytes]
    lines: int
    values: int                     # field values: one per field per line
    values_by_measurement: dict[str, int]
    lines_by_measurement: dict[str, int]
    series: int
    min_ts: int | None              # nanoseconds
    max_ts: int | None
    bytes: int
    careful_lines: int              # lines that needed the quote/escape-aware path


def _split_unescaped(s: bytes, sep: int, maxsplit: int = -1) -> list[bytes]:
    """Split on `sep` outside double quotes and not preceded by a backslash."""
    out, start, i, quoted, n = [], 0, 0, False, len(s)
    while i < n:
        c = s[i]
        if c == 0x5C:               # backslash: skip the escaped byte
            i += 2
            continue
        if c == 0x22:
            quoted = not quoted
        elif c == sep and not quoted and (maxsplit < 0 or len(out) < maxsplit):
            out.append(s[start:i])
            start = i + 1
        i += 1
    out.append(s[start:])
    return out


def split_line(line: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], int | None] | None:
    """(series key, [(field key, value token)], timestamp or None); None for blank/comment."""
    line = line.strip()
    if not line or line[0] == 0x23:   # '#'
        return None
    if b'"' not in line and b"\\" not in line:
        parts = line.split(b" ")
        fields = [tuple(f.split(b"=", 1)) for f in parts[1].split(b",")]
        ts = int(parts[2]) if len(parts) > 2 and parts[2] else None
        return parts[0], fields, ts
    parts = [p for p in _split_unescaped(line, 0x20) if p]
    key, fieldsec = parts[0], parts[1]
    ts = int(parts[2]) if len(parts) > 2 else None
    fields = [tuple(_split_unescaped(f, 0x3D, 1)) for f in _split_unescaped(fieldsec, 0x2C)]
    return key, fields, ts


def measurement_of(key: bytes) -> str:
    if b"\\" not in key:
        return key.split(b",", 1)[0].decode()
    return _split_unescaped(key, 0x2C, 1)[0].replace(b"\\", b"").decode()


def read_batches(path: str, batch_lines: int, keep_batches: bool = True) -> Dataset:
    """Read `path`, cut it into batches of `batch_lines` lines, count lines and field values."""
    batches: list[bytes] = []
    cur: list[bytes] = []
    lines = values = nbytes = careful = 0
    vals_by_key: Counter[bytes] = Counter()
    lines_by_key: Counter[bytes] = Counter()
    lo = hi = None
    with open(path, "rb") as f:
        for line in f:
            nbytes += len(line)
            stripped = line.strip()
            if not stripped or stripped[0] == 0x23:
                continue
            if b'"' in stripped or b"\\" in stripped:
                careful += 1
                key, fields, ts = split_line(stripped)
                nv = len(fields)
            else:
                parts = stripped.split(b" ")
                key = parts[0]
                nv = parts[1].count(b",") + 1
                ts = int(parts[2]) if len(parts) > 2 else None
            values += nv
            lines += 1
            vals_by_key[key] += nv
            lines_by_key[key] += 1
            if ts is not None:
                if lo is None or ts < lo:
                    lo = ts
                if hi is None or ts > hi:
                    hi = ts
            if keep_batches:
                cur.append(stripped + b"\n")
                if len(cur) >= batch_lines:
                    batches.append(b"".join(cur))
                    cur = []
    if cur:
        batches.append(b"".join(cur))
    by_m: Counter[str] = Counter()
    lines_m: Counter[str] = Counter()
    for key, n in vals_by_key.items():
        m = measurement_of(key)
        by_m[m] += n
        lines_m[m] += lines_by_key[key]
    return Dataset(path, batches, lines, values, dict(sorted(by_m.items())),
                   dict(sorted(lines_m.items())), len(vals_by_key), lo, hi, nbytes, careful)
