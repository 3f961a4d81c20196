#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab compare A B: the conditions that differ first (from env.json's
# conditions), the cells in one run only, then each cell in both with B/A
# of the median throughput and of the tested role's CPU per GiB (equal to
# the ratios computed here with jq from the two summary.csv files), an
# interval from the two runs' repetitions and a verdict; everything in a
# directory of its own, never in A or B; a chart with one label per cell;
# runs older than the conditions; errors for bad input.
# timeout: 400
. "$(dirname "$0")/lib.sh"
require_copylab
command -v gnuplot >/dev/null || skip_all "gnuplot is not installed (make deps installs gnuplot-nox)"
"$COPYLAB" compare --help >/dev/null 2>&1 || bail_out "this copylab has no compare command"

mk() {	# mk DIR ARGS...
	local dir=$1
	shift
	cl run "$@" --size 2M --warmup 0 --out "$dir"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run $* failed"; }
}
A=$TMP/runA B=$TMP/runB C=$TMP/runC
mk "$A" --scenario serve --strategy readwrite,splice --reps 3
mk "$B" --scenario serve --strategy readwrite,splice,sendfile --reps 3
mk "$C" --scenario serve --strategy readwrite,splice --reps 3 --sndbuf 4096
tree() { find "$A" "$B" "$C" -printf '%p %s %T@\n' | sort; }
tree >"$TMP/tree.before"

cl compare --tsv --out "$TMP/cmp-tsv" "$A" "$B"
ok "$RC" "compare --tsv exits 0" "$(cl_desc)"
cp "$OUT" "$TMP/cmp.tsv"
cp "$ERR" "$TMP/cmp.err"

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
col() { head -n 1 "$TMP/cmp.tsv" | tr '\t' '\n' | grep -nx "$1" | cut -d: -f1; }
awk -F'\t' -v OFS='\t' 'NR > 1 { print $1, $2, $3, $4, $5, $8, $11 }' "$TMP/cmp.tsv" >"$TMP/got.tsv"
n=$(wc -l <"$TMP/want.tsv")
is "$n" 2 "the two runs have two cells in common (sendfile is only in B)"
if diff "$TMP/want.tsv" "$TMP/got.tsv" >"$TMP/diff"; then
	pass "compare's B/A ratios equal those computed with jq from the two summaries"
else
	fail "compare's B/A ratios equal those computed with jq from the two summaries"
	diag_file "$TMP/diff"
fi
got=$(head -n 1 "$TMP/cmp.tsv" | cut -f 1-11)
is "$got" "$(printf 'scenario\ttransport\tbytes\tblock\tstrategy\tA_bytes_per_s\tB_bytes_per_s\tthroughput_ratio\tA_cpu_per_gib\tB_cpu_per_gib\tcpu_ratio')" \
	"--tsv has a header naming its columns"

# Every cell in both: an interval around B/A from 3 reps a side, and the verdict it gives.
bad=$(awk -F'\t' -v lo="$(col throughput_lo)" -v hi="$(col throughput_hi)" -v lv="$(col throughput_level)" \
	-v v="$(col throughput_verdict)" -v clo="$(col cpu_lo)" -v chi="$(col cpu_hi)" -v cv="$(col cpu_verdict)" '
	NR > 1 {
		want = ($lo > 1 || $hi < 1) ? "beyond noise" : "no difference measured"
		cwant = ($clo > 1 || $chi < 1) ? "beyond noise" : "no difference measured"
		if (!($lo > 0 && $lo <= $hi && $lv >= 0.89) || $v != want || !($clo > 0 && $clo <= $chi) || $cv != cwant)
			print $5 ": [" $lo ", " $hi "] at " $lv " -> " $v "; cpu [" $clo ", " $chi "] -> " $cv
	}' "$TMP/cmp.tsv")
is "$bad" "" "each ratio has an interval (lo <= hi, coverage >= 90% with 3 reps a side) and the verdict it implies"
is "$(grep 'only in' "$TMP/cmp.err")" "copylab compare: cell only in B: serve tcp 2 MiB 64 KiB sendfile" \
	"--tsv, whose rows are the cells in both, flags the cell in B only on stderr"

# The table for people: what differs first, cells in one run only, then the cells with B/A.
mkdir -p "$TMP/work"
cd "$TMP/work" || bail_out "cd $TMP/work"
cl compare "$A" "$B"
cd - >/dev/null || bail_out "cd back"
ok "$RC" "compare A B exits 0" "$(cl_desc)"
cp "$OUT" "$TMP/ab.txt"
grep -q "^none differ: the same conditions" "$TMP/ab.txt"
ok $? "two runs of the same conditions: 'none differ'" "$(head -c 1500 "$TMP/ab.txt")"
grep -Eq "^cells only in B: serve tcp 2 MiB 64 KiB sendfile$" "$TMP/ab.txt" && grep -q "^cells only in A: none$" "$TMP/ab.txt"
ok $? "the cell in B only is flagged, and none is in A only" "$(head -c 1500 "$TMP/ab.txt")"
r=$(awk -F'\t' '$5 == "splice" { print $6 }' "$TMP/want.tsv")
grep -Eq "^serve +tcp +2 MiB +64 KiB +splice +3/3 +[0-9]+ +[0-9]+ +$r +\[[0-9.]+, [0-9.]+\] [0-9]+% +(beyond noise|no difference measured) " "$TMP/ab.txt"
ok $? "the table shows splice's ratio ($r), its interval and a verdict" "$(head -c 2500 "$TMP/ab.txt")"
is "$(awk '/^conditions that differ|^none differ|^conditions not recorded/ { print "c" } /^cells only in A/ { print "a" }
	/^cells in both/ { print "b" }' "$TMP/ab.txt" | tr -d '\n')" "cab" \
	"the table's order: conditions, cells in one run only, cells in both"

# Its own directory: results/compare-<A>-vs-<B>-<stamp> under the working directory.
out=$(ls -d "$TMP/work/results/compare-runA-vs-runB-"* 2>/dev/null)
is "$(wc -w <<<"$out" | tr -d ' ')" 1 "the default output is one new directory results/compare-runA-vs-runB-<stamp>" "$out"
for f in compare.txt compare.tsv compare.png compare.svg; do
	[ -s "$out/$f" ] || { fail "the output directory holds $f"; continue; }
	pass "the output directory holds $f"
done
cmp -s "$out/compare.txt" "$TMP/ab.txt"
ok $? "compare.txt is the table printed"
grep -q "^output: results/${out##*/}/ (compare.txt, compare.tsv, compare.dat, compare.{png svg})$" "$TMP/ab.txt"
ok $? "the table names where it wrote" "$(tail -n 3 "$TMP/ab.txt")"
[ "$(head -c 8 "$out/compare.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "compare.png is a PNG"
# One label per cell on the x axis (the chart drew each twice, one of them off its bars).
is "$(grep -o '<text>[^<]*</text>' "$out/compare.svg" | grep -c 'splice')" 1 "the chart labels splice's cell once" \
	"$(grep -o '<text>[^<]*</text>' "$out/compare.svg" | head -n 20)"

# Two runs that differ in one condition: it is named first.
cl compare --out "$TMP/cmp-ac" "$A" "$C"
ok "$RC" "compare A C exits 0" "$(cl_desc)"
cp "$OUT" "$TMP/ac.txt"
first=$(awk '/^conditions that differ/ { getline; print; exit }' "$TMP/ac.txt")
grep -Eq "^  sndbuf +default -> 4096$" <<<"$first"
ok $? "two runs differing in --sndbuf: sndbuf is the first condition that differs" "$(head -c 1500 "$TMP/ac.txt")"
is "$(grep -c '^  sndbuf ' "$TMP/ac.txt")" 1 "sndbuf is named once"

# Two runs of one machine have the same facts: none of the new ones (a link's
# steering, the sysctls) differs from run to run by itself.
grep -q "^the machine and build: the same facts$" "$TMP/ab.txt"
ok $? "two runs on one machine: the same facts of the machine and build" \
	"$(sed -n '/^facts of the machine/,/^cells/p' "$TMP/ab.txt" | head -n 20)"

# Machines that differ in tcp_rmem and the governor: compare names both, and
# before the other facts (here the kernel's version) that differ.
FA=$TMP/factsA FB=$TMP/factsB
cp -r "$A" "$FA" && cp -r "$A" "$FB" || bail_out "cannot copy $A"
jq -e '(.net_sysctl.tcp_rmem.default | type) == "number" and (.cpufreq | has("governor"))' "$FA/env.json" >/dev/null
ok $? "env.json holds net_sysctl.tcp_rmem and cpufreq.governor" "$(jq -c '{net_sysctl, cpufreq}' "$FA/env.json" 2>&1)"
jq '.net_sysctl.tcp_rmem.default += 1 | .kernel.version = "another kernel" |
	.cpufreq.governor = (if (.cpufreq.governor | type) == "object" then (.cpufreq.governor | map_values("test-governor"))
			     else {"policy0": "test-governor"} end)' "$A/env.json" >"$FB/env.json"
cl compare --out "$TMP/cmp-facts" "$FA" "$FB"
facts=$(awk '/^facts of the machine and build that differ/ { f = 1; next } f && /^  / { print $1; next } f { exit }' "$OUT")
order=$(awk '/^net_sysctl.tcp_rmem.default$/ { print "r" } /^cpufreq.governor/ && !g { g = 1; print "g" }
	/^kernel.version$/ { print "k" }' <<<"$facts" | sort | tr -d '\n')
is "$RC/$order" "0/gkr" "compare names tcp_rmem and the governor that differ, and the kernel's version" "$(cl_desc 30)"
first=$(head -n 1 <<<"$facts")
ok $([ "$(tail -n 1 <<<"$facts")" = kernel.version ] && [ "$first" != kernel.version ]; echo $?) \
	"... the verdict-changing facts before the kernel's version" "$facts"
grep -Eq "^  net_sysctl.tcp_rmem.default +[0-9]+ -> [0-9]+$" "$OUT"
ok $? "... tcp_rmem's default with both values" "$(cl_desc 30)"

# A run recorded before env.json had conditions still compares, and says so.
O=$TMP/old
cp -r "$A" "$O"
jq 'del(.conditions)' "$A/env.json" >"$O/env.json"
cl compare --out "$TMP/cmp-old" "$O" "$B"
[ "$RC" -eq 0 ] && grep -q "^conditions not recorded in A" "$OUT"
ok $? "a run without recorded conditions compares, saying 'conditions not recorded in A'" "$(cl_desc; head -c 800 "$OUT")"

tree >"$TMP/tree.after"
if diff "$TMP/tree.before" "$TMP/tree.after" >"$TMP/diff"; then
	pass "neither A, B nor C gained, lost or changed a file"
else
	fail "neither A, B nor C gained, lost or changed a file"
	diag_file "$TMP/diff"
fi
left=$(find "$TMP/work/results" "$TMP/cmp-ac" "$TMP" -maxdepth 1 -name '.*' | head -n 3)
is "$left" "" "no temporary file is left"

# Runs bounded by time: each rep moves its own count, so their cells pair by
# their time (summary.csv's time_s), never by what the first rep moved; a
# run by size of the same strategies shares no cell with them.
timed() {	# timed DIR ARGS...
	local dir=$1
	shift
	cl run --scenario relay --strategy readwrite,splice --reps 3 --warmup 0 --out "$dir" "$@"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run relay $* failed"; }
}
timed "$TMP/timedA" --time 300ms
timed "$TMP/timedB" --time 300ms
timed "$TMP/sized" --size 2M
ok "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "time_s") c = i; next }
	$c != "0.3" { bad = 1 } END { exit !(c && !bad && NR == 3) }' "$TMP/timedA/summary.csv"; echo $?)" \
	"summary.csv names a timed cell's bound in time_s" "$(cat "$TMP/timedA/summary.csv")"
cl compare --out "$TMP/cmp-timed" "$TMP/timedA" "$TMP/timedB"
[ "$RC" -eq 0 ] && grep -q "^cells only in A: none$" "$OUT" && grep -q "^cells only in B: none$" "$OUT"
ok $? "two runs by --time 300ms: every cell in both, whatever each rep moved" "$(cl_desc 40)"
n=$(grep -cE "^relay +tcp +0.3 s +64 KiB +(readwrite|splice) +3/3 " "$OUT")
is "$n" 2 "... each compared with 3 reps a side, its size shown as its time" "$(cat "$OUT")"
cl compare --out "$TMP/cmp-mixed" "$TMP/timedA" "$TMP/sized"
[ "$RC" -eq 1 ] && grep -q "no cell .* is in both" "$ERR" && grep -q "^  relay tcp 0.3 s 64 KiB splice$" "$ERR" &&
	grep -q "^  relay tcp 2 MiB 64 KiB splice$" "$ERR"
ok $? "a timed run against a sized one: no cell in both, each named by its bound" "$(cl_desc 30)"

# --- bad input ----------------------------------------------------------------
expect_usage_error "compare: one directory exits 2" "give two results directories" compare "$A"
expect_usage_error "compare: no such directory exits 2 naming it" "$TMP/nope: No such file" compare "$A" "$TMP/nope"
expect_usage_error "compare: --out inside A exits 2" "inside.*runA.*outside both" compare --out "$A/cmp" "$A" "$B"
[ ! -e "$A/cmp" ]
ok $? "... and makes nothing there"
expect_usage_error "compare: --out inside B exits 2" "inside.*runB" compare --out "$B/plots/x" "$A" "$B"
mkdir -p "$TMP/full" && touch "$TMP/full/keep"
expect_usage_error "compare: --out holding files exits 2" "full.*holds files.*new directory" compare --out "$TMP/full" "$A" "$B"
mkdir -p "$TMP/nosum"
cp "$A/results.jsonl" "$A/env.json" "$TMP/nosum/"
cl compare --out "$TMP/cmp-nosum" "$A" "$TMP/nosum"
[ "$RC" -eq 1 ] && grep -q "nosum/summary.csv: missing" "$ERR" && [ ! -e "$TMP/cmp-nosum" ]
ok $? "a run without summary.csv: exit 1 naming it, no output directory" "$(cl_desc)"
mk "$TMP/other" --scenario pipe --strategy readwrite --reps 1
cl compare --out "$TMP/cmp-none" "$A" "$TMP/other"
[ "$RC" -eq 1 ] && grep -q "no cell .* is in both" "$ERR" && [ ! -e "$TMP/cmp-none" ]
ok $? "no cell in common: exit 1 saying so, no output directory" "$(cl_desc)"
grep -q "^cells only in B: pipe none 2 MiB 64 KiB readwrite$" "$ERR" && grep -q "^cells only in A (2):$" "$ERR" &&
	grep -q "^  serve tcp 2 MiB 64 KiB splice$" "$ERR"
ok $? "... and what is in each run only, to say why" "$(cl_desc 30)"

# --- the hypervisor's steal in each run: said, and which lost a notable share ------------------
# (run A copied twice with its summary.csv's steal set by hand, 0.01 and 0.4 CPUs of env.json's 2)
stolen() {	# stolen DIR VALUE
	mkdir -p "$1" && cp "$A/results.jsonl" "$1/" && jq '.cpus_online = 2' "$A/env.json" >"$1/env.json" &&
	awk -F, -v OFS=, -v v="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "steal_cpus_median") c = i }
		NR > 1 && c { $c = v } { print }' "$A/summary.csv" >"$1/summary.csv"
}
stolen "$TMP/calm" 0.01
stolen "$TMP/stolen" 0.4
cl compare --out "$TMP/cmp-stolen" "$TMP/calm" "$TMP/stolen"
line=$(grep "^the hypervisor's steal" "$OUT")
is "$line" "the hypervisor's steal, the median of the cells' medians, in CPUs: A 0.010, B 0.400 (B lost 5% of the CPUs or more: its figures carry more of the host's)" \
	"compare says each run's steal, and which run lost a notable share of the CPUs"
cl compare --out "$TMP/cmp-calm" "$TMP/calm" "$TMP/calm"
is "$(grep "^the hypervisor's steal" "$OUT")" "the hypervisor's steal, the median of the cells' medians, in CPUs: A 0.010, B 0.010" \
	"... and nothing more where neither did"

done_testing
