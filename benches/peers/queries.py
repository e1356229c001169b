#!/usr/bin/env python3
"""The six analyst queries of issue 4, side by side: ganzhi (`ganzhi serve`), InfluxDB 1.6 and
VictoriaMetrics, on the same one-day dataset, on this machine, in one run.

    target/release/ganzhi gen --scale day > /tmp/day.lp
    python3 benches/peers/queries.py --data /tmp/day.lp [--systems ganzhi,influxdb,victoriametrics]

Each system is started fresh, loaded with `ganzhi load` (batches of 5000 lines over 4
connections), made to persist (ganzhi: /internal/flush then /internal/compact), then each query
runs once to warm up and `--runs` times more over HTTP; the table shows the medians in ms and
ganzhi's ratio to VictoriaMetrics. ganzhi's answers are checked against InfluxDB's (same
InfluxQL, exact results expected). VictoriaMetrics gets its MetricsQL equivalents (its windows
end at each step instead of starting there, and its percentile across sites is a quantile of
per-site quantiles: an approximation, as the issue notes).

With `--interleave`, the systems are still loaded one after another, but each stays up, and,
once the machine is quiet again (the systems' merges and compactions after loading done, at
most 3 minutes), the timed runs alternate between them (one query on each system in turn, the
order reversed every run), so that a change of load on this shared machine hits every system
alike instead of whichever was being timed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import systems  # noqa: E402

DAY_START = 1793491200          # 2026-11-01T00:00:00Z, where `ganzhi gen --scale day` starts
HOUR = 3600
DAY = "time >= '2026-11-01T00:00:00Z' AND time < '2026-11-02T00:00:00Z'"

# (label, InfluxQL, MetricsQL, VictoriaMetrics parameters)
QUERIES = [
    ("Q1 raw pm25, one station, one hour",
     "SELECT pm25 FROM air_quality WHERE station = 'aq-0001' AND "
     "time >= '2026-11-01T08:00:00Z' AND time < '2026-11-01T09:00:00Z'",
     'air_quality_pm25{station="aq-0001"}',
     {"start": DAY_START + 8 * HOUR, "end": DAY_START + 9 * HOUR - 1, "step": "60s"}),
    ("Q2 mean pm25 per 5m, one station, day",
     f"SELECT mean(pm25) FROM air_quality WHERE station = 'aq-0001' AND {DAY} GROUP BY time(5m)",
     'avg_over_time(air_quality_pm25{station="aq-0001"}[5m])',
     {"start": DAY_START + 300, "end": DAY_START + 24 * HOUR, "step": "5m"}),
    ("Q3 max pm25 per hour by district",
     f"SELECT max(pm25) FROM air_quality WHERE {DAY} GROUP BY time(1h), district",
     "max(max_over_time(air_quality_pm25[1h])) by (district)",
     {"start": DAY_START + HOUR, "end": DAY_START + 24 * HOUR, "step": "1h"}),
    ("Q4 last free_spaces per lot",
     f"SELECT last(free_spaces) FROM parking WHERE {DAY} GROUP BY lot",
     "last_over_time(parking_free_spaces[1d])",
     {"time": DAY_START + 24 * HOUR}),
    ("Q5 count vehicle_count, day",
     f"SELECT count(vehicle_count) FROM traffic WHERE {DAY}",
     "sum(count_over_time(traffic_vehicle_count[1d]))",
     {"time": DAY_START + 24 * HOUR}),
    ("Q6 p95 noise per hour, all sites",
     f"SELECT percentile(laeq, 95) FROM noise WHERE {DAY} GROUP BY time(1h)",
     "quantile(0.95, quantile_over_time(0.95, noise_laeq[1h]))",
     {"start": DAY_START + HOUR, "end": DAY_START + 24 * HOUR, "step": "1h"}),
]


def log(msg: str):
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def series_of(doc) -> list:
    """InfluxDB 1.x JSON → [(name, tags, values)] with floats rounded for comparison."""
    out = []
    for r in doc.get("results", []):
        for s in r.get("series", []) or []:
            vals = [[round(v, 9) if isinstance(v, float) else v for v in row]
                    for row in s.get("values", [])]
            out.append((s.get("name"), sorted((s.get("tags") or {}).items()), vals))
    return out


def make(name: str, workdir: str, binary: str):
    if name == "ganzhi":
        return systems.GanzhiServer(workdir, binary)
    return systems.SYSTEMS[name](workdir)


def start_and_load(name: str, args, root: str):
    """Start `name` on an empty data dir, load the day and persist it; the running system and
    its record (the caller stops it)."""
    workdir = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
    sysm = make(name, workdir, os.path.abspath(args.ganzhi_bin))
    rec: dict = {"system": name, "queries": []}
    sysm.start(timeout=120)
    sysm.prepare()
    log(f"[{name}] loading {args.data}")
    lr = systems.run_loader(sysm, os.path.abspath(args.ganzhi_bin), args.data, 5000, 4, 3600)
    rec["load_values_per_second"] = lr.get("values_per_second")
    if lr.get("errors"):
        raise RuntimeError(f"load failed: {lr['errors'][:3]}")
    p = sysm.persist(1800)
    log(f"[{name}] loaded ({lr.get('values_per_second', 0):,.0f} values/s), persisted in "
        f"{p.get('seconds', 0):.1f}s")
    return sysm, rec


def query_of(name: str, q) -> tuple[str, dict]:
    label, influxql, metricsql, vm_params = q
    return (metricsql, vm_params) if name == "victoriametrics" else (influxql, {})


def record(rec: dict, name: str, sysm, q, times: list, err) -> None:
    label = q[0]
    text, params = query_of(name, q)
    _, doc = sysm.query(text, **params)
    rec["queries"].append({"label": label, "query": text, "params": params,
                           "median_ms": statistics.median(times) * 1000 if times else math.nan,
                           "times_ms": [t * 1000 for t in times], "error": err,
                           "answer": series_of(doc) if name != "victoriametrics" else None})
    log(f"[{name}] {label}: {rec['queries'][-1]['median_ms']:.2f} ms"
        + (f" ERROR {err}" if err else ""))


def run_system(name: str, args, root: str) -> dict:
    sysm, rec = None, {"system": name, "queries": []}
    try:
        sysm, rec = start_and_load(name, args, root)
        for q in QUERIES:
            text, params = query_of(name, q)
            sysm.query(text, **params)  # warm-up (caches, page cache), not timed
            timed = systems.time_queries(sysm, [(text, params)], repetitions=args.runs)[0]
            record(rec, name, sysm, q, timed["times"], timed["error"])
    except Exception as e:  # report and go on with the next system
        rec["error"] = f"{type(e).__name__}: {e}"
        log(f"[{name}] FAILED: {rec['error']}" + (f"\n{sysm.log_tail()}" if sysm else ""))
    finally:
        if sysm is not None:
            sysm.stop()
    return rec


def cpu_busy(seconds: float = 1.0) -> float:
    """The machine's busy fraction over `seconds` (all cores, from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]            # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def settle(quiet: float = 0.25, needed: int = 5, timeout: float = 180.0) -> None:
    """Wait (at most `timeout` s) for `needed` seconds in a row with the machine under `quiet`
    busy: the systems' own work after loading (merges, compactions) must not land on
    whichever is timed first."""
    deadline, calm = time.monotonic() + timeout, 0
    while calm < needed and time.monotonic() < deadline:
        calm = calm + 1 if cpu_busy() < quiet else 0
    log(f"machine {'quiet' if calm >= needed else 'still busy'} "
        f"({cpu_busy():.0%} busy over a second)")


def run_interleaved(names: list[str], args, root: str) -> dict:
    """Load each system in turn (each stays up), then time the queries alternating between
    them."""
    up: dict = {}
    results: dict = {}
    try:
        for n in names:
            try:
                up[n], results[n] = start_and_load(n, args, root)
            except Exception as e:
                results[n] = {"system": n, "queries": [], "error": f"{type(e).__name__}: {e}"}
                log(f"[{n}] FAILED: {results[n]['error']}")
        settle()
        log(f"querying {', '.join(up)} in turn")
        for q in QUERIES:
            times = {n: [] for n in up}
            errors: dict = {}
            for n, sysm in up.items():
                text, params = query_of(n, q)
                sysm.query(text, **params)  # warm-up (caches, page cache), not timed
            order = list(up)
            for r in range(max(1, args.runs)):
                for n in (order if r % 2 == 0 else order[::-1]):
                    if n in errors:
                        continue
                    text, params = query_of(n, q)
                    try:
                        secs, _ = up[n].query(text, **params)
                        times[n].append(secs)
                    except Exception as e:  # record and go on
                        errors[n] = f"{type(e).__name__}: {e}"
            for n, sysm in up.items():
                record(results[n], n, sysm, q, times[n], errors.get(n))
    finally:
        for sysm in up.values():
            sysm.stop()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="line protocol file (ganzhi gen --scale day)")
    ap.add_argument("--systems", default="ganzhi,influxdb,victoriametrics")
    ap.add_argument("--runs", type=int, default=11, help="timed runs per query (median)")
    ap.add_argument("--ganzhi-bin", default="target/release/ganzhi")
    ap.add_argument("--tmp", default=None, help="where the systems' data directories go")
    ap.add_argument("--out", help="write the full results as JSON here")
    ap.add_argument("--interleave", action="store_true",
                    help="keep every system up and alternate the timed runs between them")
    args = ap.parse_args(argv)
    args.data = os.path.abspath(args.data)
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    root = tempfile.mkdtemp(prefix="ganzhi-queries-", dir=args.tmp)
    try:
        if args.interleave:
            results = run_interleaved(names, args, root)
        else:
            results = {n: run_system(n, args, root) for n in names}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    # Exactness: ganzhi's answers against InfluxDB's.
    mismatches = []
    g, i = results.get("ganzhi"), results.get("influxdb")
    if g and i and "error" not in g and "error" not in i:
        for qg, qi in zip(g["queries"], i["queries"]):
            if qg["answer"] != qi["answer"]:
                mismatches.append(qg["label"])

    header = ["query"] + [f"{n} ms" for n in names]
    if "ganzhi" in names and "victoriametrics" in names:
        header.append("ganzhi/VM")
    rows = []
    for k, (label, *_rest) in enumerate(QUERIES):
        row = [label]
        for n in names:
            qs = results[n].get("queries", [])
            row.append(f"{qs[k]['median_ms']:.2f}" if k < len(qs) else "-")
        if "ganzhi/VM" in header:
            try:
                row.append(f"{float(row[1 + names.index('ganzhi')]) / float(row[1 + names.index('victoriametrics')]):.2f}")
            except (ValueError, ZeroDivisionError):
                row.append("-")
        rows.append(row)
    widths = [max(len(str(r[c])) for r in rows + [header]) for c in range(len(header))]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
    for n in names:
        if "error" in results[n]:
            print(f"{n}: {results[n]['error']}")
    if g and i:
        print("ganzhi answers equal InfluxDB's: "
              + ("yes, all six" if not mismatches else f"NO for {', '.join(mismatches)}"))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"dataset": args.data, "runs": args.runs, "results": results}, f,
                      indent=2, default=str)
    return 0 if not mismatches and not any("error" in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
