#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Results survive SIGKILL: `copylab bench --quick --size 4M --reps 3` is
# killed with SIGKILL at random moments (8 times at 0.1-3 s, then twice
# once records are being written).  Afterwards every line of
# results.jsonl is JSON, summary.csv counts no rep the records lack, the
# JSON files parse, no temporary file is left in the directory, no copylab
# process of the run is left (roles die with their parent:
# PR_SET_PDEATHSIG), and the scratch dirs a SIGKILLed parent could not
# remove (/var/tmp/copylab-PID-*) are swept by the next run.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

TAG=$(tag_new)
# A bench killed with SIGKILL leaves its namespaces (veth, routed, lo-ns):
# removing those of dead runs is copylab cleanup's job, done here on the way out.
integrity_teardown() {
	kill_tagged "$TAG"
	[ "$(id -u)" -eq 0 ] && "$COPYLAB" cleanup >/dev/null 2>&1
	return 0
}
at_exit integrity_teardown
WORKBASE=/var/tmp
KILLS=${INTEGRITY_KILLS:-8}

# check_dir DIR LABEL: the results directory holds only whole things.
check_dir() {
	local dir=$1 label=$2 n_rec bad
	if [ -f "$dir/results.jsonl" ]; then
		# One jq over the file: a torn line is a parse error, with its line number.
		jq -e -s 'all(type == "object")' "$dir/results.jsonl" >/dev/null 2>"$TMP/jq.err"
		ok $? "$label: every line of results.jsonl is a JSON object" "$(head -c 300 "$TMP/jq.err")"
		n_rec=$(wc -l <"$dir/results.jsonl")
		bad=$(tail -c 1 "$dir/results.jsonl" | od -An -c | tr -d ' ')
		ok $([ "$n_rec" -eq 0 ] || [ "$bad" = '\n' ]; echo $?) "$label: results.jsonl ends with a whole line ($n_rec records)"
	else
		n_rec=0
		pass "$label: no results.jsonl yet (killed before the first record)"
		pass "$label: (nothing to check for whole lines)"
	fi
	if [ -f "$dir/summary.csv" ]; then
		# Each summary row's reps against the records of its cell.
		jq -r '[.scenario, .transport, .bytes, .block, .strategy] | join(",")' "$dir/results.jsonl" 2>/dev/null |
			sort | uniq -c | awk '{ print $2 "," $1 }' >"$TMP/cells"
		bad=$(awk -F, 'NR == FNR { have[$1 "," $2 "," $3 "," $4 "," $5] = $6; next }
			FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			{ k = $col["scenario"] "," $col["transport"] "," $col["bytes"] "," $col["block"] "," $col["strategy"];
			  if ($col["reps"] + 0 > have[k] + 0) print k ": " $col["reps"] " reps, " have[k] + 0 " records" }' \
			"$TMP/cells" "$dir/summary.csv" | head -n 5)
		ok $([ -z "$bad" ]; echo $?) "$label: summary.csv counts no rep the records lack" "$bad"
	else
		pass "$label: no summary.csv (none written before the kill)"
	fi
	bad=""
	for f in "$dir"/*.json; do
		[ -e "$f" ] || continue
		jq -e . "$f" >/dev/null 2>&1 || bad+=" $(basename "$f")"
	done
	ok $([ -z "$bad" ]; echo $?) "$label: every *.json file parses" "not JSON:$bad"
	# The results writer fills an unnamed file (O_TMPFILE) and names it only
	# to rename it: nothing half-written, and no temporary, may remain.
	bad=$(find "$dir" \( -name '*.tmp' -o -name '.*.tmp*' -o -name '*.tmp.*' -o \( -name '*.png' -size 0 \) \
		-o \( -name '*.svg' -size 0 \) \) 2>/dev/null | head -n 5)
	ok $([ -z "$bad" ]; echo $?) "$label: no temporary or half-written file" "$bad"
}

# kill_run LABEL WHEN: starts the bench; WHEN is a delay in seconds, or
# "records" (kill 0-0.5 s after results.jsonl first has a record).
KILLED=0 KILLED_PIDS=""
kill_run() {
	local label=$1 when=$2 dir=$TMP/run-$1 pid i left
	COPYLAB_TEST_TAG=$TAG "$COPYLAB" bench --quick --size 4M --reps 3 --out "$dir" \
		>"$TMP/bench.out" 2>"$TMP/bench.err" </dev/null &
	pid=$!
	if [ "$when" = records ]; then
		for ((i = 0; i < 600; i++)); do
			[ -s "$dir/results.jsonl" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		when=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r / 32767 * 0.5 }')
	fi
	sleep "$when"
	if kill -KILL "$pid" 2>/dev/null; then
		KILLED=$((KILLED + 1))
	else
		diag "$label: the bench had already ended"
	fi
	wait "$pid" 2>/dev/null
	check_dir "$dir" "kill $label at ${when}s"
	ok $(no_leftovers "$TAG"; echo $?) "kill $label: no copylab process of the run left (roles died with it)"
	KILLED_PIDS+=" $pid"
}

for ((k = 1; k <= KILLS; k++)); do
	kill_run "$k" "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + r / 32767 * 2.9 }')"
done
kill_run "r1" records
kill_run "r2" records

# A SIGKILLed parent cannot remove its scratch directory; the next run
# sweeps every copylab-PID-* whose PID is gone.
cl run --scenario pipe --strategy readwrite --size 4K --reps 1 --warmup 0 --out "$TMP/sweeper"
left=""
for pid in $KILLED_PIDS; do
	left+=$(ls -d "$WORKBASE/copylab-$pid-"* 2>/dev/null)
done
ok $([ "$RC" -eq 0 ] && [ -z "$left" ]; echo $?) \
	"the next run swept the scratch dirs of all $KILLED SIGKILLed runs" "left: $left" "$(cl_desc 3)"
done_testing
