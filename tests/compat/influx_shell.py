"""The `influx` shell (Debian's influxdb-client, InfluxDB 1.x CLI) against ganzhi: CREATE
DATABASE, INSERT (which the shell turns into a /write), SELECT back in JSON, SHOW DATABASES,
and `-import` of a file with DDL and DML sections."""

import json
import os
import subprocess
import tempfile

from common import HOST, PASSWORD, PORT, USER, check, finish


def influx(*args):
    cmd = ["influx", "-host", HOST, "-port", str(PORT)]
    if USER:
        cmd += ["-username", USER, "-password", PASSWORD]
    out = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


def query_json(db, q):
    code, out, err = influx("-database", db, "-format", "json", "-precision", "s", "-execute", q)
    if code != 0:
        return None, err or out
    return json.loads(out), out


code, out, err = influx("-execute", "CREATE DATABASE shell")
check("CREATE DATABASE", code == 0, err or out)

code, out, err = influx("-execute", "SHOW DATABASES")
check("SHOW DATABASES lists the new database", code == 0 and "shell" in out.split(), out + err)

for i, (host, value) in enumerate([("a", 1.5), ("b", 2.5), ("a", 3.25)]):
    code, out, err = influx(
        "-database", "shell", "-precision", "s",
        "-execute", f"INSERT cpu,host={host} value={value},n={i}i {1700000000 + i * 60}",
    )
    check(f"INSERT {i}", code == 0 and "ERR" not in out + err, err or out)

result, raw = query_json("shell", "SELECT value, n FROM cpu WHERE host = 'a'")
values = None
try:
    values = result["results"][0]["series"][0]["values"]
except (TypeError, KeyError, IndexError):
    pass
check("SELECT returns what INSERT wrote", values == [[1700000000, 1.5, 0], [1700000120, 3.25, 2]], raw)

result, raw = query_json("shell", "SELECT count(value) FROM cpu")
count = None
try:
    count = result["results"][0]["series"][0]["values"][0][1]
except (TypeError, KeyError, IndexError):
    pass
check("SELECT count()", count == 3, raw)

code, out, err = influx("-database", "shell", "-execute", "SELECT nope FROM")
check("a syntax error is reported", "error parsing query" in out + err, out + err)

with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    f.write("# DDL\nCREATE DATABASE imported\n\n# DML\n# CONTEXT-DATABASE: imported\n")
    for i in range(500):
        f.write(f"river,gauge=g{i % 5} level={i / 10} {1700000000 + i}\n")
    path = f.name
code, out, err = influx("-import", "-path", path, "-precision", "s")
os.unlink(path)
check("-import", code == 0 and "Processed 500 inserts" in out + err
      and "Failed 0 inserts" in out + err, out + err)
result, raw = query_json("imported", "SELECT count(level) FROM river")
try:
    count = result["results"][0]["series"][0]["values"][0][1]
except (TypeError, KeyError, IndexError):
    count = None
check("-import wrote every point", count == 500, raw)

finish()
