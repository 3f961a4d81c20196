#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --conns N: N parallel connections share --size in serve and relay, each
# carrying its own slice of the pattern.  Every serve and relay strategy at
# 1, 2, 8 and 64 connections, two sizes, over tcp and unix (and relay over
# veth and routed at 8): verified, the
# exact byte counts at every role, the record's conns and per_conn spread
# consistent with its bytes and wall time; damage that crosses from one
# connection into another is caught and located; bad uses refused.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

# 65537 = 64 KiB + 1 (64 connections: some get 1024 bytes, some 1025);
# 1 MiB + 1 (a share crosses the verifier's 64 KiB chunks unaligned).
SIZES="65537 1048577"
CONNS="1 2 8 64"

is_root() { [ "$(id -u)" -eq 0 ]; }

# The strategies --strategy all must run: supported over the transport, and
# (not root) without the ones that need a privilege.
expected_all() {
	jq -r --arg sc "$1" --arg tr "$2" --argjson root "$(is_root && echo true || echo false)" \
		'.strategies[] | select(.scenarios[$sc].ok and (.transports[$tr].ok != false)
			and ($root or (.needs_privilege == null))) | .name' "$LIST_JSON" | sort | paste -sd' '
}

for sc in serve relay; do
	tested=$(tested_role "$sc")
	sink=$(sink_role "$sc")
	for tr in tcp unix; do
		want=$(expected_all "$sc" "$tr")
		for n in $CONNS; do
			for size in $SIZES; do
				name="$sc over $tr, $n conns, $size bytes"
				dir=$TMP/$sc-$tr-$n-$size
				cl run --scenario "$sc" --strategy all --transport "$tr" --conns "$n" --size "$size" \
					--reps 1 --warmup 0 --no-perf --out "$dir" --workdir "$TMP"
				J=$dir/results.jsonl
				if [ "$RC" -ne 0 ] || [ ! -s "$J" ]; then
					fail "$name: exit 0 with records"
					cl_desc
					continue
				fi
				is "$(jq -r '.strategy' "$J" | sort | paste -sd' ')" "$want" \
					"$name: every strategy ran ($want)"
				problems=$(jq -r --argjson n "$n" --argjson size "$size" \
					--arg t "$tested" --arg s "$sink" '
					"\(.strategy): " + ([
					(if .verify != "ok" then "verify \(.verify): \(.verify_note)" else empty end),
					(if .conns != $n then "conns \(.conns)" else empty end),
					(if .bytes != $size then "bytes \(.bytes)" else empty end),
					(if .roles[$t].bytes != $size then "\($t) moved \(.roles[$t].bytes)" else empty end),
					(if .roles[$s].bytes != $size then "\($s) received \(.roles[$s].bytes)" else empty end),
					(if .per_conn.bytes_min != (($size / $n) | floor) then "bytes_min \(.per_conn.bytes_min)" else empty end),
					(if .per_conn.bytes_max != (($size / $n) | ceil) then "bytes_max \(.per_conn.bytes_max)" else empty end),
					(.per_conn.completion_s as $c |
					 if ($c.min <= $c.median and $c.median <= $c.max and $c.max <= .wall_s * 1.000001 and $c.min > 0) | not
					 then "completion_s \($c) against wall_s \(.wall_s)" else empty end),
					(.per_conn.bytes_per_s as $b |
					 if ($b.min <= $b.median and $b.median <= $b.max) | not then "bytes_per_s \($b)" else empty end),
					(if .nonblock != ($n > 1) then "nonblock \(.nonblock) with \($n) conns" else empty end)
					] | join("; "))' "$J" 2>&1 | grep -v ': $')
				is "$problems" "" "$name: verified, exact bytes at $tested and $sink, per_conn consistent"
			done
		done
	done
done

# Over veth (two namespaces): the N pairs are made in them as for one.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "veth needs root and iproute2" "relay over veth, 8 conns"
else
	cl run --scenario relay --strategy readwrite,splice --transport veth --conns 8 --size 1048577 \
		--reps 1 --warmup 0 --no-perf --out "$TMP/veth" --workdir "$TMP"
	is "$(jq -r '"\(.strategy):\(.verify):\(.conns):\(.roles.sink.bytes)"' "$TMP/veth/results.jsonl" 2>/dev/null | paste -sd' ')" \
		"readwrite:ok:8:1048577 splice:ok:8:1048577" "relay over veth, 8 conns: verified, exact bytes" "$(cl_desc)"
	is "$(jq -r '"\(.roles.source.tcp_send.sockets):\(.roles.relay.tcp_send.sockets):\(.roles.sink.tcp_send)"' \
		"$TMP/veth/results.jsonl" 2>/dev/null | paste -sd' ')" "8:8:null 8:8:null" \
		"... TCP_INFO of all 8 sending sockets in the source's and the relay's tcp_send; the sink sends none"
fi
# Over routed (a router namespace between two veth links), --strategy all:
# every relay strategy with a process, nat left out (it has none to drive).
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "routed needs root and iproute2" "relay over routed, 8 conns"
else
	want=$(expected_all relay routed | tr ' ' '\n' | grep -vx nat | paste -sd' ')
	cl run --scenario relay --strategy all --transport routed --conns 8 --size 1048577 \
		--reps 1 --warmup 0 --no-perf --out "$TMP/routed" --workdir "$TMP"
	is "$(jq -r 'select(.verify == "ok" and .conns == 8 and .roles.sink.bytes == 1048577) | .strategy' \
		"$TMP/routed/results.jsonl" 2>/dev/null | sort | paste -sd' ')" "$want" \
		"relay over routed, 8 conns: every strategy but nat verified, exact bytes" "$(cl_desc)"
fi

# The same bytes give the same digest whatever strategy moved them.
is "$(jq -r '.digest' "$TMP"/relay-tcp-8-1048577/results.jsonl | sort -u | wc -l)" 1 \
	"relay 8 conns: one digest for every strategy"
d1=$(jq -r '.digest' "$TMP"/relay-tcp-1-1048577/results.jsonl | sort -u)
d8=$(jq -r '.digest' "$TMP"/relay-tcp-8-1048577/results.jsonl | sort -u)
ok $([ -n "$d1" ] && [ "$d1" != "$d8" ]; echo $?) \
	"the digest of 8 connections is over theirs, not the one stream's ($d1 vs $d8)"

# Damage that crosses a connection boundary: blocks swapped between
# connection 1 (bytes 0..1 MiB) and 2 are caught, naming the connection.
cl run --scenario relay --strategy splice --conns 8 --size 8M --reps 1 --warmup 0 \
	--fault swap@1044480 --out "$TMP/swap" --workdir "$TMP"
ok $([ "$RC" -eq 1 ] && grep -q "connection 1 of 8 (payload offset 1044480 of its bytes 0..1048576)" "$ERR"; echo $?) \
	"a block swapped across connections 1 and 2 fails the run, naming connection 1 and the offset" "$(cl_desc)"
cl run --scenario serve --strategy sendfile --conns 8 --size 8M --reps 1 --warmup 0 \
	--fault flip@3000000 --out "$TMP/flip" --workdir "$TMP"
ok $([ "$RC" -eq 1 ] && grep -q "connection 3 of 8 (payload offset 3000000 " "$ERR"; echo $?) \
	"a flipped bit in the file fails serve, naming connection 3 and the payload offset" "$(cl_desc)"
ok $([ ! -e "$TMP/flip/results.jsonl" ] || [ ! -s "$TMP/flip/results.jsonl" ]; echo $?) \
	"no record for the failed rep"

# Usage errors.
expect_usage_error "--conns 0" "--conns" run --scenario relay --strategy splice --conns 0 --out "$TMP/bad"
expect_usage_error "--conns 257" "--conns" run --scenario relay --strategy splice --conns 257 --out "$TMP/bad"
expect_usage_error "--conns on copy" "parallel connections apply to serve and relay" \
	run --scenario copy --strategy readwrite --conns 4 --out "$TMP/bad"
expect_usage_error "--sweep conns on send" "parallel connections apply to serve and relay" \
	run --scenario send --strategy readwrite --sweep conns=1..4 --out "$TMP/bad"
expect_usage_error "--conns with --sink discard" "sink discard" \
	run --scenario relay --strategy splice --conns 4 --sink discard --out "$TMP/bad"
expect_usage_error "--conns with --fault drop@" "flip@ or swap@" \
	run --scenario relay --strategy splice --conns 4 --fault drop@4096 --out "$TMP/bad"
expect_usage_error "--conns over lo-ns" "lo-ns the fixed source sends with MSG_ZEROCOPY" \
	run --scenario relay --strategy readwrite --transport lo-ns --conns 2 --out "$TMP/bad"
expect_usage_error "--conns with --fault sink-reset=" "acts on one connection" \
	run --scenario relay --strategy splice --conns 4 --fault sink-reset=4096 --out "$TMP/bad"
expect_usage_error "--sweep conns=1..512" "at most 256" \
	run --scenario relay --strategy splice --sweep conns=1..512 --out "$TMP/bad"
if jq -e '.strategies[] | select(.name == "nat")' "$LIST_JSON" >/dev/null; then
	expect_usage_error "nat with --conns: its table says no process plays the relay" \
		"nat cannot run --conns: no process plays the relay \\(kernel NAT" \
		run --scenario relay --strategy nat --transport routed --conns 4 --out "$TMP/bad"
fi
ok $([ ! -e "$TMP/bad" ]; echo $?) "no results directory from a usage error"

# --sweep conns=1..8: one cell per power of two, each in the summary.
cl run --scenario relay --strategy readwrite,splice --sweep conns=1..8 --size 1M --reps 1 --warmup 0 \
	--no-perf --out "$TMP/sweep" --workdir "$TMP"
is "$RC" 0 "--sweep conns=1..8 runs" "$(cl_desc)"
is "$(jq -r '"\(.strategy):\(.conns)"' "$TMP/sweep/results.jsonl" | sort -t: -k2n -k1 | paste -sd' ')" \
	"readwrite:1 splice:1 readwrite:2 splice:2 readwrite:4 splice:4 readwrite:8 splice:8" \
	"--sweep conns: each strategy at 1, 2, 4, 8 connections"
is "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "conns") c = i; next } { print $5 ":" $c }' \
	"$TMP/sweep/summary.csv" | sort -t: -k2n -k1 | paste -sd' ')" \
	"readwrite:1 splice:1 readwrite:2 splice:2 readwrite:4 splice:4 readwrite:8 splice:8" \
	"summary.csv: one row per (conns, strategy), with a conns column"

done_testing
