#!/usr/bin/env bash
# soak.sh - bounded soaks of a release sockmate on loopback (issue 15):
# byte-exact data through relay, through echo with a view on, and through
# send/receive; floods past the limits; connection churn. Prints each
# server's RSS and open descriptors before and after, and a table (also
# written to bench/RESULTS.md's soak section unless RESULTS=-).
#
#   bash bench/soak.sh                  # ~3-6 minutes
#   SOAK_MB=256 SOAK_ROUNDS=8 bash bench/soak.sh   # 2 GiB per byte-exact soak
#
# Env: BIN (default target/release/sockmate), SOAK_MB (file size, default
# 256), SOAK_ROUNDS (times each file goes through, default 4), CHURN_S
# (seconds of connect/close churn, default 20), RESULTS (default
# bench/RESULTS.md; "-" to print only).
#
# Every server runs in its own process group (setsid) and is stopped by
# that group id; every client runs under `timeout`; every loop is bounded.
set -u
# sockmate's status lines ("listening on …") are read here: keep them
# English whatever the locale (a zh_* locale says them in Chinese).
export LC_ALL=C.UTF-8
cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$PWD
BIN=${BIN:-$ROOT/target/release/sockmate}
SOAK_MB=${SOAK_MB:-256}
SOAK_ROUNDS=${SOAK_ROUNDS:-4}
CHURN_S=${CHURN_S:-20}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
[ -x "$BIN" ] || { echo "missing $BIN (cargo build --release)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "missing python3" >&2; exit 2; }
WORK=$(mktemp -d /tmp/sockmate-soak.XXXXXX)
PGIDS=()
cleanup() { for g in "${PGIDS[@]}"; do kill -- -"$g" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); echo "  $1: $2 | before $3 | after $4 | $5"; }

# start NAME ARGS...: runs "$BIN ARGS" in its own group (stdout to $SINK or
# a file), waits for its "listening on" line, sets EP (the endpoint) and PID.
start() {
    local name=$1; shift
    setsid "$BIN" "$@" >"${SINK:-$WORK/$name.out}" 2>"$WORK/$name.err" </dev/null &
    PID=$!
    PGIDS+=("$PID")
    for _ in $(seq 200); do grep -q "listening on" "$WORK/$name.err" && break; sleep 0.05; done
    EP=$(grep -o 'listening on [^ ]*' "$WORK/$name.err" | head -1 | cut -d' ' -f3)
    [ -n "$EP" ] || { echo "$name did not start: $(cat "$WORK/$name.err")" >&2; exit 1; }
}
stop() { kill -- -"$1" 2>/dev/null; wait "$1" 2>/dev/null; }
rss() { awk '/^VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$1/status" 2>/dev/null; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
state() { echo "$(rss "$1"), $(fds "$1") fds"; }
addr() { echo "${1#*://}"; }

head -c $((SOAK_MB * 1024 * 1024)) /dev/urandom >"$WORK/data"
want=$(sha256sum <"$WORK/data" | cut -d' ' -f1)
total_mb=$((SOAK_MB * SOAK_ROUNDS))

# A file through `connect`, an echo and back, SOAK_ROUNDS times; counts the
# rounds whose bytes came back exactly.
echo_rounds() {   # echo_rounds HOST:PORT
    local ok=0
    for _ in $(seq "$SOAK_ROUNDS"); do
        got=$(timeout 120 "$BIN" connect -q "$1" <"$WORK/data" | sha256sum | cut -d' ' -f1)
        [ "$got" = "$want" ] && ok=$((ok + 1))
    done
    echo "$ok"
}

echo "== byte-exact: ${total_mb} MB each way through relay (splice and --no-splice) to an echo"
start echo listen 127.0.0.1:0 -k -q --serve echo
echo_pid=$PID; echo_ep=$EP
for mode in splice copy; do
    extra=(); [ $mode = copy ] && extra=(--no-splice)
    start "relay-$mode" relay 127.0.0.1:0 "$(addr "$echo_ep")" -q "${extra[@]}"
    before=$(state $PID)
    ok=$(echo_rounds "$(addr "$EP")")
    row "relay ($mode) -> echo" "$ok/$SOAK_ROUNDS rounds of $SOAK_MB MB byte-exact" "$before" "$(state $PID)" "relay"
    stop $PID
done
stop $echo_pid

echo "== byte-exact: ${total_mb} MB through echo with a view on (--hex, to /dev/null)"
SINK=/dev/null start echo-view listen 127.0.0.1:0 -k --serve echo --hex
before=$(state $PID)
ok=$(echo_rounds "$(addr "$EP")")
row "echo --hex view" "$ok/$SOAK_ROUNDS rounds of $SOAK_MB MB byte-exact" "$before" "$(state $PID)" "server"
stop $PID

echo "== byte-exact: ${total_mb} MB through send/receive -k"
mkdir -p "$WORK/in"
start recv receive 127.0.0.1:0 --dir "$WORK/in" -k --overwrite
before=$(state $PID)
ok=0
for _ in $(seq "$SOAK_ROUNDS"); do
    timeout 120 "$BIN" send -q "$EP" "$WORK/data" &&
        [ "$(sha256sum <"$WORK/in/data" | cut -d' ' -f1)" = "$want" ] && ok=$((ok + 1))
done
row "send/receive -k" "$ok/$SOAK_ROUNDS files of $SOAK_MB MB byte-exact" "$before" "$(state $PID)" "receiver"
stop $PID
rm -rf "$WORK/in"

echo "== floods past the limits"
start slow listen 127.0.0.1:0 -k --frame line --serve echo
before=$(state $PID)
# hold PY_SCRIPT: runs the flood in the background until it prints HELD,
# measures the server while the clients are held, then lets it finish.
timeout 90 python3 - "$(addr "$EP")" >"$WORK/flood.out" <<'PY' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = []
for _ in range(300):   # slowloris: 300 clients, 1 MiB unterminated lines
    s = socket.create_connection((host, int(port)))
    s.settimeout(2)
    try:
        s.sendall(b"z" * (1 << 20))
    except OSError:
        pass
    held.append(s)
print("HELD", flush=True)
time.sleep(3)
PY
flood=$!
for _ in $(seq 900); do grep -q HELD "$WORK/flood.out" && break; sleep 0.1; done
during=$(state $PID)
wait $flood
sleep 1   # the clients have closed; let the server see every close
row "slowloris 300 x 1 MiB lines" "$(grep -c 'unfinished messages' "$WORK/slow.err") told and closed; while held: $during" "$before" "$(state $PID)" "server (128 MiB budget)"
stop $PID

start hole-target listen 127.0.0.1:0 -k -q --serve discard
hole=$PID
start udp-relay relay udp://127.0.0.1:0 "$(addr "$EP")" --frame line -q
before=$(state $PID)
timeout 60 python3 - "$(addr "$EP")" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]
for _ in range(100):   # 20,000 one-byte datagrams from 200 flows
    for s in socks:
        s.sendto(b"x", (host, int(port)))
    time.sleep(0.002)
PY
sleep 1
row "UDP relay 20,000 datagrams / 200 flows" "bounded queues" "$before" "$(state $PID)" "relay"
stop $PID; stop $hole

start chat listen 127.0.0.1:0 -k --serve chat
before=$(state $PID)
timeout 60 python3 - "$(addr "$EP")" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
stalled = [socket.create_connection((host, int(port))) for _ in range(4)]
for s in stalled:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sender = socket.create_connection((host, int(port)))
line = b"m" * ((1 << 20) - 1) + b"\n"
try:
    for _ in range(200):   # 200 MB of 1 MB lines to 4 members that never read
        sender.sendall(line)
except OSError:
    pass
PY
row "chat: 4 stalled members, 200 x 1 MB lines" "$(grep -c dropped "$WORK/chat.err") dropped" "$before" "$(state $PID)" "server"
stop $PID

echo "== churn: ${CHURN_S} s of connect/close against echo"
start churn listen 127.0.0.1:0 -k -q --serve echo
before=$(state $PID)
timeout $((CHURN_S + 30)) "$BIN" bench "$EP" -m connect -c 8 -d "${CHURN_S}s" >"$WORK/churn.txt" 2>&1
sleep 1
# The report's "messages N  R conn/s" and "errors E" lines.
churned=$(awk '$1 == "messages" { n = $2; r = $3 } $1 == "errors" { e = $2 } END { if (n != "") printf "%s connects (%s/s), %s errors", n, r, e }' "$WORK/churn.txt")
row "churn ${CHURN_S} s, 8 connectors" "${churned:-$(head -c 120 "$WORK/churn.txt" | tr '\n' ' ')}" "$before" "$(state $PID)" "server"
stop $PID

table=$(printf '%s\n' "| soak | result | before (RSS, fds) | after (RSS, fds) | process |" "|---|---|---|---|---|" "${ROWS[@]}")
echo
echo "$table"
if [ "$RESULTS" != "-" ]; then
    {
        echo
        echo "## soak ($(date -u +%Y-%m-%d), bench/soak.sh, SOAK_MB=$SOAK_MB SOAK_ROUNDS=$SOAK_ROUNDS CHURN_S=$CHURN_S)"
        echo
        echo "$table"
    } >>"$RESULTS"
fi
