#!/usr/bin/env bash
# Generates what the Debian package installs besides the binary, by running
# the built binary itself: the manual pages (`sockmate man DIR`) and the
# bash, zsh and fish completions (`sockmate completions SHELL`).
#
#   bash pkg/stage-assets.sh [BIN] [OUT]
#
# BIN defaults to target/release/sockmate, OUT to target/pkg-assets (the
# paths [package.metadata.deb] in Cargo.toml takes its assets from).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/sockmate}
OUT=${2:-target/pkg-assets}

[ -x "$BIN" ] || { echo "no $BIN: build it first (cargo build --release)" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT/man" "$OUT/completions"
"$BIN" man "$OUT/man" 2>/dev/null
"$BIN" completions bash >"$OUT/completions/sockmate.bash"
"$BIN" completions zsh >"$OUT/completions/_sockmate"
"$BIN" completions fish >"$OUT/completions/sockmate.fish"
echo "staged $(ls "$OUT/man" | wc -l) manual pages and 3 completion scripts in $OUT"
