#!/usr/bin/env bash
# CI's Windows leg: the x86_64-pc-windows-gnu build, cross-compiled here
# with mingw-w64 and tested under Wine with the Linux peers of the
# end-to-end tests on the other end (loopback only).
#
#   bash .ci/windows.sh
#
# Steps, each timed: tools (apt, rustup), clippy for the Windows target,
# the release zip (pkg/build-windows.sh), the Wine prefix and wrapper
# (.ci/wine/setup.sh), then the e2e tests listed in tests/e2e/windows.list
# (one test path a line, `#` comments), run against the .exe through
# SOCKMATE_TEST_BIN. Stops the prefix's wineserver at the end, whatever
# happened. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
LIST=tests/e2e/windows.list
WINE_OUT=target/wine
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wine-prefix}"

declare -a TIMES=()
# step NAME CMD...: runs CMD, records its wall time, stops the script on
# failure. In a subshell with -e of its own: under `CMD || ...` bash would
# ignore -e inside the step's functions.
step() {
    local name=$1 t0=$SECONDS status
    shift
    echo "== windows: $name"
    set +e
    (set -e; "$@")
    status=$?
    set -e
    TIMES+=("$(printf '%5d s  %s%s' $((SECONDS - t0)) "$name" "$( ((status == 0)) || echo " (FAILED, exit $status)")")")
    if ((status != 0)); then
        echo "== windows: $name FAILED (exit $status)" >&2
        exit "$status"
    fi
}
finish() {
    local status=$?
    bash .ci/wine/setup.sh --stop || true
    echo "== windows: step times"
    printf '%s\n' "${TIMES[@]}"
    echo "== windows: $( ((status == 0)) && echo passed || echo "FAILED (exit $status)")"
}
trap finish EXIT
# Killed (say by CI's timeout): still run finish, so no wineserver is left.
trap 'exit 143' TERM
trap 'exit 130' INT

install_tools() {
    local missing=()
    command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
    command -v wine >/dev/null || missing+=(wine64)
    if ((${#missing[@]})); then
        echo "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}"
    fi
    rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
}

run_tests() {
    [ -f "$LIST" ] || { echo "no $LIST" >&2; return 1; }
    local names
    names=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$LIST" | grep -v '^$' || true)
    if [ -z "$names" ]; then
        echo "$LIST lists no tests"
        return 0
    fi
    echo "$(wc -l <<<"$names") tests from $LIST"
    # `--exact` takes each name as a whole test path; a name that matches
    # no test would run nothing silently, so count what ran.
    local log status=0
    log=$(mktemp)
    # shellcheck disable=SC2086
    SOCKMATE_TEST_BIN="$PWD/$WINE_OUT/sockmate-wine" SOCKMATE_TEST_WINDOWS=1 \
        cargo test --locked --test e2e -- --exact $names 2>&1 | tee "$log" || status=$?
    local ran failed
    ran=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" |
        awk '{n += $4 + $6} END {print n+0}')
    failed=$(sed -nE 's/^test ([A-Za-z0-9_:]+) \.\.\. FAILED$/\1/p' "$log" | sort -u)
    rm -f "$log"
    # Wine, not Windows, now and then loses a process's exit code or adds
    # a diagnostic of its own under the load of tests run in parallel: a
    # test that failed runs once more, alone; failing again fails the leg.
    # Each retry is named here, so a test that only passes alone is seen.
    # Up to five: runs have lost one or two at a time; a real breakage
    # fails more, or fails again alone.
    if ((status != 0)) && [ -n "$failed" ] && (($(wc -l <<<"$failed") <= 5)); then
        echo "== retrying alone under Wine: $(tr '\n' ' ' <<<"$failed")"
        status=0
        # shellcheck disable=SC2086
        SOCKMATE_TEST_BIN="$PWD/$WINE_OUT/sockmate-wine" SOCKMATE_TEST_WINDOWS=1 \
            cargo test --locked --test e2e -- --exact --test-threads=1 $failed || status=$?
        ((status == 0)) && echo "== passed when run alone (Wine flake): $(tr '\n' ' ' <<<"$failed")"
    fi
    ((status == 0)) || return "$status"
    if ((ran != $(wc -l <<<"$names"))); then
        echo "$LIST names $(wc -l <<<"$names") tests but $ran ran: a name is wrong or gone" >&2
        return 1
    fi
}

# The Windows build's own target directory (SOCKMATE_WINDOWS_TARGET_DIR,
# default target): .ci/run gives it one of its own so the build can run
# while the Linux tests run, without waiting on cargo's lock.
WIN_TARGET_DIR=${SOCKMATE_WINDOWS_TARGET_DIR:-target}
win_cargo() {
    CARGO_TARGET_DIR=$WIN_TARGET_DIR "$@"
}

# Phases: `build` (tools, clippy, the zip), `test` (Wine and the listed
# tests, against what `build` made), or both (no argument).
phase=${1:-all}
case $phase in build | test | all) ;; *) echo "usage: $0 [build|test]" >&2; exit 2 ;; esac

if [ "$phase" != test ]; then
    step "tools (mingw-w64, wine64, rustup target)" install_tools
    step "clippy --target $TARGET" win_cargo cargo clippy --locked --target "$TARGET" --all-targets -- -D warnings
    step "release zip (pkg/build-windows.sh)" win_cargo bash pkg/build-windows.sh
fi
if [ "$phase" != build ]; then
    step "wine prefix and wrapper (.ci/wine/setup.sh)" \
        bash .ci/wine/setup.sh "$WINE_OUT" "$WIN_TARGET_DIR/$TARGET/release/sockmate.exe"
    step "e2e tests under wine ($LIST)" run_tests
fi
