#!/usr/bin/env bash
# Builds the Windows release zip: the x86_64-pc-windows-gnu release .exe
# (cross-compiled with mingw-w64), the docs, and the completion scripts,
# packed with python3's zipfile module (no zip package needed). Prints the
# zip's path last.
#
#   bash pkg/build-windows.sh      ->  target/pkg/sockmate-VERSION-x86_64-windows.zip
#
# Needs: rustup target add x86_64-pc-windows-gnu; apt-get install
# gcc-mingw-w64-x86-64. No Wine: the completions come from the Linux release
# build of the same source (the same clap definitions, so the same text),
# through pkg/stage-assets.sh like the Debian package's. To take them from
# another binary (say .ci/wine's sockmate-wine wrapper) set
# SOCKMATE_COMPLETIONS_BIN to it.
#
# Fails if sockmate.exe is over 10,000,000 bytes. Ships only the files
# named below: never the test-only bcryptprimitives.dll of .ci/wine.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
MAX_EXE_BYTES=10000000
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | sed -n 1p)
[ -n "$VERSION" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
NAME=sockmate-$VERSION-x86_64-windows
# CARGO_TARGET_DIR is honoured (.ci/run builds Windows in a directory of
# its own); the zip goes to target/pkg either way.
EXE=${CARGO_TARGET_DIR:-target}/$TARGET/release/sockmate.exe

cargo build --release --locked --target "$TARGET"
size=$(stat -c %s "$EXE")
if ((size > MAX_EXE_BYTES)); then
    echo "$EXE is $size bytes, over the $MAX_EXE_BYTES-byte budget" >&2
    exit 1
fi

# The completions (and the manual pages, which the zip leaves out).
BIN=${SOCKMATE_COMPLETIONS_BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release --locked
    BIN=${CARGO_TARGET_DIR:-target}/release/sockmate
fi
ASSETS=target/pkg-assets-windows
bash pkg/stage-assets.sh "$BIN" "$ASSETS" >/dev/null
"$BIN" completions powershell >"$ASSETS/completions/_sockmate.ps1"
"$BIN" completions elvish >"$ASSETS/completions/sockmate.elv"
for f in "$ASSETS"/completions/*; do
    [ -s "$f" ] || { echo "empty completion script $f" >&2; exit 1; }
done

STAGE=target/pkg/$NAME
rm -rf "$STAGE" "target/pkg/$NAME.zip"
mkdir -p "$STAGE/completions"
cp "$EXE" "$STAGE/sockmate.exe"
cp README.md LICENSE-MIT LICENSE-APACHE CHANGELOG.md "$STAGE/"
cp -r docs "$STAGE/docs"
cp "$ASSETS"/completions/* "$STAGE/completions/"

(cd target/pkg && python3 -m zipfile -c "$NAME.zip" "$NAME")
# Only sockmate.exe may be a Windows binary in it (never a test shim).
listing=$(python3 -m zipfile -l "target/pkg/$NAME.zip")
if grep -qiE '\.(dll|so)[[:space:]]' <<<"$listing"; then
    echo "a library slipped into the zip:" >&2
    grep -iE '\.(dll|so)[[:space:]]' <<<"$listing" >&2
    exit 1
fi
echo "sockmate.exe: $size bytes; $(grep -c . <<<"$listing") entries"
echo "target/pkg/$NAME.zip"
