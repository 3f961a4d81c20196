#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The results of a run: results.jsonl (one copylab.rep/1 record per counted
# repetition, every key with its type), summary.csv (one row per strategy),
# env.json, no temporary files left, and --json printing exactly the
# records on stdout.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

SIZE=1048576
OUTDIR=$TMP/cell
cl run --scenario serve --strategy readwrite,sendfile --transport tcp --size 1M \
	--reps 2 --warmup 1 --out "$OUTDIR"
ok $([ "$RC" -eq 0 ]; echo $?) "serve readwrite,sendfile 1M x2: exit 0" "$(cl_desc)"
cp "$OUT" "$TMP/table.out"
J=$OUTDIR/results.jsonl

# --- results.jsonl ------------------------------------------------------------------

ok $([ -s "$J" ] && jsonl_valid "$J"; echo $?) "results.jsonl: every line is a JSON object"
is "$(wc -l <"$J" 2>/dev/null | tr -d ' ')" 4 "results.jsonl: one line per counted rep (2 strategies x 2 reps; no warm-up)"

is "$(jq -s -r 'map("\(.strategy):\(.rep)") | sort | join(" ")' "$J")" \
	"readwrite:1 readwrite:2 sendfile:1 sendfile:2" "records: reps numbered 1..2 for each strategy"

# Every key of the record, with its type.
problems=$(jq -r '
	def need(k; t): if has(k) | not then "missing \(k)"
		elif (.[k] | type) != t then "\(k) is \(.[k] | type), not \(t)" else empty end;
	"rep \(.strategy)/\(.rep): " + ([
		need("schema"; "string"), need("run_id"; "string"), need("scenario"; "string"),
		need("strategy"; "string"), need("strategy_base"; "string"), need("transport"; "string"),
		need("bytes"; "number"), need("block"; "number"), need("rep"; "number"),
		need("wall_s"; "number"), need("bytes_per_s"; "number"), need("verified"; "boolean"),
		need("verify"; "string"), need("verify_note"; "string"), need("nonblock"; "boolean"),
		need("pipe_size"; "number"), need("roles"; "object"),
		(if has("digest") | not then "missing digest"
		 elif (.digest | type) == "string" or (.digest | type) == "number" then empty
		 else "digest is \(.digest | type)" end),
		(if has("status") | not then "missing status"
		 elif .status == 0 or .status == "ok" then empty
		 else "status is \(.status)" end)
	] | join("; "))' "$J" 2>&1 | grep -v ': $')
is "$problems" "" "records: every key present with its type"

problems=$(jq -r '
	def rolekeys: ["under_test","cpu_user_s","cpu_sys_s","cpu_per_gib_s","ctx_voluntary",
		"ctx_involuntary","faults_minor","faults_major","bytes","calls","short_ops","eagain","eintr"];
	.strategy as $s | .roles | to_entries[] | .key as $role | .value as $v |
	rolekeys[] | . as $k |
	if ($v | has($k)) | not then "\($s) \($role): missing \($k)"
	elif $k == "under_test" then (if ($v[$k] | type) != "boolean" then "\($s) \($role).\($k) not boolean" else empty end)
	elif ($v[$k] | type) != "number" then "\($s) \($role).\($k) is \($v[$k] | type)"
	elif $v[$k] < 0 then "\($s) \($role).\($k) is negative"
	else empty end' "$J" 2>&1)
is "$problems" "" "records: every role has every figure, numbers not negative"

is "$(jq -s -r 'map(.roles | keys_unsorted | join(",")) | unique | join(" ")' "$J")" "server,client" \
	"records: serve has roles server (tested first) and client"
is "$(jq -s -r 'map("\(.roles.server.under_test)/\(.roles.client.under_test)") | unique | join(" ")' "$J")" \
	"true/false" "records: the server is under test, the client is not"

is "$(jq -s -r 'map("\(.schema) \(.scenario) \(.transport) \(.bytes) \(.block) \(.verified) \(.verify) \(.nonblock)") | unique | join(";")' "$J")" \
	"copylab.rep/1 serve tcp $SIZE 65536 true ok false" "records: schema, cell, default block 64K, verified, blocking"

is "$(jq -s -r 'map(.run_id) | unique | length' "$J")" 1 "records: one run_id for the whole run"
is "$(jq -s -r 'map("\(.strategy)=\(.strategy_base)") | unique | join(" ")' "$J")" \
	"readwrite=readwrite sendfile=sendfile" "records: strategy_base of plain labels is the label"

is "$(jq -s -r 'map(select(.roles.server.bytes != 1048576 or .roles.client.bytes != 1048576)) | length' "$J")" 0 \
	"records: server sent and client received 1 MiB"

# The same bytes hash the same, whatever moved them.
is "$(jq -s -r 'map(.digest | tostring) | unique | length' "$J")" 1 "records: one digest for the same payload across strategies and reps"

problems=$(jq -r 'select(.wall_s <= 0 or (.bytes_per_s - .bytes / .wall_s | fabs) > 0.01 * .bytes_per_s) |
	"\(.strategy)/\(.rep): wall_s \(.wall_s) bytes_per_s \(.bytes_per_s)"' "$J" 2>&1)
is "$problems" "" "records: wall_s > 0 and bytes_per_s = bytes / wall_s"

# 1 MiB in 64 KiB blocks: readwrite's server reads and writes at least 16 times each.
is "$(jq -s -r 'map(select(.strategy == "readwrite" and .roles.server.calls < 32)) | length' "$J")" 0 \
	"records: readwrite's server counts its calls (>= 32 for 1 MiB in 64 KiB blocks)"
is "$(jq -s -r 'map(select(.roles.server.cpu_user_s + .roles.server.cpu_sys_s <= 0 and .roles.client.cpu_user_s + .roles.client.cpu_sys_s <= 0)) | length' "$J")" 0 \
	"records: some CPU time is measured"

# --- summary.csv --------------------------------------------------------------------

S=$OUTDIR/summary.csv
header=$(head -n 1 "$S" 2>/dev/null)
col=$(tr ',' '\n' <<<"$header" | grep -nx 'strategy' | cut -d: -f1)
ok $([ -n "$col" ] && grep -q "scenario" <<<"$header"; echo $?) "summary.csv: a header naming scenario and strategy" "header: '$header'"
if [ -n "$col" ]; then
	got=$(tail -n +2 "$S" | cut -d, -f"$col" | tr -d '"' | sort | tr '\n' ' ')
else
	got="(no strategy column)"
fi
is "${got% }" "readwrite sendfile" "summary.csv: one row per strategy"

# --- env.json -----------------------------------------------------------------------

E=$OUTDIR/env.json
ok $(jq -e 'type == "object"' "$E" >/dev/null 2>&1; echo $?) "env.json is a JSON object"
problems=$(jq -r '
	def need(k; t): if has(k) | not then "missing \(k)"
		elif (.[k] | type) != t then "\(k) is \(.[k] | type)" else empty end;
	[need("kernel"; "string"), need("cpu_model"; "string"), need("cpus_online"; "number"),
	 need("page_size"; "number"), need("pipe_max_size"; "number"),
	 need("copylab_git_rev"; "string"), need("versions"; "object")] | join("; ")' "$E" 2>&1)
is "$problems" "" "env.json: every key with its type"
is "$(jq -r '"\(.kernel) \(.page_size) \(.pipe_max_size) \(.cpus_online)"' "$E" 2>/dev/null)" \
	"$(uname -r) $(getconf PAGESIZE) $(cat /proc/sys/fs/pipe-max-size) $(getconf _NPROCESSORS_ONLN)" \
	"env.json: kernel, page size, pipe-max-size and CPUs are this machine's"

# --- nothing temporary left -----------------------------------------------------------

is "$(find "$OUTDIR" -name '*.tmp' | head -n 3)" "" "no *.tmp file left in the run directory"

# --- the table goes to stdout, or to stderr with --json ----------------------------------

ok $(grep -qw readwrite "$TMP/table.out" && grep -qw sendfile "$TMP/table.out" &&
	! jq -e . "$TMP/table.out" >/dev/null 2>&1; echo $?) "without --json the readable table is on stdout" \
	"$(diag_file "$TMP/table.out" 8)"

cl run --scenario serve --strategy readwrite,sendfile --size 64K --reps 2 --warmup 0 --json --out "$TMP/json"
ok $([ "$RC" -eq 0 ]; echo $?) "--json run: exit 0" "$(cl_desc)"
ok $([ -s "$OUT" ] && jsonl_valid "$OUT"; echo $?) "--json: every stdout line is a JSON object" "$(diag_file "$OUT" 5)"
is "$(jq -c -S . "$OUT" 2>/dev/null)" "$(jq -c -S . "$TMP/json/results.jsonl" 2>/dev/null)" \
	"--json: stdout carries exactly the records of results.jsonl"
ok $(grep -qw readwrite "$ERR" && grep -qw sendfile "$ERR"; echo $?) "--json: the readable table goes to stderr" \
	"$(diag_file "$ERR" 8)"

done_testing
