#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test runner `make test` calls: runs every unit test binary
# (build/tests/test_*, cmocka with TAP output) and every shell test
# (tests/*.t), each under a timeout, reads their TAP, prints one line per
# file and ends with "N passed, N failed, N skipped".  Exit 1 if anything
# failed.  Logs: build/test-logs/NAME.log.
#
# usage: tests/run.sh [-h] [--repeat N] [PATTERN]
#   PATTERN     run only the tests whose name (test_verify, cli.t) matches
#               this extended regular expression
#   --repeat N  run the selection N times in a row (1..1000), to find
#               flaky tests: a line per round, the failed files' logs kept
#               per round, and which files failed in how many rounds
# environment:
#   TEST_TIMEOUT   seconds per test file (default 600); a .t file may set
#                  its own with a line "# timeout: SECONDS" near its top
#   COPYLAB        the binary under test (default ./copylab)
#   UNIT_DIR       where the unit test binaries are (default build/tests)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

usage() { sed -n '9,18s/^# \{0,1\}//p' "$0"; }
rounds=1
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--repeat)
		[[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 1000 ] ||
			{ echo "tests/run.sh: --repeat takes a count from 1 to 1000, not '${2:-}'" >&2; exit 2; }
		rounds=$2
		shift 2
		;;
	-*) echo "tests/run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || { echo "tests/run.sh: one PATTERN at most, not '$*'" >&2; usage >&2; exit 2; }
filter=${1:-}
if [ -n "$filter" ]; then
	echo "" | grep -Eq -- "$filter" 2>/dev/null
	[ $? -eq 2 ] && { echo "tests/run.sh: bad pattern '$filter'" >&2; exit 2; }
fi

default_timeout=${TEST_TIMEOUT:-600}
logdir=$ROOT/build/test-logs
mkdir -p "$logdir"
export COPYLAB=${COPYLAB:-$ROOT/copylab}
export CMOCKA_MESSAGE_OUTPUT=TAP

# What this machine kind is known to have must load here: under root each
# feature of tests/required-here turns its tests' skips into failures.
required=()
if [ "$(id -u)" -eq 0 ] && [ -f tests/required-here ]; then
	while read -r feature _; do
		case $feature in ''|'#'*) continue ;; esac
		export "COPYLAB_REQUIRE_${feature^^}=1"
		required+=("$feature")
	done < tests/required-here
fi
[ ${#required[@]} -gt 0 ] && echo "required here (a missing one fails): ${required[*]}"

total_pass=0 total_fail=0 total_skip=0
failed_files=()

# The tests to run: unit binaries first (fast, and they localise a fault),
# then the shell tests in name order.
tests=()
for f in "${UNIT_DIR:-build/tests}"/test_*; do
	[ -f "$f" ] && [ -x "$f" ] && tests+=("$f")
done
for f in tests/*.t; do
	[ -f "$f" ] && tests+=("$f")
done

# timeout_for FILE: "# timeout: N" in the first 20 lines of a shell test
# overrides the default.
timeout_for() {
	local t=""
	case $1 in
	*.t) t=$(head -n 20 "$1" | sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1) ;;
	esac
	echo "${t:-$default_timeout}"
}

# run_one FILE: runs it, parses its TAP, prints its line, adds to totals.
run_one() {
	local file=$1 name log tap err limit rc start end secs
	name=$(basename "$file")
	log=$logdir/$name.log tap=$logdir/$name.tap err=$logdir/$name.stderr
	limit=$(timeout_for "$file")

	start=$(date +%s.%N)
	case $file in
	*.t) timeout -k 10 "$limit" bash "$file" >"$tap" 2>"$err" </dev/null ;;
	*)   timeout -k 10 "$limit" "$file" >"$tap" 2>"$err" </dev/null ;;
	esac
	rc=$?
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

	# Parse.  A file may hold several plans (cmocka prints one per group,
	# numbering from 1 again); the planned counts add up.
	local planned=0 nplans=0 seen=0 pass=0 fail=0 skip=0 bail="" line
	local skip_all="" notes=() fails=() in_fail=0 fail_diag=0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in
		1..*)
			nplans=$((nplans + 1))
			local n=${line#1..}
			n=${n%%[!0-9]*}
			planned=$((planned + ${n:-0}))
			case $line in *'# '[Ss][Kk][Ii][Pp]*) skip_all=${line#*# [Ss][Kk][Ii][Pp]} ;; esac
			in_fail=0
			;;
		'ok'|'ok '*|'not ok'|'not ok '*)
			seen=$((seen + 1))
			in_fail=0
			local desc="" directive=""
			[[ $line =~ ^(not\ )?ok([[:space:]]+[0-9]+)?([[:space:]]+-)?[[:space:]]*(.*)$ ]] &&
				desc=${BASH_REMATCH[4]}
			# A directive follows an unescaped "#": "# SKIP why", "# TODO why".
			shopt -s nocasematch
			if [[ $desc =~ ^(.*[^\\])?[[:space:]]*#[[:space:]]*(skip|todo)([^[:alnum:]].*)?$ ]]; then
				directive=${BASH_REMATCH[2]}
				local why=${BASH_REMATCH[3]}
				desc=${BASH_REMATCH[1]}
				why=${why#[[:space:]:]}
				why=${why# }
			fi
			shopt -u nocasematch
			desc=${desc%"${desc##*[![:space:]]}"}
			case $directive in
			[Ss]*)
				skip=$((skip + 1))
				notes+=("skip: ${desc:-test $seen}: ${why:-no reason given}")
				;;
			[Tt]*)
				# An expected failure: reported, not counted as a failure.
				skip=$((skip + 1))
				notes+=("todo: ${desc:-test $seen}: ${why:-no reason given}")
				;;
			*)
				case $line in
				ok*) pass=$((pass + 1)) ;;
				*)
					fail=$((fail + 1))
					fails+=("not ok: ${desc:-test $seen}")
					in_fail=1 fail_diag=0
					;;
				esac
				;;
			esac
			;;
		'Bail out!'*)
			bail=${line#Bail out!}
			in_fail=0
			;;
		'#'*)
			# Diagnostics of a failed test are shown with it (a few lines).
			if [ "$in_fail" -eq 1 ] && [ "$fail_diag" -lt 15 ]; then
				fails+=("    $line")
				fail_diag=$((fail_diag + 1))
			fi
			;;
		esac
	done <"$tap"

	# What makes a file fail beyond its own "not ok" lines.
	local reasons=()
	if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$((${end%.*} - ${start%.*}))" -ge "$limit" ]; }; then
		reasons+=("timed out after ${limit}s")
	elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		reasons+=("killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null || echo '?'))")
	fi
	[ -n "$bail" ] && reasons+=("bailed out:$bail")
	if [ "$nplans" -eq 0 ] && [ "$seen" -eq 0 ]; then
		reasons+=("printed no TAP plan and no test")
	elif [ "$nplans" -eq 0 ]; then
		reasons+=("no plan (ran $seen tests)")
	elif [ "$planned" -ne "$seen" ]; then
		reasons+=("planned $planned tests but ran $seen")
	fi
	# A shell test exits non-zero only when something failed; a cmocka
	# binary exits with its failure count.
	if [ ${#reasons[@]} -eq 0 ] && [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		reasons+=("exit status $rc though no test failed")
	fi

	local status
	if [ ${#reasons[@]} -gt 0 ]; then
		fail=$((fail + 1))	# the file itself counts as one failure
		status=FAIL
	elif [ "$fail" -gt 0 ]; then
		status=FAIL
	elif [ -n "$skip_all" ] && [ "$seen" -eq 0 ]; then
		skip=1
		notes+=("skip: whole file:${skip_all}")
		status=SKIP
	else
		status=ok
	fi

	printf '%-4s %-28s %4d passed %3d failed %3d skipped  %6ss\n' \
		"$status" "$name" "$pass" "$fail" "$skip" "$secs"
	local r
	for r in "${reasons[@]}"; do echo "     $r"; done
	for r in "${fails[@]}"; do echo "     $r"; done
	for r in "${notes[@]}"; do echo "     $r"; done
	if [ "$status" = FAIL ]; then
		echo "     log: ${log#"$ROOT"/}"
		failed_files+=("$name")
	fi

	# One log per test: its TAP, then what it printed on stderr.
	{
		echo "## $file  (exit $rc, ${secs}s, timeout ${limit}s)"
		cat "$tap"
		echo "## stderr"
		cat "$err"
	} >"$log"
	rm -f "$tap" "$err"

	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

# The selection, once per round; a file that failed keeps its log per round.
declare -A failed_rounds=()
ran=0
for ((round = 1; round <= rounds; round++)); do
	[ "$rounds" -gt 1 ] && echo "== round $round of $rounds"
	round_fail=$total_fail failed_files=()
	for f in "${tests[@]}"; do
		if [ -n "$filter" ] && ! basename "$f" | grep -Eq -- "$filter"; then
			continue
		fi
		run_one "$f"
		ran=$((ran + 1))
	done
	[ "$rounds" -gt 1 ] || break
	for name in "${failed_files[@]}"; do
		failed_rounds[$name]+="$round "
		cp "$logdir/$name.log" "$logdir/$name.round$round.log"
	done
	echo "round $round of $rounds: $((total_fail - round_fail)) failed${failed_files[*]:+ (${failed_files[*]})}"
done

if [ "$ran" -eq 0 ]; then
	if [ -n "$filter" ]; then
		echo "no test matches '$filter'"
	else
		echo "no tests found (build/tests/test_*, tests/*.t)"
	fi
	total_fail=$((total_fail + 1))
fi
if [ "$rounds" -gt 1 ]; then
	for name in "${!failed_rounds[@]}"; do
		n=$(wc -w <<<"${failed_rounds[$name]}")
		echo "flaky or failing: $name failed in $n of $rounds rounds (rounds ${failed_rounds[$name]% }; logs build/test-logs/$name.roundN.log)"
	done
elif [ ${#failed_files[@]} -gt 0 ]; then
	echo "failed: ${failed_files[*]}"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
