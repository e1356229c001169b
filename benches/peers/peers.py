#!/usr/bin/env python3
"""Peer comparison harness for ganzhi: InfluxDB 1.6 and VictoriaMetrics on the same data.

    python3 benches/peers/peers.py disk --data /tmp/small.lp [--systems influxdb,victoriametrics]
            [--batch 5000] [--connections 4] [--out results.json]
            [--ganzhi-cmd "target/release/ganzhi import --data-dir {dir} {file}"]
    python3 benches/peers/peers.py entropy --data /tmp/small.lp [--out yardstick.json]

See README.md beside this file. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import entropy  # noqa: E402
import lineproto  # noqa: E402
import systems  # noqa: E402


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run_one(name: str, args, ds, root: str) -> dict:
    """Start `name` on an empty dir, load, persist, count, measure, stop. Always stops."""
    workdir = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
    if name == "ganzhi":
        sysm = systems.GanzhiCmd(workdir, args.ganzhi_cmd, args.ganzhi_count_cmd)
    else:
        sysm = systems.SYSTEMS[name](workdir)
    rec: dict = {"system": name, "values_loaded": ds.values, "lines": ds.lines,
                 "caveat": sysm.caveat, "workdir": workdir}
    try:
        t0 = time.monotonic()
        sysm.start(timeout=args.start_timeout)
        rec["pid"] = sysm.proc.pid if sysm.proc else None
        sysm.prepare()
        log(f"[{name}] started (pid {rec['pid']}, port {sysm.port}) in {time.monotonic()-t0:.1f}s; "
            f"loading {len(ds.batches)} batches of {args.batch} lines over "
            f"{args.connections} connections")
        if name == "ganzhi":
            lr = sysm.run_import(os.path.abspath(ds.path), args.load_timeout)
        else:
            lr = systems.load(sysm, ds.batches, args.connections, args.load_timeout)
        rec["load"] = dict(lr)
        rec["load_seconds"] = lr["seconds"]
        rec["load_rate"] = ds.values / lr["seconds"] if lr["seconds"] > 0 else None
        log(f"[{name}] load: {lr['seconds']:.1f}s, {rec['load_rate'] or 0:,.0f} values/s, "
            f"{lr['ok']} ok, {lr['failed']} failed, {lr['retries']} retries"
            + (f"; errors: {lr['errors'][:3]}" if lr["errors"] else ""))
        rec["size_after_load"] = systems.dir_usage(sysm.data_dir)
        p = sysm.persist(args.settle_timeout)
        rec["persist"] = p
        rec["persist_seconds"] = p.get("seconds", 0.0)
        log(f"[{name}] persist/compact: {rec['persist_seconds']:.1f}s"
            + ("" if p.get("complete", True) else f" INCOMPLETE: {p.get('note')}"))
        t1 = time.monotonic()
        counted, per_m = sysm.count(ds)
        rec["count_seconds"] = time.monotonic() - t1
        rec["values_counted"], rec["counted_by_measurement"] = counted, per_m
        rec["diagnostics"] = sysm.diagnostics()
        u = systems.dir_usage(sysm.data_dir, sysm.breakdown_depth)
        rec["disk"] = u
        rec["bytes"] = u["apparent"]
        rec["bytes_per_value"] = u["apparent"] / ds.values
        rec["allocated_bytes_per_value"] = u["allocated"] / ds.values
        log(f"[{name}] counted {counted} values (loaded {ds.values}) in "
            f"{rec['count_seconds']:.1f}s; {human(u['apparent'])} on disk "
            f"({human(u['allocated'])} allocated)")
        if counted is not None and counted != ds.values:
            diff = {m: (ds.values_by_measurement.get(m, 0), per_m.get(m))
                    for m in sorted(set(ds.values_by_measurement) | set(per_m))
                    if ds.values_by_measurement.get(m, 0) != per_m.get(m)}
            rec["count_mismatch"] = diff
            log(f"[{name}] WARNING: counted != loaded: {diff}")
    except Exception as e:  # report, stop, go on with the next system
        rec["error"] = f"{type(e).__name__}: {e}"
        log(f"[{name}] ERROR {rec['error']}\n{sysm.log_tail()}")
    finally:
        rec["exit_code"] = sysm.stop()
        rec["log_tail"] = sysm.log_tail(30).splitlines()
        if os.path.isdir(sysm.data_dir):
            rec["disk_after_stop"] = systems.dir_usage(sysm.data_dir, sysm.breakdown_depth)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return rec


def log(msg: str):
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def summarize(runs: list[dict]) -> dict:
    """Median over repeated runs of one system (bytes are taken from the median run too)."""
    good = [r for r in runs if "error" not in r] or runs
    if len(good) == 1:
        out = dict(good[0])
    else:
        good = sorted(good, key=lambda r: r.get("load_rate") or 0)
        out = dict(good[len(good) // 2])
        for k in ("load_rate", "load_seconds", "persist_seconds", "bytes", "bytes_per_value",
                  "allocated_bytes_per_value"):
            vals = [r[k] for r in good if r.get(k) is not None]
            if vals:
                out[k] = statistics.median(vals)
    out["runs"] = len(runs)
    return out


def table(results: list[dict], ds) -> str:
    hdr = (f"{'system':<16}{'values loaded':>14}{'counted':>12}{'bytes on disk':>15}"
           f"{'B/value':>9}{'alloc B/v':>10}{'load s':>8}{'values/s':>12}{'persist s':>10}")
    out = [hdr, "-" * len(hdr)]
    for r in results:
        if "bytes" not in r:
            out.append(f"{r['system']:<16}  {r.get('error') or r.get('note', 'no result')}")
            continue
        counted = "n/a" if r.get("values_counted") is None else str(r["values_counted"])
        out.append(f"{r['system']:<16}{ds.values:>14}{counted:>12}{r['bytes']:>15}"
                   f"{r['bytes_per_value']:>9.3f}{r['allocated_bytes_per_value']:>10.3f}"
                   f"{r['load_seconds']:>8.1f}{r['load_rate']:>12,.0f}"
                   f"{r.get('persist_seconds', 0):>10.1f}")
    out.append("")
    for r in results:
        notes = [r.get("caveat") or r.get("error") or r.get("note", "")]
        if "disk" in r:
            d = r["disk"]
            if d["allocated"] and abs(d["apparent"] - d["allocated"]) > 0.1 * d["apparent"]:
                notes.append(f"apparent {human(d['apparent'])} vs allocated "
                             f"{human(d['allocated'])}")
            notes.append("parts: " + ", ".join(
                f"{k} {human(v['apparent'])}" + (
                    f" ({human(v['allocated'])} allocated)"
                    if abs(v["apparent"] - v["allocated"]) > 0.1 * max(v["apparent"], 4096)
                    else "")
                for k, v in d["parts"].items()))
        after = r.get("disk_after_stop", {}).get("apparent")
        if after is not None and "bytes" in r and abs(after - r["bytes"]) > 0.01 * r["bytes"]:
            notes.append(f"after stop the dir holds {human(after)} (measured: while running, "
                         "after persist)")
        if r.get("runs", 1) > 1:
            rates = sorted(x["load_rate"] for x in r.get("all_runs", []) if x.get("load_rate"))
            notes.append(f"medians of {r['runs']} runs" + (
                f" (load rate {rates[0]:,.0f}–{rates[-1]:,.0f} values/s)" if rates else ""))
        if r.get("persist") and not r["persist"].get("complete", True):
            notes.append("persist/compaction did not finish: " + r["persist"].get("note", ""))
        out.append(f"* {r['system']}: " + "; ".join(n for n in notes if n))
    out.append("* values = field values, one per field per line of the file (counted with a "
               "plain split: right for `ganzhi gen` data, which has no string fields or escapes; "
               "lines with quotes/backslashes take a careful path)")
    return "\n".join(out)


def cmd_disk(args):
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    for n in names:
        if n not in systems.SYSTEMS:
            sys.exit(f"unknown system {n!r}; choose from {', '.join(systems.SYSTEMS)}")
    t0 = time.monotonic()
    ds = lineproto.read_batches(args.data, args.batch)
    log(f"read {args.data}: {ds.lines} lines, {ds.values} field values, {ds.series} series, "
        f"{len(ds.batches)} batches, {time.monotonic()-t0:.1f}s"
        + (f" ({ds.careful_lines} lines with quotes/escapes)" if ds.careful_lines else ""))
    root = tempfile.mkdtemp(prefix="ganzhi-peers-", dir=args.tmp)
    results = []
    try:
        for name in names:
            if name == "ganzhi" and not args.ganzhi_cmd:
                log("[ganzhi] skipped: no --ganzhi-cmd (ganzhi has no HTTP server yet)")
                results.append({"system": "ganzhi", "note": "skipped: no --ganzhi-cmd given"})
                continue
            runs = [run_one(name, args, ds, root) for _ in range(args.repeat)]
            results.append(summarize(runs) | {"all_runs": runs} if args.repeat > 1
                           else summarize(runs))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"dataset {args.data}: {ds.lines} lines, {ds.values} field values, {ds.series} series; "
          f"batch {args.batch} lines, {args.connections} connections")
    print(table(results, ds))
    if args.out:
        doc = {"dataset": {"path": args.data, "lines": ds.lines, "values": ds.values,
                           "series": ds.series, "bytes": ds.bytes,
                           "values_by_measurement": ds.values_by_measurement,
                           "min_ts": ds.min_ts, "max_ts": ds.max_ts},
               "batch": args.batch, "connections": args.connections,
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "results": results}
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2, default=str)
        log(f"wrote {args.out}")
    return 0 if all("error" not in r for r in results) else 1


def cmd_entropy(args):
    t0 = time.monotonic()
    r = entropy.yardstick(args.data)
    print(entropy.format_report(r))
    log(f"computed in {time.monotonic()-t0:.1f}s")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(r, f, indent=2)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("disk", help="load the file into each system; bytes per value, load rate")
    d.add_argument("--data", required=True, help="line-protocol file, nanosecond timestamps")
    d.add_argument("--systems", default="influxdb,victoriametrics,ganzhi")
    d.add_argument("--batch", type=int, default=5000, help="lines per write request")
    d.add_argument("--connections", type=int, default=4, help="keep-alive connections/threads")
    d.add_argument("--repeat", type=int, default=1, help="runs per system (medians reported)")
    d.add_argument("--out", help="write results as JSON here")
    d.add_argument("--ganzhi-cmd", help="import command template with {dir} and {file}")
    d.add_argument("--ganzhi-count-cmd", help="optional template printing the stored value count")
    d.add_argument("--tmp", default=None, help="parent of the temp data dirs (default: $TMPDIR)")
    d.add_argument("--keep", action="store_true", help="keep the data dirs (for inspection)")
    d.add_argument("--start-timeout", type=float, default=60)
    d.add_argument("--load-timeout", type=float, default=1800)
    d.add_argument("--settle-timeout", type=float, default=900,
                   help="bound on the flush/compaction wait per system")
    d.set_defaults(func=cmd_disk)
    e = sub.add_parser("entropy", help="the dataset's order-0 delta-entropy yardstick")
    e.add_argument("--data", required=True)
    e.add_argument("--out")
    e.set_defaults(func=cmd_entropy)
    args = ap.parse_args(argv)
    if getattr(args, "batch", 1) < 1 or getattr(args, "connections", 1) < 1:
        ap.error("--batch and --connections must be positive")
    # SIGTERM/SIGINT → exceptions, so `finally` blocks stop the servers we started
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
