#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab advise`: from its own run or --from DIR, it says what to choose
# (one sentence), ranks every strategy of the scenario on each figure in tie
# groups whose verdicts agree with the ranks, prints the block and pipe each
# ran with, names what it did not test and why (from the strategies'
# tables), and the caveats of the scenario; --strategy, --conns and --peer
# shape its run; bad usage (and an --out that exists) exits 2.
# The reasoning on synthetic records is tests/unit/test_advise.c.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

"$COPYLAB" advise >/dev/null 2>&1; is $? 2 "advise without --scenario exits 2"
"$COPYLAB" advise --scenario nowhere >/dev/null 2>&1; is $? 2 "advise with an unknown scenario exits 2"
"$COPYLAB" advise --scenario relay --size lots >/dev/null 2>&1; is $? 2 "advise with a bad size exits 2"
"$COPYLAB" advise --scenario relay --peer 10.1.1.2:9000 >/dev/null 2>"$TMP/p.err"; is $? 2 "--peer without --transport nic exits 2"
grep -q 'needs --transport nic' "$TMP/p.err"; ok $? "and says what it needs" "$(cat "$TMP/p.err")"
"$COPYLAB" advise --scenario relay --key /dev/null >/dev/null 2>&1; is $? 2 "--key without --peer exits 2"
mkdir -p "$TMP/exists"
"$COPYLAB" advise --scenario relay --out "$TMP/exists" >/dev/null 2>"$TMP/x.err"; is $? 2 "an --out that exists exits 2"
grep -q 'already exists: name a new directory' "$TMP/x.err"; ok $? "and suggests a new name" "$(cat "$TMP/x.err")"

D=$TMP/adv
"$COPYLAB" advise --scenario relay --size 4M --reps 3 --out "$D" >"$TMP/a.out" 2>"$TMP/a.err"; rc=$?
is "$rc" 0 "advise --scenario relay runs and ranks" || diag_file "$TMP/a.err"
for section in 'On this machine, for this workload (relay over tcp, 4 MiB per transfer, 64 KiB blocks): ' \
	'By throughput' 'By CPU of the relay per GiB' 'By system-wide CPU per GiB' \
	'Not tested here:' 'Not what the name suggests:' 'Caveats:'; do
	grep -qF "$section" "$TMP/a.out"; ok $? "advise prints '$section'" "$(cat "$TMP/a.out")"
done
# rows of a ranking: "  1   label ...", "  1=  label ...", "  -   label ..."
rows() { sed -n "/^By $1/,/^\$/p" "$2" | grep -E '^  ([0-9]+=?|-) +[a-z]'; }
ranked=$(rows throughput "$TMP/a.out" | wc -l)
n_relay=$("$COPYLAB" list --json | jq '[.strategies[] | select(.scenarios.relay.ok and (.transports.tcp.ok != false))] | length')
is "$ranked" "$n_relay" "relay ranks every strategy that can relay over tcp ($n_relay) by throughput"
pick=$(sed -n 's/^On this machine, for this workload ([^)]*): \([a-z_:=0-9]*\)[;.].*/\1/p' "$TMP/a.out")
rows throughput "$TMP/a.out" | grep -qE "^  [0-9]+=? +$pick "
ok $? "the recommendation names a ranked strategy ('$pick')" "$(head -3 "$TMP/a.out")"
# Verdicts and ranks agree: the leader's group holds no difference (or
# unresolved); every row below it is apart or suggestive from the leader.
bad=$(for fig in throughput 'CPU of the relay' 'system-wide CPU'; do
	rows "$fig" "$TMP/a.out" | awk '
		$1 == "1" { next }
		$1 ~ /^1=$/ { if ($0 !~ /(no difference|unresolved)/) print; next }
		$1 ~ /^[0-9]+=?$/ { if ($0 !~ /(apart|suggestive)/) print }'
done)
checked=$(for fig in throughput 'CPU of the relay' 'system-wide CPU'; do rows "$fig" "$TMP/a.out"; done | grep -c .)
is "$checked" $((3 * n_relay)) "three rankings of every strategy are there to check"
is "$bad" "" "each rank agrees with its verdict against the leader"
# sockmap's relay process does almost nothing (softirq does its work): it
# must not lead the relay-CPU ranking and make every ratio 100x or more.
if grep -qE '^  [0-9]+=? +sockmap ' "$TMP/a.out"; then
	role_rows=$(rows 'CPU of the relay' "$TMP/a.out")
	ok $(! grep -qE '^  [0-9]+=? +sockmap ' <<<"$role_rows" &&
		grep -E '^  - +sockmap ' <<<"$role_rows" | grep -q 'not ranked: its redirects run in softirq'
		echo $?) "sockmap is shown under the relay-CPU ranking, not ranked in it, with why" "$role_rows"
else
	skip "sockmap did not run (not root?)" "sockmap is shown under the relay-CPU ranking, not ranked in it"
fi
rows throughput "$TMP/a.out" | grep -v '  1 ' | grep -qE 'x[0-9.]+ \[[0-9.]+\.\.[0-9.]+\]'
ok $? "each strategy below the leader has its paired ratio and interval"
rows throughput "$TMP/a.out" | grep -E '^  [0-9]+=? +splice ' | grep -qE 'block 64 KiB, pipe [0-9]+ KiB'
ok $? "splice's rank shows the block and the pipe it ran with"
grep -qE '^  - nat \(not over this transport\): .*routed' "$TMP/a.out"
ok $? "nat is named as not tested over tcp, with the reason from its table" "$(sed -n '/^Not tested/,/^$/p' "$TMP/a.out")"
grep -qE '^  - sendfile \(not this scenario\): ' "$TMP/a.out"; ok $? "sendfile is named as not a relay"
grep -qF "splice needs: Linux 2.6.17" "$TMP/a.out"; ok $? "the caveats carry the strategy's table (splice's needs)"
grep -qF -- '(--conns N)' "$TMP/a.out"; ok $? "relay's caveats suggest --conns, which relay accepts"
[ -s "$D/results.jsonl" ]; ok $? "the run's records are kept in --out"

# Without --out, in a directory with no results/ yet: the run's own lines go
# to its log beside its directory, not to advise's stderr.
mkdir -p "$TMP/fresh"
(cd "$TMP/fresh" && "$COPYLAB" advise --scenario copy --size 64K --reps 1 --strategy readwrite >/dev/null 2>"$TMP/f.err"); rc=$?
is "$rc" 0 "advise without --out runs into results/advise-copy-TIME" || diag_file "$TMP/f.err"
is "$(grep -v '^advise: running copylab run' "$TMP/f.err")" "" "and its stderr holds only what it ran (the run's lines are in its log)"
ls "$TMP"/fresh/results/advise-copy-*.log >/dev/null 2>&1; ok $? "the run's log is beside its directory"

"$COPYLAB" advise --scenario relay --from "$D" >"$TMP/b.out" 2>&1; rc=$?
is "$rc" 0 "advise --from DIR reads an earlier run"
is "$(rows throughput "$TMP/b.out" | wc -l)" "$ranked" "--from ranks the same strategies"
"$COPYLAB" advise --scenario serve --from "$D" >/dev/null 2>&1; is $? 1 "--from a run without that scenario exits 1"
"$COPYLAB" advise --scenario relay --from "$D" --strategy splice >/dev/null 2>&1; is $? 2 "--from with --strategy exits 2"

# --from a run bounded by --time: each rep moved its own count, and the reps
# still pair by their number (a ratio with an interval, not "not paired").
"$COPYLAB" run --scenario relay --strategy readwrite,splice --time 300ms --reps 3 --warmup 0 --no-perf \
	--out "$TMP/timed" >/dev/null 2>"$TMP/timed.err"; rc=$?
is "$rc" 0 "a relay run bounded by --time 300ms" || diag_file "$TMP/timed.err"
"$COPYLAB" advise --scenario relay --from "$TMP/timed" >"$TMP/t.out" 2>&1; rc=$?
second=$(rows throughput "$TMP/t.out" | sed -n 2p)
ok $([ "$rc" -eq 0 ] && grep -qF '(relay over tcp, 0.3 s a repetition, 64 KiB blocks): ' "$TMP/t.out" &&
	[ "$(rows throughput "$TMP/t.out" | wc -l)" -eq 2 ] &&
	grep -qE ' x[0-9.]+ \[[0-9.]+\.\.[0-9.]+\] ' <<<"$second" && ! grep -q 'not paired' "$TMP/t.out"; echo $?) \
	"advise --from a timed run: the workload is its time, and its 3 reps a side are paired" "$(head -12 "$TMP/t.out")"

# --rps: latency at an offered load is a second axis (echo, and relay's round trip)
"$COPYLAB" advise --scenario serve --rps 100 >/dev/null 2>"$TMP/r.err"; is $? 2 "--rps on serve exits 2"
grep -q 'only echo and relay' "$TMP/r.err"; ok $? "and says which scenarios send requests" "$(cat "$TMP/r.err")"
"$COPYLAB" run --scenario relay --strategy readwrite,splice --block 1K --sweep rps=1024..2048 --size 256K --reps 2 \
	--warmup 0 --no-perf --out "$TMP/load" >/dev/null 2>"$TMP/load.err"; rc=$?
is "$rc" 0 "a relay round trip at two offered loads" || diag_file "$TMP/load.err"
"$COPYLAB" advise --scenario relay --from "$TMP/load" --rps 2048 >"$TMP/l.out" 2>&1; rc=$?
is "$rc" 0 "advise --from a load sweep --rps 2048 ranks that load"
ok $(grep -qF '1 KiB blocks, 2048 requests/s offered): ' "$TMP/l.out" &&
	grep -q 'the offered load (2048 requests/s, open loop) set every strategy.s throughput' "$TMP/l.out" &&
	[ "$(rows 'round-trip latency p99' "$TMP/l.out" | wc -l)" -eq 2 ] &&
	! grep -q 'the latency of a request is not measured' "$TMP/l.out"; echo $?) \
	"its advice names the load, does not rank by the schedule's throughput, and ranks the round trips' p99" \
	"$(head -20 "$TMP/l.out")"
"$COPYLAB" advise --scenario relay --from "$TMP/load" --rps 3000 >/dev/null 2>"$TMP/l.err"; rc=$?
ok $([ "$rc" -eq 1 ] && grep -q 'no relay record at 3000 requests/s offered' "$TMP/l.err"; echo $?) \
	"a load the run did not offer: exit 1, named" "$(cat "$TMP/l.err")"

"$COPYLAB" advise --scenario copy --size 1M --reps 2 --strategy readwrite,copy_file_range --out "$TMP/copy" \
	>"$TMP/c.out" 2>"$TMP/c.err"; rc=$?
is "$rc" 0 "advise --strategy runs only the labels given" || diag_file "$TMP/c.err"
is "$(rows throughput "$TMP/c.out" | wc -l)" 2 "and ranks those two"
grep -qF -- '--conns' "$TMP/c.out"; is $? 1 "copy's caveats do not suggest --conns (copy has no connections)"
grep -qF 'no fsync' "$TMP/c.out"; ok $? "copy's caveats say no fsync was timed"
grep -qF 'copy_file_range needs: Linux 4.5 or later' "$TMP/c.out"; ok $? "and copy_file_range's needs"

"$COPYLAB" advise --scenario relay --conns 4 --size 2M --reps 2 --strategy readwrite,splice --out "$TMP/advc" \
	>"$TMP/n.out" 2>"$TMP/n.err"; rc=$?
is "$rc" 0 "advise --conns 4 runs and ranks" || diag_file "$TMP/n.err"
is "$(jq -r '.conns' "$TMP/advc/results.jsonl" 2>/dev/null | sort -u | paste -sd' ')" 4 \
	"advise --conns 4: every record of its run has 4 connections"
grep -q '4 connections shared the size' "$TMP/n.out"; ok $? "and its caveats say so" "$(cat "$TMP/n.out")"

"$COPYLAB" advise --scenario echo --size 256K --reps 2 --strategy readwrite,splice --out "$TMP/echo" \
	>"$TMP/e.out" 2>"$TMP/e.err"; rc=$?
is "$rc" 0 "advise --scenario echo runs" || diag_file "$TMP/e.err"
is "$(rows 'round-trip latency p99' "$TMP/e.out" | wc -l)" 2 "echo is ranked by round-trip latency p99 too"
done_testing
