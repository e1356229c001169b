"""The dataset's yardstick: order-0 entropy of per-series deltas, in bytes per field value.

For each series (measurement + tag set) the points are sorted by time. Each field's values are
turned into integers at the field's decimal resolution in that series (the largest number of
decimals seen in that field of that series; booleans 0/1; `i`/`u` suffixes stripped), consecutive
deltas are taken, and the empirical order-0 entropy of that delta multiset times its size is the
cost in bits (n·H = n·log2 n − Σ c·log2 c). The same is done for the series' timestamp deltas.
The sums over all series, divided by the number of field values, give bytes per value.

The first value of each series is not charged (it has no delta), and an empirical entropy over a
short series does not pay for its own symbol table, so on small series it is an optimistic floor.
The "pooled" figures use one delta multiset per (measurement, field) across all its series
instead, which charges more for rare deltas; both are printed.

String fields are counted as values but left out of the entropy (ganzhi's generator makes none).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from decimal import Decimal

from lineproto import measurement_of, split_line

TRUE = {b"t", b"T", b"true", b"True", b"TRUE"}
FALSE = {b"f", b"F", b"false", b"False", b"FALSE"}


def bits(counter: Counter) -> float:
    """n·H(counter) in bits: the order-0 cost of coding the multiset."""
    n = sum(counter.values())
    if n <= 1:
        return 0.0
    return n * math.log2(n) - sum(c * math.log2(c) for c in counter.values() if c > 1)


def decimals_of(tok: bytes) -> int | None:
    """Decimal places of a numeric token; 0 for integers/booleans; None for strings."""
    if tok[:1] == b'"':
        return None
    last = tok[-1:]
    if last in (b"i", b"u") or tok in TRUE or tok in FALSE:
        return 0
    if b"e" in tok or b"E" in tok:
        exp = Decimal(tok.decode()).normalize().as_tuple().exponent
        return max(0, -exp)
    dot = tok.find(b".")
    return 0 if dot < 0 else len(tok) - dot - 1


def scaled(tok: bytes, d: int) -> int:
    """The token's value × 10^d as an exact integer."""
    last = tok[-1:]
    if last in (b"i", b"u"):
        return int(tok[:-1]) * 10 ** d
    if tok in TRUE:
        return 10 ** d
    if tok in FALSE:
        return 0
    if b"e" in tok or b"E" in tok:
        return int(Decimal(tok.decode()).scaleb(d))
    dot = tok.find(b".")
    if dot < 0:
        return int(tok) * 10 ** d
    frac = len(tok) - dot - 1
    return int(tok[:dot] + tok[dot + 1:]) * 10 ** (d - frac)


def yardstick(path: str) -> dict:
    # series key -> list of (ts, field section) ; parsing of fields deferred until sorted
    series: dict[bytes, list] = defaultdict(list)
    with open(path, "rb") as f:
        for line in f:
            if b'"' in line or b"\\" in line:
                r = split_line(line)
                if r is None:
                    continue
                key, fields, ts = r
                series[key].append((ts if ts is not None else 0, fields))
                continue
            parts = line.split()
            if not parts or parts[0][0] == 0x23:
                continue
            # fast path: keep the raw field section, split it after sorting (saves memory)
            series[parts[0]].append((int(parts[2]) if len(parts) > 2 else 0, parts[1]))

    per_m: dict[str, dict] = {}
    pooled_vals: dict[tuple[str, bytes], Counter] = defaultdict(Counter)
    pooled_ts: dict[str, Counter] = defaultdict(Counter)
    strings = 0
    for key, pts in series.items():
        m = measurement_of(key)
        acc = per_m.setdefault(m, {"series": 0, "points": 0, "values": 0, "ts_bits": 0.0,
                                   "value_bits": 0.0, "fields": {}})
        pts.sort(key=lambda p: p[0])
        acc["series"] += 1
        acc["points"] += len(pts)
        # timestamps
        tsd = Counter(b[0] - a[0] for a, b in zip(pts, pts[1:]))
        acc["ts_bits"] += bits(tsd)
        pooled_ts[m].update(tsd)
        # fields: collect tokens in time order
        toks: dict[bytes, list[bytes]] = defaultdict(list)
        for _, fields in pts:
            if isinstance(fields, bytes):
                fields = [f.split(b"=", 1) for f in fields.split(b",")]
            for fk, fv in fields:
                toks[fk].append(fv)
        for fk, tl in toks.items():
            acc["values"] += len(tl)
            decs = [decimals_of(t) for t in tl]
            if any(d is None for d in decs):
                strings += sum(1 for d in decs if d is None)
                continue
            d = max(decs)
            ints = [scaled(t, d) for t in tl]
            dd = Counter(b - a for a, b in zip(ints, ints[1:]))
            b_ = bits(dd)
            acc["value_bits"] += b_
            fname = fk.decode()
            fa = acc["fields"].setdefault(fname, {"values": 0, "bits": 0.0, "decimals": 0})
            fa["values"] += len(tl)
            fa["bits"] += b_
            fa["decimals"] = max(fa["decimals"], d)
            pooled_vals[(m, fk)].update(dd)

    total_values = sum(a["values"] for a in per_m.values())
    out = {"path": path, "series": len(series), "values": total_values, "string_values": strings,
           "measurements": {}}
    tot_ts = tot_val = tot_pool_ts = tot_pool_val = 0.0
    for m, a in sorted(per_m.items()):
        pv = sum(bits(c) for (mm, _), c in pooled_vals.items() if mm == m)
        pt = bits(pooled_ts[m])
        tot_ts += a["ts_bits"]
        tot_val += a["value_bits"]
        tot_pool_ts += pt
        tot_pool_val += pv
        v = max(a["values"], 1)
        out["measurements"][m] = {
            "series": a["series"], "points": a["points"], "values": a["values"],
            "ts_bytes_per_value": a["ts_bits"] / 8 / v,
            "value_bytes_per_value": a["value_bits"] / 8 / v,
            "bytes_per_value": (a["ts_bits"] + a["value_bits"]) / 8 / v,
            "ts_bits_per_point": a["ts_bits"] / max(a["points"], 1),
            "pooled_bytes_per_value": (pt + pv) / 8 / v,
            "fields": {f: {"values": fa["values"], "decimals": fa["decimals"],
                           "bits_per_value": fa["bits"] / max(fa["values"], 1)}
                       for f, fa in sorted(a["fields"].items())},
        }
    v = max(total_values, 1)
    out.update({
        "ts_bytes_per_value": tot_ts / 8 / v,
        "value_bytes_per_value": tot_val / 8 / v,
        "bytes_per_value": (tot_ts + tot_val) / 8 / v,
        "pooled_ts_bytes_per_value": tot_pool_ts / 8 / v,
        "pooled_value_bytes_per_value": tot_pool_val / 8 / v,
        "pooled_bytes_per_value": (tot_pool_ts + tot_pool_val) / 8 / v,
        "total_bytes": (tot_ts + tot_val) / 8,
    })
    return out


def format_report(r: dict) -> str:
    lines = [f"Yardstick for {r['path']}: {r['series']} series, {r['values']} field values"
             + (f" ({r['string_values']} string values left out)" if r["string_values"] else ""),
             "order-0 entropy of per-series deltas, bytes per field value "
             "(pooled = one delta table per measurement+field)", ""]
    hdr = f"{'measurement':<14}{'series':>8}{'values':>12}{'ts B/v':>9}{'value B/v':>11}{'total B/v':>11}{'pooled':>9}{'ts bits/pt':>12}"
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for m, a in r["measurements"].items():
        lines.append(f"{m:<14}{a['series']:>8}{a['values']:>12}{a['ts_bytes_per_value']:>9.3f}"
                     f"{a['value_bytes_per_value']:>11.3f}{a['bytes_per_value']:>11.3f}"
                     f"{a['pooled_bytes_per_value']:>9.3f}{a['ts_bits_per_point']:>12.2f}")
    lines.append("-" * len(hdr))
    lines.append(f"{'all':<14}{r['series']:>8}{r['values']:>12}{r['ts_bytes_per_value']:>9.3f}"
                 f"{r['value_bytes_per_value']:>11.3f}{r['bytes_per_value']:>11.3f}"
                 f"{r['pooled_bytes_per_value']:>9.3f}")
    lines.append("")
    lines.append("per field (value bits per value, at the field's decimal resolution):")
    for m, a in r["measurements"].items():
        fs = ", ".join(f"{f} {fa['bits_per_value']:.2f} (10^-{fa['decimals']})"
                       for f, fa in a["fields"].items())
        lines.append(f"  {m}: {fs}")
    return "\n".join(lines)
