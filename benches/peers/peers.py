#!/usr/bin/env python3
"""Peer comparison harness for ganzhi: InfluxDB 1.6 and VictoriaMetrics on the same data.

    python3 benches/peers/peers.py disk --data /tmp/small.lp [--systems influxdb,victoriametrics]
            [--batch 5000] [--connections 4] [--out results.json]
            [--ganzhi-cmd "target/release/ganzhi import --data-dir {dir} {file}"]
    python3 benches/peers/peers.py load --data /tmp/day.lp [--systems ganzhi,influxdb,victoriametrics]
            [--loader target/release/ganzhi] [--batch 5000] [--connections 4] [--repeat N]
            [--no-count] [--out results.json]
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
    sysm = make_system(name, args, workdir)
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
        if isinstance(sysm, systems.GanzhiCmd):
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


def make_system(name: str, args, workdir: str) -> systems.System:
    """ganzhi is `ganzhi serve` unless `--ganzhi-cmd` asks for an in-process import command."""
    if name == "ganzhi" and getattr(args, "ganzhi_cmd", None):
        return systems.GanzhiCmd(workdir, args.ganzhi_cmd, args.ganzhi_count_cmd)
    if name == "ganzhi":
        return systems.GanzhiServer(workdir, os.path.abspath(args.ganzhi_bin),
                                    args.ganzhi_serve_args.split())
    return systems.SYSTEMS[name](workdir)


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


# ---------------------------------------------------------------------------------------------
# load: ingest rate, batch latency and peak memory over HTTP, then bytes on disk

MIB = 1024 * 1024


def run_load(name: str, args, path: str, ds, root: str) -> dict:
    """Start `name` fresh, sample its memory, load `path` with `ganzhi load`, persist, count,
    measure the data dir, stop. Always stops."""
    workdir = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
    sysm = make_system(name, args, workdir)
    rec: dict = {"system": name, "caveat": sysm.caveat, "workdir": workdir}
    mem = None
    try:
        t0 = time.monotonic()
        sysm.start(timeout=args.start_timeout)
        rec["pid"] = sysm.proc.pid
        mem = systems.PeakMemory(sysm.proc.pid, args.mem_interval).start()
        sysm.prepare()
        rec["mem_idle"] = mem.mark("idle")
        log(f"[{name}] started (pid {rec['pid']}, port {sysm.port}) in "
            f"{time.monotonic()-t0:.1f}s, {rec['mem_idle']['hwm']/MIB:.0f} MiB; loading")
        lr = systems.run_loader(sysm, os.path.abspath(args.loader), path, args.batch,
                                args.connections, args.load_timeout)
        rec["mem_load"] = mem.mark("load")
        rec["load"] = dict(lr)
        for k in ("values", "values_per_second", "elapsed_seconds", "batch_p50_ms",
                  "batch_p99_ms", "batch_max_ms", "failed_batches", "retries"):
            rec[k] = lr.get(k)
        log(f"[{name}] load: {lr.get('elapsed_seconds', 0):.1f}s, "
            f"{lr.get('values_per_second', 0):,.0f} values/s, p50 {lr.get('batch_p50_ms')} ms, "
            f"p99 {lr.get('batch_p99_ms')} ms, {lr.get('failed_batches')} failed batches, "
            f"{lr.get('retries')} retries, peak {rec['mem_load']['hwm']/MIB:.0f} MiB"
            + (f"; errors: {lr['errors'][:3]}" if lr["errors"] else ""))
        if lr.get("exit_code") and lr.get("values") is None:
            raise RuntimeError(f"loader failed: {lr['errors'][:3]}")
        rec["size_after_load"] = systems.dir_usage(sysm.data_dir)
        p = sysm.persist(args.settle_timeout)
        rec["persist"] = p
        rec["persist_seconds"] = p.get("seconds", 0.0)
        rec["mem_all"] = mem.mark("persist")
        log(f"[{name}] persist/compact: {rec['persist_seconds']:.1f}s"
            + ("" if p.get("complete", True) else f" INCOMPLETE: {p.get('note')}")
            + f", peak {rec['mem_all']['hwm']/MIB:.0f} MiB")
        u = systems.dir_usage(sysm.data_dir, sysm.breakdown_depth)
        rec["disk"] = u
        rec["bytes"] = u["apparent"]
        rec["bytes_per_value"] = u["apparent"] / rec["values"]
        rec["allocated_bytes_per_value"] = u["allocated"] / rec["values"]
        if ds is not None:
            t1 = time.monotonic()
            counted, per_m = sysm.count(ds)
            rec["count_seconds"] = time.monotonic() - t1
            rec["values_counted"], rec["counted_by_measurement"] = counted, per_m
            if counted != ds.values:
                rec["count_mismatch"] = {
                    m: (ds.values_by_measurement.get(m, 0), per_m.get(m))
                    for m in sorted(set(ds.values_by_measurement) | set(per_m))
                    if ds.values_by_measurement.get(m, 0) != per_m.get(m)}
                log(f"[{name}] WARNING: counted {counted} != loaded {ds.values}: "
                    f"{rec['count_mismatch']}")
        rec["diagnostics"] = sysm.diagnostics()
        log(f"[{name}] {human(u['apparent'])} on disk, {rec['bytes_per_value']:.3f} B/value"
            + (f"; counted {rec['values_counted']}" if "values_counted" in rec else ""))
    except Exception as e:  # report, stop, go on with the next system
        rec["error"] = f"{type(e).__name__}: {e}"
        log(f"[{name}] ERROR {rec['error']}\n{sysm.log_tail()}")
    finally:
        if mem is not None:
            mem.stop()
            rec["mem_samples"] = mem.samples
            rec["peak_rss_polled"] = mem.max_rss
        rec["exit_code"] = sysm.stop()
        rec["log_tail"] = sysm.log_tail(30).splitlines()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return rec


def median_run(runs: list[dict]) -> dict:
    """The run with the median load rate; other figures are medians over the good runs."""
    good = [r for r in runs if "error" not in r and r.get("values_per_second")] or runs
    out = dict(sorted(good, key=lambda r: r.get("values_per_second") or 0)[len(good) // 2])
    if len(good) > 1:
        for k in ("values_per_second", "batch_p50_ms", "batch_p99_ms", "bytes_per_value"):
            vals = [r[k] for r in good if r.get(k) is not None]
            if vals:
                out[k] = statistics.median(vals)
        for k in ("mem_load", "mem_all"):
            vals = [r[k]["hwm"] for r in good if k in r]
            if vals:
                out[k] = dict(out[k], hwm=statistics.median(vals))
    out["runs"] = len(runs)
    return out


def load_table(results: list[dict]) -> str:
    ref = next((r for r in results if r["system"] == "victoriametrics" and "error" not in r),
               None)

    def ratio(r, get):
        try:
            return f"{get(r) / get(ref):.2f}x"
        except (TypeError, ZeroDivisionError, KeyError):
            return "-"

    rate = lambda r: r["values_per_second"]            # noqa: E731
    peak = lambda r: r["mem_all"]["hwm"]                # noqa: E731
    bpv = lambda r: r["bytes_per_value"]                # noqa: E731
    hdr = (f"{'system':<16}{'values/s':>12}{'vs VM':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
           f"{'peak MiB load':>15}{'peak MiB all':>14}{'vs VM':>7}{'B/value':>10}{'vs VM':>7}"
           f"{'alloc B/v':>11}{'counted':>11}{'failed':>8}")
    out = [hdr, "-" * len(hdr)]
    for r in results:
        if "bytes_per_value" not in r:
            out.append(f"{r['system']:<16}  {r.get('error', 'no result')}")
            continue
        counted = r.get("values_counted")
        out.append(
            f"{r['system']:<16}{rate(r):>12,.0f}{ratio(r, rate):>7}{r['batch_p50_ms']:>9.1f}"
            f"{r['batch_p99_ms']:>9.1f}{r['batch_max_ms']:>9.1f}"
            f"{r['mem_load']['hwm'] / MIB:>15.0f}{peak(r) / MIB:>14.0f}{ratio(r, peak):>7}"
            f"{bpv(r):>10.3f}{ratio(r, bpv):>7}{r['allocated_bytes_per_value']:>11.3f}"
            f"{'n/a' if counted is None else counted:>11}{r['failed_batches']:>8}")
    out.append("")
    for r in results:
        notes = [r.get("caveat") or r.get("error", "")]
        if "persist_seconds" in r:
            notes.append(f"persist {r['persist_seconds']:.1f}s")
        if r.get("count_mismatch"):
            notes.append(f"COUNT MISMATCH {r['count_mismatch']}")
        if r.get("runs", 1) > 1:
            rates = sorted(x["values_per_second"] for x in r.get("all_runs", [])
                           if x.get("values_per_second"))
            peaks = sorted(x["mem_all"]["hwm"] / MIB for x in r.get("all_runs", [])
                           if "mem_all" in x)
            notes.append(f"medians of {r['runs']} runs" + (
                f" (values/s {rates[0]:,.0f}–{rates[-1]:,.0f}" if rates else "") + (
                f", peak MiB {peaks[0]:.0f}–{peaks[-1]:.0f})" if peaks else ")"))
        out.append(f"* {r['system']}: " + "; ".join(n for n in notes if n))
    out.append("* values/s: field values acknowledged / load wall time, from `ganzhi load` "
               "(the same Rust loader for every system: one thread and keep-alive connection "
               "each, batches from one queue); p50/p99/max: per-request latency")
    out.append("* peak MiB: the server process's VmHWM (kernel high-water mark of resident "
               "memory) after the load, and after the load plus flush/compaction")
    out.append("* B/value: apparent bytes (file sizes) of the whole data dir after persisting / "
               "values; alloc B/v: allocated blocks instead (InfluxDB's _series file is sparse)")
    return "\n".join(out)


def cmd_load(args):
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    for n in names:
        if n not in systems.SYSTEMS:
            sys.exit(f"unknown system {n!r}; choose from {', '.join(systems.SYSTEMS)}")
    for exe in [args.loader] + ([args.ganzhi_bin] if "ganzhi" in names else []):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} is not an executable: cargo build --release first")
    path = os.path.abspath(args.data)
    ds = None
    if args.count:
        t0 = time.monotonic()
        ds = lineproto.read_batches(path, args.batch, keep_batches=False)
        log(f"read {path}: {ds.lines} lines, {ds.values} field values, {ds.series} series "
            f"(for counting afterwards), {time.monotonic()-t0:.1f}s")
    root = tempfile.mkdtemp(prefix="ganzhi-load-", dir=args.tmp)
    results = []
    runs: dict[str, list[dict]] = {n: [] for n in names}
    try:
        # Round robin (a b c a b c …): on a shared, noisy machine a quiet or a busy spell is
        # then spread over the systems instead of landing on one of them.
        for i in range(args.repeat):
            for name in names:
                if args.repeat > 1:
                    log(f"run {i + 1} of {args.repeat}: {name}")
                runs[name].append(run_load(name, args, path, ds, root))
        for name in names:
            res = median_run(runs[name])
            if args.repeat > 1:
                res["all_runs"] = runs[name]
            results.append(res)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    values = next((r["values"] for r in results if r.get("values")), None)
    print()
    print(f"dataset {args.data}: {values} field values; batches of {args.batch} lines over "
          f"{args.connections} connections; loader {args.loader}")
    print(load_table(results))
    if args.out:
        doc = {"dataset": args.data, "values": values, "batch": args.batch,
               "connections": args.connections,
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "results": results}
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2, default=str)
        log(f"wrote {args.out}")
    return 0 if all("error" not in r and not r.get("failed_batches") for r in results) else 1


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
    d.add_argument("--ganzhi-cmd", help="import command template with {dir} and {file} "
                   "(default: `ganzhi serve`, loaded over HTTP)")
    d.add_argument("--ganzhi-bin", default="target/release/ganzhi")
    d.add_argument("--ganzhi-serve-args", default="", help="extra `ganzhi serve` flags")
    d.add_argument("--ganzhi-count-cmd", help="optional template printing the stored value count")
    d.add_argument("--tmp", default=None, help="parent of the temp data dirs (default: $TMPDIR)")
    d.add_argument("--keep", action="store_true", help="keep the data dirs (for inspection)")
    d.add_argument("--start-timeout", type=float, default=60)
    d.add_argument("--load-timeout", type=float, default=1800)
    d.add_argument("--settle-timeout", type=float, default=900,
                   help="bound on the flush/compaction wait per system")
    d.set_defaults(func=cmd_disk)
    ld = sub.add_parser("load", help="load over HTTP with `ganzhi load`: values/s, batch "
                        "latency, peak memory, bytes per value")
    ld.add_argument("--data", required=True, help="line-protocol file, nanosecond timestamps")
    ld.add_argument("--systems", default="ganzhi,influxdb,victoriametrics")
    ld.add_argument("--loader", default="target/release/ganzhi", help="binary with `load`")
    ld.add_argument("--ganzhi-bin", default="target/release/ganzhi", help="binary with `serve`")
    ld.add_argument("--ganzhi-serve-args", default="", help="extra `ganzhi serve` flags")
    ld.add_argument("--batch", type=int, default=5000, help="lines per write request")
    ld.add_argument("--connections", type=int, default=4, help="keep-alive connections/threads")
    ld.add_argument("--repeat", type=int, default=1, help="runs per system (medians reported)")
    ld.add_argument("--no-count", dest="count", action="store_false",
                    help="skip reading the file in Python and counting what each system stored")
    ld.add_argument("--mem-interval", type=float, default=0.1, help="RSS poll interval, s")
    ld.add_argument("--out", help="write results as JSON here")
    ld.add_argument("--tmp", default=None, help="parent of the temp data dirs (default: $TMPDIR)")
    ld.add_argument("--keep", action="store_true", help="keep the data dirs (for inspection)")
    ld.add_argument("--start-timeout", type=float, default=60)
    ld.add_argument("--load-timeout", type=float, default=1800)
    ld.add_argument("--settle-timeout", type=float, default=900,
                    help="bound on the flush/compaction wait per system")
    ld.set_defaults(func=cmd_load)
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
