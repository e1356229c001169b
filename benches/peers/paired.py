#!/usr/bin/env python3
"""Paired latency of one InfluxQL query against two or more servers already running, requests
alternating between them (the order reversed every round), each timed with its `json.loads`
as a client would: percentiles 5, 10, 20 … 90 in microseconds per server. For A/B runs on this
shared machine, where load changes from one minute to the next.

    ganzhi serve --bind 127.0.0.1:18086 --data-dir A --small-query-points 0 &
    ganzhi serve --bind 127.0.0.1:18087 --data-dir B &      # B a copy of A
    python3 benches/peers/paired.py --ports 18086,18087 --db city --n 3000 "SHOW DATABASES"

With `--pid`, for one server, it also prints that process's CPU time per request (user +
system, from /proc), with the requests sent one after another on one keep-alive connection.
The kernel counts CPU time in ticks of 10 ms: send a few thousand requests for a figure.
"""

import argparse
import http.client
import json
import os
import statistics
import time
import urllib.parse


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("query")
    ap.add_argument("--ports", required=True, help="comma-separated, on 127.0.0.1")
    ap.add_argument("--db", default="city")
    ap.add_argument("--n", type=int, default=2000, help="requests per server")
    ap.add_argument("--epoch", default="ns")
    ap.add_argument("--pid", type=int, help="with one port: also the server's CPU per request")
    args = ap.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    path = "/query?" + urllib.parse.urlencode({"db": args.db, "q": args.query,
                                               "epoch": args.epoch})
    conns = {p: http.client.HTTPConnection("127.0.0.1", p) for p in ports}
    times: dict = {p: [] for p in ports}
    cpu0 = cpu_seconds(args.pid) if args.pid else 0.0
    for i in range(args.n):
        for p in (ports if i % 2 == 0 else ports[::-1]):
            t0 = time.perf_counter()
            conns[p].request("GET", path)
            json.loads(conns[p].getresponse().read())
            times[p].append(time.perf_counter() - t0)
    for p in ports:
        v = sorted(times[p])
        cuts = " ".join(f"{v[int(len(v) * q)] * 1e6:.0f}"
                        for q in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9))
        print(f"{p}: median {statistics.median(v) * 1e6:.0f} us; p5..p90 {cuts}")
    if args.pid:
        spent = cpu_seconds(args.pid) - cpu0
        print(f"server CPU {spent / (args.n * len(ports)) * 1e6:.0f} us per request")


if __name__ == "__main__":
    main()
