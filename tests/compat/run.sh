#!/usr/bin/env bash
# Compatibility tests: clients no one here wrote (the `influx` shell, the Python libraries
# `influxdb` and `influxdb-client`) against the real `ganzhi serve`, once without and once with
# --auth; then InfluxQL answers compared with a real InfluxDB 1.x's (semantics.py). Needs those
# clients and `influxd` installed (.ci/run installs them).
#
# Usage: tests/compat/run.sh [path/to/ganzhi]   (default: target/release/ganzhi if built,
# else target/debug/ganzhi). Ends with "N passed, M failed"; exits 1 if any check failed.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1  # keep the source tree clean
cd "$(dirname "$0")/../.."
here=tests/compat

bin=${1:-}
if [ -z "$bin" ]; then
  if [ -x target/release/ganzhi ]; then bin=target/release/ganzhi; else bin=target/debug/ganzhi; fi
fi
[ -x "$bin" ] || { echo "no ganzhi binary at $bin: build it first (cargo build)" >&2; exit 2; }

work=$(mktemp -d)
pid=
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || echo "ganzhi exited with $? after SIGTERM" >&2
  fi
  pid=
}
trap 'stop; rm -rf "$work"' EXIT

# start NAME ARGS...: a server on a free port with a fresh data directory; sets GANZHI_PORT.
current=
start() {
  local name=$1; shift
  current=$name
  "$bin" serve --bind 127.0.0.1:0 --data-dir "$work/$name-data" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  for _ in $(seq 1 300); do
    if grep -q '^listening on ' "$work/$name.out"; then
      GANZHI_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$name.out")
      export GANZHI_HOST=127.0.0.1 GANZHI_PORT
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "ganzhi serve did not start:" >&2
  cat "$work/$name.err" >&2
  exit 1
}

passed=0
failed=0
run() {
  local label=$1 script=$2
  echo "== $label"
  if python3 "$here/$script"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "   ($label failed; server log:)"
    sed 's/^/   | /' "$work/$current.err" | tail -20
  fi
}

clients_ok=1
command -v influx >/dev/null || { echo "missing: the influx shell (apt-get install influxdb-client)" >&2; clients_ok=0; }
python3 -c 'import influxdb, influxdb_client' 2>/dev/null \
  || { echo "missing: pip install influxdb influxdb-client" >&2; clients_ok=0; }
[ "$clients_ok" = 1 ] || { echo "0 passed, 1 failed"; exit 1; }

# Without auth.
export GANZHI_USER= GANZHI_PASSWORD= GANZHI_TOKEN=
start open
run "influx shell" influx_shell.py
run "python influxdb (1.x)" influxdb_v1.py
run "python influxdb-client (2.x write)" influxdb_v2.py
stop

# With auth: an admin user for the 1.x clients, a token for the 2.x one.
users="$work/users.toml"
GANZHI_PASSWORD=compat-pw "$bin" user add --users-file "$users" admin --admin >/dev/null
token=$("$bin" user token --users-file "$users" ci --read '*' --write '*')
start auth --auth --users-file "$users"
export GANZHI_USER=admin GANZHI_PASSWORD=compat-pw GANZHI_TOKEN=$token
run "influx shell, with auth" influx_shell.py
run "python influxdb (1.x), with auth" influxdb_v1.py
run "python influxdb-client (2.x write), with auth" influxdb_v2.py
stop

# InfluxQL semantics: the same statements to ganzhi and to a real InfluxDB 1.x, answers compared
# (the script starts both servers itself).
echo "== InfluxQL semantics against InfluxDB"
if ! command -v influxd >/dev/null; then
  echo "   missing: influxd (apt-get install influxdb)"
  failed=$((failed + 1))
elif python3 "$here/semantics.py" --ganzhi "$bin"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "compat: $passed passed, $failed failed"
[ "$failed" = 0 ]
