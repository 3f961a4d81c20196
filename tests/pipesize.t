#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The pipe size asked (--pipe-size) is part of a cell: records carry
# pipe_size_asked, summary.csv a pipe_size_asked column, and a results
# directory holding the pipe scenario at the default pipe and at 1 MiB
# (two runs merged into one directory, as copylab run never appends to a
# directory that holds results) gives two summary rows per strategy, each
# ratio paired with readwrite at its own pipe size; the run's table, the
# report and the throughput chart name both pipe sizes; records and
# summaries from before the key was there still read as the default pipe.
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

MIB=1048576
for p in default 1m; do
	args=()
	[ "$p" = 1m ] && args=(--pipe-size 1M)
	cl run --scenario pipe --strategy readwrite,vmsplice --size 1M --reps 2 --warmup 0 "${args[@]}" \
		--out "$TMP/parts/$p"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run --scenario pipe ${args[*]} failed"; }
	cp "$OUT" "$TMP/table-$p.out"
done

# --- the records and the run's own summary -----------------------------------------
is "$(jq -s -r 'map(.pipe_size_asked | tostring) | unique | join(" ")' "$TMP/parts/default/results.jsonl")" "null" \
	"records without --pipe-size: pipe_size_asked is null (the kernel default)"
is "$(jq -s -r 'map(.pipe_size_asked | tostring) | unique | join(" ")' "$TMP/parts/1m/results.jsonl")" "$MIB" \
	"records with --pipe-size 1M: pipe_size_asked is $MIB"
max=$(cat /proc/sys/fs/pipe-max-size)
if [ "$max" -ge "$MIB" ]; then
	is "$(jq -s -r 'map(.pipe_size | tostring) | unique | join(" ")' "$TMP/parts/1m/results.jsonl")" "$MIB" \
		"records with --pipe-size 1M: pipe_size, the size the scenario's pipe was granted, is $MIB"
else
	skip "pipe-max-size is $max, below 1 MiB" "records with --pipe-size 1M: pipe_size granted is $MIB"
fi
# summary.csv: pipe_size_asked is the last column, after the columns of older runs.
col() {	# col FILE NAME: that column of every data row
	awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c { print $c }' "$1" | tr '\n' ' ' | sed 's/ $//'
}
# Columns 26..29 since pipe_size_asked was added; newer columns come after it.
is "$(head -n 1 "$TMP/parts/1m/summary.csv" | awk -F, '{ print $26 "," $27 "," $28 "," $29 }')" \
	"cache,outstanding,conns,pipe_size_asked" "summary.csv: pipe_size_asked appended after conns, older columns in their places"
is "$(col "$TMP/parts/default/summary.csv" pipe_size_asked)|$(col "$TMP/parts/1m/summary.csv" pipe_size_asked)" \
	"0 0|$MIB $MIB" "summary.csv: pipe_size_asked 0 for the default pipe, $MIB for --pipe-size 1M"
ok $(grep -q '^pipe, 1 MiB, block 64 KiB, 2 reps, 1 MiB pipe (role under test: writer)' "$TMP/table-1m.out" &&
	grep -q '^pipe, 1 MiB, block 64 KiB, 2 reps (role under test: writer)' "$TMP/table-default.out"; echo $?) \
	"the run's table names the pipe size asked, and only when one was" \
	"$(grep '^pipe' "$TMP/table-1m.out" "$TMP/table-default.out")"

# --- one directory with both ------------------------------------------------------
RUN=$TMP/run
mkdir -p "$RUN"
cp "$TMP/parts/default/env.json" "$RUN/"
head -n 1 "$TMP/parts/default/summary.csv" >"$RUN/summary.csv"
for p in default 1m; do
	cat "$TMP/parts/$p/results.jsonl" >>"$RUN/results.jsonl"
	tail -n +2 "$TMP/parts/$p/summary.csv" >>"$RUN/summary.csv"
done
is "$(awk -F, 'NR > 1 { print $5 "@" $29 }' "$RUN/summary.csv" | sort | tr '\n' ' ')" \
	"readwrite@0 readwrite@$MIB vmsplice@0 vmsplice@$MIB " "merged summary.csv: two rows per strategy, one per pipe size"

cl plot "$RUN"
ok "$RC" "plot exits 0 on a directory holding two pipe sizes" "$(cl_desc)"
R=$RUN/report.md
# Each vmsplice row carries the ratio of its own summary row: paired with readwrite at its pipe size.
want_d=$(awk -F, -v c=16 'NR > 1 && $5 == "vmsplice" && $29 == 0 { printf "%.2f", $c }' "$RUN/summary.csv")
want_m=$(awk -F, -v c=16 -v m=$MIB 'NR > 1 && $5 == "vmsplice" && $29 == m { printf "%.2f", $c }' "$RUN/summary.csv")
ok $(grep -q '^| readwrite (default pipe) | .* | 1 (baseline) |' "$R" &&
	grep -q '^| readwrite (1 MiB pipe) | .* | 1 (baseline) |' "$R" &&
	grep -q "^| vmsplice (default pipe) | .* | ${want_d}x" "$R" &&
	grep -q "^| vmsplice (1 MiB pipe) | .* | ${want_m}x" "$R"; echo $?) \
	"report.md: a row per strategy and pipe size, each ratio against readwrite at its own pipe size (${want_d}x, ${want_m}x)" \
	"$(grep '^| [a-z]' "$R" | head -n 6)"
D=$RUN/plots/throughput-pipe.dat
is "$(wc -l <"$D" | tr -d ' ')" 4 "throughput-pipe: four bars (2 strategies x 2 pipe sizes), none merged"
# The bars' medians are the two runs' own: the default pipe's group first.
# The .dat holds 6 significant digits: compare within that precision, not
# after rounding both sides (190.5 rounds to 190 in awk, 191 in jq).
want=$(for p in default 1m; do for s in readwrite vmsplice; do
	jq -s -r --arg s "$s" '[.[] | select(.strategy == $s) | .bytes_per_s / 1e6] | add / length' \
		"$TMP/parts/$p/results.jsonl"; done; done | tr '\n' ' ')
got=$(awk -F'\t' '{ printf "%s ", $2 }' "$D")
ok $(awk -v got="$got" -v want="$want" 'BEGIN { n = split(got, g, " "); m = split(want, w, " ");
	if (n != 4 || m != 4) exit 1
	for (i = 1; i <= 4; i++) { d = g[i] - w[i]; if (d < 0) d = -d; if (d > 1e-5 * w[i] + 1e-9) exit 1 } }'; echo $?) \
	"throughput-pipe: each bar is the median of its pipe size's reps" "got $got, want $want"
ok $(grep -q '<text>default pipe</text>' "$RUN/plots/throughput-pipe.svg" &&
	grep -q '<text>1 MiB pipe</text>' "$RUN/plots/throughput-pipe.svg"; echo $?) \
	"throughput-pipe: the two groups are labelled default pipe and 1 MiB pipe"
is "$(cut -f2 "$RUN/plots/ledger-pipe-none.dat" | tr '\n' ',')" \
	"readwrite (default pipe),vmsplice (default pipe),readwrite (1 MiB pipe),vmsplice (1 MiB pipe)," \
	"ledger-pipe-none: a bar per strategy and pipe size"

# compare: each row of B meets the row of A at the same pipe size.
cl compare --tsv --out "$TMP/cmp-1" "$TMP/parts/1m" "$RUN"
ok "$RC" "compare exits 0" "$(cl_desc)"
is "$(awk -F'\t' 'NR > 1 { print $5 }' "$OUT" | sort | tr '\n' ' ')" "readwrite vmsplice " \
	"compare: only the 1 MiB rows of B have a partner in a 1 MiB run"
is "$(awk -F'\t' 'NR > 1 { printf "%.3f ", $8 }' "$OUT")" "1.000 1.000 " \
	"compare: and each is its own row (B/A = 1), not the default pipe's"

# --- records and a summary from before pipe_size_asked --------------------------------
OLD=$TMP/old
mkdir -p "$OLD"
cp "$RUN/env.json" "$OLD/"
jq -c 'del(.pipe_size_asked)' "$TMP/parts/default/results.jsonl" >"$OLD/results.jsonl"
cut -d, -f1-28 "$TMP/parts/default/summary.csv" >"$OLD/summary.csv"
cl plot "$OLD"
ok "$RC" "plot reads records without pipe_size_asked and a summary without its column" "$(cl_desc)"
ok $(grep -q '^| vmsplice | .*x' "$OLD/report.md" && ! grep -q 'pipe)' "$OLD/report.md"; echo $?) \
	"old records are the default pipe: rows unmarked, ratios from summary.csv" "$(grep '^| [a-z]' "$OLD/report.md")"
cl compare --tsv --out "$TMP/cmp-2" "$OLD" "$RUN"
is "$(awk -F'\t' 'NR > 1 { printf "%s=%.3f ", $5, $8 }' "$OUT")" "readwrite=1.000 vmsplice=1.000 " \
	"compare: an old summary's rows meet the default pipe's rows of a new one"

done_testing
