#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab advise` ranks every strategy of a scenario by throughput and by
# CPU per GiB (role and system-wide), from its own run or from --from DIR,
# prints caveats (--conns passed on to the run), and refuses bad usage
# (and --conns while the harness lacks it) with exit 2.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"
grep -qE '^  advise ' <<<"$("$COPYLAB" --help 2>&1)" || skip_all "this copylab has no advise command (harness/cli/main.c does not list it yet)"

"$COPYLAB" advise >/dev/null 2>&1; is $? 2 "advise without --scenario exits 2"
"$COPYLAB" advise --scenario nowhere >/dev/null 2>&1; is $? 2 "advise with an unknown scenario exits 2"
"$COPYLAB" advise --scenario relay --size lots >/dev/null 2>&1; is $? 2 "advise with a bad size exits 2"

D=$TMP/adv
"$COPYLAB" advise --scenario relay --size 4M --reps 3 --out "$D" >"$TMP/a.out" 2>"$TMP/a.err"; rc=$?
is "$rc" 0 "advise --scenario relay runs and ranks" || diag_file "$TMP/a.err"
for section in 'By throughput' 'By CPU of the relay per GiB' 'By system-wide CPU per GiB' 'Caveats:'; do
	grep -qF "$section" "$TMP/a.out"; ok $? "advise prints '$section'" "$(cat "$TMP/a.out")"
done
ranked=$(sed -n '/^By throughput/,/^$/p' "$TMP/a.out" | grep -cE '^  [0-9]+\. ')
n_relay=$("$COPYLAB" list --json | jq '[.strategies[] | select(.scenarios.relay.ok and (.transports.tcp.ok != false))] | length')
is "$ranked" "$n_relay" "relay ranks every strategy that can relay over tcp ($n_relay) by throughput"
grep -qE '^  1\. ' "$TMP/a.out" && grep -q 'readwrite' "$TMP/a.out" && grep -q 'splice' "$TMP/a.out"
ok $? "both strategies are named"
grep -qE 'paired over [0-9]+ reps: (no difference measured|apart)' "$TMP/a.out"
ok $? "the top two are compared pair by pair"
[ -s "$D/results.jsonl" ]; ok $? "the run's records are kept in --out"

"$COPYLAB" advise --scenario relay --from "$D" >"$TMP/b.out" 2>&1; rc=$?
is "$rc" 0 "advise --from DIR reads an earlier run"
is "$(sed -n '/^By throughput/,/^$/p' "$TMP/b.out" | grep -cE '^  [0-9]+\. ')" "$ranked" "--from ranks the same strategies"
"$COPYLAB" advise --scenario serve --from "$D" >/dev/null 2>&1; is $? 1 "--from a run without that scenario exits 1"

if "$COPYLAB" run --help 2>&1 | grep -q -- '--conns'; then
	"$COPYLAB" advise --scenario relay --conns 4 --size 2M --reps 2 --out "$TMP/advc" >"$TMP/c.out" 2>"$TMP/c.err"; rc=$?
	is "$rc" 0 "advise --conns 4 runs and ranks" || diag_file "$TMP/c.err"
	is "$(jq -r '.conns' "$TMP/advc/results.jsonl" 2>/dev/null | sort -u | paste -sd' ')" 4 \
		"advise --conns 4: every record of its run has 4 connections"
	grep -q '4 connections shared the size' "$TMP/c.out"; ok $? "and its caveats say so" "$(cat "$TMP/c.out")"
else
	"$COPYLAB" advise --scenario relay --conns 8 >/dev/null 2>"$TMP/c.err"; rc=$?
	is "$rc" 2 "advise --conns exits 2 while the harness lacks --conns"
	grep -q 'not yet supported' "$TMP/c.err"; ok $? "and says why" "$(cat "$TMP/c.err")"
fi
done_testing
