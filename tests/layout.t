#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/architecture.md's Layout block names every folder that holds source
# (C files and headers), and every folder it names exists: the map of the
# code stays true as folders come and go.
# timeout: 30
. "$(dirname "$0")/lib.sh"

cd "$ROOT" || bail_out "no $ROOT"
PAGE=docs/architecture.md
[ -f "$PAGE" ] || bail_out "no $PAGE"
# The Layout section's code block: the first ``` ... ``` after "## Layout".
block=$(awk '/^## Layout/ { inside = 1; next } inside && /^```/ { if (code) exit; code = 1; next } code { print }' "$PAGE")
ok $([ -n "$block" ]; echo $?) "$PAGE has a Layout block"
# Each line that starts with a path ending in "/" names a folder.
named=$(awk '/^[A-Za-z._][^ ]*\/ / || /^[A-Za-z._][^ ]*\/$/ { print $1 }' <<<"$block" | sed 's:/$::' | sort -u)

if git rev-parse --git-dir >/dev/null 2>&1; then
	folders=$( { git ls-files; git ls-files --others --exclude-standard; } | grep -E '\.(c|h)$' |
		xargs -r -n1 dirname | sort -u)
else
	folders=$(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print | sed 's:^\./::' |
		xargs -r -n1 dirname | sort -u)
fi
missing=""
for f in $folders; do
	grep -qx -- "$f" <<<"$named" || missing+=" $f"
done
is "$missing" "" "every folder with source files is named in the Layout block of $PAGE"
gone=""
for f in $named; do
	[ -d "$f" ] || gone+=" $f"
done
is "$gone" "" "every folder the Layout block names exists"
# harness/ itself holds no source file: everything is in a folder that says what it is for.
is "$(ls harness/*.c harness/*.h 2>/dev/null | tr '\n' ' ')" "" "no source file directly in harness/"
done_testing
