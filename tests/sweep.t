#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --sweep: one cell per power of two, all in one results directory, and
# bad sweeps refused as usage errors.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

cl run --scenario relay --strategy readwrite,splice --sweep block=4K..16K --size 1M --reps 2 --warmup 0 \
	--out "$TMP/blk" --workdir "$TMP"
is "$RC" 0 "block sweep 4K..16K runs"
is "$(jq -r '.block' "$TMP/blk/results.jsonl" | sort -n | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ')" \
	"4096x4 8192x4 16384x4" "block sweep: 2 strategies x 2 reps at each of 4K, 8K, 16K"
is "$(tail -n +2 "$TMP/blk/summary.csv" | wc -l)" 6 "block sweep: one summary row per (block, strategy)"

cl run --scenario pipe --strategy readwrite --sweep size=4K..64K --reps 1 --warmup 0 \
	--out "$TMP/size" --workdir "$TMP"
is "$RC" 0 "size sweep 4K..64K runs"
is "$(jq -r 'select(.verified) | .bytes' "$TMP/size/results.jsonl" | paste -sd' ')" \
	"4096 8192 16384 32768 65536" "size sweep: every size verified"

for bad in "block=3K..16K" "block=16K..4K" "size=4K" "rate=1..2" "block=4K..lots"; do
	expect_usage_error "--sweep $bad" "sweep" run --scenario relay --strategy readwrite --sweep "$bad" \
		--out "$TMP/bad"
done

done_testing
