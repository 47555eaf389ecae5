#!/usr/bin/env bash
# Idle connections on `sockmate listen -k --serve echo`: memory per held
# connection and the time to accept (and echo one byte on) K connections.
#
#   K=10000 WINDOW=256 bash bench/idle_conns.sh
#
# Clients come from conn_hold (bench/conn_hold.c): forked workers
# (RLIMIT_NOFILE is per process) on rotating 127.0.0.x source addresses; a
# connection counts once its byte came back. Memory is read with procmem.py
# (RSS/PSS of the server's process group) before the clients connect and
# while they are held; the difference divided by the connections held is the
# cost of one idle connection. Bounded: ramp deadline, hold time, guards.
set -euo pipefail
# sockmate's status lines ("listening on …") are read here: keep them
# English whatever the locale (a zh_* locale says them in Chinese).
export LC_ALL=C.UTF-8
K=${K:-10000}
WINDOW=${WINDOW:-256}
RAMP_S=${RAMP_S:-120}
HOLD_S=${HOLD_S:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
HELPERS=${HELPERS:-$HERE}
BIN=${BIN:-$ROOT/target/release/sockmate}
WORK=$(mktemp -d)
trap 'kill "${CP:-0}" "${SP:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
gcc -O2 -o "$WORK/conn_hold" "$HELPERS/conn_hold.c"

setsid "$BIN" listen 127.0.0.1:0 -k -q --serve echo 2>"$WORK/server.err" >/dev/null &
SP=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/server.err" && break; sleep 0.05; done
PORT=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$WORK/server.err" | sed 's/.*://')
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

before=$(python3 "$HELPERS/procmem.py" "$SP")
"$WORK/conn_hold" 127.0.0.1 "$PORT" "$K" echo "$RAMP_S" "$HOLD_S" "$WINDOW" 3072 5000 15 >"$WORK/client.out" 2>&1 &
CP=$!
for _ in $(seq $(( (RAMP_S + 30) * 10 ))); do grep -q READY "$WORK/client.out" && break; sleep 0.1; done
held=$(python3 "$HELPERS/procmem.py" "$SP")
kill -USR1 "$CP"
wait "$CP" || true
ready=$(grep READY "$WORK/client.out")
alive=$(grep ALIVE "$WORK/client.out" || true)
ok=$(echo "$ready" | kv ok)
echo "client: $ready"
echo "client: $alive"
echo "server before: $before"
echo "server held:   $held"
python3 - "$ok" "$before" "$held" <<'PY'
import sys
ok = int(sys.argv[1])
kv = lambda s: dict(x.split("=") for x in s.split())
b, h = kv(sys.argv[2]), kv(sys.argv[3])
for k in ("rss_mb", "pss_mb"):
    d = (float(h[k]) - float(b[k])) * 1024 * 1024
    print(f"{k[:3]} per held connection: {d / max(ok, 1) / 1024:.2f} KiB ({ok} connections)")
PY
