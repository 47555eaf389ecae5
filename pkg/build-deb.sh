#!/usr/bin/env bash
# Builds the Debian package: the release binary, the generated pages and
# completions (pkg/stage-assets.sh), then `cargo deb --no-build`, which packs
# them as [package.metadata.deb] in Cargo.toml lists. Prints the .deb's path
# last. Needs cargo-deb (cargo install cargo-deb --locked) and dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bash pkg/stage-assets.sh target/release/sockmate target/pkg-assets
cargo deb --no-build --locked 2>&1 | tail -1
