#!/usr/bin/env bash
# Pushes SIZE bytes (default 1 GiB) through a client -> server TCP pair on
# loopback, stdin to stdout, and times it: sockmate connect -> sockmate listen
# next to socat -> socat, in one run, RUNS times each, and prints the ratio of
# the medians. The received byte count is checked every run.
#   bash bench/pipe.sh            # 1 GiB, 3 runs
#   SIZE=256M RUNS=5 bash bench/pipe.sh
set -euo pipefail
# sockmate's status lines ("listening on …") are read here: keep them
# English whatever the locale (a zh_* locale says them in Chinese).
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1G}
RUNS=${RUNS:-3}
BIN=${BIN:-target/release/sockmate}
[ -x "$BIN" ] || cargo build --release
command -v socat >/dev/null || { echo "socat missing: apt-get install -y socat" >&2; exit 1; }
bytes=$(numfmt --from=iec "$SIZE")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 500); do grep -q ":$(printf %04X "$1") 00000000:0000 0A" /proc/net/tcp && return; sleep 0.01; done; echo "no listener on $1" >&2; exit 1; }

run_sockmate() {
  "$BIN" listen 0 -q 2>"$tmp/err" </dev/null | wc -c >"$tmp/count" &
  for _ in $(seq 500); do grep -q 'listening on' "$tmp/err" 2>/dev/null && break; sleep 0.01; done
  local addr; addr=$(sed -n 's/.*listening on tcp:\/\/\([^ ]*\).*/\1/p' "$tmp/err")
  local t0=$(date +%s.%N)
  head -c "$SIZE" /dev/zero | "$BIN" connect "$addr"
  wait
  echo "$(date +%s.%N) - $t0" | bc
}

run_socat() {
  local port; port=$(free_port)
  socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" STDOUT | wc -c >"$tmp/count" &
  wait_port "$port"
  local t0=$(date +%s.%N)
  head -c "$SIZE" /dev/zero | socat -u STDIN "TCP:127.0.0.1:$port"
  wait
  echo "$(date +%s.%N) - $t0" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A times
for tool in sockmate socat; do
  : >"$tmp/$tool.times"
  for _ in $(seq "$RUNS"); do
    t=$(run_$tool)
    got=$(cat "$tmp/count")
    [ "$got" = "$bytes" ] || { echo "$tool delivered $got of $bytes bytes" >&2; exit 1; }
    echo "$t" >>"$tmp/$tool.times"
  done
  times[$tool]=$(median <"$tmp/$tool.times")
done
printf '%-28s %10s %12s\n' "pipe $SIZE (median of $RUNS)" seconds "MB/s"
for tool in sockmate socat; do
  printf '%-28s %10.3f %12.0f\n' "$tool -> $tool" "${times[$tool]}" "$(echo "$bytes / ${times[$tool]} / 1000000" | bc -l)"
done
printf 'ratio socat/sockmate time: %.2fx\n' "$(echo "${times[socat]} / ${times[sockmate]}" | bc -l)"
