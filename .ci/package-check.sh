#!/usr/bin/env bash
# The packaging check (issue 14), run by .ci/run: build the Debian package,
# unpack it into a throwaway root and use what it installed, as a user would:
# the binary's --version, a manual page through man -l, and the bash
# completion sourced in bash. Also holds the installed binary to 8 MB.
# Prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the release binary may weigh (issue 14: at most 8 MB).
MAX_BYTES=8000000

step_start=$SECONDS
step() {   # step NAME: announce NAME and start timing it
    echo "package-check: $1"
    step_start=$SECONDS
}
took() { echo "package-check:   ... $((SECONDS - step_start)) s"; }

step "tools (cargo-deb, dpkg, man)"
if ! cargo deb --version >/dev/null 2>&1; then
    cargo install cargo-deb --locked
fi
missing=()
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
command -v man >/dev/null 2>&1 || missing+=(man-db)
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
fi
took

step "build the package (release build, pages, completions, cargo deb)"
deb=$(bash pkg/build-deb.sh | tail -1)
[ -f "$deb" ] || { echo "package-check: no .deb at '$deb'" >&2; exit 1; }
echo "package-check:   $deb ($(stat -c %s "$deb") bytes)"
took

step "unpack into a throwaway root"
root=$(mktemp -d /tmp/sockmate-deb.XXXXXX)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
dpkg-deb -f "$deb" Package Version Section Depends
# sed reads all of its input: `head -1` could close the pipe early, and the
# writer's SIGPIPE fails the script under pipefail (exit 141).
summary=$(dpkg-deb -f "$deb" Description | sed -n 1p)
((${#summary} < 80)) || { echo "package-check: the description's first line is ${#summary} characters (keep it under 80): $summary" >&2; exit 1; }
want=(
    usr/bin/sockmate
    usr/share/man/man1/sockmate.1
    usr/share/man/man1/sockmate-listen.1
    usr/share/bash-completion/completions/sockmate
    usr/share/zsh/vendor-completions/_sockmate
    usr/share/fish/vendor_completions.d/sockmate.fish
    usr/share/doc/sockmate/copyright
    usr/share/doc/sockmate/docs/from-python.md
    usr/share/doc/sockmate/docs/from-python.zh.md
)
for f in "${want[@]}"; do
    # cargo-deb may gzip the pages and the changelog.
    [ -e "$root/$f" ] || [ -e "$root/$f.gz" ] || { echo "package-check: the package lacks /$f" >&2; exit 1; }
done
took

step "use what it installed"
bin=$root/usr/bin/sockmate
size=$(stat -c %s "$bin")
echo "package-check:   usr/bin/sockmate is $size bytes"
((size <= MAX_BYTES)) || { echo "package-check: the binary is over $MAX_BYTES bytes" >&2; exit 1; }
"$bin" --version
[ "$("$bin" --version | wc -l)" -eq 1 ] || { echo "package-check: --version is not one line" >&2; exit 1; }
"$bin" version
page=$(ls "$root"/usr/share/man/man1/sockmate-listen.1*)
rendered=$(MANWIDTH=80 man -l -P cat "$page" 2>&1)
sed -n 1,5p <<<"$rendered"
for section in SYNOPSIS OPTIONS EXAMPLES "EXIT STATUS"; do
    grep -q "^$section" <<<"$rendered" || { echo "package-check: man -l $page has no $section" >&2; exit 1; }
done
bash -c 'set -e; source "$1"; complete -p sockmate' _ "$root/usr/share/bash-completion/completions/sockmate"
took
echo "package-check: ok"
