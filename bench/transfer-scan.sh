#!/usr/bin/env bash
# Side-by-side measurements for issue #6 (release build, loopback only):
#   1. a 1 GiB file with `sockmate send`/`receive` versus
#      `nc.openbsd -l P > file` / `nc.openbsd -N 127.0.0.1 P < file`,
#      timed from the sender's start until the receiver has exited
#      (file fully written; for sockmate also the SHA-256 checked);
#   2. `sockmate scan 127.0.0.1 -` (ports 1-65535).
# Usage: bench/transfer-scan.sh [RUNS]   (needs nc.openbsd; deletes its files)
set -euo pipefail
RUNS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/sockmate
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
head -c 1073741824 /dev/urandom > big.bin
cat big.bin > /dev/null  # warm the page cache for both tools alike
now() { date +%s.%N; }
# CPU seconds (user + system) recorded by /usr/bin/time -f "%U %S" in a file.
cpu() { awk '{s += $1 + $2} END {printf "%.2f", s}' "$@"; }
T=/usr/bin/time
wait_for() { until grep -q "$1" "$2" 2>/dev/null; do sleep 0.01; done; }
for run in $(seq "$RUNS"); do
  rm -rf in r.err
  $T -o r.cpu -f "%U %S" "$BIN" receive 127.0.0.1:0 --dir in 2>r.err &
  rpid=$!
  wait_for listening r.err
  ep=$(grep -o 'tcp://[0-9.:]*' r.err)
  t0=$(now); $T -o s.cpu -f "%U %S" "$BIN" send -q "$ep" big.bin; wait "$rpid"; t1=$(now)
  echo "run $run sockmate:   $(echo "$t1 - $t0" | bc) s, $(echo "1024 / ($t1 - $t0)" | bc) MiB/s, CPU $(cpu r.cpu s.cpu) s ($(grep received r.err | grep -o 'sha256 .*'))"
  rm -rf in
  rm -f nc.out n.err
  $T -o r.cpu -f "%U %S" nc.openbsd -v -l 127.0.0.1 0 > nc.out 2>n.err &
  npid=$!
  wait_for Listening n.err
  port=$(awk '{print $NF}' n.err)
  t0=$(now); $T -o s.cpu -f "%U %S" nc.openbsd -N 127.0.0.1 "$port" < big.bin; wait "$npid"; t1=$(now)
  echo "run $run nc.openbsd: $(echo "$t1 - $t0" | bc) s, $(echo "1024 / ($t1 - $t0)" | bc) MiB/s, CPU $(cpu r.cpu s.cpu) s ($(stat -c %s nc.out) bytes)"
  rm -f nc.out
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  t0=$(now); $T -o scan.cpu -f "%U %S" "$BIN" scan 127.0.0.1 - --open >/dev/null 2>scan.err || true; t1=$(now)
  echo "run $run scan 127.0.0.1 1-65535: $(echo "$t1 - $t0" | bc) s, CPU $(cpu scan.cpu) s ($(head -1 scan.err))"
done
