"""The systems under comparison, each behind the same small interface.

    sys = InfluxDB(workdir)          # or VictoriaMetrics(workdir), GanzhiServer(workdir, binary),
                                     # GanzhiCmd(workdir, template)
    sys.start()                      # empty data dir, free loopback port(s), wait until ready
    sys.prepare()                    # e.g. CREATE DATABASE
    result = load(sys, batches, connections=4)      # timed, K keep-alive connections
    sys.persist(timeout)             # flush + compact, bounded wait
    total, per_measurement = sys.count(dataset)
    dir_usage(sys.data_dir)
    sys.stop()

`with running(sys): ...` does start/prepare/stop in one; `PeakMemory(pid)` samples a server's
resident memory; `run_loader(sys, loader, file, ...)` drives a load with `ganzhi load`; `query(text, **params)` and
`time_queries(sys, [(text, params)], repetitions)` are the hooks for query timing (InfluxQL for
InfluxDB, MetricsQL for VictoriaMetrics; medians).
Every wait here is bounded in time and every loop in count; only loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse

HOST = "127.0.0.1"


# ---------------------------------------------------------------------------------------------
# helpers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def dir_usage(path: str, depth: int = 1) -> dict:
    """Apparent bytes (sum of file sizes) and allocated bytes (st_blocks·512) of a whole tree,
    plus the same per entry `depth` levels down (e.g. depth 3: data/bench/_series)."""
    total_app = total_alloc = files = 0
    parts: dict[str, list[int]] = {}
    for root, dirs, fnames in os.walk(path):
        for fn in fnames:
            p = os.path.join(root, fn)
            try:
                st = os.lstat(p)
            except FileNotFoundError:      # compaction may remove files while we walk
                continue
            files += 1
            total_app += st.st_size
            total_alloc += st.st_blocks * 512
            rel = os.path.relpath(p, path)
            top = "/".join(rel.split(os.sep)[:depth])
            acc = parts.setdefault(top, [0, 0])
            acc[0] += st.st_size
            acc[1] += st.st_blocks * 512
    return {"apparent": total_app, "allocated": total_alloc, "files": files,
            "parts": {k: {"apparent": v[0], "allocated": v[1]} for k, v in sorted(parts.items())}}


class Http:
    """One keep-alive HTTP/1.1 connection to a loopback server (one per thread)."""

    def __init__(self, port: int, timeout: float = 120.0):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float | None = None) -> tuple[int, bytes]:
        # one reconnect at most: a server may close an idle keep-alive connection
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port,
                                                       timeout=timeout or self.timeout)
            elif timeout:
                self.conn.timeout = timeout
                if self.conn.sock:
                    self.conn.sock.settimeout(timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, data
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
                self.close()
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def get_json(self, path: str, timeout: float | None = None):
        st, data = self.request("GET", path, timeout=timeout)
        if st != 200:
            raise RuntimeError(f"GET {path}: HTTP {st}: {data[:300]!r}")
        return json.loads(data)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_until(pred, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextlib.contextmanager
def running(system: "System", start_timeout: float = 60.0):
    """Start `system` on its empty data dir, prepare it, and always stop it (by PID)."""
    try:
        system.start(timeout=start_timeout)
        system.prepare()
        yield system
    finally:
        system.stop()


def time_queries(system: "System", queries: list[tuple[str, dict]], repetitions: int = 5,
                 budget: float = 600.0) -> list[dict]:
    """Run each (query, params) `repetitions` times; report the median and all timings.
    The whole run stops after `budget` seconds (remaining queries are marked skipped)."""
    deadline = time.monotonic() + budget
    out = []
    for text, params in queries:
        times, err = [], None
        for _ in range(max(1, repetitions)):
            if time.monotonic() > deadline:
                err = "skipped: time budget spent"
                break
            try:
                secs, _ = system.query(text, **params)
                times.append(secs)
            except Exception as e:          # record and go on with the next query
                err = f"{type(e).__name__}: {e}"
                break
        out.append({"query": text, "params": params, "times": times, "error": err,
                    "median": statistics.median(times) if times else None})
    return out


# ---------------------------------------------------------------------------------------------
# loading

class LoadResult(dict):
    pass


def load(system: "System", batches: list[bytes], connections: int = 4,
         timeout: float = 1800.0, retries: int = 2) -> LoadResult:
    """Send every batch once over `connections` keep-alive connections (one thread each).
    A batch that fails with a connection error or HTTP 5xx/429 is retried at most `retries`
    times (line-protocol writes are idempotent). Stops at `timeout` seconds."""
    lock = threading.Lock()
    nxt = [0]
    stats = {"ok": 0, "failed": 0, "retries": 0, "errors": [], "timed_out": False}
    deadline = time.monotonic() + timeout

    def worker():
        http_ = Http(system.port, timeout=min(300.0, timeout))
        try:
            while True:
                with lock:
                    i = nxt[0]
                    if i >= len(batches):
                        return
                    nxt[0] += 1
                if time.monotonic() > deadline:
                    with lock:
                        stats["timed_out"] = True
                    return
                err = None
                for attempt in range(retries + 1):
                    try:
                        st, body = system.write(http_, batches[i])
                    except (OSError, http.client.HTTPException) as e:
                        st, body = None, repr(e).encode()
                    if st is not None and 200 <= st < 300:
                        err = None
                        break
                    err = f"batch {i}: HTTP {st}: {body[:200]!r}"
                    if st is not None and not (st >= 500 or st == 429):
                        break               # a 4xx will not get better
                    with lock:
                        stats["retries"] += 1
                    time.sleep(0.5 * (attempt + 1))
                with lock:
                    if err is None:
                        stats["ok"] += 1
                    else:
                        stats["failed"] += 1
                        if len(stats["errors"]) < 10:
                            stats["errors"].append(err)
        finally:
            http_.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline - time.monotonic() + 310))
    seconds = time.monotonic() - t0
    return LoadResult(seconds=seconds, batches=len(batches), **stats)


def count_series(doc: dict, per: dict | None = None) -> dict:
    """Sum the `count_*` columns of an InfluxQL `SELECT count(*)` answer, per measurement."""
    per = {} if per is None else per
    for r in doc.get("results", []):
        for s in r.get("series", []) or []:
            cols = s["columns"]
            tot = 0
            for row in s["values"]:
                tot += sum(v for c, v in zip(cols, row) if c != "time" and v)
            per[s["name"]] = per.get(s["name"], 0) + tot
    return per


class PeakMemory:
    """Samples a process's memory from /proc/PID/status every `interval` seconds on a thread:
    the largest VmRSS seen, and the kernel's own high-water mark VmHWM (which misses nothing
    between samples). `mark(label)` records the figures so far under a label."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.max_rss = 0              # bytes
        self.hwm = 0                  # bytes
        self.samples = 0
        self.marks: dict[str, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> tuple[int, int] | None:
        """(VmRSS, VmHWM) in bytes, or None once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                text = f.read()
        except OSError:
            return None
        vals = {}
        for line in text.splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                vals[k] = int(v.split()[0]) * 1024
        return vals.get("VmRSS", 0), vals.get("VmHWM", 0)

    def sample(self):
        got = self.read()
        if got:
            self.samples += 1
            self.max_rss = max(self.max_rss, got[0])
            self.hwm = max(self.hwm, got[1])

    def _run(self):
        n = 0
        while not self._stop.is_set() and n < 10_000_000:
            n += 1
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> "PeakMemory":
        self._thread.start()
        return self

    def mark(self, label: str) -> dict:
        self.sample()
        self.marks[label] = {"hwm": self.hwm, "max_rss": self.max_rss}
        return self.marks[label]

    def stop(self):
        self.sample()
        self._stop.set()
        self._thread.join(5)


def run_loader(system: "System", loader: str, path: str, batch: int, connections: int,
               timeout: float, extra: list[str] | None = None) -> LoadResult:
    """Load `path` into a running `system` with `ganzhi load` (the Rust loader: same driver for
    every system). Parses its `key value` lines into the result."""
    cmd = [loader, "load", "--url", f"http://{HOST}:{system.port}", "--db", system.load_db,
           "--batch", str(batch), "--connections", str(connections), "--precision", "ns",
           *(extra or []), path]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    secs = time.monotonic() - t0
    out: dict = {"command": " ".join(shlex.quote(c) for c in cmd), "exit_code": p.returncode,
                 "wall_seconds": secs, "errors": [],
                 "stderr": p.stderr.decode(errors="replace")[-2000:]}
    for line in p.stdout.decode(errors="replace").splitlines():
        k, _, v = line.partition(" ")
        if k == "error":
            out["errors"].append(v)
            continue
        try:
            out[k] = float(v) if "." in v else int(v)
        except ValueError:
            out[k] = v
    if p.returncode != 0 and not out["errors"]:
        out["errors"].append(f"exit {p.returncode}: {out['stderr'][-500:]}")
    return LoadResult(out)


# ---------------------------------------------------------------------------------------------
# systems

class System:
    name = "?"
    caveat = ""
    load_db = ""                 # `ganzhi load --db` for this system ("" sends no db=)
    breakdown_depth = 1          # how deep dir_usage() groups the data dir in the report

    def __init__(self, workdir: str):
        self.workdir = workdir                       # holds data_dir, config, log
        self.data_dir = os.path.join(workdir, "store")
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self.http: Http | None = None

    # -- lifecycle
    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0):
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        cmd = self.command()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.http = Http(self.port, timeout=30)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.log_path}:\n{self.log_tail()}")
            try:
                return self.is_ready()
            except OSError:
                return False
        wait_until(ready, timeout, 0.2, f"{self.name} to accept requests on port {self.port}")

    def is_ready(self) -> bool:
        raise NotImplementedError

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM the process we started (by PID), SIGKILL after `timeout`."""
        if self.http:
            self.http.close()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    # -- work
    def prepare(self):
        pass

    def write(self, http_: Http, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def persist(self, timeout: float) -> dict:
        return {}

    def count(self, dataset) -> tuple[int | None, dict]:
        raise NotImplementedError

    def query(self, text: str, **params) -> tuple[float, object]:
        """Run one query, return (seconds, parsed JSON). For issue 4's query timing."""
        raise NotImplementedError

    def diagnostics(self) -> dict:
        return {}


class InfluxDB(System):
    name = "influxdb"
    db = "bench"
    load_db = "bench"
    breakdown_depth = 3
    caveat = ("fsyncs its WAL before acknowledging a write; keeps nanosecond timestamps; "
              "data dir includes a preallocated series file (_series) and the meta dir")

    def __init__(self, workdir: str, binary: str = "influxd"):
        super().__init__(workdir)
        self.binary = binary
        self.config_path = os.path.join(workdir, "influxdb.conf")

    def command(self):
        rpc = free_port()
        d = self.data_dir
        # Key names as in InfluxDB 1.6. Debian's build spells the reporting switch
        # `reporting-enabled` (upstream: `reporting-disabled`); unknown keys are ignored, so
        # both are set.
        cfg = f"""\
reporting-disabled = true
reporting-enabled = false
bind-address = "{HOST}:{rpc}"

[meta]
  dir = "{d}/meta"

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
  compact-full-write-cold-duration = "30s"

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[http]
  bind-address = "{HOST}:{self.port}"
  log-enabled = false
"""
        with open(self.config_path, "w") as f:
            f.write(cfg)
        return [self.binary, "-config", self.config_path]

    def is_ready(self):
        st, _ = self.http.request("GET", "/ping", timeout=2)
        return st == 204

    def influxql(self, q: str, method: str = "GET", timeout: float = 600, db: bool = True):
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = self.db
        qs = urllib.parse.urlencode(params)
        if method == "POST":
            st, data = self.http.request("POST", "/query", body=qs.encode(), timeout=timeout,
                                         headers={"Content-Type":
                                                  "application/x-www-form-urlencoded"})
        else:
            st, data = self.http.request("GET", "/query?" + qs, timeout=timeout)
        if st != 200:
            raise RuntimeError(f"InfluxQL {q!r}: HTTP {st}: {data[:300]!r}")
        doc = json.loads(data)
        for r in doc.get("results", []):
            if "error" in r:
                raise RuntimeError(f"InfluxQL {q!r}: {r['error']}")
        return doc

    def prepare(self):
        self.influxql(f"CREATE DATABASE {self.db}", method="POST", db=False)

    def write(self, http_, body):
        return http_.request("POST", f"/write?db={self.db}&precision=ns", body=body,
                             headers={"Content-Type": "text/plain; charset=utf-8"})

    def _state(self) -> dict:
        d = self.data_dir
        shards = {}
        root = os.path.join(d, "data", self.db)
        if os.path.isdir(root):
            for rp in os.listdir(root):
                rpdir = os.path.join(root, rp)
                if rp.startswith("_") or not os.path.isdir(rpdir):
                    continue
                for sh in os.listdir(rpdir):
                    files = os.listdir(os.path.join(rpdir, sh))
                    shards[f"{rp}/{sh}"] = {
                        "tsm": sum(1 for f in files if f.endswith(".tsm")),
                        "tmp": sum(1 for f in files if f.endswith(".tmp")),
                    }
        wal = dir_usage(os.path.join(d, "wal"))["apparent"] if os.path.isdir(
            os.path.join(d, "wal")) else 0
        return {"shards": shards, "wal_bytes": wal}

    def persist(self, timeout: float, wal_near_empty: int = 64 * 1024) -> dict:
        """Wait (bounded) for the cold-cache snapshot and the full compaction: the WAL dir near
        empty and every shard down to one TSM file, with the dir size steady for ~6 s."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        stable, last_size, st = 0, -1, {}
        polls = 0
        timeline = []                 # (seconds, TSM files per shard, WAL bytes) on each change
        while time.monotonic() < deadline and polls < 100000:
            polls += 1
            st = self._state()
            size = dir_usage(self.data_dir)["apparent"]
            snap = ({k: v["tsm"] for k, v in st["shards"].items()}, st["wal_bytes"])
            if not timeline or timeline[-1][1:] != snap:
                timeline.append((round(time.monotonic() - t0, 1), *snap))
            done = (st["shards"] and st["wal_bytes"] <= wal_near_empty and
                    all(s["tsm"] == 1 and s["tmp"] == 0 for s in st["shards"].values()))
            stable = stable + 1 if (done and size == last_size) else 0
            last_size = size
            if stable >= 3:
                return {"seconds": time.monotonic() - t0, "state": st, "complete": True,
                        "timeline": timeline}
            time.sleep(2)
        return {"seconds": time.monotonic() - t0, "state": st, "complete": False,
                "timeline": timeline,
                "note": f"gave up after {timeout:.0f}s: shards {st.get('shards')}, "
                        f"wal {st.get('wal_bytes')} bytes"}

    def count(self, dataset):
        doc = self.influxql("SELECT count(*) FROM /.*/", timeout=1800)
        per = count_series(doc)
        return sum(per.values()), dict(sorted(per.items()))

    def query(self, text, **params):
        t0 = time.perf_counter()
        doc = self.influxql(text, **params)
        return time.perf_counter() - t0, doc


class VictoriaMetrics(System):
    name = "victoriametrics"
    breakdown_depth = 2
    caveat = ("acknowledges writes buffered in memory (about 1 s can be lost in a crash); "
              "keeps millisecond timestamps only; each field becomes a metric "
              "<measurement>_<field>, booleans 0/1")

    def __init__(self, workdir: str, binary: str = "victoria-metrics"):
        super().__init__(workdir)
        self.binary = binary

    def command(self):
        return [self.binary, f"-httpListenAddr={HOST}:{self.port}",
                f"-storageDataPath={self.data_dir}", "-retentionPeriod=100y"]

    def is_ready(self):
        st, _ = self.http.request("GET", "/health", timeout=2)
        return st == 200

    def write(self, http_, body):
        # no ?db=: VictoriaMetrics would add a `db` label to every series
        return http_.request("POST", "/write?precision=ns", body=body,
                             headers={"Content-Type": "text/plain; charset=utf-8"})

    def metrics(self) -> dict[str, float]:
        st, data = self.http.request("GET", "/metrics", timeout=30)
        out = {}
        for line in data.decode(errors="replace").splitlines():
            if not line or line[0] == "#":
                continue
            try:
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
            except ValueError:
                continue
        return out

    def _active_merges(self) -> float:
        m = self.metrics()
        return sum(v for k, v in m.items()
                   if k.startswith("vm_active_merges") or k.startswith("vm_pending_rows"))

    def _settle(self, deadline: float, quiet_polls: int = 5) -> bool:
        stable, last = 0, -1
        polls = 0
        while time.monotonic() < deadline and polls < 100000:
            polls += 1
            size = dir_usage(self.data_dir)["apparent"]
            busy = self._active_merges()
            stable = stable + 1 if (size == last and busy == 0) else 0
            last = size
            if stable >= quiet_polls:
                return True
            time.sleep(2)
        return False

    def persist(self, timeout: float) -> dict:
        t0 = time.monotonic()
        deadline = t0 + timeout
        steps = []
        for step in ("force_flush", "force_merge", "settle", "force_merge", "settle"):
            if step == "settle":
                ok = self._settle(deadline)
                steps.append((step, round(time.monotonic() - t0, 1), ok))
                if not ok:
                    return {"seconds": time.monotonic() - t0, "steps": steps, "complete": False,
                            "note": f"data dir still changing after {timeout:.0f}s"}
            else:
                st, data = self.http.request("GET", f"/internal/{step}", timeout=max(
                    1.0, deadline - time.monotonic()))
                steps.append((step, round(time.monotonic() - t0, 1), st))
                if st != 200:
                    raise RuntimeError(f"/internal/{step}: HTTP {st}: {data[:200]!r}")
        return {"seconds": time.monotonic() - t0, "steps": steps, "complete": True}

    def count(self, dataset):
        lo_s = dataset.min_ts // 1_000_000_000 - 1
        hi_s = dataset.max_ts // 1_000_000_000 + 2
        window = hi_s - lo_s + 1                       # count_over_time looks back (t-w, t]
        names = self.http.get_json("/api/v1/label/__name__/values?" + urllib.parse.urlencode(
            {"start": lo_s, "end": hi_s}), timeout=300)["data"]
        per_metric = {}
        for name in names[:10000]:
            q = f'sum(count_over_time({{__name__="{name}"}}[{window}s]))'
            doc = self.http.get_json("/api/v1/query?" + urllib.parse.urlencode(
                {"query": q, "time": hi_s, "nocache": 1}), timeout=600)
            res = doc["data"]["result"]
            per_metric[name] = int(float(res[0]["value"][1])) if res else 0
        # metric name is <measurement>_<field>; map back with the dataset's measurements
        per = {}
        ms = sorted(dataset.values_by_measurement, key=len, reverse=True)
        for name, n in per_metric.items():
            m = next((m for m in ms if name.startswith(m + "_")), name)
            per[m] = per.get(m, 0) + n
        self.per_metric = per_metric
        return sum(per.values()), dict(sorted(per.items()))

    def diagnostics(self):
        m = self.metrics()
        keys = ("vm_rows_inserted_total", "vm_too_big_timestamp_rows_total",
                "vm_too_small_timestamp_rows_total", "vm_rows_ignored_total",
                "vm_rows_invalid_total", "vm_protoparser_rows_read_total",
                "vm_protoparser_read_errors_total", "vm_protoparser_unmarshal_errors_total",
                "vm_rows{", "vm_parts{", "vm_deduplicated_samples_total")
        out = {k: v for k, v in m.items() if k.startswith(keys) and v}
        # the counters that say whether anything was dropped: report them even when zero
        for k in ("vm_too_big_timestamp_rows_total", "vm_too_small_timestamp_rows_total",
                  "vm_rows_ignored_total", "vm_rows_invalid_total"):
            present = [v for x, v in m.items() if x.startswith(k)]
            if present and not any(x.startswith(k) for x in out):
                out[k] = sum(present)
        return out

    def query(self, text, **params):
        p = {"query": text, "nocache": 1, **params}
        path = "/api/v1/query_range" if "step" in p else "/api/v1/query"
        t0 = time.perf_counter()
        doc = self.http.get_json(path + "?" + urllib.parse.urlencode(p), timeout=600)
        return time.perf_counter() - t0, doc


class GanzhiServer(System):
    """`ganzhi serve --bind 127.0.0.1:PORT --data-dir DIR` (defaults: fsync always). Made to
    persist with POST /internal/flush then /internal/compact; counted with InfluxQL."""
    name = "ganzhi"
    db = "bench"
    load_db = "bench"
    caveat = ("fsyncs its WAL before acknowledging a write (fsync = always, group commit); "
              "keeps nanosecond timestamps")

    def __init__(self, workdir: str, binary: str = "target/release/ganzhi",
                 extra_args: list[str] | None = None):
        super().__init__(workdir)
        self.binary = binary
        self.extra_args = extra_args or []

    def command(self):
        return [self.binary, "serve", "--bind", f"{HOST}:{self.port}", "--data-dir",
                self.data_dir, *self.extra_args]

    def is_ready(self):
        st, _ = self.http.request("GET", "/ping", timeout=2)
        return st in (200, 204)

    # The same /query API as InfluxDB's (POST statements go form-encoded, as for InfluxDB).
    influxql = InfluxDB.influxql

    def prepare(self):
        self.influxql(f"CREATE DATABASE {self.db}", method="POST", db=False)

    def write(self, http_, body):
        return http_.request("POST", f"/write?db={self.db}&precision=ns", body=body,
                             headers={"Content-Type": "text/plain; charset=utf-8"})

    def persist(self, timeout: float) -> dict:
        t0 = time.monotonic()
        steps = []
        for step in ("flush", "compact"):
            left = max(1.0, t0 + timeout - time.monotonic())
            st, data = self.http.request("POST", f"/internal/{step}", timeout=left)
            steps.append((step, round(time.monotonic() - t0, 1), st))
            if not 200 <= st < 300:
                raise RuntimeError(f"/internal/{step}: HTTP {st}: {data[:200]!r}")
        return {"seconds": time.monotonic() - t0, "steps": steps, "complete": True}

    def count(self, dataset):
        try:
            per = count_series(self.influxql("SELECT count(*) FROM /.*/", timeout=1800))
        except RuntimeError:        # no count(*): count each field of each measurement
            per = {}
            for m in dataset.values_by_measurement:
                doc = self.influxql(f'SHOW FIELD KEYS FROM "{m}"')
                fields = [row[0] for r in doc.get("results", [])
                          for s in r.get("series", []) or [] for row in s["values"]]
                if fields:
                    sel = ", ".join(f'count("{f}")' for f in fields)
                    count_series(self.influxql(f'SELECT {sel} FROM "{m}"', timeout=1800), per)
        return sum(per.values()), dict(sorted(per.items()))

    def query(self, text, **params):
        t0 = time.perf_counter()
        doc = self.influxql(text, **params)
        return time.perf_counter() - t0, doc


class GanzhiCmd(System):
    """ganzhi in-process, without HTTP: run an import command template, e.g.
    `target/release/ganzhi import --data-dir {dir} {file}`, timed, then measure {dir}.
    An optional count template prints the stored value count (its last integer is used)."""
    name = "ganzhi"
    caveat = ("loaded by the command template, not over HTTP: its load time includes reading "
              "the file and whatever flush/compaction the command does, so the load rate is not "
              "comparable 1:1; durability as the command's options say (ganzhi import: "
              "--fsync always by default)")

    def __init__(self, workdir, template: str, count_template: str | None = None):
        super().__init__(workdir)
        self.template, self.count_template = template, count_template

    def start(self, timeout: float = 60.0):
        os.makedirs(self.data_dir, exist_ok=True)

    def stop(self, timeout: float = 60.0):
        return None

    def run_import(self, path: str, timeout: float) -> LoadResult:
        cmd = self.template.format(dir=shlex.quote(self.data_dir), file=shlex.quote(path))
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            p = subprocess.run(cmd, shell=True, stdout=log, stderr=subprocess.STDOUT,
                               timeout=timeout)
        secs = time.monotonic() - t0
        return LoadResult(seconds=secs, batches=1, ok=int(p.returncode == 0),
                          failed=int(p.returncode != 0), retries=0, timed_out=False,
                          errors=[] if p.returncode == 0 else
                          [f"exit {p.returncode}: {self.log_tail(5)}"], command=cmd)

    def count(self, dataset):
        if not self.count_template:
            return None, {}
        cmd = self.count_template.format(dir=shlex.quote(self.data_dir),
                                         file=shlex.quote(dataset.path))
        out = subprocess.run(cmd, shell=True, capture_output=True, timeout=1800).stdout.decode()
        nums = re.findall(r"\d+", out)
        return (int(nums[-1]) if nums else None), {}


SYSTEMS = {"influxdb": InfluxDB, "victoriametrics": VictoriaMetrics, "ganzhi": GanzhiServer}
