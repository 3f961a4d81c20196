#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab plot: charts (PNG and SVG) for every scenario, transport and
# sweep of a run, titled with the machine; a report whose HTML page loads
# every chart in headless Chromium; bad input exits 1 or 2 naming the file
# and line; nothing half-written is left behind.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
command -v gnuplot >/dev/null || skip_all "gnuplot is not installed (make deps installs gnuplot-nox)"
"$COPYLAB" plot --help >/dev/null 2>&1 || bail_out "this copylab has no plot command"

# --- a run to draw: serve over tcp and unix, relay at two blocks (a sweep),
# pipe without BPF; merged into one directory as one run with --sweep makes.
mk() {	# mk NAME ARGS...: a small run into $TMP/parts/NAME
	local name=$1
	shift
	cl run "$@" --size 2M --reps 2 --warmup 0 --out "$TMP/parts/$name"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run $* failed"; }
}
mk serve-tcp --scenario serve --strategy all
mk serve-unix --scenario serve --strategy all --transport unix
mk relay-64k --scenario relay --strategy all
mk relay-4k --scenario relay --strategy all --block 4K
mk pipe --scenario pipe --strategy all --no-bpf
RUN=$TMP/run
mkdir -p "$RUN"
cp "$TMP/parts/serve-tcp/env.json" "$RUN/"
head -n 1 "$TMP/parts/serve-tcp/summary.csv" >"$RUN/summary.csv"
for p in serve-tcp serve-unix relay-64k relay-4k pipe; do
	cat "$TMP/parts/$p/results.jsonl" >>"$RUN/results.jsonl"
	tail -n +2 "$TMP/parts/$p/summary.csv" >>"$RUN/summary.csv"
done

cl plot "$RUN"
ok "$RC" "plot exits 0 on a good run directory" "$(cl_desc)"

# The median of a jq array, as the charts take it over the reps.
MEDIAN='def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;'
# near A B: "yes" when B is within 0.1% of A.
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; print (a != "" && d <= 1e-3 * (a < 0 ? -a : a) + 1e-9) ? "yes" : "no" }'; }
# Whether the CPU sampler ran for the records of a run directory.
sampled() { [[ $(jq -r .metrics.cputime "$1/results.jsonl" | head -n 1) == ok* ]]; }

charts="throughput-serve throughput-relay throughput-pipe cpu-serve-tcp cpu-serve-unix cpu-relay-tcp
	cpu-pipe-none ledger-serve-tcp ledger-serve-unix ledger-relay-tcp ledger-pipe-none
	sweep-block-relay-tcp efficiency-serve efficiency-relay efficiency-pipe throughput cpu_per_gib"
# where the CPU goes: drawn for what the sampler measured (the pipe ran --no-bpf: not it)
sampled "$TMP/parts/serve-tcp" && charts+=" cputime-serve-tcp cputime-serve-unix cputime-relay-tcp"
missing=""
for c in $charts; do
	for ext in png svg dat; do [ -s "$RUN/plots/$c.$ext" ] || missing+=" $c.$ext"; done
done
is "$missing" "" "every expected chart is there as PNG, SVG and its data"

# PNG: the signature and an IHDR with a non-zero size.
bad=""
for f in "$RUN"/plots/*.png; do
	sig=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
	w=$(od -An -tu1 -j16 -N4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	h=$(od -An -tu1 -j20 -N4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	[ "$sig" = 89504e470d0a1a0a ] && [ "$w" -gt 100 ] && [ "$h" -gt 100 ] || bad+=" $(basename "$f")"
done
is "$bad" "" "every PNG has the PNG signature and a real size"

bad=""
for f in "$RUN"/plots/*.svg; do
	grep -q '<svg' "$f" && tail -c 200 "$f" | grep -q '</svg>' || bad+=" $(basename "$f")"
	if command -v xmllint >/dev/null; then xmllint --noout "$f" 2>/dev/null || bad+=" $(basename "$f")(xml)"; fi
done
is "$bad" "" "every SVG is a whole SVG document"

n_png=$(ls "$RUN"/plots/*.png | wc -l)
n_svg=$(ls "$RUN"/plots/*.svg | wc -l)
is "$n_png" "$n_svg" "as many SVG as PNG charts"

left=$(find "$RUN" -name '.*' ! -name . | head -n 3)
is "$left" "" "no temporary file or directory is left"

# Titles: scenario, transport, size, machine (env.json).
cpu=$(jq -r .cpu_model "$RUN/env.json") rel=$(jq -r .kernel.release "$RUN/env.json")
bad=""
for c in cpu-serve-tcp ledger-relay-tcp throughput-serve; do
	grep -qF "$cpu" "$RUN/plots/$c.svg" && grep -qF "$rel" "$RUN/plots/$c.svg" || bad+=" $c"
done
grep -qF "serve (file -> socket) over tcp, 2 MiB, block 64 KiB" "$RUN/plots/cpu-serve-tcp.svg" || bad+=" cpu-serve-tcp(title)"
is "$bad" "" "chart titles name the scenario, transport, size and the machine"

grep -q '>mmap_write<' "$RUN/plots/throughput-serve.svg" && grep -q '>mmap_write<' "$RUN/plots/ledger-serve-tcp.svg"
ok $? "strategy names are drawn as they are (noenhanced: mmap_write, no subscript)"

# Data: the throughput bars are the records' medians.
want=$(jq -s -r "$MEDIAN"'[.[] | select(.scenario == "serve" and .transport == "tcp" and .strategy == "splice")
	| .bytes_per_s] | median / 1e6' "$RUN/results.jsonl")
# splice's colour is 0xc0392b; its first bar is in the tcp group
got=$(awk -F'\t' '$5 == 12597547 { print $2; exit }' "$RUN/plots/throughput-serve.dat")
is "$(near "$want" "$got")" yes "throughput bars are the medians of the records (serve tcp splice: $want MB/s)"

got=$(awk -F'\t' 'NR == 1 { print $1 }' "$RUN/plots/sweep-block-relay-tcp.dat")
n=$(awk 'NR > 1' "$RUN/plots/sweep-block-relay-tcp.dat" | wc -l)
is "$got:$n" "block:2" "the relay block sweep is detected: two block values on one axis"

# --no-bpf: the tracer counts the ledger's bytes; the copy time, which only
# the BPF sampler measures, is said to be missing, not drawn as zero.
got=$(awk -F'\t' '$2 == "readwrite" { print $4 }' "$RUN/plots/ledger-pipe-none.dat")
is "$got" 1 "pipe with --no-bpf: the tracer's bytes are drawn (readwrite's writer: 1 GiB from user memory per GiB)"
grep -q 'ledger counted by tracer' "$RUN/plots/ledger-pipe-none.svg"
ok $? "the ledger chart names the tracer as the instrument that counted"
got=$(awk -F'\t' '{ print $9 }' "$RUN/plots/ledger-pipe-none.dat" | sort -u)
is "$got" "NaN" "pipe with --no-bpf: no copy time (NaN), not zero"
grep -q 'not measured in these records' "$RUN/plots/ledger-pipe-none.svg" &&
	grep -q 'off (--no-bpf)' "$RUN/plots/ledger-pipe-none.svg" &&
	grep -q 'pipe over none: no copy time' "$RUN/report.md" && [ ! -e "$RUN/plots/cputime-pipe-none.dat" ]
ok $? "the missing copy time is said on the chart (with metrics.cputime) and in the report; no CPU split chart"

# The report: environment, tables, charts.
grep -q "^| cpu_model | $cpu |" "$RUN/report.md" &&
	grep -q '^| readwrite | ' "$RUN/report.md" &&
	grep -q '!\[.*\](plots/throughput-serve.png)' "$RUN/report.md"
ok $? "report.md has the environment, the tables and the charts"
first_h2=$(grep -m1 '^## ' "$RUN/report.md")
last_h2=$(grep '^## ' "$RUN/report.md" | tail -n 1)
is "$first_h2|$last_h2" "## Findings|## Environment" "report.md opens with the findings and ends with the environment"
grep -Eq '^- relay over tcp \([0-9]+ MiB, [0-9]+ KiB blocks\): fastest [a-z_:]+, [0-9]+ MB/s, ' "$RUN/report.md"
ok $? "a finding names the relay's fastest strategy with its figure" "$(sed -n '/^## Findings/,/^## N/p' "$RUN/report.md" | head -12)"
is "$(grep -c '"tx-' "$RUN/report.md")" 0 "report.md summarises the transports: no raw ethtool feature list"
# The facts that can turn a verdict around: one line each, the detail left in env.json.
env_md=$(sed -n '/^## Environment/,$p' "$RUN/report.md")
is "$(grep -Ec '^\| (cpufreq|mitigations|net_sysctl|workdir filesystem) \| [^|]+ \|$' <<<"$env_md")" 4 \
	"report.md's environment: one line each for cpufreq, mitigations, net_sysctl and the workdir's filesystem" \
	"$(grep -E '^\| (cpufreq|mitigations|net_sysctl|workdir)' <<<"$env_md")"
grep -Eq "^\| net_sysctl \| tcp_rmem $(tr -s ' \t' ' ' </proc/sys/net/ipv4/tcp_rmem); " <<<"$env_md"
ok $? "... net_sysctl's line shows this machine's tcp_rmem" "$(grep '^| net_sysctl' <<<"$env_md")"
grep -Eq '^\| transport \|.*; RPS [^;]+; XPS [^;]+; IRQs [^;]+; its namespace.s tcp_rmem [0-9]+ [0-9]+ [0-9]+;' <<<"$env_md"
ok $? "... and the link's RPS, XPS, IRQs and its namespace's tcp_rmem on the transport's line" \
	"$(grep '^| transport' <<<"$env_md")"

med=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["scenario"] == "relay" && $c["block"] == 4096 && $c["strategy"] == "splice" {
		printf "%.0f", $c["bytes_per_s_median"] / 1e6 }' "$RUN/summary.csv")
grep -A5 'relay over tcp, 2 MiB, block 4 KiB' "$RUN/report.md" | grep -q "^| splice | $med |"
ok $? "report tables carry summary.csv's medians (relay 4 KiB splice: $med MB/s)"

n_img=$(grep -o '<img ' "$RUN/report.html" | wc -l)
n_data=$(grep -o 'src="data:image/png;base64,' "$RUN/report.html" | wc -l)
is "$n_img:$n_data" "$n_png:$n_png" "report.html inlines every chart as a base64 PNG"
grep -Eq 'src="(http|file|/)' "$RUN/report.html" && fail "report.html loads nothing from elsewhere" ||
	pass "report.html loads nothing from elsewhere"

# Every image of the page loads in a real browser.
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	skip "chromium is not installed (Debian package chromium)" "report.html: every image loads in headless Chromium"
else
	cp "$RUN/report.html" "$TMP/check.html"
	cat >>"$TMP/check.html" <<'HTML'
<script>
window.addEventListener('load', function () {
	var im = document.images, good = 0, bad = [];
	for (var i = 0; i < im.length; i++)
		if (im[i].complete && im[i].naturalWidth > 0) good++; else bad.push(im[i].alt);
	var m = document.createElement('pre');
	m.id = 'copylab-check';
	var f = document.getElementById('findings');
	m.textContent = 'LOADED ' + good + ' OF ' + im.length + ' FAILED [' + bad.join(' ') + ']' +
		' FINDINGS ' + (f && f.getBoundingClientRect().bottom < window.innerHeight ? 'ON' : 'OFF') + ' THE FIRST SCREEN';
	document.body.appendChild(m);
});
</script>
HTML
	profile=$(mktemp -d "$TMP/chromium.XXXXXX")
	timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
		--window-size=1280,800 --virtual-time-budget=10000 --dump-dom "file://$TMP/check.html" \
		>"$TMP/dom.html" 2>"$TMP/chromium.err"
	got=$(grep -o 'id="copylab-check">[^<]*' "$TMP/dom.html" | sed 's/.*>//')
	is "${got% FINDINGS*}" "LOADED $n_png OF $n_png FAILED []" "report.html: every image loads in headless Chromium" ||
		diag_file "$TMP/chromium.err" 5
	is "${got#* FINDINGS }" "ON THE FIRST SCREEN" \
		"report.html: the findings are on the first screen (1280x800, headless Chromium)"
fi

# Echo latency: a small run at two outstanding values gives the latency
# chart (two panels) and the latency table in the report.
for o in 1 4; do
	cl run --scenario echo --strategy readwrite,splice --block 1K --outstanding $o --size 256K --reps 2 \
		--warmup 0 --out "$TMP/parts/echo-$o"
	[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run echo --outstanding $o failed"; }
done
ECHO=$TMP/echo
mkdir -p "$ECHO"
cp "$TMP/parts/echo-1/env.json" "$ECHO/"
head -n 1 "$TMP/parts/echo-1/summary.csv" >"$ECHO/summary.csv"
for o in 1 4; do
	cat "$TMP/parts/echo-$o/results.jsonl" >>"$ECHO/results.jsonl"
	tail -n +2 "$TMP/parts/echo-$o/summary.csv" >>"$ECHO/summary.csv"
done
cl plot "$ECHO"
ok "$RC" "plot exits 0 on an echo run with two outstanding values" "$(cl_desc)"
[ -s "$ECHO/plots/latency-echo-tcp.png" ] && [ -s "$ECHO/plots/latency-echo-tcp.svg" ] &&
	[ "$(head -c 8 "$ECHO/plots/latency-echo-tcp.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
	grep -q '</svg>' "$ECHO/plots/latency-echo-tcp.svg"
ok $? "the echo latency chart is there as a non-empty PNG and SVG"
grep -q '4 outstanding' "$ECHO/plots/latency-echo-tcp.svg" && grep -qF "$cpu" "$ECHO/plots/latency-echo-tcp.svg"
ok $? "the latency chart has a panel for the largest outstanding and names the machine"
n=$(grep -c '^# outstanding' "$ECHO/plots/latency-echo-tcp.dat")
is "$n" 2 "the latency chart's data has one block per outstanding value"
want=$(jq -s -r '[.[] | select(.strategy == "splice" and .latency.outstanding == 4) | .latency.p99_us] | sort
	| (if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end)
	| . * 10 | round / 10' "$ECHO/results.jsonl")
grep -q '^\*\*echo over tcp: round-trip latency\*\*' "$ECHO/report.md" &&
	grep -q '^| strategy | message | outstanding | p50 µs | p99 µs | p99.9 µs | max µs |' "$ECHO/report.md" &&
	grep -Eq "^\| splice \| 1 KiB \| 4 \| [0-9.]+ \| $want(\.0)? \|" "$ECHO/report.md"
ok $? "report.md has the latency table with the records' median p99 (splice, 4 outstanding: $want us)"
grep -q '^| splice (4 outstanding) | ' "$ECHO/report.md" && grep -q '^| splice (1 outstanding) | ' "$ECHO/report.md"
ok $? "the summary table keeps the outstanding values apart"
grep -Eq '^\| splice \(1 outstanding\) \|.*\| ([0-9.]+x \[[0-9.]+\.\.[0-9.]+\] (faster|slower)|[0-9.]+x no difference measured) \|' "$ECHO/report.md"
ok $? "the summary table shows summary.csv's difference verdict"
grep -q '<figure><img alt="latency-echo-tcp"' "$ECHO/report.html"
ok $? "report.html shows the latency chart"

# --format, --no-report
OTHER=$TMP/other
mkdir -p "$OTHER"
cp "$TMP/parts/relay-64k/"* "$OTHER/"
cl plot --format svg --no-report "$OTHER"
n=$(ls "$OTHER/plots" | grep -c '\.png$')
[ "$RC" -eq 0 ] && [ "$n" -eq 0 ] && [ -s "$OTHER/plots/throughput-relay.svg" ] && [ ! -e "$OTHER/report.html" ]
ok $? "--format svg draws SVG only; --no-report writes no report"

# --- where the CPU goes, and the copy time -----------------------------------
# A relay at 64 MiB: enough samples (937 Hz) in the copy routines for readwrite and
# splice to differ.  Its records, rewritten, stand for what this machine
# does not make here: a tracer-only run, one without any ledger, records
# from before the ledger and the sampler, a cell limited by one role.
R16=$TMP/relay16
cl run --scenario relay --strategy readwrite,splice --size 64M --reps 3 --warmup 0 --out "$R16"
[ "$RC" -eq 0 ] || { cl_desc; bail_out "copylab run relay --size 64M failed"; }
# derive NAME FILTER: a run directory of R16's records passed through the jq FILTER
derive() {
	rm -rf "$TMP/$1"
	mkdir -p "$TMP/$1"
	cp "$R16/env.json" "$R16/summary.csv" "$TMP/$1/"
	jq -c "$2" "$R16/results.jsonl" >"$TMP/$1/results.jsonl"
	cl plot --format svg "$TMP/$1"
	ok "$RC" "plot exits 0 on the $1 records" "$(cl_desc)"
}
if ! sampled "$R16" && [ "${COPYLAB_REQUIRE_CPUSAMPLE:-0}" != 1 ]; then
	skip "the CPU sampler did not run: $(jq -r .metrics.cputime "$R16/results.jsonl" | head -n 1)" \
		"the cputime chart, the copy time and the records derived from them"
else
	cl plot "$R16"
	ok "$RC" "plot exits 0 on the 64 MiB relay" "$(cl_desc)"
	dat=$R16/plots/cputime-relay-tcp.dat
	is "$(awk 'BEGIN { RS = "" } END { print NR }' "$dat" 2>/dev/null)" 3 "cputime-relay-tcp: a block of bars per role"
	grep -q 'relay (under test): sampled CPU' "$R16/plots/cputime-relay-tcp.svg" &&
		grep -q 'source: sampled CPU' "$R16/plots/cputime-relay-tcp.svg" &&
		grep -q 'sink: sampled CPU' "$R16/plots/cputime-relay-tcp.svg" &&
		grep -qF "$(jq -r .cpu_model "$R16/env.json")" "$R16/plots/cputime-relay-tcp.svg"
	ok $? "cputime-relay-tcp: a panel per role, the one under test first, titled with the machine"
	# columns: x, strategy, the groups, the sampled total, getrusage's CPU
	got=$(awk -F'\t' 'NF > 4 { n++; s = 0; for (i = 3; i <= NF - 2; i++) s += $i; t = $(NF - 1); d = s - t
		if (d < 0) d = -d; if (t !~ /^[0-9.e+-]+$/ || t <= 0 || d > 1e-4 * t + 1e-6) bad = bad " " $2 }
		END { print n + 0 ":" bad }' "$dat")
	is "$got" "6:" "cputime-relay-tcp: every bar's groups add up to the role's sampled CPU per GiB (2 strategies x 3 roles, 3 reps)"
	want=$(jq -s -r "$MEDIAN"'[.[] | select(.strategy == "readwrite") | .roles.relay.cputime.sampled_s
		/ (.bytes / 1073741824)] | median' "$R16/results.jsonl")
	got=$(awk -F'\t' '$2 == "readwrite" { print $(NF - 1); exit }' "$dat")
	is "$(near "$want" "$got")" yes "cputime-relay-tcp: the relay's bar is the records' median sampled CPU per GiB ($want s)"
	legend=$(jq -r '.roles.relay.cputime.groups | keys_unsorted | length' "$R16/results.jsonl" | head -n 1)
	is "$(awk -F'\t' 'NF > 4 { print NF - 4; exit }' "$dat")" "$legend" "cputime-relay-tcp: a column per group of the records"
	grep -q '>copying (kernel)<' "$R16/plots/cputime-relay-tcp.svg" && grep -q '>user code<' "$R16/plots/cputime-relay-tcp.svg"
	ok $? "cputime-relay-tcp: the legend has the groups' titles"

	# the ledger chart's copy time: columns 9 (sampled), 10 and 11 (predicted, in cache .. from memory)
	led=$R16/plots/ledger-relay-tcp.dat
	rw=$(awk -F'\t' '$2 == "readwrite" { print $9 }' "$led")
	sp=$(awk -F'\t' '$2 == "splice" { print $9 }' "$led")
	ok $(awk -v a="$rw" -v b="$sp" 'BEGIN { exit !(a + 0 > 0 && a + 0 > b + 0) }'; echo $?) \
		"ledger-relay-tcp: readwrite's sampled copy time per GiB ($rw s) is above splice's ($sp s)"
	want=$(jq -s -r "$MEDIAN"'[.[] | select(.strategy == "readwrite") | .roles.relay.cputime.copy_s
		/ (.bytes / 1073741824)] | median' "$R16/results.jsonl")
	is "$(near "$want" "$rw")" yes "ledger-relay-tcp: the copy time is the records' median cputime.copy_s per GiB"
	got=$(awk -F'\t' '$2 == "readwrite" { print ($10 > 0 && $11 >= $10) ? "range" : $10 ".." $11 }' "$led")
	is "$got" range "ledger-relay-tcp: readwrite's predicted copy time is a range, in cache up to from memory"
	sampled_rw=$(awk -F'\t' '$2 == "readwrite" { printf "%.3f", $(NF - 1); exit }' "$dat")
	grep -q '^\*\*relay over tcp: where the CPU of the role under test (relay) went' "$R16/report.md" &&
		grep -q '| copying (kernel) |' "$R16/report.md" &&
		grep -q "^| readwrite | $sampled_rw | $(printf %.3f "$rw") | " "$R16/report.md"
	ok $? "report.md: the relay's sampled CPU, copy time and split under the summary table ($sampled_rw, $rw)"
	grep -q '<figure><img alt="cputime-relay-tcp"' "$R16/report.html"
	ok $? "report.html shows the cputime chart"

	# Unprivileged: the tracer's ledger, no sampler; an io_uring strategy it cannot see.
	derive tracer '.metrics.bpf = "unavailable: EPERM (BPF needs root or CAP_BPF)"
		| .metrics.cputime = "unavailable: needs the BPF ledger"
		| .roles[] |= (.bpf = null | .cputime = null | .ledger.source = "tracer" | .ledger.io_uring_seen = false)
		| ., (select(.strategy == "splice") | .strategy = "uring_rw" | .strategy_base = "uring_rw"
			| .roles.relay.ledger |= (.calls = {read: 0, write: 0, splice: 0} | .bytes_to_user = 0
				| .bytes_from_user = 0 | .bytes_in_kernel = 0))'
	led=$TMP/tracer/plots/ledger-relay-tcp
	got=$(awk -F'\t' '{ print $2 "=" $4 "/" $5 "/" $12 }' "$led.dat" | paste -sd' ')
	is "$got" "readwrite=2/0/0 splice=0/2/0 uring_rw=NaN/NaN/1" \
		"tracer-only: bytes drawn from the tracer's ledger; io_uring it cannot see is NaN and marked, not 0"
	grep -q 'ledger counted by tracer' "$led.svg" && grep -q 'not seen by' "$led.svg" &&
		grep -q 'the tracer counted none of the read, write or splice calls of uring_rw' "$TMP/tracer/report.md"
	ok $? "tracer-only: the chart names the tracer and marks uring_rw; the report says why it has no bytes"
	is "$(awk -F'\t' '{ print $9 }' "$led.dat" | sort -u)" NaN "tracer-only: no copy time (NaN), not zero bars"
	grep -q 'needs the BPF ledger' "$led.svg" && [ ! -e "$TMP/tracer/plots/cputime-relay-tcp.svg" ] &&
		grep -q 'relay over tcp: no CPU split chart: no role was sampled: unavailable' "$TMP/tracer/report.md" &&
		grep -q 'Where the CPU of the relay went: not measured in these records: unavailable' "$TMP/tracer/report.md"
	ok $? "tracer-only: the copy-time panel says why; no cputime chart, and the report says why"

	# No instrument at all.
	derive noledger '.metrics.bpf = "off (--no-bpf)" | .metrics.tracer = "off (--no-tracer)"
		| .metrics.cputime = "off (--no-bpf)" | .roles[] |= (.bpf = null | .tracer = null | .ledger = null | .cputime = null)'
	is "$(awk -F'\t' '{ print $4 }' "$TMP/noledger/plots/ledger-relay-tcp.dat" | sort -u)" NaN \
		"no ledger: the bytes are missing (NaN), not zero"
	grep -q 'not measured in these records' "$TMP/noledger/plots/ledger-relay-tcp.svg" &&
		grep -q 'off (--no-tracer)' "$TMP/noledger/plots/ledger-relay-tcp.svg" &&
		grep -q 'relay over tcp: no copy ledger .*off (--no-bpf).*off (--no-tracer)' "$TMP/noledger/report.md"
	ok $? "no ledger: the chart and the report name both instruments' reasons"

	# Records from before the ledger object and the sampler: bpf's bytes, a note for the copy time.
	derive old 'del(.limiting_role, .metrics.cputime) | .roles[] |= del(.ledger, .cputime, .busy)'
	got=$(awk -F'\t' '{ print $2 "=" $4 "/" $5 "/" $9 }' "$TMP/old/plots/ledger-relay-tcp.dat" | paste -sd' ')
	is "$got" "readwrite=2/0/NaN splice=0/2/NaN" "older records: the bytes from bpf, no copy time (NaN)"
	grep -q 'predate the CPU sampler' "$TMP/old/plots/ledger-relay-tcp.svg" &&
		grep -q 'relay over tcp: no copy time .* predate the CPU sampler' "$TMP/old/report.md" &&
		grep -q '^| readwrite | [0-9]' "$TMP/old/report.md" && [ ! -e "$TMP/old/plots/cputime-relay-tcp.svg" ] &&
		! grep -q 'verdict | limiting role |' "$TMP/old/report.md"
	ok $? "older records: drawn and reported as before, with a note where the copy time is missing"

	# One role limited splice in both reps, readwrite in one of two: only splice's verdict says so.
	derive limit 'if .strategy == "splice" then .limiting_role = "sink" | .roles.sink.busy = 0.97
		elif .strategy == "readwrite" and .rep == 1 then .limiting_role = "relay" else . end'
	grep -q '| x readwrite (paired): median \[CI\] verdict | limiting role |' "$TMP/limit/report.md" &&
		grep -Eq '^\| splice \| .* \| limited by sink \(busy ≥ 0\.9\) \|' "$TMP/limit/report.md" &&
		! grep -q '^| readwrite |.*limited by' "$TMP/limit/report.md"
	ok $? "the limiting role is said where most reps name it, not where one of two does"
fi

# --- bad input --------------------------------------------------------------
expect_usage_error "plot: no such directory exits 2 naming it" "$TMP/nope: No such file or directory" plot "$TMP/nope"
expect_usage_error "plot: no directory given exits 2" "give one results directory" plot
expect_usage_error "plot: unknown option exits 2" "unknown option '--bogus'" plot --bogus "$RUN"
expect_usage_error "plot: --format checks its value" "not a format" plot --format gif "$RUN"

# bad_dir NAME: a copy of the relay run to spoil
bad_dir() { rm -rf "$TMP/bad"; mkdir -p "$TMP/bad"; cp "$TMP/parts/relay-64k/"* "$TMP/bad/"; }
expect_fail() {	# expect_fail NAME PATTERN
	cl plot "$TMP/bad"
	if [ "$RC" -eq 1 ] && grep -Eq -- "$2" "$ERR" && [ ! -e "$TMP/bad/report.html" ]; then
		pass "$1"
	else
		fail "$1"
		diag "wanted exit 1, stderr matching /$2/ and no report"
		cl_desc
	fi
}
bad_dir
rm "$TMP/bad/results.jsonl"
expect_fail "no results.jsonl: exit 1 naming it" "bad/results.jsonl: No such file or directory"
bad_dir
sed -i '2s/.*/{"schema": "copylab.rep\/1", oops/' "$TMP/bad/results.jsonl"
expect_fail "a malformed line: exit 1 naming the file and line" "bad/results.jsonl:2: not valid JSON"
bad_dir
sed -i '3s/"bytes":[0-9]*,//' "$TMP/bad/results.jsonl"
expect_fail "a record without bytes: exit 1 naming the line and the key" "results.jsonl:3: key 'bytes' is missing"
bad_dir
sed -i '1s/copylab.rep\/1/copylab.rep\/9/' "$TMP/bad/results.jsonl"
expect_fail "a newer schema: exit 1 saying so" "results.jsonl:1: schema 'copylab.rep/9' is newer"
bad_dir
: >"$TMP/bad/results.jsonl"
expect_fail "an empty results.jsonl: exit 1" "results.jsonl: no records"
bad_dir
echo 'relay,tcp,"unterminated' >>"$TMP/bad/summary.csv"
expect_fail "a malformed summary.csv: exit 1 naming the file and line" "bad/summary.csv:[0-9]+: malformed quoted field"
bad_dir
COPYLAB_SCRIPTS=$TMP/none cl plot "$TMP/bad"
[ "$RC" -eq 1 ] && grep -q 'COPYLAB_SCRIPTS' "$ERR"
ok $? "scripts not found: exit 1 naming COPYLAB_SCRIPTS" "$(cl_desc)"

# --- a conns sweep: one chart against the number of connections ----------------------
cl run --scenario relay --strategy readwrite,splice --sweep conns=1..4 --size 1M --reps 1 --warmup 0 \
	--no-perf --out "$TMP/conns" --workdir "$TMP"
[ "$RC" -eq 0 ] || cl_desc
cl plot --format svg --no-report "$TMP/conns"
ok "$RC" "plot draws a conns sweep" "$(cl_desc)"
dat=$TMP/conns/plots/sweep-conns-relay-tcp.dat
is "$(awk -F'\t' 'NR > 1 { print $1 }' "$dat" 2>/dev/null | paste -sd' ')" "1 2 4" \
	"sweep-conns-relay-tcp: one row per connection count (1, 2, 4)"
is "$(head -n 1 "$dat" 2>/dev/null | cut -f1,3,7 | tr '\t' ' ')" "conns readwrite splice" \
	"sweep-conns-relay-tcp: a column group per strategy"
is "$(awk -F'\t' 'NR > 1 && ($3 == "nan" || $3 == "NaN" || $3 <= 0 || $7 <= 0) { print $1 }' "$dat" | paste -sd' ')" "" \
	"sweep-conns-relay-tcp: a throughput at every connection count for both strategies"
grep -q "connections sweep" "$TMP/conns/plots/sweep-conns-relay-tcp.svg" 2>/dev/null
ok $? "sweep-conns-relay-tcp.svg is titled as a connections sweep"

# --- peers: scripts/peers.sh --out into a run's directory --------------------------------
PEERS=$TMP/peers
cl run --scenario serve --strategy readwrite,sendfile --size 2M --reps 1 --warmup 0 --no-perf \
	--out "$PEERS" --workdir "$TMP"
[ "$RC" -eq 0 ] || cl_desc
if ! command -v curl >/dev/null || ! command -v bc >/dev/null; then
	skip "peers.sh needs curl and bc" "peers' records plotted beside copylab's"
else
	COPYLAB="$COPYLAB" timeout -k 5 240 "$ROOT/scripts/peers.sh" --no-install --out "$PEERS" --size 2M --reps 1 \
		>"$TMP/peers.out" 2>"$TMP/peers.err"
	ok $? "scripts/peers.sh --out a run's directory exits 0" "$(diag_file "$TMP/peers.err" 10)"
	# every label peers.sh wrote for serve, and at least copylab serve's own rows
	labels=$(jq -r 'select(.scenario == "serve") | .strategy' "$PEERS/peers.jsonl" 2>/dev/null | sort -u)
	ok $([ -n "$labels" ] && echo "$labels" | grep -q '^copylab:serve-sendfile$'; echo $?) \
		"peers.jsonl has serve records ($(echo $labels))"
	cl plot "$PEERS"
	ok "$RC" "plot exits 0 on a run directory with peers.jsonl" "$(cl_desc)"
	missing=""
	for l in readwrite sendfile $labels; do
		grep -q "	$l	" "$PEERS/plots/cpu-serve-tcp.dat" 2>/dev/null || missing+=" cpu:$l"
		grep -q ">$l<" "$PEERS/plots/throughput-serve.svg" 2>/dev/null || missing+=" throughput:$l"
		grep -q "^| $l |" "$PEERS/report.md" 2>/dev/null || missing+=" report:$l"
	done
	is "$missing" "" "the serve charts and the report show copylab's strategies and every peer together"
	# a peer of another scenario than the run's (cp: copy) gets its own charts
	if grep -q '"peer:cp"' "$PEERS/peers.jsonl"; then
		ok $([ -s "$PEERS/plots/throughput-copy.png" ]; echo $?) "peer:cp alone draws the copy throughput chart"
	else
		skip "peers.sh wrote no cp record" "peer:cp alone draws the copy throughput chart"
	fi
	grep -q "scripts/peers.sh: not paired" "$PEERS/report.md"
	ok $? "the report says a peer's row is not a paired ratio"
	# The ledger chart: copylab's strategies, and exactly the peers whose
	# records carry a BPF ledger (copylab probe counted it; not socat's).
	with_ledger=$(jq -r 'select(.scenario == "serve") | select([.roles[] | select(.under_test) | .bpf] | .[0] != null)
		| .strategy' "$PEERS/peers.jsonl" | sort -u | paste -sd' ')
	in_chart=$(awk -F'\t' '$2 ~ /:/ { print $2 }' "$PEERS/plots/ledger-serve-tcp.dat" 2>/dev/null | sort -u | paste -sd' ')
	is "$in_chart" "$with_ledger" "the ledger chart has the peers with a ledger, and only those"
	ok $(grep -q '	readwrite	' "$PEERS/plots/ledger-serve-tcp.dat" 2>/dev/null; echo $?) \
		"the ledger chart still has copylab's own strategies"
	if [ "$(id -u)" -eq 0 ]; then
		ok $(echo " $with_ledger " | grep -q ' copylab:serve-sendfile '; echo $?) \
			"as root, peers.sh counted copylab serve's ledger with copylab probe"
	fi
fi
# --- a strategy that checked no byte is a floor, never a finding's leader ---------------------
# (recv's readwrite:trunc discards with MSG_TRUNC: usually the fastest and cheapest, and unverified)
cl run --scenario recv --strategy readwrite,readwrite:trunc --size 2M --block 512K --reps 2 --warmup 0 --no-perf \
	--out "$TMP/recv" --workdir "$TMP"
[ "$RC" -eq 0 ] || cl_desc
cl plot "$TMP/recv"
line=$(grep '^- recv over tcp' "$TMP/recv/report.md")
ok $(echo "$line" | grep -q ': fastest readwrite, ' &&
	echo "$line" | grep -q '; readwrite:trunc checked no byte (a floor, not a contender): [0-9]* MB/s' &&
	! echo "$line" | grep -q 'least CPU per GiB (receiver): readwrite:trunc'; echo $?) \
	"the recv finding leads with a verified strategy and names readwrite:trunc as the unverified floor" "$line"

# --- a ledger chart of one strategy (gnuplot 5.4 crashed on its all-NaN labels) --------------
cl run --scenario relay --strategy splice --size 2M --reps 1 --warmup 0 --no-perf --out "$TMP/one" --workdir "$TMP"
[ "$RC" -eq 0 ] || cl_desc
cl plot "$TMP/one"
ok $([ "$RC" -eq 0 ] && [ -s "$TMP/one/plots/ledger-relay-tcp.png" ]; echo $?) \
	"a run of one strategy draws its ledger chart" "$(cl_desc)"

# --- what the summary says of a cell, the finding says: the limiting role, notable steal -------
# (summary.csv's columns set by hand in a copy of the one-strategy run; env.json's CPUs set to 2)
finding_with() {	# finding_with COLUMN VALUE: the run with that column set, plotted; prints its finding
	rm -rf "$TMP/set" && cp -r "$TMP/one" "$TMP/set" && rm -rf "$TMP/set/plots" "$TMP/set/report."*
	jq '.cpus_online = 2' "$TMP/one/env.json" >"$TMP/set/env.json"
	awk -F, -v OFS=, -v col="$1" -v v="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i }
		NR > 1 && c { $c = v } { print }' "$TMP/one/summary.csv" >"$TMP/set/summary.csv"
	cl plot "$TMP/set"
	grep '^- relay over tcp' "$TMP/set/report.md"
}
line=$(finding_with steal_cpus_median 0.36)
ok $(echo "$line" | grep -q "; the hypervisor held back 0.36 of the 2 CPUs (steal) in splice's median repetition: "; echo $?) \
	"a finding says when the hypervisor held back a notable share of the CPUs" "$line"
line=$(finding_with steal_cpus_median 0.05)
ok $(! echo "$line" | grep -q 'hypervisor'; echo $?) "a finding says nothing of steal under 5% of the CPUs" "$line"
line=$(finding_with limited_by sink)
ok $(echo "$line" | grep -q "; the sink set the pace of splice (busy ≥ 0.9)"; echo $?) \
	"a finding names the role summary.csv says limited the cell" "$line"
line=$(finding_with limited_by "")
ok $(! echo "$line" | grep -q "set the pace"; echo $?) "... and none where it names none" "$line"

# --- cells bounded by --time do not speak for the sized ones ---------------------------------
cl run --scenario relay --strategy readwrite,splice --time 300ms --reps 1 --warmup 0 --no-perf \
	--out "$TMP/timed" --workdir "$TMP"
[ "$RC" -eq 0 ] || cl_desc
mkdir -p "$TMP/mixed" && cp "$TMP/one/env.json" "$TMP/mixed/" &&
	cat "$TMP/one/results.jsonl" "$TMP/timed/results.jsonl" >"$TMP/mixed/results.jsonl" &&
	{ cat "$TMP/one/summary.csv"; tail -n +2 "$TMP/timed/summary.csv"; } >"$TMP/mixed/summary.csv"
cl plot "$TMP/mixed"
line=$(grep '^- relay over tcp' "$TMP/mixed/report.md")
ok $([ "$RC" -eq 0 ] && grep -q '^- relay over tcp (2 MiB, 64 KiB blocks): ' <<<"$line" &&
	grep -q 'over tcp, 2 MiB, block 64 KiB: the copy ledger' "$TMP/mixed/plots/ledger-relay-tcp.svg"; echo $?) \
	"with a timed relay beside it, the finding and the ledger chart are the 2 MiB cell's" "$line"
# Alone, the timed run is one data point by its time, whatever each strategy's rep moved:
# one table with both strategies, and the finding names the time, not a size.
cl plot "$TMP/timed"
heads=$(grep -c '^\*\*relay over tcp, for 0.3 s, block 64 KiB\*\*' "$TMP/timed/report.md")
rows=$(awk '/^\*\*relay over tcp, for 0.3 s, block 64 KiB\*\*/ { t = 1; next } /^\*\*/ { t = 0 }
	t && /^\| (readwrite|splice) \|/ { n++ } END { print n + 0 }' "$TMP/timed/report.md")
ok $([ "$RC" -eq 0 ] && [ "$heads" = 1 ] && [ "$rows" = 2 ] &&
	grep -q '^- relay over tcp (0.3 s, 64 KiB blocks): ' "$TMP/timed/report.md"; echo $?) \
	"a timed run alone: one table 'for 0.3 s' holding both strategies, and the finding says 0.3 s" \
	"$(grep -n 'relay over tcp' "$TMP/timed/report.md" | head)"

# --- a hostile results directory runs nothing through gnuplot ---------------------------------
# gnuplot runs `...` as a shell command even inside double quotes, and a record's texts (a
# strategy, a role) end up in its scripts: a strategy and a role named with backquotes and quotes.
H=$TMP/hostile
mkdir -p "$H" && cp "$TMP/timed/env.json" "$H/" &&
	jq -c --arg cmd "touch $TMP/PWNED" '.strategy = "x`\($cmd)`\"'"'"'q" | .intervals[0].cpu["y'"'"'; system(\"\($cmd)2\"); z=\u0027"] = 0.1' \
		"$TMP/timed/results.jsonl" >"$H/results.jsonl" &&
	sed -E 's/^(relay,tcp,[0-9]+,[0-9]+,)readwrite,/\1x`touch '"${TMP//\//\\/}"'\/PWNED`,/' "$TMP/timed/summary.csv" >"$H/summary.csv"
cl plot "$H"
ok $([ ! -e "$TMP/PWNED" ] && [ ! -e "$TMP/PWNED2" ]; echo $?) \
	"plot of records with backquotes and quotes in a strategy and a role name runs no command (exit $RC)" \
	"$(ls "$TMP" | grep PWNED)"

# a malformed peers.jsonl is named with its line
printf '{"schema":"copylab.peer/1","scenario":"serve"}\n' >"$TMP/badpeers.jsonl"
mkdir -p "$TMP/badp" && cp "$TMP/parts/serve-tcp/"{results.jsonl,env.json,summary.csv} "$TMP/badp/" &&
	cp "$TMP/badpeers.jsonl" "$TMP/badp/peers.jsonl"
cl plot "$TMP/badp"
ok $([ "$RC" -eq 1 ] && grep -q "peers.jsonl:1: key 'strategy' is missing" "$ERR"; echo $?) \
	"a malformed peers.jsonl: exit 1 naming the file and line" "$(cl_desc)"

done_testing
