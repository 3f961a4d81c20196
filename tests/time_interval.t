#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --time and --interval: runs bounded by time are byte-exact whatever the
# count (relay, recv, store and send over tcp, relay over unix, pipe), the
# sender and every receiver agree on it, and the record says the run was
# bounded by time; --interval's series has at least one interval and no more than
# time/interval + 2, its bytes add up to the record's, and each role's CPU
# is keyed by role; with --size too.  Bad combinations exit 2, write
# nothing, and say why.  No timing is asserted: only counts and causal
# bounds (the source stops sending once the time is up, so the last byte
# comes after it).
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

WORKDIR=$TMP/work
mkdir -p "$WORKDIR"
COMMON=(--reps 1 --warmup 0 --no-perf --no-bpf --workdir "$WORKDIR")

# timed SCENARIO TRANSPORT STRATEGIES TIME TIME_S: every record verified, counted alike, bounded by time.
timed() {
	local sc=$1 tr=$2 strategies=$3 time=$4 time_s=$5 name dir J problems
	name="$sc over $tr --time $time ($strategies)"
	dir=$TMP/timed-$sc-$tr-$time
	local trans=(--transport "$tr")
	[ "$tr" = none ] && trans=()
	cl run --scenario "$sc" "${trans[@]}" --strategy "$strategies" --time "$time" --out "$dir" "${COMMON[@]}"
	J=$dir/results.jsonl
	if [ "$RC" -ne 0 ] || [ ! -s "$J" ]; then
		fail "$name: exit 0 with records"
		cl_desc
		return
	fi
	is "$(wc -l <"$J")" "$(tr ',' '\n' <<<"$strategies" | wc -l)" "$name: one record per strategy"
	problems=$(jq -r --argjson t "$time_s" --arg sink "$(sink_of "$sc")" --arg src "$(source_of "$sc")" '
		"\(.strategy): " + ([
		(if .verify != "ok" or .verified != true then "verify \(.verify): \(.verify_note)" else empty end),
		(if .bounded_by != "time" then "bounded_by \(.bounded_by)" else empty end),
		(if .time_s != $t then "time_s \(.time_s)" else empty end),
		(if .bytes <= 0 then "no bytes moved" else empty end),
		(if .roles[$src].bytes != .bytes then "\($src) sent \(.roles[$src].bytes), record says \(.bytes)" else empty end),
		(if .roles[$sink].bytes != .bytes then "\($sink) counted \(.roles[$sink].bytes), record says \(.bytes)" else empty end),
		(if .wall_s < $t then "wall_s \(.wall_s) before the time was up" else empty end),
		(if .intervals != null or .interval_s != null then "intervals without --interval" else empty end)
		] | join("; "))' "$J" | grep -v ': $' || true)
	is "$problems" "" "$name: verified, source and receiver agree on the count, bounded by time"
}

# The role that sends: the fixed source, or the role under test where it sends from memory.
source_of() {
	case $1 in
	pipe) echo writer ;;
	send) echo sender ;;
	*) echo source ;;
	esac
}

# The role that counts what arrived: the sink, or the tested role where its output is its memory or a file.
sink_of() {
	case $1 in
	recv) echo receiver ;;
	store) echo receiver ;;
	pipe) echo reader ;;
	*) echo sink ;;
	esac
}

timed relay tcp readwrite,splice 100ms 0.1
timed relay tcp readwrite 700ms 0.7
timed relay unix readwrite,splice 250ms 0.25
timed recv tcp readwrite 300ms 0.3
timed store tcp readwrite,splice 200ms 0.2
# The role under test sends laps of its payload from memory until the time is up.
timed pipe none readwrite,vmsplice 300ms 0.3
timed send tcp readwrite 200ms 0.2

# --interval with --time: a bounded number of intervals that add up to the record's bytes.
dir=$TMP/interval-time
cl run --scenario relay --strategy readwrite --time 500ms --interval 50ms --out "$dir" "${COMMON[@]}"
J=$dir/results.jsonl
if [ "$RC" -ne 0 ] || [ ! -s "$J" ]; then
	fail "relay --time 500ms --interval 50ms: exit 0 with a record"
	cl_desc
else
	problems=$(jq -r '[
		(if .interval_s != 0.05 then "interval_s \(.interval_s)" else empty end),
		(if (.intervals | length) < 1 or (.intervals | length) > ((.wall_s / .interval_s) | ceil) + 2
		 then "\(.intervals | length) intervals (1 to ceil(wall_s / interval_s) + 2 = \(((.wall_s / .interval_s) | ceil) + 2) expected)" else empty end),
		(if ([.intervals[].bytes] | add) != .bytes then "interval bytes add up to \([.intervals[].bytes] | add), record \(.bytes)" else empty end),
		(if [.intervals[] | select(.dt_s <= 0 or .t_s <= 0)] | length > 0 then "an interval with no length" else empty end),
		(if [.intervals[] | .cpu | keys | sort] | unique != [["relay", "sink", "source"]] then "cpu keys \([.intervals[] | .cpu | keys] | unique)" else empty end),
		(if [.intervals[] | .cpu[] | select(. != null and . < 0)] | length > 0 then "negative CPU" else empty end),
		(if .interval_bps == null or .interval_bps.min > .interval_bps.median or .interval_bps.median > .interval_bps.max then "interval_bps \(.interval_bps)" else empty end)
		] | join("; ")' "$J")
	is "$problems" "" "relay --time 500ms --interval 50ms: 1 to wall_s / 50 ms + 2 intervals (a late role lengthens the run, not the check), adding up to the record's bytes, CPU per role"
	# The series is in order: each interval ends after the one before.
	is "$(jq '[.intervals[].t_s] | . == sort' "$J")" true "the intervals are in time order"
	# Drawn: one series chart for the cell, linked from the report with its interval throughput.
	# (Judged by the series chart alone: another chart's gnuplot failing is not this test's.)
	cl plot "$dir"
	charts=$(ls "$dir"/plots/series-*.png 2>/dev/null | wc -l)
	if [ "$charts" -eq 1 ] && ! grep -q 'series.gp' "$ERR"; then
		pass "copylab plot draws one series chart for the cell"
	else
		fail "copylab plot draws one series chart for the cell ($charts drawn)"
		cl_desc
	fi
	check "report.html links the series chart" grep -q 'series-relay-tcp-readwrite-t0.5' "$dir/report.html"
	check "report.html gives its interval throughput" grep -q 'interval throughput min' "$dir/report.html"
	# An interval under half the one asked (the run's last, cut short) is too short for the 10 ms CPU
	# ticks: its CPU is drawn as a gap, not as a share (a tick in 3 ms reads as 3 CPUs).
	dat=$(ls "$dir"/plots/series-*.dat 2>/dev/null | head -1)
	short=$(jq -r '[.intervals | to_entries[] | select(.value.dt_s < 0.025) | .key + 2] | map(tostring) | join(" ")' "$J")
	bad=""
	for line in $short; do
		row=$(sed -n "${line}p" "$dat")
		[ "$(cut -f3- <<<"$row" | tr '\t' '\n' | sort -u)" = NaN ] || bad+=" line $line: $row;"
	done
	is "$bad" "" "intervals under half of 50 ms (${short:-none}) draw no CPU share in $(basename "$dat")"
fi

# --interval with --size: the count bound is the size's, the sum the same.
dir=$TMP/interval-size
cl run --scenario recv --strategy readwrite --size 32M --interval 5ms --out "$dir" "${COMMON[@]}"
J=$dir/results.jsonl
if [ "$RC" -ne 0 ] || [ ! -s "$J" ]; then
	fail "recv --size 32M --interval 5ms: exit 0 with a record"
	cl_desc
else
	is "$(jq -r '[.bounded_by, .time_s, (.intervals | length >= 1), (([.intervals[].bytes] | add) == .bytes), (.bytes == 33554432)] | map(tostring) | join(" ")' "$J")" \
		"size null true true true" "recv --size 32M --interval 5ms: bounded by size, intervals adding up to 32 MiB"
fi

# Bad input: exit 2, a sentence, and nothing written.
bad() {
	local name=$1 pattern=$2 dir=$TMP/bad-$_tap_n
	shift 2
	expect_usage_error "$name" "$pattern" run --out "$dir" "${COMMON[@]}" "$@"
	check "$name: nothing written" test ! -e "$dir"
}
bad "--time with --size" "--time 1s and --size both bound the run" \
	--scenario relay --strategy readwrite --time 1s --size 1M
bad "--time with --sweep size=" "both bound the run" \
	--scenario relay --strategy readwrite --time 1s --sweep size=1M..2M
bad "--interval below 1ms" "--interval: '0.5ms' is out of range; give a duration from 1ms to 1h" \
	--scenario relay --strategy readwrite --time 1s --interval 0.5ms
bad "--interval longer than --time" "--interval 2s is longer than --time 1s" \
	--scenario relay --strategy readwrite --time 1s --interval 2s
bad "--interval giving more than 100000 intervals" "more than 100000 intervals" \
	--scenario relay --strategy readwrite --time 10m --interval 1ms
bad "--time and --interval whose series would pass what plot reads" \
	"--time 60s with --interval 1ms: 360012 intervals over every strategy and repetition, about 69 MiB in results.jsonl, more than the 64 MiB" \
	--scenario relay --strategy readwrite,splice --time 60s --interval 1ms --reps 3
bad "--interval 1ms bounded by --timeout" "may last up to --timeout" \
	--scenario relay --strategy readwrite --size 1M --interval 1ms
bad "--time that is not a duration" "--time: '10x' is not a duration" \
	--scenario relay --strategy readwrite --time 10x
bad "--time on a file scenario" "--time cannot bound serve: its input is a file" \
	--scenario serve --strategy readwrite --time 1s
bad "--time on echo" "--time cannot bound echo: its client counts requests" \
	--scenario echo --strategy readwrite --time 1s
bad "--time on relay --rps (its round trips count requests)" "--time cannot bound relay --rps" \
	--scenario relay --strategy readwrite --time 1s --rps 1000
bad "--time with :hugepages in pipe (each lap's setup would copy the payload in the window)" \
	"vmsplice:hugepages with --time: each 64 MiB lap sets the strategy up again" \
	--scenario pipe --strategy vmsplice:hugepages --time 1s
bad "--time with --conns" "--time: --conns splits a fixed --size" \
	--scenario relay --strategy readwrite --time 1s --conns 2
bad "--time with --fault" "--time: --fault acts at a byte offset" \
	--scenario relay --strategy readwrite --time 1s --fault flip@100
expect_usage_error "bench takes no --time" "option '--time' is for copylab run" bench --time 1s --out "$TMP/bad-bench"
check "bench --time: nothing written" test ! -e "$TMP/bad-bench"

done_testing
