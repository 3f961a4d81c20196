#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The labs of docs/labs/ keep working: every ```sh block whose first line is
# "# lab-command" is run (one block = one test), at small sizes (--size X ->
# --size 4M, --reps N -> --reps 1), in a scratch directory with
# ./copylab pointing at the binary under test.  A block fails the test when
# it exits non-zero; a block that needs a transport or a strategy this
# copylab does not have is skipped with the reason.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

labs=("$ROOT"/docs/labs/lab*.md)
[ -e "${labs[0]}" ] || bail_out "no lab in docs/labs/ (lab*.md)"

transports=$("$COPYLAB" list --json | jq -r '.transports[]' | tr '\n' ' ')
strategies=$("$COPYLAB" list --json | jq -r '.strategies[].name' | tr '\n' ' ')
COPYLAB=$(realpath "$COPYLAB")
commands=$("$COPYLAB" --help 2>&1)

# The blocks of one lab, NUL-separated.
extract() {
	awk '
		/^```sh[[:space:]]*$/ { inblock = 1; first = 1; buf = ""; next }
		inblock && /^```/ { if (keep) printf "%s%c", buf, 0; inblock = 0; keep = 0; next }
		inblock && first { first = 0; keep = ($0 ~ /^# lab-command[[:space:]]*$/); next }
		inblock { buf = buf $0 "\n" }
	' "$1"
}

# Small sizes and one repetition; the binary under test for ./copylab.
shrink() {
	sed -E -e 's/--size [0-9]+[KMG]?/--size 4M/g' \
	       -e 's/--reps [0-9]+/--reps 1/g' \
	       -e 's/--quick/--quick --size 1M --reps 1/g' \
	       -e 's/--sweep size=[0-9]+[KMG]?\.\.[0-9]+[KMG]?/--sweep size=1M..4M/g' \
	       -e 's#\./copylab( |$)#"$COPYLAB"\1#g'
}

# Why a block cannot run here, or nothing.
missing() {
	local block=$1 t s c
	for t in $(grep -oE -- '--transport [a-z]+' <<<"$block" | awk '{print $2}'); do
		case " $transports " in *" $t "*) ;; *) echo "transport $t is not in this copylab (copylab list)"; return ;; esac
	done
	for s in $(grep -oE -- '--strategy [a-z_,:=0-9A-Z]+' <<<"$block" | awk '{print $2}' | tr ',' '\n' | cut -d: -f1); do
		[ "$s" = all ] && continue
		case " $strategies " in *" $s "*) ;; *) echo "strategy $s is not in this copylab (copylab list)"; return ;; esac
	done
	for c in $(grep -oE -- '\./copylab [a-z]+' <<<"$block" | awk '{print $2}'); do
		grep -qE "^  $c " <<<"$commands" || { echo "command copylab $c is not in this copylab"; return; }
	done
}

for lab in "${labs[@]}"; do
	name=$(basename "$lab" .md)
	n=0
	while IFS= read -r -d '' block; do
		n=$((n + 1))
		first=$(grep -v '^[[:space:]]*#' <<<"$block" | grep -m1 . | cut -c1-70)
		why=$(missing "$block")
		if [ -n "$why" ]; then
			skip "$why" "$name block $n: $first"
			continue
		fi
		dir=$TMP/$name
		mkdir -p "$dir"
		small=$(shrink <<<"$block")
		( cd "$dir" && COPYLAB=$COPYLAB timeout 120 bash -o pipefail -c "$small" ) >"$dir/out.$n" 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			pass "$name block $n: $first"
		else
			fail "$name block $n: $first (exit $rc)"
			diag "ran:" "$small"
			diag_file "$dir/out.$n"
		fi
	done < <(extract "$lab")
	[ $n -gt 0 ] || fail "$name has no '# lab-command' block"
done
[ ${#labs[@]} -ge 6 ]; ok $? "at least six labs (${#labs[@]})"
done_testing
