"""The Python `influxdb-client` library (InfluxDB 2.x write API) against ganzhi: a synchronous
write_api writing Points, line protocol and batches to a bucket, read back with the 1.x
library's InfluxQL."""

from datetime import datetime, timezone

from influxdb import InfluxDBClient as V1Client
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from common import HOST, PASSWORD, PORT, TOKEN, URL, USER, check, finish

v1 = V1Client(HOST, PORT, username=USER or None, password=PASSWORD or None, database="pyv2")
v1.create_database("pyv2")

with InfluxDBClient(url=URL, token=TOKEN or "no-auth", org="city") as client:
    write = client.write_api(write_options=SYNCHRONOUS)
    T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
    ts = int(T0.timestamp())
    write.write(bucket="pyv2", record=Point("parking").tag("lot", "p1").field("free", 12)
                .field("rate", 0.25).time(T0))
    write.write(bucket="pyv2", record=f"parking,lot=p2 free=7i,rate=0.5 {ts + 60}",
                write_precision=WritePrecision.S)
    batch = [Point("traffic").tag("detector", f"d{i % 4}").field("count", i)
             .time(ts * 1000 + i, WritePrecision.MS) for i in range(2000)]
    write.write(bucket="pyv2", record=batch, write_precision=WritePrecision.MS)
    check("synchronous writes returned", True)

    try:
        write.write(bucket="pyv2", record="parking,lot=p3 free=")
        check("a bad line raises", False, "no error")
    except Exception as e:  # ApiException
        check("a bad line raises 400", getattr(e, "status", None) == 400, str(e))

r = v1.query("SELECT free, rate FROM parking", epoch="s")
got = list(r.get_points())
check("Points and line protocol read back with InfluxQL",
      got == [{"time": ts, "free": 12, "rate": 0.25}, {"time": ts + 60, "free": 7, "rate": 0.5}],
      got)

r = v1.query("SELECT count(count), sum(count) FROM traffic")
got = list(r.get_points())
check("a batch of 2000 points", got and got[0]["count"] == 2000 and got[0]["sum"] == sum(range(2000)),
      got)

finish()
