#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plot and compare read a results directory within limits: a results.jsonl
# or summary.csv that is /dev/zero, a FIFO or a directory is refused as "not
# a regular file", one over the size cap is refused by its size, and a
# number out of its field's range (nan, inf, -1e308, a negative rate) is an
# error naming the file, line, column and value: all exit 2, within a
# memory limit and a time bound, so a reader that slurps or blocks fails
# here instead of hanging the suite.  A symlink to a regular file is read.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
command -v gnuplot >/dev/null || skip_all "gnuplot is not installed (make deps installs gnuplot-nox)"

# Address space for each command: enough for copylab to start and plot a
# small run (checked below), far less than slurping /dev/zero would take.
MEM_KB=$((1024 * 1024))

# limited ARGS...: copylab ARGS under `timeout 20` and `ulimit -v`; sets RC, OUT, ERR.
limited() {
	OUT=$TMP/last.out ERR=$TMP/last.err
	RC=0
	(ulimit -v "$MEM_KB" && exec timeout -k 2 20 "$COPYLAB" "$@") >"$OUT" 2>"$ERR" </dev/null || RC=$?
	[ "$RC" -eq 124 ] && echo "copylab: killed by the test's 20 s bound" >>"$ERR"
	return 0
}

# refused NAME PATTERN ARGS...: exit 2, stderr matching PATTERN, nothing on stdout.
refused() {
	local name=$1 pattern=$2
	shift 2
	limited "$@"
	if [ "$RC" -eq 2 ] && grep -Eq -- "$pattern" "$ERR" && [ ! -s "$OUT" ]; then
		pass "$name"
	else
		fail "$name"
		diag "copylab $*" "wanted exit 2, stderr matching /$pattern/ and no stdout"
		cl_desc
		diag_file "$OUT" 5
	fi
}

GOOD=$TMP/good
cl run --scenario pipe --strategy readwrite,vmsplice --size 1M --reps 2 --warmup 0 --out "$GOOD"
[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run failed"; }

# fresh NAME: a copy of the good run to spoil, without plots.
fresh() {
	rm -rf "$TMP/$1"
	cp -r "$GOOD" "$TMP/$1"
	rm -rf "$TMP/$1/plots"
	echo "$TMP/$1"
}

# The controls: the limits alone do not stop a good run's plot or compare,
# and a symlink to a regular file is read like the file.
D=$(fresh linked)
mv "$D/results.jsonl" "$TMP/elsewhere.jsonl"
ln -s "$TMP/elsewhere.jsonl" "$D/results.jsonl"
limited plot --no-report "$D"
ok "$RC" "plot under the memory limit reads a results.jsonl that is a symlink to a regular file" "$(cl_desc)"
limited compare --tsv --out "$TMP/cmp-good" "$GOOD" "$D"
ok "$RC" "compare under the memory limit reads two good runs" "$(cl_desc)"

# Not regular files.
D=$(fresh zero)
ln -sf /dev/zero "$D/results.jsonl"
refused "plot: results.jsonl linked to /dev/zero is refused as not a regular file" \
	"results.jsonl: not a regular file \(a character device\)" plot "$D"
refused "compare: results.jsonl linked to /dev/zero is refused" \
	"results.jsonl: not a regular file" compare "$GOOD" "$D"

D=$(fresh fifo)
rm "$D/results.jsonl"
mkfifo "$D/results.jsonl"
refused "plot: results.jsonl that is a FIFO is refused without blocking" \
	"results.jsonl: not a regular file \(a FIFO\)" plot "$D"
refused "compare: results.jsonl that is a FIFO is refused without blocking" \
	"results.jsonl: not a regular file \(a FIFO\)" compare "$D" "$GOOD"

D=$(fresh sumfifo)
rm "$D/summary.csv"
mkfifo "$D/summary.csv"
refused "compare: summary.csv that is a FIFO is refused without blocking" \
	"summary.csv: not a regular file \(a FIFO\)" compare "$GOOD" "$D"

D=$(fresh envzero)
ln -sf /dev/zero "$D/env.json"
refused "plot: env.json linked to /dev/zero is refused" "env.json: not a regular file" plot "$D"

D=$(fresh envdir)
rm "$D/env.json"
mkdir "$D/env.json"
refused "plot: env.json that is a directory is refused" "env.json: not a regular file \(a directory\)" plot "$D"

# Over the cap: a sparse file costs no disk, but its size says enough.
D=$(fresh big)
truncate -s 1G "$D/results.jsonl"
refused "plot: a results.jsonl of 1 GiB is refused by its size, before reading" \
	"results.jsonl: 1073741824 bytes, more than the [0-9]+ MiB" plot "$D"
D=$(fresh bigsum)
truncate -s 64M "$D/summary.csv"
refused "compare: a summary.csv of 64 MiB is refused by its size" \
	"summary.csv: 67108864 bytes, more than the [0-9]+ MiB" compare "$GOOD" "$D"

# Numbers out of range in summary.csv: the median of the second row.
col=$(head -n 1 "$GOOD/summary.csv" | tr ',' '\n' | grep -n -x bytes_per_s_median | cut -d: -f1)
for v in nan inf -1e308; do
	D=$(fresh "num$v")
	awk -F, -v OFS=, -v c="$col" -v v="$v" 'NR == 3 { $c = v } { print }' "$GOOD/summary.csv" >"$D/summary.csv"
	refused "compare: bytes_per_s_median $v in summary.csv is an error naming file, line, column and value" \
		"summary.csv:3: column 'bytes_per_s_median' is '$v'" compare "$GOOD" "$D"
done
D=$(fresh plotnan)
awk -F, -v OFS=, -v c="$col" 'NR == 2 { $c = "nan" } { print }' "$GOOD/summary.csv" >"$D/summary.csv"
refused "plot: bytes_per_s_median nan in summary.csv is refused" \
	"summary.csv:2: column 'bytes_per_s_median' is 'nan'" plot "$D"
[ ! -e "$D/plots" ] && [ ! -e "$D/report.md" ]
ok $? "a refused plot wrote nothing (no plots/, no report.md)" "$(ls -la "$D")"

# Numbers out of range in a record.
D=$(fresh negrate)
jq -c 'if .rep == 2 then .bytes_per_s = -1e308 else . end' "$GOOD/results.jsonl" >"$D/results.jsonl"
line=$(jq -r '.rep' "$D/results.jsonl" | grep -n -x 2 | head -n 1 | cut -d: -f1)
refused "plot: a record with bytes_per_s -1e308 is an error naming file, line, key and value" \
	"results.jsonl:$line: key 'bytes_per_s' is -1e\+?308" plot "$D"
D=$(fresh negcpu)
jq -c '.roles.writer.cpu_sys_s = -0.5' "$GOOD/results.jsonl" >"$D/results.jsonl"
refused "plot: a negative CPU time in a record is refused" \
	"results.jsonl:1: key 'roles.writer.cpu_sys_s' is -0.5" plot "$D"

done_testing
