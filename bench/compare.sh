#!/usr/bin/env bash
# compare.sh - sockmate next to socat, ncat, iperf3 and sockperf on the same
# work, in one run on one machine, loopback only. Prints a table of figures and
# ratios and writes it, with the machine's description, to bench/RESULTS.md.
#
#   bash bench/compare.sh                 # everything, ~3 minutes
#   DUR=2 bash bench/compare.sh relay rr  # some sections, shorter runs
#
# Sections: relay bulk rr udp conn gen rate ui tls ws transfer (default: all).
# Env: DUR (seconds per timed run, default 4), BULK_MB (default 500),
#      CONN_KS (connection counts for sockmate, default "1000 10000 19000"),
#      PEER_CONN_K (for socat/ncat, default 1000), BIN (default
#      target/release/sockmate; target/profiling/sockmate to profile), HELPERS (the C helpers' sources, default
#      bench/, where they live), OUT (raw logs, default a fresh temp dir),
#      RESULTS (default bench/RESULTS.md; "-" to skip writing it),
#      TLS_MB (MB per TLS transfer, default 1000), TLS_RUNS (rounds of
#      the TLS transfers, median kept, default 3), RELAY_RUNS (rounds of
#      the relay throughput runs, median kept, default 3), RATES (open-loop rates
#      for the rate section, default "100 1000 10000 20000"), XFER_MB (MiB of the file
#      sent by each transfer, default 512), XFER_RUNS (rounds, default 3),
#      XFER_DIR (where the file and the copies go, default /dev/shm, a
#      tmpfs, so that the disk is not what is measured), RR_ROUNDS (rounds
#      of the sockperf-server / sockmate round-trip pair, alternated,
#      default 5; each round is DUR/2 seconds per server), BULK_THREADS
#      (echo_bulk's threads for the bulk figure, 1 or 2, default 2: one
#      writing, one reading and checking; a 1-thread run is recorded too),
#      BULK_RUNS (rounds of the bulk figure, servers alternating, median
#      kept, default 3).
#
# Every server runs in its own process group (setsid) and is stopped by that
# group id; every client runs under `timeout`; every load is bounded in count
# and time. Servers bind 127.0.0.1 only; conn_hold also uses 127.0.0.10-49 as
# source addresses.
set -u
# sockmate's status lines ("listening on …") are read here: keep them
# English whatever the locale (a zh_* locale says them in Chinese).
export LC_ALL=C.UTF-8
cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$PWD
DUR=${DUR:-4}
BULK_MB=${BULK_MB:-500}
CONN_KS=${CONN_KS:-"1000 10000 19000"}
PEER_CONN_K=${PEER_CONN_K:-1000}
BIN=${BIN:-$ROOT/target/release/sockmate}
HELPERS=${HELPERS:-$ROOT/bench}
OUT=${OUT:-$(mktemp -d /tmp/sockmate-compare.XXXXXX)}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
H=127.0.0.1
TLS_MB=${TLS_MB:-1000}
TLS_RUNS=${TLS_RUNS:-3}
RELAY_RUNS=${RELAY_RUNS:-3}
RATES=${RATES:-"100 1000 10000 20000"}
XFER_MB=${XFER_MB:-512}
XFER_RUNS=${XFER_RUNS:-3}
XFER_DIR=${XFER_DIR:-/dev/shm}
RR_ROUNDS=${RR_ROUNDS:-5}
GEN_RUNS=${GEN_RUNS:-3}
BULK_THREADS=${BULK_THREADS:-2}
BULK_RUNS=${BULK_RUNS:-3}
SECTIONS=${*:-"relay bulk rr udp conn gen rate ui tls ws transfer"}
mkdir -p "$OUT"
RAW=$OUT/raw.tsv
: >"$RAW"

say() { echo "[$(date +%T)] $*" >&2; }
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$RAW"; }   # section subject metric value
kv() { sed -n "s/\(^\|.*[[:space:]]\)$1=\([^[:space:]]*\).*/\2/p" | head -1; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)" 2>/dev/null; }

# ------------------------------------------------------------ prerequisites
for t in iperf3 socat ncat sockperf gcc python3 nc.openbsd; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y iperf3 socat ncat sockperf gcc python3 netcat-openbsd)" >&2; exit 2; }
done
# BIN under target/PROFILE/ is (re)built with that profile when missing or
# older than the sources: target/profiling/sockmate for perf (debug info).
# A BIN elsewhere (a copy of an older build, to compare with) is used as is.
IN_TARGET=0
[ "$(dirname "$(dirname "$BIN")")" = "$ROOT/target" ] && IN_TARGET=1
if [ ! -x "$BIN" ] || { [ $IN_TARGET = 1 ] && [ -n "$(find "$ROOT/src" -newer "$BIN" -name '*.rs' | head -1)" ]; }; then
    if [ $IN_TARGET = 1 ]; then
        profile=$(basename "$(dirname "$BIN")")
        say "building the $profile binary"
        cargo build --profile "$profile" >&2 || exit 2
    else
        echo "missing or stale $BIN" >&2; exit 2
    fi
fi
for c in echo_bulk echo_rr conn_hold echo_ref copy_distance; do
    gcc -O2 -Wall -pthread -o "$OUT/$c" "$HELPERS/$c.c" || { echo "cannot build $HELPERS/$c.c" >&2; exit 2; }
done
HAS_SERVE=0
"$BIN" listen --help 2>/dev/null | grep -q -- '--serve' && HAS_SERVE=1

# ------------------------------------------------------------ servers
GROUPS_STARTED=""
cleanup() { for g in $GROUPS_STARTED; do kill -- -"$g" 2>/dev/null; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_port PROTO PORT: until something listens there (bounded)
wait_port() {
    local flag=-Htln; [ "$1" = udp ] && flag=-Huln
    for _ in $(seq 100); do ss $flag "sport = :$2" 2>/dev/null | grep -q . && return 0; sleep 0.05; done
    say "WARN: nothing listening on $1/$2"; return 1
}
# start NAME PROTO PORT cmd... : own process group; SP=pgid
start() {
    local name=$1 proto=$2 port=$3; shift 3
    echo "server: $*" >>"$OUT/commands.txt"
    setsid "$@" </dev/null >"$OUT/$name.log" 2>&1 &
    SP=$!
    GROUPS_STARTED="$GROUPS_STARTED $SP"
    wait_port "$proto" "$port"
}
# start_sockmate NAME cmd... : waits for "listening on …"; SP=pgid, SPORT=port
start_sockmate() {
    local name=$1; shift
    echo "server: $*" >>"$OUT/commands.txt"
    setsid "$@" </dev/null >/dev/null 2>"$OUT/$name.log" &
    SP=$!
    GROUPS_STARTED="$GROUPS_STARTED $SP"
    SPORT=""
    for _ in $(seq 200); do
        SPORT=$(sed -n 's/.*listening on [a-z]*:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$OUT/$name.log" | head -1)
        [ -n "$SPORT" ] && return 0
        sleep 0.05
    done
    say "WARN: $name did not start: $(head -3 "$OUT/$name.log")"; return 1
}
stop() {
    local g=$1
    kill -- -"$g" 2>/dev/null
    for _ in $(seq 100); do pgrep -g "$g" >/dev/null || break; sleep 0.05; done
    pgrep -g "$g" >/dev/null && kill -9 -- -"$g" 2>/dev/null
    GROUPS_STARTED=$(echo " $GROUPS_STARTED " | sed "s/ $g / /")
}
client() { echo "client: $*" >>"$OUT/commands.txt"; timeout $((DUR + 30)) "$@"; }
# The median of the numbers on stdin, one per line ("failed" and other
# words are left out); "failed" when there is none.
median() { grep -E '^[0-9.]+$' | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "failed"}'; }

# ------------------------------------------------------------ sections
sec_relay() {
    say "relay throughput: iperf3 -t $DUR through each relay, $RELAY_RUNS rounds with the relays alternating (median kept)"
    local ip; ip=$(free_port)
    start iperf3-server tcp "$ip" iperf3 -s -B $H -p "$ip" || return
    local isp=$SP
    : >"$OUT/relay-runs.txt"
    iperf() {   # iperf SUBJECT PORT: appends one run's Gbit/s
        local v=failed
        if client iperf3 -c $H -p "$2" -t "$DUR" -J >"$OUT/iperf-$1.json" 2>>"$OUT/iperf-client.log"; then
            v=$(jget "$OUT/iperf-$1.json" "round(d['end']['sum_received']['bits_per_second']/1e9,2)")
        fi
        printf '%s\t%s\n' "$1" "$v" >>"$OUT/relay-runs.txt"
    }
    # Every relay listens for the whole section; each round runs iperf3
    # directly and through each of them, so a drift of the machine's speed
    # falls on all of them alike.
    local subjects=("direct (no relay)") ports=("$ip") groups=() p
    start_sockmate relay-splice "$BIN" relay $H:0 "$H:$ip" -q && { subjects+=("sockmate relay (splice)"); ports+=("$SPORT"); groups+=("$SP"); }
    start_sockmate relay-copy "$BIN" relay $H:0 "$H:$ip" -q --no-splice && { subjects+=("sockmate relay --no-splice"); ports+=("$SPORT"); groups+=("$SP"); }
    p=$(free_port)
    start socat-relay tcp "$p" socat TCP-LISTEN:$p,bind=$H,reuseaddr,fork TCP:$H:$ip && { subjects+=("socat fork"); ports+=("$p"); groups+=("$SP"); }
    p=$(free_port)
    start socat-relay-b tcp "$p" socat -b 131072 TCP-LISTEN:$p,bind=$H,reuseaddr,fork TCP:$H:$ip && { subjects+=("socat -b131072 fork"); ports+=("$p"); groups+=("$SP"); }
    p=$(free_port)
    start ncat-relay tcp "$p" ncat -l -k $H "$p" --sh-exec "ncat $H $ip" && { subjects+=("ncat --sh-exec ncat"); ports+=("$p"); groups+=("$SP"); }
    local round i
    for round in $(seq "$RELAY_RUNS"); do
        for i in "${!subjects[@]}"; do iperf "${subjects[$i]}" "${ports[$i]}"; done
    done
    for p in "${groups[@]}"; do stop "$p"; done
    stop "$isp"
    for i in "${!subjects[@]}"; do
        local runs; runs=$(awk -F'\t' -v j="${subjects[$i]}" '$1 == j {print $2}' "$OUT/relay-runs.txt")
        rec relay "${subjects[$i]}" Gbit/s "$(echo "$runs" | median)"
        rec relay "${subjects[$i]}" runs "$(echo "$runs" | paste -sd' ')"
    done
    # Direct iperf3 on loopback swings between about 14 and 25 Gbit/s with
    # where the scheduler puts its two ends; "the limit" is its best run.
    rec relay "direct (no relay)" "best Gbit/s" "$(awk -F'\t' '$1 == "direct (no relay)" && $2 != "failed" {print $2}' "$OUT/relay-runs.txt" | sort -n | tail -1)"

    say "relay latency: 64-byte round trips through each relay to socat PIPE"
    local ep; ep=$(free_port)
    start echo-pipe tcp "$ep" socat TCP-LISTEN:$ep,bind=$H,reuseaddr,fork PIPE || return
    local esp=$SP
    rr_through() {   # rr_through SUBJECT PORT
        local line; line=$(client "$OUT/echo_rr" tcp $H "$2" 1000000 64 "$DUR" 500 2>&1)
        if echo "$line" | grep -q p50_us; then
            rec relay-rr "$1" "p50 us" "$(echo "$line" | kv p50_us)"
            rec relay-rr "$1" "p99 us" "$(echo "$line" | kv p99_us)"
        else rec relay-rr "$1" "p50 us" failed; fi
    }
    rr_through "direct (no relay)" "$ep"
    start_sockmate relay-rr "$BIN" relay $H:0 "$H:$ep" -q --nodelay && { rr_through "sockmate relay" "$SPORT"; stop "$SP"; }
    p=$(free_port)
    start socat-relay-rr tcp "$p" socat TCP-LISTEN:$p,bind=$H,reuseaddr,fork TCP:$H:$ep,nodelay && { rr_through "socat fork" "$p"; stop "$SP"; }
    stop "$esp"
}

# Starts the echo server SUBJECT on a free port (tcp or udp); ESP=pgid, EPORT=port.
start_echo() {
    local subject=$1 proto=$2 p; p=$(free_port)
    EPORT=$p
    case "$subject" in
        "sockmate --serve echo")
            if [ "$proto" = udp ]; then
                start_sockmate echo-sm "$BIN" listen udp://$H:0 -q --serve echo || return 1
            else
                start_sockmate echo-sm "$BIN" listen $H:0 -k -q --serve echo || return 1
            fi
            EPORT=$SPORT ;;
        "socat PIPE")
            if [ "$proto" = udp ]; then start echo-socat udp "$p" socat UDP-LISTEN:$p,bind=$H PIPE || return 1
            else start echo-socat tcp "$p" socat TCP-LISTEN:$p,bind=$H,reuseaddr,fork,backlog=1024 PIPE || return 1; fi ;;
        "ncat --exec cat")
            if [ "$proto" = udp ]; then start echo-ncat udp "$p" ncat -u -l -k $H "$p" --exec /bin/cat || return 1
            else start echo-ncat tcp "$p" ncat -l -k -m 25000 $H "$p" --exec /bin/cat || return 1; fi ;;
        "C echo (splice)"|"C echo (read/write)")
            local mode=splice; [ "$subject" = "C echo (read/write)" ] && mode=rw
            start echo-ref tcp "$p" "$OUT/echo_ref" "$mode" $H "$p" $((DUR * 60 + 600)) || return 1 ;;
        "sockperf server")
            if [ "$proto" = udp ]; then start echo-sockperf udp "$p" sockperf server -i $H -p "$p" || return 1
            else start echo-sockperf tcp "$p" sockperf server -i $H -p "$p" --tcp || return 1; fi ;;
    esac
    ESP=$SP
}
ECHO_SERVERS=("sockmate --serve echo" "C echo (splice)" "C echo (read/write)" "socat PIPE" "ncat --exec cat")

# CPU clock ticks (user+system, children included) of every process in group $1.
group_ticks() {
    local total=0 pid
    for pid in $(pgrep -g "$1"); do
        # fields after the ")" of the command name: 1=state, 12..15=utime stime cutime cstime
        total=$(( total + $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }') + 0 ))
    done
    echo "$total"
}

sec_bulk() {
    say "bulk echo: $BULK_MB MB written and read back, every byte verified (client: $BULK_THREADS thread(s); also 1), $BULK_RUNS rounds with the servers alternating (ncat once: it stalls)"
    local hz; hz=$(getconf CLK_TCK)
    : >"$OUT/bulk-runs.txt"
    bulk_once() {   # bulk_once SUBJECT ROUND: starts the server, runs the client, stops it; appends a run
        local s=$1 round=$2 before after line mbps=failed cpu=- ccpu=-
        start_echo "$s" tcp || { printf '%s\tfailed\t-\t-\n' "$s" >>"$OUT/bulk-runs.txt"; return; }
        # The single-threaded client once (the reference anchors' way), for
        # the record; then the figure, with BULK_THREADS.
        if [ "$BULK_THREADS" != 1 ] && [ "$round" = 1 ]; then
            line=$(client "$OUT/echo_bulk" $H "$EPORT" "$BULK_MB" 65536 $((DUR * 5)) 0 1 2>&1)
            rec bulk "$s" "MB/s, 1-thread client" "$(echo "$line" | grep verify=OK | kv MBps)"
        fi
        before=$(group_ticks "$ESP")
        line=$(client "$OUT/echo_bulk" $H "$EPORT" "$BULK_MB" 65536 $((DUR * 5)) 0 "$BULK_THREADS" 2>&1)
        after=$(group_ticks "$ESP")
        stop "$ESP"
        if echo "$line" | grep -q verify=OK; then
            mbps=$(echo "$line" | kv MBps)
            # Server CPU per GB echoed, and how busy the client was: a client
            # near 100 % sets the pace, and the server's CPU says how much
            # room the server had left.
            cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v mb="$BULK_MB" 'BEGIN { printf "%.2f", t / hz / (mb / 1000) }')
            ccpu=$(echo "$line" | kv client_cpu)
        else mbps=stalled/failed; echo "bulk $s: $line" >>"$OUT/notes.txt"; fi
        printf '%s\t%s\t%s\t%s\n' "$s" "$mbps" "$cpu" "$ccpu" >>"$OUT/bulk-runs.txt"
    }
    local round s
    for round in $(seq "$BULK_RUNS"); do
        for s in "${ECHO_SERVERS[@]}"; do
            if [ "$s" = "sockmate --serve echo" ] && [ $HAS_SERVE = 0 ]; then continue; fi
            if [ "$s" = "ncat --exec cat" ] && [ "$round" != 1 ]; then continue; fi
            bulk_once "$s" "$round"
        done
    done
    for s in "${ECHO_SERVERS[@]}"; do
        if [ "$s" = "sockmate --serve echo" ] && [ $HAS_SERVE = 0 ]; then rec bulk "$s" "MB/s" "n/a"; continue; fi
        col() { awk -F'\t' -v j="$s" -v c="$1" '$1 == j {print $c}' "$OUT/bulk-runs.txt"; }
        if [ -z "$(col 2 | median | grep -v failed)" ]; then rec bulk "$s" "MB/s" "$(col 2 | tail -1)"; continue; fi
        rec bulk "$s" "MB/s" "$(col 2 | median)"
        rec bulk "$s" "runs" "$(col 2 | paste -sd' ')"
        rec bulk "$s" "server CPU s/GB" "$(col 3 | median)"
        rec bulk "$s" "client CPU %" "$(col 4 | median)"
    done
}

sockperf_pp() {   # sockperf_pp SECTION PROTO
    local s="sockperf server" flag=""; [ "$2" = tcp ] && flag=--tcp
    start_echo "$s" "$2" || return
    client sockperf ping-pong -i $H -p "$EPORT" $flag -m 64 -t "$DUR" --full-rtt >"$OUT/sockperf-$2.txt" 2>&1
    stop "$ESP"
    local p50 p99 rt
    p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$OUT/sockperf-$2.txt")
    p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' "$OUT/sockperf-$2.txt")
    rt=$(sed -n 's/.*\[Valid Duration\] RunTime=\([0-9.]*\) sec.*ReceivedMessages=\([0-9]*\).*/\1 \2/p' "$OUT/sockperf-$2.txt")
    rec "$1" "$s (sockperf client)" "p50 us" "${p50:-failed}"
    rec "$1" "$s (sockperf client)" "p99 us" "${p99:-failed}"
    rec "$1" "$s (sockperf client)" "msgs/s" "$(echo "$rt" | awk '{ if ($1 > 0) printf "%.0f", $2/$1 }')"
}

echo_rr_on() {   # echo_rr_on SECTION PROTO SUBJECT
    if [ "$3" = "sockmate --serve echo" ] && [ $HAS_SERVE = 0 ]; then rec "$1" "$3" "p50 us" "n/a"; return; fi
    start_echo "$3" "$2" || { rec "$1" "$3" "p50 us" failed; return; }
    local line; line=$(client "$OUT/echo_rr" "$2" $H "$EPORT" 1000000 64 "$DUR" 500 200 2>&1)
    stop "$ESP"
    if echo "$line" | grep -q p50_us; then
        rec "$1" "$3" "p50 us" "$(echo "$line" | kv p50_us)"
        rec "$1" "$3" "p99 us" "$(echo "$line" | kv p99_us)"
        rec "$1" "$3" "msgs/s" "$(echo "$line" | kv msgs_per_s)"
    else rec "$1" "$3" "p50 us" failed; echo "$1 $3: $line" >>"$OUT/notes.txt"; fi
}

# rr_pair SECTION PROTO: sockperf's server and sockmate's echo, both up, the
# same echo_rr client on each in turn for RR_ROUNDS rounds; records the
# median of the rounds' p50s (and every round's value). Alternating lets
# both see the same moments of a shared machine.
rr_pair() {
    local sec=$1 proto=$2 s round line p50 secs=$(( DUR / 2 > 0 ? DUR / 2 : 1 ))
    local -A port group
    for s in "sockperf server" "sockmate --serve echo"; do
        if [ "$s" = "sockmate --serve echo" ] && [ $HAS_SERVE = 0 ]; then continue; fi
        start_echo "$s" "$proto" || { rec "$sec" "$s" "p50 us" failed; continue; }
        port[$s]=$EPORT; group[$s]=$ESP
        : >"$OUT/rr-$sec-${ESP}.txt"
    done
    for round in $(seq "$RR_ROUNDS"); do
        for s in "${!port[@]}"; do
            line=$(client "$OUT/echo_rr" "$proto" $H "${port[$s]}" 1000000 64 "$secs" 500 200 2>&1)
            p50=$(echo "$line" | kv p50_us)
            if [ -n "$p50" ]; then echo "$p50" >>"$OUT/rr-$sec-${group[$s]}.txt"
            else echo "$sec $s round $round: $line" >>"$OUT/notes.txt"; fi
        done
    done
    for s in "${!port[@]}"; do
        stop "${group[$s]}"
        local runs; runs=$(sort -n "$OUT/rr-$sec-${group[$s]}.txt")
        rec "$sec" "$s" "p50 us" "$(echo "$runs" | median)"
        rec "$sec" "$s" "p50 us, each round" "$(echo "$runs" | paste -sd' ')"
    done
}

sec_rr() {
    say "TCP 64-byte round trips, one in flight (echo_rr C client on every server; sockperf also with its own client)"
    sockperf_pp rr tcp
    # echo_rr's messages carry sockperf's header, so sockperf's server
    # answers the same client as every other server.
    rr_pair rr tcp
    echo_rr_on rr tcp "socat PIPE"
    echo_rr_on rr tcp "ncat --exec cat"
}

sec_udp() {
    say "UDP 64-byte round trips, one in flight"
    sockperf_pp udp udp
    rr_pair udp udp
    echo_rr_on udp udp "socat PIPE"
}

sec_conn() {
    say "concurrent idle echo connections and memory per connection"
    conn_case() {   # conn_case SUBJECT K
        if [ "$1" = "sockmate --serve echo" ] && [ $HAS_SERVE = 0 ]; then rec conn "$1 K=$2" "held" "n/a"; return; fi
        start_echo "$1" tcp || return
        # The idle server's own memory, before any client: the row "above
        # the idle server" counts only what each connection adds.
        local idle; idle=$(python3 "$HELPERS/procmem.py" "$ESP" | kv pss_mb)
        local ramp=$(( $2 / 100 > 30 ? $2 / 100 : 30 ))
        echo "client: conn_hold $H $EPORT $2 echo $ramp 60 64 1024 5000 15" >>"$OUT/commands.txt"
        "$OUT/conn_hold" $H "$EPORT" "$2" echo "$ramp" 60 64 1024 5000 15 >"$OUT/conn.out" 2>&1 &
        local cp=$!
        for _ in $(seq $(( (ramp + 30) * 10 ))); do grep -q READY "$OUT/conn.out" && break; sleep 0.1; done
        local mem; mem=$(python3 "$HELPERS/procmem.py" "$ESP")
        kill -USR1 "$cp" 2>/dev/null
        for _ in $(seq 300); do kill -0 "$cp" 2>/dev/null || break; sleep 0.1; done
        kill "$cp" 2>/dev/null; wait "$cp" 2>/dev/null
        stop "$ESP"
        local ok; ok=$(grep READY "$OUT/conn.out" | kv ok)
        rec conn "$1 K=$2" "held" "${ok:-failed}"
        rec conn "$1 K=$2" "alive after hold" "$(grep ALIVE "$OUT/conn.out" | kv alive)"
        local pss; pss=$(echo "$mem" | kv pss_mb)
        rec conn "$1 K=$2" "server PSS MB" "$pss"
        rec conn "$1 K=$2" "server procs" "$(echo "$mem" | kv procs)"
        [ -n "$ok" ] && [ "$ok" -gt 0 ] && rec conn "$1 K=$2" "KB per conn" "$(awk -v m="$pss" -v k="$ok" 'BEGIN{printf "%.1f", m*1024/k}')"
        rec conn "$1 K=$2" "idle server PSS MB" "$idle"
        [ -n "$ok" ] && [ "$ok" -gt 0 ] && [ -n "$idle" ] && [ -n "$pss" ] &&
            rec conn "$1 K=$2" "KB per conn above the idle server" "$(awk -v m="$pss" -v i="$idle" -v k="$ok" 'BEGIN{printf "%.2f", (m-i)*1024/k}')"
    }
    for K in $CONN_KS; do conn_case "sockmate --serve echo" "$K"; done
    # The C reference at the largest count: memory per idle connection
    # against "as little as this kernel allows".
    local kmax; kmax=$(echo $CONN_KS | tr ' ' '\n' | sort -n | tail -1)
    conn_case "C echo (splice)" "$kmax"
    conn_case "socat PIPE" "$PEER_CONN_K"
    conn_case "ncat --exec cat" "$PEER_CONN_K"
}

sec_gen() {
    say "the generator: sockmate bench next to echo_rr (C), sockperf and iperf3"
    # Ping-pong against the same server (socat PIPE): the C client vs
    # sockmate bench, GEN_RUNS rounds alternating, medians kept.
    start_echo "socat PIPE" tcp || return
    : >"$OUT/gen-pp-runs.txt"
    local round line
    for round in $(seq "$GEN_RUNS"); do
        line=$(client "$OUT/echo_rr" tcp $H "$EPORT" 1000000 64 "$DUR" 500 2>&1)
        printf 'c\t%s\t%s\n' "$(echo "$line" | kv msgs_per_s)" "$(echo "$line" | kv p50_us)" >>"$OUT/gen-pp-runs.txt"
        client "$BIN" bench $H:"$EPORT" -d "$DUR" --warmup 0.5 --json >"$OUT/gen-pp.json" 2>>"$OUT/notes.txt"
        printf 'sm\t%s\t%s\n' "$(jget "$OUT/gen-pp.json" "round(d['msgs_per_s'])")" "$(jget "$OUT/gen-pp.json" "d['latency_us']['p50']")" >>"$OUT/gen-pp-runs.txt"
    done
    stop "$ESP"
    local who subject
    for who in c sm; do
        if [ $who = c ]; then subject="echo_rr (C) -> socat PIPE"; else subject="sockmate bench -> socat PIPE"; fi
        rec gen "$subject" "msgs/s" "$(awk -F'\t' -v w=$who '$1 == w {print $2}' "$OUT/gen-pp-runs.txt" | median)"
        rec gen "$subject" "p50 us" "$(awk -F'\t' -v w=$who '$1 == w {print $3}' "$OUT/gen-pp-runs.txt" | median)"
        rec gen "$subject" "runs" "$(awk -F'\t' -v w=$who '$1 == w {print $2}' "$OUT/gen-pp-runs.txt" | paste -sd' ')"
    done
    # sockperf speaks its own protocol, so it drives only its own server.
    sockperf_pp gen tcp
    # Bulk: iperf3 into its own server; sockmate bench --mode send (128 KiB
    # writes, like iperf3) into a plain sink that reads 1 MiB at a time.
    local ip; ip=$(free_port)
    start iperf3-gen tcp "$ip" iperf3 -s -B $H -p "$ip" || return
    client iperf3 -c $H -p "$ip" -t "$DUR" -J >"$OUT/gen-iperf.json" 2>>"$OUT/notes.txt"
    rec gen "iperf3 -c -> iperf3 -s" "Gbit/s" "$(jget "$OUT/gen-iperf.json" "round(d['end']['sum_received']['bits_per_second']/1e9,2)")"
    stop "$SP"
    local sp; sp=$(free_port)
    start sink tcp "$sp" socat -b 1048576 -u TCP-LISTEN:$sp,bind=$H,reuseaddr,fork OPEN:/dev/null || return
    client "$BIN" bench $H:"$sp" -m send -d "$DUR" --warmup 0.5 --json >"$OUT/gen-send.json" 2>>"$OUT/notes.txt"
    rec gen "sockmate bench -m send -> socat -b1M sink" "Gbit/s" "$(jget "$OUT/gen-send.json" "round(d['bytes_per_s']*8/1e9,2)")"
    stop "$SP"
}

# Open loop: `bench --rate R` (latency from each message's scheduled time)
# next to closed-loop ping-pong (`bench`, one in flight), one connection of
# 64-byte messages, against the same idle sockmate echo server. At rates
# far below what the server can take, the two p50s should agree.
sec_rate() {
    say "bench --rate: open-loop p50 at $RATES msgs/s next to the closed-loop p50"
    if [ $HAS_SERVE = 0 ]; then rec rate "closed loop" "p50 us" "n/a"; return; fi
    start_echo "sockmate --serve echo" tcp || { rec rate "closed loop" "p50 us" failed; return; }
    client "$BIN" bench $H:"$EPORT" -d "$DUR" --warmup 0.5 --json >"$OUT/rate-closed.json" 2>>"$OUT/notes.txt"
    local closed; closed=$(jget "$OUT/rate-closed.json" "d['latency_us']['p50']")
    rec rate "closed loop" "p50 us" "${closed:-failed}"
    rec rate "closed loop" "msgs/s" "$(jget "$OUT/rate-closed.json" "round(d['msgs_per_s'])")"
    local r p50
    for r in $RATES; do
        client "$BIN" bench $H:"$EPORT" -d "$DUR" --warmup 0.5 --rate "$r" --json >"$OUT/rate-$r.json" 2>>"$OUT/notes.txt"
        p50=$(jget "$OUT/rate-$r.json" "d['latency_us']['p50']")
        rec rate "open loop --rate $r" "p50 us" "${p50:-failed}"
        rec rate "open loop --rate $r" "p99 us" "$(jget "$OUT/rate-$r.json" "d['latency_us']['p99']")"
        rec rate "open loop --rate $r" "msgs/s" "$(jget "$OUT/rate-$r.json" "round(d['msgs_per_s'])")"
        rec rate "open loop --rate $r" "p50 / closed p50" "$(awk -v a="$p50" -v b="$closed" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
    done
    stop "$ESP"
    # The peer: sockperf's own paced client (under-load, every message
    # answered) against its own server at the same rates. An idle server
    # answers more slowly than a busy one on this kind of VM, whoever paces.
    start_echo "sockperf server" tcp || return
    local sp
    for r in $RATES; do
        client sockperf under-load -i $H -p "$EPORT" --tcp -m 64 --mps "$r" -t "$DUR" --full-rtt --reply-every 1 >"$OUT/rate-sockperf-$r.txt" 2>&1
        sp=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$OUT/rate-sockperf-$r.txt")
        rec rate "sockperf under-load --mps $r (sockperf server)" "p50 us" "${sp:-failed}"
    done
    stop "$ESP"
}

# TLS: the same bulk transfer (TLS_MB MB of zeros, one connection) timed
# with each tool, all sharing the peers, TLS_RUNS rounds with the tools
# alternating in each round; the median is kept (and every round's
# figure). "connect": the client under test sends into one socat OPENSSL
# sink. "relay": one socat OPENSSL client sends through the TLS-terminating
# relay under test to a plain TCP sink.
timed_mb() {   # timed_mb SECTION SUBJECT cmd... (stdin: the data); appends a run
    # Also kept per run: the client's CPU seconds per GB (its rusage, read
    # by a wrapper that does not count itself), and with RELAY_GROUP set,
    # the CPU seconds per GB of that process group (the relay under test,
    # its forked children included).
    local sec=$1 subj=$2; shift 2
    echo "client: head -c ${TLS_MB}M /dev/zero | $*" >>"$OUT/commands.txt"
    local t0 t1 v=failed ccpu=failed rcpu=- before after hz; hz=$(getconf CLK_TCK)
    [ -n "${RELAY_GROUP:-}" ] && before=$(group_ticks "$RELAY_GROUP")
    t0=$(date +%s.%N)
    if head -c "${TLS_MB}M" /dev/zero | timeout $((DUR * 10 + 60)) python3 "$OUT/child_cpu.py" "$OUT/cpu.last" "$@" >/dev/null 2>>"$OUT/tls-clients.log"; then
        t1=$(date +%s.%N)
        v=$(awk -v a="$t0" -v b="$t1" -v m="$TLS_MB" 'BEGIN{printf "%.0f", m/(b-a)}')
        ccpu=$(awk -v c="$(cat "$OUT/cpu.last")" -v m="$TLS_MB" 'BEGIN{printf "%.2f", c/(m/1000)}')
        if [ -n "${RELAY_GROUP:-}" ]; then
            sleep 0.5   # a forked child (socat, ncat) ends and is reaped: its CPU joins its parent's
            after=$(group_ticks "$RELAY_GROUP")
            rcpu=$(awk -v t=$((after - before)) -v hz="$hz" -v m="$TLS_MB" 'BEGIN{printf "%.2f", t/hz/(m/1000)}')
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$sec" "$subj" "$v" "$ccpu" "$rcpu" >>"$OUT/tls-runs.txt"
}
median_col() {   # median_col SECTION SUBJECT COLUMN: the median of its runs
    awk -F'\t' -v s="$1" -v j="$2" -v c="$3" '$1 == s && $2 == j {print $c}' "$OUT/tls-runs.txt" | median
}
rec_median_mb() {   # rec_median_mb SECTION SUBJECT: the medians of its runs
    rec "$1" "$2" "MB/s" "$(median_col "$1" "$2" 3)"
    rec "$1" "$2" "runs" "$(awk -F'\t' -v s="$1" -v j="$2" '$1 == s && $2 == j {print $3}' "$OUT/tls-runs.txt" | paste -sd' ')"
    if [ "$1" = tls-connect ]; then rec "$1" "$2" "client CPU s/GB" "$(median_col "$1" "$2" 4)"
    else rec "$1" "$2" "relay CPU s/GB" "$(median_col "$1" "$2" 5)"; fi
}
sec_tls() {
    say "TLS: $TLS_MB MB through connect tls:// and through a TLS-terminating relay, $TLS_RUNS rounds"
    local crt=$OUT/tls.pem key=$OUT/tls.key
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$key" -out "$crt" -days 2 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=CA:FALSE" 2>>"$OUT/openssl.log" || return
    local sink round; sink=$(free_port)
    : >"$OUT/tls-runs.txt"
    cat >"$OUT/child_cpu.py" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{r.ru_utime + r.ru_stime:.3f}\n")
sys.exit(rc)
PY
    start tls-sink tcp "$sink" socat -b 131072 -u OPENSSL-LISTEN:$sink,bind=$H,reuseaddr,fork,cert=$crt,key=$key,verify=0 OPEN:/dev/null || return
    local ssp=$SP
    for round in $(seq "$TLS_RUNS"); do
        timed_mb tls-connect "sockmate connect tls://" "$BIN" connect tls://$H:"$sink" --insecure -q
        timed_mb tls-connect "socat OPENSSL" socat -b 131072 -u STDIN OPENSSL:$H:"$sink",verify=0
        timed_mb tls-connect "ncat --ssl" ncat --ssl --send-only $H "$sink"
    done
    stop "$ssp"
    for subject in "sockmate connect tls://" "socat OPENSSL" "ncat --ssl"; do rec_median_mb tls-connect "$subject"; done
    local plain; plain=$(free_port)
    start plain-sink tcp "$plain" socat -b 131072 -u TCP-LISTEN:$plain,bind=$H,reuseaddr,fork OPEN:/dev/null || return
    local psp=$SP smp=0 sop=0 ncp=0 smsp= sosp= ncsp=
    start_sockmate tls-relay "$BIN" relay tls://$H:0 tcp://$H:"$plain" -q --cert "$crt" --key "$key" && { smp=$SPORT; smsp=$SP; }
    local p; p=$(free_port)
    start socat-tls-relay tcp "$p" socat -b 131072 OPENSSL-LISTEN:$p,bind=$H,reuseaddr,fork,cert=$crt,key=$key,verify=0 TCP:$H:"$plain" && { sop=$p; sosp=$SP; }
    p=$(free_port)
    start ncat-tls-relay tcp "$p" ncat --ssl --ssl-cert "$crt" --ssl-key "$key" -l -k $H "$p" --sh-exec "ncat $H $plain" && { ncp=$p; ncsp=$SP; }
    for round in $(seq "$TLS_RUNS"); do
        [ "$smp" != 0 ] && RELAY_GROUP=$smsp timed_mb tls-relay "sockmate relay tls:// (termination)" socat -b 131072 -u STDIN OPENSSL:$H:"$smp",verify=0
        [ "$sop" != 0 ] && RELAY_GROUP=$sosp timed_mb tls-relay "socat OPENSSL-LISTEN fork" socat -b 131072 -u STDIN OPENSSL:$H:"$sop",verify=0
        [ "$ncp" != 0 ] && RELAY_GROUP=$ncsp timed_mb tls-relay "ncat --ssl --sh-exec ncat" socat -b 131072 -u STDIN OPENSSL:$H:"$ncp",verify=0
    done
    for g in $smsp $sosp $ncsp; do stop "$g"; done
    stop "$psp"
    for subject in "sockmate relay tls:// (termination)" "socat OPENSSL-LISTEN fork" "ncat --ssl --sh-exec ncat"; do rec_median_mb tls-relay "$subject"; done
    say "TLS: bench over tls:// and over plain tcp:// against sockmate --serve echo (64 B ping-pong), $TLS_RUNS rounds alternating"
    local tsp=0 tport psp2=0 pport
    start_sockmate tls-echo "$BIN" listen tls://$H:0 -k -q --serve echo --cert "$crt" --key "$key" && { tsp=$SP; tport=$SPORT; }
    start_sockmate plain-echo "$BIN" listen tcp://$H:0 -k -q --serve echo && { psp2=$SP; pport=$SPORT; }
    : >"$OUT/tls-bench-runs.txt"
    for round in $(seq "$TLS_RUNS"); do
        if [ "$tsp" != 0 ]; then
            client "$BIN" bench tls://$H:"$tport" --insecure -d "$DUR" --warmup 0.5 --json >"$OUT/tls-bench.json" 2>>"$OUT/notes.txt"
            printf 'tls\t%s\t%s\n' "$(jget "$OUT/tls-bench.json" "round(d['msgs_per_s'])")" "$(jget "$OUT/tls-bench.json" "d['errors']")" >>"$OUT/tls-bench-runs.txt"
        fi
        if [ "$psp2" != 0 ]; then
            client "$BIN" bench tcp://$H:"$pport" -d "$DUR" --warmup 0.5 --json >"$OUT/plain-bench.json" 2>>"$OUT/notes.txt"
            printf 'tcp\t%s\t%s\n' "$(jget "$OUT/plain-bench.json" "round(d['msgs_per_s'])")" "$(jget "$OUT/plain-bench.json" "d['errors']")" >>"$OUT/tls-bench-runs.txt"
        fi
    done
    [ "$tsp" != 0 ] && stop "$tsp"
    [ "$psp2" != 0 ] && stop "$psp2"
    local kind subject
    for kind in tls tcp; do
        subject="sockmate bench $kind:// -> sockmate echo"
        local runs; runs=$(awk -F'\t' -v k=$kind '$1 == k {print $2}' "$OUT/tls-bench-runs.txt")
        rec tls-bench "$subject" "msgs/s" "$(echo "$runs" | median)"
        rec tls-bench "$subject" "runs" "$(echo "$runs" | paste -sd' ')"
        rec tls-bench "$subject" "errors" "$(awk -F'\t' -v k=$kind '$1 == k {e += $3} END {print e + 0}' "$OUT/tls-bench-runs.txt")"
    done
}

# WebSocket: correctness against Python's websockets (no websocat here):
# sockmate bench ws:// against the Python echo server, and a Python client
# against sockmate listen ws:// --serve echo, every message checked.
sec_ws() {
    python3 -c 'import websockets' 2>/dev/null || { say "WARN: python3 websockets missing (pip install websockets)"; rec ws "python websockets" "status" "missing"; return; }
    say "WebSocket: sockmate against Python websockets, both ways"
    local p; p=$(free_port)
    start ws-echo-py tcp "$p" python3 -c "
import asyncio, websockets
async def h(ws):
    async for m in ws: await ws.send(m)
async def main():
    async with websockets.serve(h, '$H', $p, max_size=None): await asyncio.Future()
asyncio.run(main())" || return
    client "$BIN" bench ws://$H:"$p"/ -d "$DUR" --warmup 0.5 --json >"$OUT/ws-bench.json" 2>>"$OUT/notes.txt"
    rec ws "sockmate bench ws:// -> python websockets echo" "msgs/s" "$(jget "$OUT/ws-bench.json" "round(d['msgs_per_s'])")"
    rec ws "sockmate bench ws:// -> python websockets echo" "errors" "$(jget "$OUT/ws-bench.json" "d['errors']")"
    stop "$SP"
    start_sockmate ws-echo-sm "$BIN" listen ws://$H:0 -k -q --serve echo && {
        echo "client: python3 websockets client, 2000 x 1 KiB messages, each checked" >>"$OUT/commands.txt"
        local line; line=$(timeout $((DUR + 60)) python3 -c "
import asyncio, os, time, websockets
async def main():
    async with websockets.connect('ws://$H:$SPORT/', max_size=None) as ws:
        t = time.time(); bad = 0
        for i in range(2000):
            m = os.urandom(1024)
            await ws.send(m)
            if await ws.recv() != m: bad += 1
        print('msgs_per_s=%d bad=%d' % (2000 / (time.time() - t), bad))
asyncio.run(main())" 2>&1)
        stop "$SP"
        rec ws "python websockets client -> sockmate ws echo" "msgs/s" "$(echo "$line" | kv msgs_per_s)"
        rec ws "python websockets client -> sockmate ws echo" "verified" "$([ "$(echo "$line" | kv bad)" = 0 ] && echo yes || echo "NO: $line")"; }
}

# relay --ui: the relay's throughput with a page (a WebSocket subscriber that
# reads every message) attached, against the same relay without --ui; with
# splice (the page sees connections and counters) and with --dump hex to
# /dev/null (every read also goes to the page, within its display budget).
sec_ui() {
    say "relay --ui: iperf3 -t $DUR through relay with and without a subscribed page"
    python3 -c 'import websockets' 2>/dev/null || { say "SKIP ui: pip install websockets"; rec ui "relay --ui" Gbit/s "n/a (no websockets)"; return; }
    local ip; ip=$(free_port)
    start iperf3-server-ui tcp "$ip" iperf3 -s -B $H -p "$ip" || return
    local isp=$SP
    iperf_ui() {   # iperf_ui SUBJECT PORT
        if client iperf3 -c $H -p "$2" -t "$DUR" -J >"$OUT/iperf-ui-$3.json" 2>>"$OUT/iperf-client.log"; then
            rec ui "$1" Gbit/s "$(jget "$OUT/iperf-ui-$3.json" "round(d['end']['sum_received']['bits_per_second']/1e9,2)")"
        else rec ui "$1" Gbit/s "failed"; fi
    }
    # page NAME: a subscriber on the ui of server log NAME, reading until stopped; PP=pgid
    page() {
        local url; url=$(sed -n 's/^ui on \(http:[^ ]*\)/\1/p' "$OUT/$1.log" | head -1)
        setsid timeout $((DUR + 30)) python3 -c '
import asyncio, sys, websockets
url = sys.argv[1]
host = url.split("//")[1].split("/")[0]
token = url.split("token=")[1]
async def main():
    n = 0
    async with websockets.connect(f"ws://{host}/ws?token={token}", max_size=None) as ws:
        async for _ in ws:
            n += 1
            if n % 100 == 0:
                print(n, flush=True)
asyncio.run(main())' "$url" >"$OUT/$1-page.log" 2>&1 &
        PP=$!
        GROUPS_STARTED="$GROUPS_STARTED $PP"
        sleep 0.5
    }
    local mode flags
    for mode in splice dump; do
        flags=""; [ $mode = dump ] && flags="--dump hex"
        # shellcheck disable=SC2086
        start_sockmate ui-plain-$mode "$BIN" relay $H:0 "$H:$ip" -q $flags && { iperf_ui "relay ($mode), no ui" "$SPORT" plain-$mode; stop "$SP"; }
        # shellcheck disable=SC2086
        start_sockmate ui-page-$mode "$BIN" relay $H:0 "$H:$ip" -q --ui $flags && {
            page ui-page-$mode
            iperf_ui "relay --ui ($mode), page attached" "$SPORT" page-$mode
            stop "$PP"; stop "$SP"
            rec ui "page messages ($mode)" count "$(tail -1 "$OUT/ui-page-$mode-page.log" 2>/dev/null || echo 0)"
        }
    done
    stop "$isp"
}

# File transfer: one XFER_MB MiB file of random bytes, XFER_RUNS rounds, each
# round side by side: `sockmate send`/`receive` (BLAKE3 checked, the
# default), the same with --digest sha256, with --raw (with and without
# --sha256), and OpenBSD nc (`nc -l > out`, `nc -N < file`). Timed
# from the sender's start until the receiver has exited (the file written
# and, for sockmate, renamed into place); the median of the rounds is kept.
sec_transfer() {
    local dir; dir=$(mktemp -d "$XFER_DIR/sockmate-xfer.XXXXXX") || { rec transfer sockmate "MB/s" failed; return; }
    say "transfer: a $XFER_MB MiB file, $XFER_RUNS rounds of sockmate (blake3, then --digest sha256), sockmate --raw (with and without --sha256) and nc.openbsd (in $dir)"
    head -c "${XFER_MB}M" /dev/urandom >"$dir/file" || { rm -rf "$dir"; rec transfer sockmate "MB/s" failed; return; }
    local tmo=$((XFER_MB / 10 + 30)) round subject t0 t1 ok
    local subjects=("sockmate" "sockmate --digest sha256" "sockmate --raw" "sockmate --raw --sha256" "nc.openbsd")
    timed_xfer() {   # timed_xfer SUBJECT: one transfer into $dir/out; prints MB/s or failed
        rm -rf "$dir/out" "$dir/in"
        case "$1" in
            sockmate*)
                local raw=${1#sockmate}   # the subject's flags: "", " --digest sha256", " --raw", " --raw --sha256"
                if [[ "$raw" == *--raw* ]]; then
                    start_sockmate xfer-recv timeout "$tmo" "$BIN" receive $H:0 $raw -o "$dir/out" || { echo failed; return; }
                else
                    mkdir "$dir/in"
                    start_sockmate xfer-recv timeout "$tmo" "$BIN" receive $H:0 --dir "$dir/in" || { echo failed; return; }
                fi
                local rp=$SP
                echo "client: $BIN send -q $raw $H:$SPORT $dir/file" >>"$OUT/commands.txt"
                t0=$(date +%s.%N)
                timeout "$tmo" "$BIN" send -q $raw "$H:$SPORT" "$dir/file" 2>>"$OUT/notes.txt"
                wait "$rp"; ok=$?; t1=$(date +%s.%N)
                GROUPS_STARTED=$(echo " $GROUPS_STARTED " | sed "s/ $rp / /")
                [[ "$raw" == *--raw* ]] || mv "$dir/in/file" "$dir/out" 2>/dev/null ;;
            nc.openbsd)
                local p; p=$(free_port)
                start xfer-nc tcp "$p" sh -c "exec timeout $tmo nc.openbsd -l $H $p >'$dir/out'" || { echo failed; return; }
                local np=$SP
                echo "client: nc.openbsd -N $H $p < $dir/file" >>"$OUT/commands.txt"
                t0=$(date +%s.%N)
                timeout "$tmo" nc.openbsd -N $H "$p" <"$dir/file"
                wait "$np"; ok=$?; t1=$(date +%s.%N)
                GROUPS_STARTED=$(echo " $GROUPS_STARTED " | sed "s/ $np / /") ;;
        esac
        if [ "$ok" = 0 ] && cmp -s "$dir/file" "$dir/out"; then
            awk -v a="$t0" -v b="$t1" -v m="$XFER_MB" 'BEGIN{printf "%.0f\n", m * 1.048576 / (b - a)}'
        else echo failed; echo "transfer $1: exit $ok or the copy differs" >>"$OUT/notes.txt"; fi
    }
    cat "$dir/file" >/dev/null
    for round in $(seq "$XFER_RUNS"); do
        for subject in "${subjects[@]}"; do
            echo "$subject $(timed_xfer "$subject")" >>"$OUT/transfer-runs.txt"
        done
    done
    rm -rf "$dir"
    for subject in "${subjects[@]}"; do
        rec transfer "$subject" "MB/s" "$(grep "^$subject [0-9f]" "$OUT/transfer-runs.txt" | awk '{print $NF}' | median)"
        rec transfer "$subject" "runs" "$(grep "^$subject [0-9f]" "$OUT/transfer-runs.txt" | awk '{print $NF}' | paste -sd' ')"
    done
}

# ------------------------------------------------------------ run
for s in $SECTIONS; do
    case "$s" in relay|bulk|rr|udp|conn|gen|rate|ui|tls|ws|transfer) "sec_$s" ;; *) echo "unknown section $s" >&2 ;; esac
done

# ------------------------------------------------------------ report
machine() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p') x $(nproc) vCPU ($(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p') guest)"
    echo "- kernel: $(uname -r); memory: $(free -m | awk '/Mem:/{print $2" MiB"}'); load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- limits: nofile $(ulimit -Sn)/$(ulimit -Hn), pid_max $(cat /proc/sys/kernel/pid_max)"
    # Whether this glibc and CPU have the slow `rep movsb` case (glibc bug
    # 30994) that src/large_blocks.rs keeps sockmate's bulk copies out of.
    local copy; copy=$("$OUT/copy_distance" 2>/dev/null)
    echo "- memcpy ($(ldd --version 2>&1 | head -1 | sed 's/.* //')): 16 KiB copied 8 bytes ahead modulo 4 KiB $(echo "$copy" | kv d8_GBps) GB/s, 2 KiB ahead $(echo "$copy" | kv d2048_GBps) GB/s; slow short-distance case: $(echo "$copy" | kv slow_short_distance)"
    echo "- peers: $(iperf3 --version | head -1 | cut -d' ' -f1-2), socat $(socat -V | sed -n 's/^socat version \([^ ]*\).*/\1/p'), $(ncat --version 2>&1 | head -1 | cut -d' ' -f1-3), sockperf $(sockperf --version 2>&1 | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -1)"
    echo "- sockmate: $("$BIN" --version) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)), release build; listen --serve available: $([ $HAS_SERVE = 1 ] && echo yes || echo no)"
    echo "- DUR=${DUR}s per timed run, BULK_MB=$BULK_MB; medians of rounds where a \"runs\" row follows (BULK_RUNS=$BULK_RUNS, RELAY_RUNS=$RELAY_RUNS, TLS_RUNS=$TLS_RUNS, GEN_RUNS=$GEN_RUNS, XFER_RUNS=$XFER_RUNS, RR_ROUNDS=$RR_ROUNDS), one run elsewhere"
}
TABLE=$(python3 - "$RAW" <<'EOF'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
val = {}
for sec, subj, metric, v in rows:
    val[(sec, subj, metric)] = v
def num(sec, subj, metric):
    try: return float(val.get((sec, subj, metric), ""))
    except ValueError: return None
out = ["| section | subject | metric | value |", "|---|---|---|---|"]
for sec, subj, metric, v in rows:
    out.append(f"| {sec} | {subj} | {metric} | {v} |")
goals = []
def ratio(label, a, b, goal, higher=True):
    if a is None or b is None or b == 0:
        goals.append(f"| {label} | n/a | {goal} | n/a |"); return
    r = a / b
    ok = (r >= float(goal.split()[-1].rstrip("x"))) if higher else (r <= float(goal.split()[-1].rstrip("x")))
    goals.append(f"| {label} | {r:.2f}x | {goal} | {'met' if ok else 'SHORT'} |")
sm = num("relay", "sockmate relay (splice)", "Gbit/s")
ratio("relay vs socat (default)", sm, num("relay", "socat fork", "Gbit/s"), ">= 2x")
ratio("relay vs direct iperf3 (its best run)", sm, num("relay", "direct (no relay)", "best Gbit/s"), ">= 0.7x")
ratio("relay vs direct iperf3 (median of both)", sm, num("relay", "direct (no relay)", "Gbit/s"), "(info) >= 0x")
ratio("relay splice vs --no-splice", sm, num("relay", "sockmate relay --no-splice", "Gbit/s"), ">= 1.15x")
ratio("relay vs socat -b131072", sm, num("relay", "socat -b131072 fork", "Gbit/s"), ">= 1.1x")
ratio("relay 64 B p50 vs socat relay", num("relay-rr", "sockmate relay", "p50 us"), num("relay-rr", "socat fork", "p50 us"), "(info, lower is better) <= 1x", higher=False)
ratio("bulk echo vs socat PIPE", num("bulk", "sockmate --serve echo", "MB/s"), num("bulk", "socat PIPE", "MB/s"), ">= 4x")
ratio("bulk echo vs socat PIPE, 1-thread client", num("bulk", "sockmate --serve echo", "MB/s, 1-thread client"), num("bulk", "socat PIPE", "MB/s, 1-thread client"), "(info) >= 0x")
ratio("bulk echo server CPU per byte, socat PIPE / sockmate", num("bulk", "socat PIPE", "server CPU s/GB"), num("bulk", "sockmate --serve echo", "server CPU s/GB"), "(info) >= 0x")
ratio("echo server CPU per GB vs the C splice reference", num("bulk", "sockmate --serve echo", "server CPU s/GB"), num("bulk", "C echo (splice)", "server CPU s/GB"), "<= 1.25x", higher=False)
ratio("echo throughput vs the C splice reference (same client)", num("bulk", "sockmate --serve echo", "MB/s"), num("bulk", "C echo (splice)", "MB/s"), ">= 0.95x")
ratio("echo throughput vs the C read/write reference (info)", num("bulk", "sockmate --serve echo", "MB/s"), num("bulk", "C echo (read/write)", "MB/s"), "(info) >= 0x")
ratio("TCP 64 B p50 vs sockperf server (same echo_rr client)", num("rr", "sockmate --serve echo", "p50 us"), num("rr", "sockperf server", "p50 us"), "<= 1.1x", higher=False)
ratio("UDP 64 B p50 vs sockperf server (same echo_rr client)", num("udp", "sockmate --serve echo", "p50 us"), num("udp", "sockperf server", "p50 us"), "<= 1.1x", higher=False)
ratio("TCP 64 B p50 vs the sockperf pair (echo_rr vs sockperf's own client)", num("rr", "sockmate --serve echo", "p50 us"), num("rr", "sockperf server (sockperf client)", "p50 us"), "(info, lower is better) <= 1x", higher=False)
ratio("UDP 64 B p50 vs the sockperf pair (echo_rr vs sockperf's own client)", num("udp", "sockmate --serve echo", "p50 us"), num("udp", "sockperf server (sockperf client)", "p50 us"), "(info, lower is better) <= 1x", higher=False)
held = [num("conn", s, "held") for (sec, s, m) in val if sec == "conn" and s.startswith("sockmate") and m == "held"]
held = [h for h in held if h is not None]
goals.append(f"| connections held by sockmate | {max(held) if held else 'n/a'} | >= 19000 | {'met' if held and max(held) >= 19000 else ('n/a' if not held else 'SHORT')} |")
# Memory per connection at the largest count held (fixed costs dominate small counts).
import re as _re
sm_conn = [(int(_re.search(r"K=(\d+)", s).group(1)), s) for (sec, s, m) in val if sec == "conn" and s.startswith("sockmate") and m == "KB per conn"]
kb = num("conn", max(sm_conn)[1], "KB per conn") if sm_conn else None
goals.append(f"| sockmate KB per connection (at the largest K) | {kb if kb is not None else 'n/a'} | < 8 | {'met' if kb is not None and kb < 8 else ('n/a' if kb is None else 'SHORT')} |")
kref = [(int(_re.search(r"K=(\d+)", s).group(1)), s) for (sec, s, m) in val if sec == "conn" and s.startswith("C echo (splice)") and m == "KB per conn"]
ratio("KB per idle connection vs the C splice reference (largest K)", kb, num("conn", max(kref)[1], "KB per conn") if kref else None, "<= 1.5x", higher=False)
ratio("KB per idle connection above the idle server, vs the C splice reference (largest K)", num("conn", max(sm_conn)[1], "KB per conn above the idle server") if sm_conn else None, num("conn", max(kref)[1], "KB per conn above the idle server") if kref else None, "(info, lower is better) <= 1x", higher=False)
ratio("bench ping-pong vs echo_rr (C), same server", num("gen", "sockmate bench -> socat PIPE", "msgs/s"), num("gen", "echo_rr (C) -> socat PIPE", "msgs/s"), ">= 0.95x")
ratio("bench ping-pong vs sockperf pair (different servers)", num("gen", "sockmate bench -> socat PIPE", "msgs/s"), num("gen", "sockperf server (sockperf client)", "msgs/s"), "(info) >= 0x")
ratio("connect tls:// vs socat OPENSSL (same sink)", num("tls-connect", "sockmate connect tls://", "MB/s"), num("tls-connect", "socat OPENSSL", "MB/s"), ">= 1.2x")
ratio("connect tls:// vs ncat --ssl (same sink)", num("tls-connect", "sockmate connect tls://", "MB/s"), num("tls-connect", "ncat --ssl", "MB/s"), ">= 1.5x")
ratio("relay TLS termination vs socat OPENSSL-LISTEN", num("tls-relay", "sockmate relay tls:// (termination)", "MB/s"), num("tls-relay", "socat OPENSSL-LISTEN fork", "MB/s"), ">= 1.5x")
ratio("connect tls:// client CPU per GB vs socat OPENSSL", num("tls-connect", "sockmate connect tls://", "client CPU s/GB"), num("tls-connect", "socat OPENSSL", "client CPU s/GB"), "(info, lower is better) <= 1x", higher=False)
ratio("relay TLS termination CPU per GB vs socat OPENSSL-LISTEN", num("tls-relay", "sockmate relay tls:// (termination)", "relay CPU s/GB"), num("tls-relay", "socat OPENSSL-LISTEN fork", "relay CPU s/GB"), "(info, lower is better) <= 1x", higher=False)
ratio("bench tls:// vs bench tcp:// msgs/s (64 B, same echo server)", num("tls-bench", "sockmate bench tls:// -> sockmate echo", "msgs/s"), num("tls-bench", "sockmate bench tcp:// -> sockmate echo", "msgs/s"), ">= 0.9x")
ratio("relay TLS termination vs ncat --ssl --sh-exec", num("tls-relay", "sockmate relay tls:// (termination)", "MB/s"), num("tls-relay", "ncat --ssl --sh-exec ncat", "MB/s"), "(info) >= 0x")
closed = num("rate", "closed loop", "p50 us")
open_loop = sorted({s for (sec, s, m) in val if sec == "rate" and s.startswith("open loop --rate ")}, key=lambda s: float(s.split()[-1]))
for s in open_loop:
    low = float(s.split()[-1]) <= 1000
    goal = "(lower is better) <= 1.5x" if low else "(info) >= 0x"
    ratio(f"bench --rate {s.split()[-1]} p50 vs closed-loop p50", num("rate", s, "p50 us"), closed, goal, higher=not low)
    ratio(f"bench --rate {s.split()[-1]} p50 vs sockperf under-load at that rate", num("rate", s, "p50 us"), num("rate", f"sockperf under-load --mps {s.split()[-1]} (sockperf server)", "p50 us"), "(lower is better) <= 1.1x" if low else "(info) >= 0x", higher=not low)
ratio("bench send vs iperf3 (each into a sink)", num("gen", "sockmate bench -m send -> socat -b1M sink", "Gbit/s"), num("gen", "iperf3 -c -> iperf3 -s", "Gbit/s"), ">= 0.9x")
ratio("send/receive (BLAKE3 checked) vs nc.openbsd", num("transfer", "sockmate", "MB/s"), num("transfer", "nc.openbsd", "MB/s"), ">= 0.9x")
ratio("send/receive --digest sha256 vs nc.openbsd", num("transfer", "sockmate --digest sha256", "MB/s"), num("transfer", "nc.openbsd", "MB/s"), "(info) >= 0x")
ratio("send/receive --raw vs nc.openbsd", num("transfer", "sockmate --raw", "MB/s"), num("transfer", "nc.openbsd", "MB/s"), ">= 1x")
ratio("send/receive --raw --sha256 vs nc.openbsd", num("transfer", "sockmate --raw --sha256", "MB/s"), num("transfer", "nc.openbsd", "MB/s"), "(info) >= 0x")
print("\n".join(out))
print()
print("| ratio | value | goal | |")
print("|---|---|---|---|")
print("\n".join(goals))
EOF
)
echo
echo "$TABLE"
echo
echo "raw: $RAW; commands: $OUT/commands.txt; logs: $OUT"
if [ "$RESULTS" != "-" ]; then
    {
        echo "# bench/compare.sh results"
        echo
        echo "Produced by \`bash bench/compare.sh\` (one run; absolute figures drift between runs and machines, the ratios are what to read)."
        echo
        echo "## Machine"
        echo
        machine
        echo
        echo "## Figures and ratios"
        echo
        echo "$TABLE"
        [ -s "$OUT/notes.txt" ] && { echo; echo "## Notes from the run"; echo; sed 's/^/    /' "$OUT/notes.txt"; }
        # Hand-written analysis (profiles of the gaps) survives a rerun.
        # (A first run, with no file yet, must still write it.)
        if [ -f "$RESULTS" ]; then sed -n '/^<!-- analysis -->$/,$p' "$RESULTS" | { echo; cat; }; fi
    } >"$RESULTS.new" && mv "$RESULTS.new" "$RESULTS"
    echo "wrote $RESULTS"
fi
