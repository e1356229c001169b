"""InfluxQL semantics, differentially: the same small dataset written to ganzhi and to a real
InfluxDB 1.x, the same statements sent to both over HTTP, and the answers compared — series
names, tags, columns, row times and values (floats to a relative 1e-9), and whether a
statement fails. Error messages are not compared (each system words its own).

The dataset is built to reach the corners users see: irregular times, empty windows, series
missing a field or a tag, integers, floats, strings and booleans, two points in one window edge.
Every statement carries explicit time bounds where InfluxDB would otherwise run to now().

Usage: python3 tests/compat/semantics.py [--ganzhi target/release/ganzhi] [--influxd influxd]
       [--show N] [--only SUBSTRING]
Exits 1 if any statement's answers differ. Needs `influxd` (apt-get install influxdb).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benches", "peers"))
import systems  # noqa: E402  (benches/peers/systems.py: starts and stops both servers)

T0 = 1_793_491_200_000_000_000          # 2026-11-01T00:00:00Z
SEC = 1_000_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
START = "'2026-11-01T00:00:00Z'"
END = "'2026-11-01T04:00:00Z'"
RANGE = f"time >= {START} AND time < {END}"


def dataset(seed: int = 7) -> bytes:
    """Line protocol for four hours of a few small measurements (deterministic)."""
    rnd = random.Random(seed)
    lines = []
    stations = [("north", "a1"), ("north", "a2"), ("south", "a3"), ("south", "a4"),
                ("east", "a5"), ("east", "a6")]
    for district, station in stations:
        t = T0 + rnd.randrange(0, 90) * SEC
        while t < T0 + 4 * HOUR:
            # a1 is silent in the second hour: empty windows for fill().
            if not (station == "a1" and T0 + HOUR <= t < T0 + 2 * HOUR):
                pm25 = round(rnd.uniform(3, 80), 1)
                aqi = rnd.randrange(10, 200)
                status = rnd.choice(["good", "fair", "poor"])
                ok = rnd.choice(["true", "false"])
                if rnd.random() < 0.15:      # some points carry pm25 only
                    fields = f"pm25={pm25}"
                else:
                    fields = f'pm25={pm25},aqi={aqi}i,status="{status}",ok={ok}'
                lines.append(f"air,district={district},station={station} {fields} {t}")
            t += rnd.randrange(3 * 60, 11 * 60) * SEC + rnd.randrange(0, 1000) * 1_000_000
    # Points exactly on window edges, and two series at the same instant.
    for k in range(5):
        t = T0 + k * HOUR
        lines.append(f"edge,probe=p1 v={k * 1.5} {t}")
        lines.append(f"edge,probe=p2 v={k * -2}.0,w={k * -2}i {t}")
    lines.append(f"edge,probe=p1 v=9.25 {T0 + 30 * MIN}")
    # A tag present on some series only.
    for k in range(24):
        t = T0 + k * 10 * MIN
        lines.append(f"noise,site=s1 laeq={50 + (k * 7) % 13}.5 {t}")
        lines.append(f"noise,site=s2,zone=z1 laeq={60 - (k * 5) % 11}.25 {t + 17 * SEC}")
    # Integers for sums, spreads and integrals.
    for k in range(48):
        t = T0 + k * 5 * MIN
        lines.append(f"power,feeder=f1 kw={(k * 37) % 101}i,pf={0.8 + (k % 7) / 50} {t}")
        if k % 3:
            lines.append(f"power,feeder=f2 kw={(k * 53) % 89}i,pf={0.9 - (k % 5) / 40} {t}")
    # Names that need quoting or escaping, and a negative, a zero and a large integer.
    for k in range(6):
        t = T0 + k * 20 * MIN
        lines.append(f'odd\\ name,tag\\ key=a\\,b,zone=z{k % 2} field\\ key={k - 2.5},'
                     f'big={(k - 3) * 4_000_000_000}i,txt="say \\"hi\\" {k}" {t}')
    return ("\n".join(lines) + "\n").encode()


def statements() -> list[str]:
    """The statements compared, one form per entry."""
    r = RANGE
    q = [
        # raw selection, projections, arithmetic, aliases
        f"SELECT pm25 FROM air WHERE station = 'a2' AND {r}",
        f"SELECT * FROM air WHERE station = 'a3' AND {r}",
        f"SELECT pm25, status, ok FROM air WHERE station = 'a4' AND {r}",
        f"SELECT pm25 * 2 + 1 AS x, aqi / 4 FROM air WHERE station = 'a5' AND {r}",
        f"SELECT pm25, district FROM air WHERE station = 'a1' AND {r} LIMIT 5",
        f"SELECT aqi - pm25 FROM air WHERE station = 'a6' AND {r}",
        f"SELECT kw % 7, -kw FROM power WHERE {r}",
        f"SELECT v FROM edge WHERE {r}",
        f"SELECT v FROM edge WHERE time >= {START} AND time <= '2026-11-01T02:00:00Z'",
        f"SELECT laeq, zone FROM noise WHERE {r}",
        f"SELECT * FROM edge, noise WHERE {r}",
        f"SELECT *::field FROM edge, noise WHERE {r} ORDER BY time DESC LIMIT 3",
        f"SELECT count(/^[lv]/) FROM edge, noise WHERE {r}",
        f"SELECT aqi FROM air WHERE station = 'a6' AND {r}",
        f"SELECT * FROM noise WHERE {r}",
        # where: tags, regexes, fields, or
        f"SELECT pm25 FROM air WHERE district = 'north' AND {r}",
        f"SELECT pm25 FROM air WHERE district != 'north' AND {r} LIMIT 20",
        f"SELECT pm25 FROM air WHERE station =~ /a[12]/ AND {r}",
        f"SELECT pm25 FROM air WHERE station !~ /a[1-5]/ AND {r}",
        f"SELECT pm25 FROM air WHERE pm25 > 70 AND {r}",
        f"SELECT pm25, aqi FROM air WHERE (aqi < 20 OR pm25 < 5) AND {r}",
        f"SELECT pm25 FROM air WHERE status = 'poor' AND station = 'a2' AND {r}",
        f"SELECT pm25 FROM air WHERE ok = true AND station = 'a3' AND {r}",
        f"SELECT laeq FROM noise WHERE zone = '' AND {r}",
        f"SELECT laeq FROM noise WHERE zone = 'z1' AND {r}",
        f"SELECT pm25 FROM air WHERE (station = 'a1' OR station = 'a5') AND {r}",
        f"SELECT pm25 FROM air WHERE station = 'a1' AND time > '2026-11-01T03:00:00Z' "
        f"AND time < {END}",
        f"SELECT pm25 FROM air WHERE station = 'a2' AND time >= {T0 + HOUR} "
        f"AND time < {T0 + 2 * HOUR}",
        f"SELECT pm25 FROM air WHERE station = 'a2' AND time >= {T0 // SEC + 3600}s "
        f"AND time < {T0 // SEC + 7200}s",
        # order, limits
        f"SELECT pm25 FROM air WHERE station = 'a2' AND {r} ORDER BY time DESC LIMIT 4",
        f"SELECT pm25 FROM air WHERE {r} GROUP BY station LIMIT 2 OFFSET 1",
        f"SELECT pm25 FROM air WHERE {r} GROUP BY station SLIMIT 2 SOFFSET 1",
        f"SELECT pm25 FROM air WHERE {r} GROUP BY * ORDER BY time DESC LIMIT 1",
        f"SELECT pm25 FROM air WHERE {r} GROUP BY district ORDER BY time DESC SLIMIT 2",
        f"SELECT max(*) FROM edge, noise WHERE {r} ORDER BY time DESC",
        f"SELECT max(pm25) FROM air WHERE {r} GROUP BY time(1h), district ORDER BY time DESC "
        f"SLIMIT 1 SOFFSET 1",
        # aggregates over the whole range
        f"SELECT count(pm25), sum(pm25), mean(pm25), min(pm25), max(pm25) FROM air WHERE {r}",
        f"SELECT count(aqi), sum(aqi), mean(aqi), spread(aqi), stddev(aqi) FROM air WHERE {r}",
        f"SELECT median(pm25), mode(aqi), spread(pm25), stddev(pm25) FROM air WHERE {r}",
        f"SELECT first(pm25), last(pm25) FROM air WHERE {r}",
        f"SELECT first(status), last(status), count(status), mode(status) FROM air WHERE {r}",
        f"SELECT count(ok), first(ok), last(ok), mode(ok) FROM air WHERE {r}",
        f"SELECT percentile(pm25, 95), percentile(pm25, 50), percentile(aqi, 10) "
        f"FROM air WHERE {r}",
        f"SELECT percentile(pm25, 0), percentile(pm25, 100) FROM air WHERE {r}",
        f"SELECT distinct(status) FROM air WHERE {r}",
        f"SELECT distinct(aqi) FROM air WHERE station = 'a2' AND {r}",
        f"SELECT count(distinct(status)) FROM air WHERE {r}",
        f"SELECT count(distinct(aqi)) FROM air WHERE {r} GROUP BY time(1h), district",
        f"SELECT count(DISTINCT status) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m)",
        f"SELECT integral(kw) FROM power WHERE {r} GROUP BY feeder",
        f"SELECT integral(pf, 1m) FROM power WHERE {r} GROUP BY feeder",
        f"SELECT count(*) FROM air WHERE {r}",
        f"SELECT max(*) FROM power WHERE {r}",
        f"SELECT mean(*) FROM noise WHERE {r}",
        f"SELECT sum(kw) * 2, mean(kw) + max(kw) FROM power WHERE {r}",
        # selectors carry their point's time
        f"SELECT max(pm25) FROM air WHERE {r}",
        f"SELECT min(pm25) FROM air WHERE {r} GROUP BY district",
        f"SELECT max(pm25), station FROM air WHERE {r}",
        f"SELECT min(pm25), aqi, status, station FROM air WHERE {r} GROUP BY district",
        f"SELECT first(pm25), aqi * 2 FROM air WHERE {r} GROUP BY time(1h), district",
        f"SELECT last(aqi) AS a, pm25 AS p FROM air WHERE station = 'a3' AND {r} "
        f"GROUP BY time(40m) fill(none)",
        f"SELECT percentile(pm25, 80), station FROM air WHERE {r} GROUP BY time(2h)",
        f"SELECT max(kw), pf, feeder FROM power WHERE {r} GROUP BY time(1h) ORDER BY time DESC",
        f"SELECT max(pm25), min(pm25), station FROM air WHERE {r}",
        f"SELECT top(pm25, 3) FROM air WHERE {r}",
        f"SELECT bottom(pm25, 2) FROM air WHERE {r} GROUP BY district",
        f"SELECT last(pm25) FROM air WHERE {r} GROUP BY station",
        f"SELECT first(v) FROM edge WHERE {r} GROUP BY probe",
        # group by time: windows, offsets, fill
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) fill(none)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) fill(0)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) "
        f"fill(previous)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) "
        f"fill(linear)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) fill(-1.5)",
        f"SELECT count(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m)",
        f"SELECT count(pm25) FROM air WHERE station = 'a1' AND {r} GROUP BY time(30m) fill(7)",
        f"SELECT max(pm25) FROM air WHERE {r} GROUP BY time(1h), district",
        f"SELECT max(pm25) FROM air WHERE {r} GROUP BY time(1h, 15m), district",
        f"SELECT sum(kw) FROM power WHERE {r} GROUP BY time(45m)",
        f"SELECT sum(kw) FROM power WHERE {r} GROUP BY time(45m, -10m)",
        f"SELECT sum(kw) FROM power WHERE time >= '2026-11-01T00:07:00Z' AND time < {END} "
        f"GROUP BY time(1h)",
        f"SELECT first(pm25), last(pm25) FROM air WHERE station = 'a4' AND {r} "
        f"GROUP BY time(40m)",
        f"SELECT min(pm25), max(pm25) FROM air WHERE station = 'a4' AND {r} GROUP BY time(40m)",
        f"SELECT spread(pm25), stddev(pm25), median(pm25) FROM air WHERE {r} "
        f"GROUP BY time(1h), station",
        f"SELECT percentile(pm25, 90) FROM air WHERE {r} GROUP BY time(1h)",
        f"SELECT mode(status) FROM air WHERE {r} GROUP BY time(2h), district",
        f"SELECT distinct(status) FROM air WHERE {r} GROUP BY time(2h)",
        f"SELECT integral(kw) FROM power WHERE {r} GROUP BY time(1h), feeder",
        f"SELECT integral(pf) FROM power WHERE {r} GROUP BY time(25m), feeder",
        f"SELECT integral(pm25, 1m) FROM air WHERE station = 'a1' AND {r} GROUP BY time(20m)",
        f"SELECT mean(pm25) FROM air WHERE {r} GROUP BY time(1h), * ",
        f"SELECT mean(laeq) FROM noise WHERE {r} GROUP BY zone",
        f"SELECT mean(laeq) FROM noise WHERE {r} GROUP BY time(1h), zone fill(none)",
        f"SELECT mean(v) FROM edge WHERE {r} GROUP BY time(1h)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a2' AND {r} GROUP BY time(30m) "
        f"ORDER BY time DESC",
        f"SELECT mean(pm25) FROM air WHERE station = 'a2' AND {r} GROUP BY time(30m) LIMIT 3",
        f"SELECT mean(pm25) FROM air WHERE station = 'a2' AND {r} GROUP BY time(30m) "
        f"LIMIT 3 OFFSET 2",
        f"SELECT mean(pm25) FROM air WHERE {r} GROUP BY time(1h), station SLIMIT 2",
        f"SELECT mean(pm25) * 10, max(pm25) - min(pm25) AS range FROM air WHERE {r} "
        f"GROUP BY time(1h)",
        f"SELECT count(pm25) FROM air WHERE pm25 > 40 AND {r} GROUP BY time(1h), district",
        f"SELECT last(pm25) FROM air WHERE {r} GROUP BY time(1h) fill(previous)",
        f"SELECT mean(pm25) FROM air WHERE time >= '2026-11-01T00:00:00Z' "
        f"AND time < '2026-11-01T00:00:00Z' GROUP BY time(1h)",
        # quoting, escapes, large integers, arithmetic corners
        f'SELECT * FROM "odd name" WHERE {r}',
        f'SELECT "field key", big, "tag key" FROM "odd name" WHERE "tag key" = \'a,b\' AND {r}',
        f'SELECT sum(big), max(big), mean(big), spread(big) FROM "odd name" WHERE {r}',
        f'SELECT big / 0, big % 0, "field key" / 0 FROM "odd name" WHERE {r}',
        f'SELECT txt FROM "odd name" WHERE txt =~ /hi/ AND {r}',
        f'SELECT count("field key") FROM "odd name" WHERE {r} GROUP BY "tag key", zone',
        f"SELECT kw & 6, kw | 1, kw ^ 3 FROM power WHERE feeder = 'f1' AND {r} LIMIT 4",
        f"SELECT pf FROM power WHERE pf > 0.85 AND pf < 0.9 AND {r}",
        f"SELECT kw FROM power WHERE kw = 37 OR kw = 53 AND {r}",
        f"SELECT kw FROM power WHERE (kw = 37 OR kw = 53) AND {r}",
        f"SELECT pm25 FROM air WHERE status != 'good' AND station = 'a4' AND {r}",
        f"SELECT pm25 FROM air WHERE station = 'a1' AND time > now() - 60d LIMIT 3",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND time >= {START} "
        f"AND time < {START} + 2h GROUP BY time(1h)",
        f"SELECT mean(pm25) FROM air WHERE station = 'a1' AND time >= {START} - 30m "
        f"AND time < {END} GROUP BY time(1h) fill(linear)",
        f"SELECT count(kw), sum(kw), mean(kw), median(kw), stddev(kw) FROM power WHERE {r} "
        f"GROUP BY time(2h), feeder",
        f"SELECT stddev(pm25), median(pm25) FROM air WHERE station = 'a1' AND "
        f"time >= '2026-11-01T00:00:00Z' AND time < '2026-11-01T00:10:00Z'",
        f"SELECT last(pm25) FROM air WHERE {r} GROUP BY time(1h) LIMIT 2 OFFSET 1",
        f"SELECT mean(pm25) FROM air WHERE {r} GROUP BY time(1h), district SLIMIT 1 SOFFSET 2",
        f"SELECT max(v) FROM /^e/ WHERE {r}",
        f"SELECT * FROM /^(edge|noise)$/ WHERE {r} LIMIT 2",
        f"SELECT mean(laeq) FROM noise WHERE {r} GROUP BY time(1h, 30m) fill(previous)",
        f"SELECT sum(kw) FROM power WHERE {r} GROUP BY time(90m, 1h)",
        f"SELECT first(kw), last(kw) FROM power WHERE time >= '2026-11-01T01:00:00Z' "
        f"AND time <= '2026-11-01T01:00:00Z'",
        f"SELECT pm25 FROM air WHERE time = '2026-11-01T00:00:00Z'",
        # meta
        "SHOW MEASUREMENTS",
        "SHOW MEASUREMENTS LIMIT 2 OFFSET 1",
        "SHOW TAG VALUES FROM air WITH KEY = station LIMIT 2 OFFSET 1",
        "SHOW TAG VALUES FROM \"odd name\" WITH KEY = \"tag key\"",
        "SHOW FIELD KEYS FROM \"odd name\"",
        "SHOW SERIES FROM \"odd name\"",
        "SHOW TAG KEYS FROM air WHERE district = 'east'",
        "SHOW SERIES WHERE zone =~ /z/",
        "SHOW MEASUREMENTS WHERE district = 'north'",
        "SHOW MEASUREMENTS WHERE zone != 'z1'",
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^[ae]/",
        "SHOW TAG KEYS",
        "SHOW TAG KEYS FROM noise",
        "SHOW TAG VALUES WITH KEY = station",
        "SHOW TAG VALUES FROM air WITH KEY = district",
        "SHOW TAG VALUES FROM air WITH KEY IN (district, station) WHERE district = 'east'",
        "SHOW TAG VALUES WITH KEY =~ /zone|site/",
        "SHOW FIELD KEYS",
        "SHOW FIELD KEYS FROM power",
        "SHOW SERIES",
        "SHOW SERIES FROM air WHERE district = 'south'",
        "SHOW SERIES FROM noise",
        # several statements
        f"SELECT count(pm25) FROM air WHERE {r}; SELECT count(kw) FROM power WHERE {r}",
        # errors both should refuse
        f"SELECT pm25, mean(pm25) FROM air WHERE {r}",
        f"SELECT pm25 FROM air WHERE {r} GROUP BY time(1h)",
        f"SELECT mean(status) FROM air WHERE {r}",
        f"SELECT FROM air",
        f"SELECT percentile(pm25) FROM air WHERE {r}",
        f"SELECT mean(pm25) FROM air WHERE {r} GROUP BY time(0s)",
    ]
    return q


# Statements whose answers differ from InfluxDB's on purpose or for want of a feature: their
# differences are printed but do not fail the run. (Not listed because not asked: which of
# several points of equal value a percentile() beside fields picks; InfluxDB's unstable sort
# leaves that open, ganzhi takes the earliest. The corpus avoids such ties.)
KNOWN = {
    "top(": "top() is not implemented (not among issue 4's functions)",
    "bottom(": "bottom() is not implemented (not among issue 4's functions)",
    "time(0s)": "deliberate: GROUP BY time(0s) is an error, InfluxDB ignores it "
                "(engine/src/influxql/mod.rs lists the deliberate differences)",
    "SHOW MEASUREMENTS WHERE zone != 'z1'": "InfluxDB 1.6 answers SHOW MEASUREMENTS WHERE "
                                            "tag != 'v' with nothing; ganzhi lists the "
                                            "measurements having a matching series",
    "kw = 37 OR kw = 53 AND time": "deliberate: a time condition under OR is an error "
                                   "(InfluxDB 1.4+ silently intersects the bounds)",
    "integral(pf, 1m) FROM power WHERE time >= '2026-11-01T00:00:00Z' AND time < "
    "'2026-11-01T04:00:00Z' GROUP BY feeder":
        "InfluxDB 1.6 stamps a float integral over a whole range with time 0 and an integer one "
        "with the range start; ganzhi uses the range start for both, as for every aggregate",
    "integral(kw) FROM power WHERE time >= '2026-11-01T00:00:00Z' AND time < "
    "'2026-11-01T04:00:00Z' GROUP BY time(1h)":
        "deliberate: InfluxDB 1.6's integer integral starts a window with the interpolated "
        "value paired with the previous point's (its float integral, which ganzhi follows "
        "for every type, does not)",
}


def is_raw(statement: str) -> bool:
    """A statement without calls (its rows at one time may come from several series)."""
    head = statement.split(" FROM ", 1)[0]
    return statement.startswith("SELECT") and "(" not in head


# What the generated statements draw on, per measurement: numeric fields, raw columns, columns
# beside a selector, conditions and GROUP BY tags.
PIECES = {
    "air": {
        "num": ["pm25", "aqi"],
        "raw": ["pm25", "aqi", "status", "ok", "station", "pm25 / 2"],
        "aux": ["station", "status", "aqi", "ok"],
        "cond": ["station = 'a2'", "district = 'south'", "station =~ /a[13]/",
                 "district != 'east'", "pm25 > 30", "aqi < 100", "(pm25 > 60 OR aqi < 30)",
                 "status = 'fair'"],
        "groups": ["district", "station", "*"],
    },
    "power": {
        "num": ["kw", "pf"],
        "raw": ["kw", "pf", "feeder", "kw * pf", "kw % 10"],
        "aux": ["feeder", "pf", "kw"],
        "cond": ["feeder = 'f1'", "feeder =~ /2/", "kw > 40", "pf < 0.9", "kw >= 30 AND kw <= 60"],
        "groups": ["feeder", "*"],
    },
    "noise": {
        "num": ["laeq"],
        "raw": ["laeq", "site", "zone", "laeq - 50"],
        "aux": ["site", "zone"],
        "cond": ["site = 's2'", "zone = 'z1'", "zone = ''", "laeq > 55", "site !~ /1/"],
        "groups": ["site", "zone", "*"],
    },
}


def random_show(rnd: random.Random) -> str:
    """A SHOW statement with a random source, condition and paging."""
    src = rnd.choice(["", " FROM air", " FROM power", " FROM noise", " FROM /^[ap]/"])
    cond = rnd.choice(["", "", " WHERE district = 'south'", " WHERE feeder =~ /1/",
                       " WHERE zone != 'z1'", " WHERE station =~ /a[2-4]/ AND district != 'east'"])
    page = rnd.choice(["", "", " LIMIT 2", " LIMIT 3 OFFSET 1", " OFFSET 2"])
    kind = rnd.choice(["MEASUREMENTS", "TAG KEYS", "TAG VALUES", "FIELD KEYS", "SERIES"])
    if kind == "MEASUREMENTS":
        # Not with `!=`: InfluxDB 1.6 answers SHOW MEASUREMENTS WHERE tag != 'v' with nothing
        # (SHOW SERIES with the same condition answers as ganzhi does).
        return f"SHOW MEASUREMENTS{cond if '!=' not in cond else ''}{page}"
    if kind == "FIELD KEYS":
        return f"SHOW FIELD KEYS{src}"
    if kind == "TAG VALUES":
        key = rnd.choice(["WITH KEY = station", "WITH KEY IN (district, feeder)",
                          "WITH KEY =~ /e/", "WITH KEY != zone"])
        return f"SHOW TAG VALUES{src} {key}{cond}{page}"
    return f"SHOW {kind}{src}{cond}{page}"


def random_multi(rnd: random.Random) -> str:
    """A statement over several measurements: wildcards, regex calls, a field several hold."""
    src = rnd.choice(["edge, noise", "noise, power", "/^(edge|power)$/", "air, edge"])
    sel = rnd.choice(["*", "count(*)", "max(*)", "first(/^[lvk]/)", "mean(v)", "v", "*::field"])
    rng = "time >= '2026-11-01T00:00:00Z' AND time < '2026-11-01T03:00:00Z'"
    text = f"SELECT {sel} FROM {src} WHERE {rng}"
    calls = "(" in sel
    if calls and rnd.random() < 0.5:
        text += f" GROUP BY time({rnd.choice(['30m', '1h'])})"
    if rnd.random() < 0.3:
        text += " ORDER BY time DESC"
    if rnd.random() < 0.3 and calls:
        text += f" LIMIT {rnd.randrange(1, 4)}"
    return text


def random_statements(n: int, seed: int) -> list[str]:
    """`n` statements drawn from the pieces users combine (seeded: the same list each run):
    calls and fields, conditions, windows with offsets, fills, groups, order and paging; one
    in ten is a SHOW statement."""
    rnd = random.Random(seed)
    hours = ["00", "01", "02", "03"]
    out = []
    for _ in range(n):
        if rnd.random() < 0.1:
            out.append(random_show(rnd))
            continue
        if rnd.random() < 0.08:
            out.append(random_multi(rnd))
            continue
        m = rnd.choice(["air", "air", "power", "noise"])
        pieces = PIECES[m]
        lo = rnd.choice(hours)
        hi = rnd.choice([h for h in hours if h >= lo] + ["04"])
        mins = rnd.choice(["00", "07", "30"])
        rng = (f"time >= '2026-11-01T{lo}:{mins}:00Z' AND time < '2026-11-01T{hi}:45:00Z'"
               if hi != lo else f"time >= '2026-11-01T{lo}:00:00Z' AND time < '2026-11-01T{lo}:59:00Z'")
        where = [rng]
        if rnd.random() < 0.4:
            where.append(rnd.choice(pieces["cond"]))
        agg = rnd.random() < 0.7
        if agg:
            # Not mode: among tied values over many points InfluxDB's pick follows its
            # unstable sort (ganzhi follows its rule for the order a stable sort gives). The
            # fixed statements check mode where the answer is defined.
            call = rnd.choice(["count", "sum", "mean", "median", "spread", "stddev", "min",
                               "max", "first", "last"])
            field = rnd.choice(pieces["num"])
            sel = [f"{call}({field})"]
            if rnd.random() < 0.3:
                # Not a rank that can fall before the first value (percentile(f, 5) of few
                # points is null): InfluxDB 1.6 then repeats the first window's row.
                sel.append(f"percentile({field}, {rnd.choice([50, 90, 99])})")
            if rnd.random() < 0.2:
                sel = [f"{sel[0]} * 2 + 1"]
            # Not on power beside a field: its feeders share every time, and which of two
            # points of one time and value a selector picks is not fixed in InfluxDB.
            if rnd.random() < 0.15 and call in ("min", "max", "first", "last") and m != "power":
                sel = [f"{call}({field})", rnd.choice(pieces["aux"])]
        else:
            sel = rnd.sample(pieces["raw"], rnd.randrange(1, 4))
        group = []
        if agg and rnd.random() < 0.7:
            every = rnd.choice(["10m", "25m", "1h", "90m"])
            off = rnd.choice(["", ", 5m", ", -7m"])
            group.append(f"time({every}{off})")
        if rnd.random() < 0.5:
            group.append(rnd.choice(pieces["groups"]))
        text = f"SELECT {', '.join(sel)} FROM {m} WHERE {' AND '.join(where)}"
        if group:
            text += " GROUP BY " + ", ".join(group)
            if group[0].startswith("time") and rnd.random() < 0.5:
                text += " fill(" + rnd.choice(["none", "0", "previous", "linear", "null"]) + ")"
        if rnd.random() < 0.3:
            text += " ORDER BY time DESC"
        # Nor LIMIT on power's raw rows across feeders: rows of one time come in no fixed
        # order in InfluxDB, so which a limit keeps is not fixed either.
        raw_ties = m == "power" and not agg and "feeder" not in group and "*" not in group
        if rnd.random() < 0.3 and not raw_ties:
            text += f" LIMIT {rnd.randrange(1, 5)}"
            if rnd.random() < 0.5:
                text += f" OFFSET {rnd.randrange(0, 3)}"
        # Not over 01:00-01:59 alone on air, where station a1 has no points: InfluxDB 1.6
        # pages series per shard and counts those without points in the range (SOFFSET 1 over
        # three series with points answered nothing); ganzhi pages the series with points in
        # range (a field condition may then drop them all, and they still count).
        if rnd.random() < 0.2 and not (m == "air" and lo == hi == "01"):
            text += f" SLIMIT {rnd.randrange(1, 3)}"
            if rnd.random() < 0.5:
                text += f" SOFFSET {rnd.randrange(0, 2)}"
        out.append(text)
    return out


def normalise(doc, statement: str) -> list:
    """Per statement: ('error', message) or ('ok', [(name, tags, columns, values)]).

    Two orders InfluxDB does not define are made canonical on both sides: rows at one time
    from several series in a raw statement (InfluxDB's merge heap interleaves them in no fixed
    order), and, for integral(), the order of the series (InfluxDB emits them as its reducers
    close). InfluxDB also splits a windowed integral's last window into a series of its own at
    the end; those parts are joined back before comparing."""
    out = []
    for r in doc.get("results", []):
        if "error" in r:
            out.append(("error", r["error"]))
            continue
        series = []
        for s in r.get("series", []) or []:
            series.append((s.get("name"), s.get("tags") or {}, s.get("columns"),
                           s.get("values") or []))
        if is_raw(statement):
            series = [(n, t, c, sorted(v, key=lambda row: (row[0], json.dumps(row[1:]))))
                      for n, t, c, v in series]
        if "integral(" in statement:
            joined: dict = {}
            for n, t, c, v in series:
                key = (n, json.dumps(t, sort_keys=True))
                if key in joined:
                    joined[key] = (n, t, c, sorted(joined[key][3] + v, key=lambda r: r[0]))
                else:
                    joined[key] = (n, t, c, v)
            series = [joined[k] for k in sorted(joined)]
        out.append(("ok", series))
    return out


def same_value(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if math.isnan(a) or math.isnan(b):
                return False
            return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
        return a == b
    return a == b


def diff(g, i) -> str | None:
    """Why two normalised answers differ, or None."""
    if len(g) != len(i):
        return f"{len(g)} statement results against {len(i)}"
    for k, (gs, is_) in enumerate(zip(g, i)):
        if gs[0] != is_[0]:
            return f"statement {k}: ganzhi {gs[0]} {str(gs[1])[:200]}, influxdb {is_[0]} " \
                   f"{str(is_[1])[:200]}"
        if gs[0] == "error":
            continue
        if len(gs[1]) != len(is_[1]):
            return (f"statement {k}: {len(gs[1])} series against {len(is_[1])}: "
                    f"ganzhi {[(s[0], s[1]) for s in gs[1]][:6]}, "
                    f"influxdb {[(s[0], s[1]) for s in is_[1]][:6]}")
        for a, b in zip(gs[1], is_[1]):
            if a[:3] != b[:3]:
                return f"statement {k}: series {a[:3]} against {b[:3]}"
            if len(a[3]) != len(b[3]):
                return (f"statement {k}, series {a[:2]}: {len(a[3])} rows against "
                        f"{len(b[3])}: ganzhi {a[3][:4]}…, influxdb {b[3][:4]}…")
            for ra, rb in zip(a[3], b[3]):
                if len(ra) != len(rb) or not all(same_value(x, y) for x, y in zip(ra, rb)):
                    return f"statement {k}, series {a[:2]}: row {ra} against {rb}"
    return None


def query(sys_, text: str, epoch: str | None) -> tuple[int, object]:
    params = {"db": sys_.db, "q": text}
    if epoch:
        params["epoch"] = epoch
    st, data = sys_.http.request("GET", "/query?" + urllib.parse.urlencode(params), timeout=60)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {"results": [{"error": f"HTTP {st}: {data[:200]!r}"}]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ganzhi", default="target/release/ganzhi")
    ap.add_argument("--influxd", default="influxd")
    ap.add_argument("--show", type=int, default=0, help="print the first N answers whole")
    ap.add_argument("--only", default="", help="run only statements containing this text")
    ap.add_argument("--random", type=int, default=1000,
                    help="also compare this many generated statements (default 1000)")
    ap.add_argument("--seed", type=int, default=33, help="seed of the generated statements")
    args = ap.parse_args()

    body = dataset()
    qs = [q for q in statements() + random_statements(args.random, args.seed) if args.only in q]
    with tempfile.TemporaryDirectory(prefix="ganzhi-semantics-") as work:
        ours = systems.GanzhiServer(os.path.join(work, "g"), args.ganzhi)
        theirs = systems.InfluxDB(os.path.join(work, "i"), args.influxd)
        for s in (ours, theirs):
            os.makedirs(s.workdir, exist_ok=True)
        answers = {}
        try:
            for s in (ours, theirs):
                s.start()
                s.prepare()
                st, data = s.write(s.http, body)
                if st != 204:
                    raise RuntimeError(f"{s.name} refused the dataset: HTTP {st} {data[:300]!r}")
                answers[s.name] = [[query(s, q, e) for e in ("ns", None, "s")] for q in qs]
        finally:
            for s in (ours, theirs):
                s.stop()

    failed = 0
    shown = 0
    for q, g, i in zip(qs, answers["ganzhi"], answers["influxdb"]):
        for (gst, gdoc), (ist, idoc), epoch in zip(g, i, ("epoch=ns", "RFC3339", "epoch=s")):
            why = None
            if (gst == 200) != (ist == 200) and not ("error" in str(gdoc) and
                                                     "error" in str(idoc)):
                why = f"HTTP {gst} against {ist}"
            else:
                why = diff(normalise(gdoc, q), normalise(idoc, q))
            if why:
                known = next((r for k, r in KNOWN.items() if k in q), None)
                if known:
                    print(f"KNOWN [{epoch}] {q}\n     {known}")
                    break
                failed += 1
                print(f"DIFF [{epoch}] {q}\n     {why}")
                if shown < args.show:
                    shown += 1
                    print("     ganzhi:  ", json.dumps(gdoc)[:1500])
                    print("     influxdb:", json.dumps(idoc)[:1500])
                break
    print(f"semantics: {len(qs) - failed} of {len(qs)} statements answer as InfluxDB does "
          f"or differ as listed (KNOWN)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
