#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/peers.sh: every server measured once per round, the rounds
# interleaved; records and summary in their schemas; paired ratios that are
# the median of the per-round ratios; bad arguments refused; nothing left
# running.  Small sizes: the figures are checked for shape, not for speed.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

PEERS=$ROOT/scripts/peers.sh
for c in curl bc jq iperf3; do
	command -v "$c" >/dev/null || skip_all "peers.sh needs $c (make deps installs it)"
done

# peers_bad NAME PATTERN ARGS...: exit 2, stderr matching PATTERN, no run.
peers_bad() {
	local name=$1 pattern=$2 rc=0
	shift 2
	COPYLAB="$COPYLAB" timeout 30 "$PEERS" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
	if [ "$rc" -eq 2 ] && grep -Eq -- "$pattern" "$TMP/bad.err" && [ ! -e "$TMP/badrun" ]; then
		pass "$name"
	else
		fail "$name"
		diag "exit $rc, wanted 2 and stderr matching /$pattern/"
		diag_file "$TMP/bad.err" 5
	fi
}
out=$("$PEERS" --help 2>&1)
ok $([ $? -eq 0 ] && echo "$out" | grep -q '^usage: scripts/peers.sh' && echo "$out" | grep -q -- '--reps N'; echo $?) \
	"--help prints the usage and its options" "$out"
peers_bad "--reps 0 is refused" "--reps '0' is not a count" --out "$TMP/badrun" --reps 0
peers_bad "--reps x is refused" "--reps 'x' is not a count" --out "$TMP/badrun" --reps x
peers_bad "--size with a bad unit is refused" "--size '2Q' is not a size" --out "$TMP/badrun" --size 2Q
peers_bad "an unknown argument is refused" "unknown argument '--bogus'" --out "$TMP/badrun" --bogus
peers_bad "--only with an unknown kind is refused" "--only 'echo' is not one of" --out "$TMP/badrun" --only serve,echo

# --only and --serve: only the serve rows, copylab's with the one label asked.
rc=0
COPYLAB="$COPYLAB" timeout -k 5 120 "$PEERS" --no-install --out "$TMP/only" --size 1M --reps 1 --only serve --serve splice \
	>"$TMP/only.out" 2>"$TMP/only.err" || rc=$?
ok "$rc" "peers.sh --only serve --serve splice exits 0" "$(diag_file "$TMP/only.err" 5)"
is "$(jq -r '.scenario' "$TMP/only/peers.jsonl" | sort -u | paste -sd' ')" "serve" "--only serve: serve records only"
is "$(jq -r 'select(.strategy_base == "copylab") | .strategy' "$TMP/only/peers.jsonl" | paste -sd' ')" \
	"copylab:serve-splice" "--serve splice: copylab serve's one row, with that strategy"

# --only wrk: wrk against each server, two files x two connection counts per round.
if command -v wrk >/dev/null; then
	rc=0
	COPYLAB="$COPYLAB" timeout -k 5 120 "$PEERS" --no-install --out "$TMP/wrk" --size 1M --reps 1 --only wrk \
		--serve sendfile,readwrite --wrk-seconds 1 >"$TMP/wrk.out" 2>"$TMP/wrk.err" || rc=$?
	ok "$rc" "peers.sh --only wrk exits 0" "$(diag_file "$TMP/wrk.err" 5)"
	W=$TMP/wrk/peers-wrk.jsonl
	check "peers-wrk.jsonl: every line is a JSON object" jsonl_valid "$W"
	is "$(jq -r 'select(.schema == "copylab.peer-wrk/1" and .verified and .requests > 0 and .server_cpu_s >= 0)
		| "\(.strategy) \(.file_bytes) \(.conns)"' "$W" | grep -c '^copylab:')" 8 \
		"wrk: copylab serve sendfile and readwrite, 64 KiB and 1 MiB files, 1 and 16 connections, each verified" \
		"$(head -c 600 "$W")"
	is "$(jq -r '.rows[] | select(.strategy == "copylab:serve-sendfile") | .vs_sendfile' "$TMP/wrk/peers-wrk-summary.json" | sort -u | paste -sd' ')" \
		"1" "wrk summary: sendfile against itself, paired by round, is 1"
	ok $(grep -q 'x sendfile' "$TMP/wrk.out"; echo $?) "wrk: the table is printed" "$(tail -n 5 "$TMP/wrk.out")"
	peers_bad "--wrk-seconds 0 is refused" "--wrk-seconds '0' is not" --out "$TMP/badrun" --wrk-seconds 0
else
	skip "wrk is not installed" "peers.sh wrk rows"
fi

TAG=$(tag_new)
at_exit "kill_tagged $TAG"
RUN=$TMP/run
rc=0
COPYLAB_TEST_TAG=$TAG COPYLAB="$COPYLAB" timeout -k 5 240 "$PEERS" --no-install --out "$RUN" --size 2M --reps 2 \
	>"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
ok "$rc" "peers.sh --size 2M --reps 2 exits 0" "$(diag_file "$TMP/run.err" 10)"
REC=$RUN/peers.jsonl SUM=$RUN/peers-summary.json

check "peers.jsonl: every line is a JSON object" jsonl_valid "$REC"
is "$(jq -r 'select(.schema != "copylab.peer/1") | .strategy' "$REC" | paste -sd' ')" "" \
	"every record is copylab.peer/1"

# The servers of serve and relay, measured in rounds: each label once per
# round, and round 1 over before round 2 starts.
labels=$(jq -r 'select(.scenario == "serve" or .scenario == "relay") | .strategy' "$REC" | sort -u)
n_servers=$(echo "$labels" | grep -c .)
ok $([ "$n_servers" -ge 2 ]; echo $?) "at least copylab's own servers were measured ($(echo $labels))"
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay") | "\(.strategy) \(.rep)"' "$REC" | sort | uniq -c |
	awk '$1 != 1' | paste -sd' ')" "" "each server has exactly one record per round"
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay") | .strategy' "$REC" | sort | uniq -c |
	awk '$1 != 2 { print $2 }' | paste -sd' ')" "" "each server was measured in both rounds"
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay") | .rep' "$REC" | paste -sd' ' |
	grep -Ec '^(1 )*1( 2)+$')" 1 "the rounds do not overlap: every round-1 record before every round-2 record"
first1=$(jq -r 'select((.scenario == "serve" or .scenario == "relay") and .rep == 1) | .strategy' "$REC" | head -n 1)
first2=$(jq -r 'select((.scenario == "serve" or .scenario == "relay") and .rep == 2) | .strategy' "$REC" | head -n 1)
ok $([ -n "$first1" ] && [ "$first1" != "$first2" ]; echo $?) \
	"the order rotates: round 1 starts with $first1, round 2 with $first2"

# CPU: the role under test by schedstat (or ticks where it is missing), and the whole machine.
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay")
	| select([.roles[] | select(.under_test) | .cpu_clock] != ["schedstat"] and
		 [.roles[] | select(.under_test) | .cpu_clock] != ["ticks"]) | .strategy' "$REC" | paste -sd' ')" "" \
	"every server's CPU names its clock (schedstat or ticks)"
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay")
	| select(any(.roles[] | select(.under_test); (.cpu_s | type) != "number" or .cpu_s < 0)
		 or (.system_cpu.busy_s | type) != "number" or .system_cpu.busy_s < 0) | .strategy' "$REC" | paste -sd' ')" "" \
	"every server record has its role's CPU seconds and the machine's busy seconds"
is "$(jq -r 'select(.strategy_base == "copylab" and .verified != true) | "\(.strategy)#\(.rep)"' "$REC" | paste -sd' ')" "" \
	"every copylab row is verified (serve: cmp of a download; relay: iperf3's two ends)"

# The copy ledger of each server, by copylab probe around its client (root:
# BPF is required here), or a sentence saying why there is none.
if [ "$(id -u)" -eq 0 ]; then
	is "$(jq -r 'select(.strategy_base == "copylab") | select(.roles | to_entries | map(select(.value.under_test))[0].value.bpf.per_gib.syscalls == null)
		| "\(.strategy)#\(.rep)"' "$REC" | paste -sd' ')" "" "every copylab row has its server's BPF ledger, per GiB"
	n=$(jq -r 'select(.strategy == "copylab:serve-readwrite") | .roles.server.bpf.bytes_from_user' "$REC" | head -n 1)
	ok $([ "${n:-0}" -ge $((2 << 20)) ]; echo $?) "copylab serve readwrite wrote the 2 MiB from user memory, by its ledger ($n)"
	n=$(jq -r 'select(.strategy == "copylab:serve-sendfile") | .roles.server.bpf.bytes_in_kernel' "$REC" | head -n 1)
	ok $([ "${n:-0}" -ge $((2 << 20)) ]; echo $?) "copylab serve sendfile moved the 2 MiB inside the kernel, by its ledger ($n)"
fi
is "$(jq -r 'select(.scenario == "serve" or .scenario == "relay")
	| select(.roles | to_entries | map(select(.value.under_test))[0].value | .bpf == null and .bpf_note == null)
	| .strategy' "$REC" | sort -u | paste -sd' ')" "" "a server without a ledger says why (bpf_note)"

# The summary: its schema, and a paired ratio recomputed from the records.
is "$(jq -r '.schema' "$SUM" 2>/dev/null)" "copylab.peers-summary/1" "peers-summary.json has its schema"
is "$(jq -r '.strategies | keys | .[]' "$SUM" 2>/dev/null | sort | paste -sd' ')" \
	"$(jq -r '.strategy' "$REC" | sort -u | paste -sd' ')" "the summary has one entry per label of the records"
# copylab:serve-sendfile / copylab:serve-readwrite is not one of the named
# ratios, so check the arithmetic on a named one whose rows exist here.
ratio_key="" a="" b=""
if grep -q '"peer:nginx-sendfile-on"' "$REC"; then
	ratio_key=serve_throughput_sendfile_vs_nginx a=copylab:serve-sendfile b=peer:nginx-sendfile-on
elif grep -q '"peer:haproxy-splice"' "$REC"; then
	ratio_key=relay_throughput_splice_vs_haproxy a=copylab:relay-splice b=peer:haproxy-splice
fi
if [ -z "$ratio_key" ]; then
	skip "neither nginx nor HAProxy is installed (make deps installs them)" "a paired ratio is the median of the per-round ratios"
	is "$(jq -r '.ratios.serve_throughput_sendfile_vs_nginx.pairs' "$SUM")" 0 "a ratio with a missing row has no pairs"
else
	want=$(jq -rs --arg a "$a" --arg b "$b" '
		[ group_by(.rep)[] | (map(select(.strategy == $a)) | first.bytes_per_s) / (map(select(.strategy == $b)) | first.bytes_per_s) ]
		| sort | (.[0] + .[1]) / 2 | . * 1e6 | round' "$REC")
	is "$(jq -r --arg k "$ratio_key" '.ratios[$k] | "\(.pairs) \(.median * 1e6 | round)"' "$SUM")" "2 $want" \
		"$ratio_key: 2 pairs, and its median is the median of the two rounds' ratios"
	grep -Eq "over 2 rounds; $a / $b\)" "$TMP/run.out"
	ok $? "the printed ratio says how many rounds it pairs" "$(diag_file "$TMP/run.out" 12)"
fi

# Stopped and tidied: no server of ours left, and the 2M data file gone.
ok $(no_leftovers "$TAG"; echo $?) "every server peers.sh started is stopped"
ok $([ ! -e "$RUN/www/data.bin" ]; echo $?) "the test data file is removed"

done_testing
