#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The byte-exact matrix: every supported (strategy, scenario) pair, over tcp
# and unix (copy and pipe have no transport), at sizes around the page and
# block boundaries, must deliver exactly N verified bytes.  One run per
# (scenario, transport, size) carries all its strategies (`--strategy all`);
# each strategy's record is then checked on its own.
# timeout: 900
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

SIZES=${MATRIX_SIZES:-"0 1 4095 4096 4097 65535 65537 1048577 67108864"}
SCENARIOS=$(jq -r '.scenarios[].name' "$LIST_JSON")
WORKDIR=$TMP/work	# the scenario files (serve's source, store's output...)
mkdir -p "$WORKDIR"

# check_record FILE STRATEGY SCENARIO TRANSPORT SIZE: the one record of
# STRATEGY in FILE says every byte arrived and was verified.
check_record() {
	local file=$1 strat=$2 sc=$3 tr=$4 size=$5 sink name problems
	sink=$(sink_role "$sc")
	name="$sc $tr $size $strat: verified, $size bytes at the $sink"
	problems=$(jq -s -r --arg s "$strat" --arg sink "$sink" --arg tr "$tr" \
		--argjson n "$size" --arg sc "$sc" '
		[.[] | select(.strategy == $s)] as $r |
		if ($r | length) != 1 then "\($r | length) records for \($s), wanted 1"
		else $r[0] |
			[ (if .verified != true then "verified: \(.verified)" else empty end),
			  (if .verify != "ok" then "verify: \(.verify) \(.verify_note)" else empty end),
			  (if .bytes != $n then "bytes: \(.bytes)" else empty end),
			  (if .scenario != $sc then "scenario: \(.scenario)" else empty end),
			  (if .transport != $tr then "transport: \(.transport)" else empty end),
			  (if .roles[$sink].bytes != $n then "\($sink) bytes: \(.roles[$sink].bytes)" else empty end)
			] | join("; ")
		end' "$file" 2>&1)
	if [ -z "$problems" ]; then
		pass "$name"
	else
		fail "$name"
		diag "$problems"
	fi
}

# run_cell SCENARIO TRANSPORT SIZE STRATEGY-ARG EXPECTED...: one run, then
# one test per expected strategy label.
run_cell() {
	local sc=$1 tr=$2 size=$3 arg=$4
	shift 4
	local out=$TMP/$sc-$tr-$size-${arg//[:,]/_}
	local targs=()
	[ "$tr" != none ] && targs=(--transport "$tr")
	cl run --scenario "$sc" --strategy "$arg" "${targs[@]}" --size "$size" \
		--reps 1 --warmup 0 --out "$out" --workdir "$WORKDIR"
	if [ "$RC" -ne 0 ]; then
		fail "$sc $tr $size --strategy $arg: exit 0"
		cl_desc 15
	else
		pass "$sc $tr $size --strategy $arg: exit 0"
	fi
	if [ ! -s "$out/results.jsonl" ]; then
		local s
		for s in "$@"; do fail "$sc $tr $size $s: a record"; done
		diag "no $out/results.jsonl"
		return
	fi
	# `all` means exactly the strategies that support the scenario.
	if [ "$arg" = all ]; then
		local got want
		got=$(jq -s -r 'map(.strategy) | sort | join(" ")' "$out/results.jsonl")
		want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
		is "$got" "${want% }" "$sc $tr $size: --strategy all ran every supporting strategy"
	fi
	for s in "$@"; do check_record "$out/results.jsonl" "$s" "$sc" "$tr" "$size"; done
	rm -rf "$out"	# 64 MiB cells leave files in workdirs; keep the disk small
}

for sc in $SCENARIOS; do
	mapfile -t strats < <(supported "$sc")
	if [ ${#strats[@]} -eq 0 ]; then
		fail "$sc: some strategy supports it"
		continue
	fi
	case $sc in
	copy|pipe) transports=none ;;
	*) transports="tcp unix" ;;
	esac
	for tr in $transports; do
		mapfile -t strats < <(supported "$sc" "$tr")
		for size in $SIZES; do
			run_cell "$sc" "$tr" "$size" all "${strats[@]}"
			# vmsplice with SPLICE_F_GIFT, where vmsplice runs.
			case $sc in
			send|pipe) run_cell "$sc" "$tr" "$size" vmsplice:gift vmsplice:gift ;;
			esac
		done
	done
done

left=$(find "$WORKDIR" -mindepth 1 | head -n 5)
is "$left" "" "the runs left no files in --workdir"

done_testing
