#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab compare A B: the cells both runs have, side by side, with B/A of
# the median throughput and of the tested role's CPU per GiB, equal to the
# ratios computed here with jq from the two summary.csv files; a chart;
# errors for bad input.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
command -v gnuplot >/dev/null || skip_all "gnuplot is not installed (make deps installs gnuplot-nox)"
"$COPYLAB" compare --help >/dev/null 2>&1 || bail_out "this copylab has no compare command"

mk() {	# mk DIR ARGS...
	local dir=$1
	shift
	cl run "$@" --size 2M --reps 2 --warmup 0 --out "$dir"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run $* failed"; }
}
A=$TMP/runA B=$TMP/runB
mk "$A" --scenario serve --strategy readwrite,splice
mk "$B" --scenario serve --strategy readwrite,splice,sendfile

cl compare --tsv "$A" "$B"
ok "$RC" "compare --tsv exits 0" "$(cl_desc)"
cp "$OUT" "$TMP/cmp.tsv"

# The ratios, from the summaries with jq (CSV fields here hold no commas).
csv_json() { jq -R -s 'split("\n") | map(select(length > 0) | split(",")) | .[0] as $h | .[1:] |
	map([$h, .] | transpose | map({(.[0]): .[1]}) | add)' "$1"; }
csv_json "$A/summary.csv" >"$TMP/a.json"
csv_json "$B/summary.csv" >"$TMP/b.json"
jq -r --slurpfile a "$TMP/a.json" '.[] as $b | $a[0][] |
	select(.scenario == $b.scenario and .transport == $b.transport and .bytes == $b.bytes and
	       .block == $b.block and .strategy == $b.strategy) |
	[$b.scenario, $b.transport, $b.bytes, $b.block, $b.strategy,
	 (($b.bytes_per_s_median | tonumber) / (.bytes_per_s_median | tonumber)),
	 (($b.tested_cpu_per_gib_median | tonumber) / (.tested_cpu_per_gib_median | tonumber))] | @tsv' \
	"$TMP/b.json" | awk -F'\t' -v OFS='\t' '{ printf "%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f\n", $1, $2, $3, $4, $5, $6, $7 }' \
	>"$TMP/want.tsv"
awk -F'\t' -v OFS='\t' 'NR > 1 { print $1, $2, $3, $4, $5, $8, $11 }' "$TMP/cmp.tsv" >"$TMP/got.tsv"
n=$(wc -l <"$TMP/want.tsv")
is "$n" 2 "the two runs have two cells in common (sendfile is only in B)"
if diff "$TMP/want.tsv" "$TMP/got.tsv" >"$TMP/diff"; then
	pass "compare's B/A ratios equal those computed with jq from the two summaries"
else
	fail "compare's B/A ratios equal those computed with jq from the two summaries"
	diag_file "$TMP/diff"
fi

got=$(head -n 1 "$TMP/cmp.tsv")
is "$got" "$(printf 'scenario\ttransport\tbytes\tblock\tstrategy\tA_bytes_per_s\tB_bytes_per_s\tthroughput_ratio\tA_cpu_per_gib\tB_cpu_per_gib\tcpu_ratio')" \
	"--tsv has a header naming its columns"

# The table for people: the same ratio, and a chart in B/plots.
cl compare "$A" "$B"
r=$(awk -F'\t' '$5 == "splice" { print $6 }' "$TMP/want.tsv")
grep -Eq "^serve +tcp +2 MiB +64 KiB +splice +[0-9]+ +[0-9]+ +$r " "$OUT"
ok $? "the table shows the same throughput ratio ($r for splice)" "$(head -c 2000 "$OUT")"
name=compare-runA
[ -s "$B/plots/$name.png" ] && [ -s "$B/plots/$name.svg" ] &&
	[ "$(head -c 8 "$B/plots/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "the chart is B/plots/$name.png and .svg"

cl compare --out "$TMP/cmp-out" "$A" "$B"
[ "$RC" -eq 0 ] && [ -s "$TMP/cmp-out/$name.png" ]
ok $? "--out DIR puts the chart there" "$(cl_desc)"
left=$(find "$B/plots" "$TMP/cmp-out" -name '.*' | head -n 3)
is "$left" "" "no temporary file is left"

# --- bad input ----------------------------------------------------------------
expect_usage_error "compare: one directory exits 2" "give two results directories" compare "$A"
expect_usage_error "compare: no such directory exits 2 naming it" "$TMP/nope: No such file" compare "$A" "$TMP/nope"
mkdir -p "$TMP/nosum"
cp "$A/results.jsonl" "$A/env.json" "$TMP/nosum/"
cl compare "$A" "$TMP/nosum"
[ "$RC" -eq 1 ] && grep -q "nosum/summary.csv: missing" "$ERR"
ok $? "a run without summary.csv: exit 1 naming it" "$(cl_desc)"
mk "$TMP/other" --scenario pipe --strategy readwrite
cl compare "$A" "$TMP/other"
[ "$RC" -eq 1 ] && grep -q "no cell .* is in both" "$ERR"
ok $? "no cell in common: exit 1 saying so" "$(cl_desc)"

done_testing
