#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab ladder (issue 20 item 5), small: Mazzoli's four pipe steps run
# with his reader (--sink discard) and the verified one (--sink hash); the
# verified ladder is byte-exact at every step; the table has four rows,
# each with his ratio and both of ours; step 2's printed ratio is the
# median of the per-rep ratios of the records (paired by repetition); the
# busy step's records say the reader spun; bad values exit 2 writing nothing.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

L=$TMP/ladder
cl ladder --size 4M --reps 2 --out "$L"
ok $([ "$RC" -eq 0 ]; echo $?) "ladder 4M x2: exit 0" "$(cl_desc)"
cp "$OUT" "$TMP/table.out"
STEPS="readwrite vmsplice vmsplice:hugepages vmsplice:hugepages:busy"

is "$(jq -s -r 'group_by(.strategy) | map("\(.[0].strategy)=\(map(.verify) | unique | join("/"))") | join(" ")' "$L/hash/results.jsonl")" \
	"readwrite=ok vmsplice=ok vmsplice:hugepages=ok vmsplice:hugepages:busy=ok" \
	"verified ladder: every step's reps byte-exact"
is "$(jq -s -r 'map(.verify) | unique | join(" ")' "$L/discard/results.jsonl")" "skipped" \
	"his ladder: the reader spliced to /dev/null, every rep said unverified"
is "$(jq -s -r 'map(select(.strategy == "vmsplice:hugepages:busy") | .busy.reader_spun) | unique | join(" ")' \
	"$L/hash/results.jsonl" "$L/discard/results.jsonl")" "true" "step 4's records: the reader spun with the writer, in both ladders"

# The table: four rows, step number, label, his ratio, then a ratio for each ladder.
rows=$(grep -E '^[1-4] ' "$TMP/table.out")
is "$(awk '{ print $1 }' <<<"$rows" | tr '\n' ' ')" "1 2 3 4 " "table: four step rows" "$(cat "$TMP/table.out")"
is "$(grep -oE '(readwrite|vmsplice(:hugepages(:busy)?)?) +[0-9]+\.[0-9] \(' <<<"$rows" | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')" "$STEPS" \
	"table: the steps are his, in his order"
is "$(grep -oE '(1\.0|9\.1|14\.6|17\.9) \(' <<<"$rows" | cut -d' ' -f1 | tr '\n' ' ')" "1.0 9.1 14.6 17.9 " \
	"table: his ratios beside each step"
bad=$(awk 'NR > 1 && !/[0-9]+\.[0-9]+ \[[0-9.]+\.\.[0-9.]+, [0-9]+%\].*[0-9]+\.[0-9]+ \[[0-9.]+\.\.[0-9.]+, [0-9]+%\]/' <<<"$rows")
is "$bad" "" "table: steps 2-4 carry a ratio with its interval for both ladders"
ok $(grep -q 'verified 2/2' <<<"$(sed -n 4p <<<"$rows")"; echo $?) "table: step 4 of the verified ladder says 2/2 reps verified"

# Step 2's verified ratio is the median of the paired per-rep ratios (two reps: their mean).
want=$(jq -s -r '[group_by(.rep)[] | (map(select(.strategy == "vmsplice"))[0].bytes_per_s /
	map(select(.strategy == "readwrite"))[0].bytes_per_s)] | add / length | . * 100 | round / 100 |
	tostring | if test("\\.") then . else . + ".0" end' "$L/hash/results.jsonl")
got=$(sed -n 2p <<<"$rows" | grep -oE '[0-9]+\.[0-9]+ \[' | tail -n 1 | cut -d' ' -f1)
ok $(awk -v a="$got" -v b="$want" 'BEGIN { exit !(a - b < 0.011 && b - a < 0.011) }'; echo $?) \
	"table: step 2's verified ratio ($got) is the median of the records' per-rep ratios ($want)"
ok $(grep -q "Why the two ladders differ" "$TMP/table.out"; echo $?) "the table says why the ladders differ"

# --- bad input: exit 2, nothing written -------------------------------------------
expect_usage_error "ladder --reps 0: exit 2" "ladder: --reps: '0' is not a whole number from 1" ladder --reps 0 --out "$TMP/none"
expect_usage_error "ladder --size abc: exit 2" "ladder: --size: 'abc' is not a size" ladder --size abc --out "$TMP/none"
expect_usage_error "ladder --size 0: exit 2" "ladder: --size 0 moves nothing" ladder --size 0 --out "$TMP/none"
expect_usage_error "ladder --out of an existing directory: exit 2" "already exists" ladder --size 1M --out "$L"
expect_usage_error "ladder with a stray argument: exit 2" "unexpected argument 'pipe'" ladder pipe --out "$TMP/none"
ok "$([ ! -e "$TMP/none" ]; echo $?)" "no directory from the refusals"

done_testing
