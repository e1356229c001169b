"""The Python `influxdb` library (InfluxDB 1.x API) against ganzhi: create a database, write
batches of points (plain and gzipped, several precisions), read them back with InfluxQL."""

from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError

from common import HOST, PASSWORD, PORT, USER, check, finish

client = InfluxDBClient(HOST, PORT, username=USER or None, password=PASSWORD or None,
                        database="pyv1")
check("ping returns the version", client.ping().startswith("1.8"), client.ping())
client.create_database("pyv1")
check("get_list_database", {"name": "pyv1"} in client.get_list_database(),
      client.get_list_database())

T0 = 1700000040  # on a minute boundary
points = [
    {
        "measurement": "noise",
        "tags": {"site": f"n-{i % 7}", "district": "haidian" if i % 2 else "chaoyang"},
        "time": T0 + i,
        "fields": {"laeq": 40.0 + (i % 50) / 4, "peaks": i % 5, "ok": i % 3 != 0,
                   "note": f"s{i % 4}"},
    }
    for i in range(5000)
]
check("write_points in batches of 1000",
      client.write_points(points, time_precision="s", batch_size=1000))

gz = InfluxDBClient(HOST, PORT, username=USER or None, password=PASSWORD or None,
                    database="pyv1", gzip=True)
check("write_points gzipped",
      gz.write_points([{"measurement": "gz", "fields": {"v": float(i)}, "time": i}
                       for i in range(1, 1001)], time_precision="ms"))

r = client.query("SELECT count(laeq) FROM noise")
check("count of the batches", list(r.get_points()) == [{"time": "1970-01-01T00:00:00Z", "count": 5000}],
      r.raw)

r = client.query("SELECT laeq, peaks, ok, note FROM noise WHERE site = 'n-3' LIMIT 3", epoch="s")
got = list(r.get_points())
want = [{"time": T0 + i, "laeq": 40.0 + (i % 50) / 4, "peaks": i % 5, "ok": i % 3 != 0,
         "note": f"s{i % 4}"} for i in (3, 10, 17)]
check("values of every type come back", got == want, f"{got} != {want}")

r = client.query("SELECT mean(laeq) FROM noise WHERE time >= %d AND time < %d GROUP BY time(1m), district"
                 % (T0 * 10**9, (T0 + 120) * 10**9), epoch="s")
series = {k[1]["district"]: list(v) for k, v in r.items()}
means = [p["mean"] for p in series.get("haidian", [])]
expect = [sum(40.0 + (i % 50) / 4 for i in range(s, s + 60) if i % 2) / 30 for s in (0, 60)]
check("GROUP BY time(1m), district",
      len(means) == 2 and all(abs(a - b) < 1e-9 for a, b in zip(means, expect)), f"{r.raw}")

chunks = list(client.query("SELECT laeq FROM noise; SELECT count(laeq) FROM noise",
                           chunked=True, chunk_size=1000))
sizes = [len(list(c.get_points())) for c in chunks]
check("chunked=true: series cut every chunk_size rows, as InfluxDB does",
      sizes == [1000] * 5 + [1], sizes)

r = client.query("SELECT sum(v) FROM gz")
check("gzipped points are all there", list(r.get_points())[0]["sum"] == sum(range(1, 1001)), r.raw)

try:
    client.write_points([{"measurement": "bad", "fields": {}}])
    check("a bad write raises", False, "no error")
except InfluxDBClientError as e:
    check("a bad write raises a client error", e.code == 400, str(e))

try:
    client.query("SELECT FROM WHERE")
    check("a syntax error raises", False, "no error")
except InfluxDBClientError as e:
    check("a syntax error raises", "error parsing query" in str(e), str(e))

try:
    InfluxDBClient(HOST, PORT, username=USER or None, password=PASSWORD or None,
                   database="missing").write_points([{"measurement": "m", "fields": {"v": 1}}])
    check("an unknown database raises", False, "no error")
except InfluxDBClientError as e:
    check("an unknown database raises 404", e.code == 404, str(e))

finish()
