#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# echo at an offered load (--rps): requests leave open loop, each at its
# scheduled time, and its latency counts from that time (no coordinated
# omission). Checked on data, not timing: every reply verified, one round
# trip per message, the achieved rate bounded by the schedule, and a
# request that left late carries its lateness in its latency. The load
# chart (load-echo-TR) and the mark of a load the client could not offer.
# Unequal sizes (--request N --response M): the answers' bytes checked to
# the byte, and the strategies that can only send back what came refused.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

expect_usage_error "--rps 0 is refused" "--rps: '0' is not a whole number from 1 to 1000000" \
	run --scenario echo --strategy readwrite --rps 0
expect_usage_error "--rps beyond 10^6 is refused" "--rps: '2000000' is not a whole number from 1 to 1000000" \
	run --scenario echo --strategy readwrite --rps 2000000
expect_usage_error "--rps that is not a number is refused" "--rps: 'lots' is not a whole number" \
	run --scenario echo --strategy readwrite --rps lots
expect_usage_error "--rps outside echo and relay is refused, saying where it applies" "only echo and relay" \
	run --scenario store --strategy readwrite --rps 100

# 512 requests of 1 KiB at 4000 a second: about an eighth of a second each rep.
cl run --scenario echo --strategy readwrite,splice --block 1K --size 512K --rps 4000 --reps 2 --warmup 0 \
	--out "$TMP/open" --workdir "$TMP"
is "$RC" 0 "echo --rps 4000 runs" || cl_desc 10
R=$TMP/open/results.jsonl
is "$(jq -s '[.[] | select(.verified == true)] | length' "$R" 2>/dev/null)" 4 \
	"every reply of the open-loop run verified (2 strategies x 2 reps)"
is "$(jq -r '[.latency.offered_rps, .latency.round_trips, .latency.outstanding] | @tsv' "$R" | sort -u)" \
	"$(printf '4000\t512\t256')" "the record says the offered load, one round trip per request, and the cap (256 by default)"
# The last of n requests is due (n-1)/R after the first: no reply can make the rate exceed R * n/(n-1).
bad=$([ -s "$R" ] || echo "no records"; jq -r 'select(.latency.achieved_rps > 4000 * 512 / 511 * 1.001 or .latency.achieved_rps <= 0) |
	"\(.strategy) \(.latency.achieved_rps)"' "$R")
is "$bad" "" "the achieved rate never exceeds what the schedule allows"
bad=$([ -s "$R" ] || echo "no records"; jq -r 'select((.latency.send_lag_max_us | type) != "number" or .latency.send_lag_max_us < 0) | .strategy' "$R")
is "$bad" "" "the open-loop record says how late a request left (send_lag_max_us)"

# Far more requests than the client can send: most leave late, and the
# latency counted from the schedule must hold each one's lateness.
cl run --scenario echo --strategy readwrite --block 1K --size 1M --rps 1000000 --outstanding 8 --reps 1 \
	--warmup 0 --out "$TMP/over" --workdir "$TMP"
is "$RC" 0 "echo --rps 1000000 (beyond what the client can send) runs" || cl_desc 10
O=$TMP/over/results.jsonl
lag=$(jq -r '.latency.send_lag_max_us' "$O")
max=$(jq -r '.latency.max_us' "$O")
awk -v l="$lag" -v m="$max" 'BEGIN { exit !(l > 0 && m + 1 >= l) }'
ok $? "a request that left late counts its lateness: max latency $max µs >= the latest send lag $lag µs"

# Closed loop: no schedule, so no offered load and no lag.
cl run --scenario echo --strategy readwrite --block 1K --size 64K --reps 1 --warmup 0 --out "$TMP/closed" --workdir "$TMP"
is "$RC" 0 "echo without --rps runs closed loop" || cl_desc 10
is "$(jq -r '.latency | [has("offered_rps"), has("send_lag_max_us"), .offered_rps, .send_lag_max_us, .outstanding] | @tsv' \
	"$TMP/closed/results.jsonl")" "$(printf 'true\ttrue\t\t\t1')" \
	"closed loop: offered_rps and send_lag_max_us are there and null, one request in flight"
# A sweep of offered loads: one cell per load, kept apart in summary.csv.
expect_usage_error "--sweep rps= outside echo and relay is refused" "only echo and relay" \
	run --scenario store --strategy readwrite --sweep rps=1024..4096
expect_usage_error "--sweep rps= beyond --rps's limit is refused" "at most 1000000" \
	run --scenario echo --strategy readwrite --sweep rps=1024..2097152
cl run --scenario echo --strategy readwrite,splice --block 1K --size 128K --sweep rps=1024..4096 --reps 2 \
	--warmup 0 --out "$TMP/sweep" --workdir "$TMP"
is "$RC" 0 "echo --sweep rps=1024..4096 runs" || cl_desc 10
S=$TMP/sweep
col=$(head -1 "$S/summary.csv" | tr ',' '\n' | grep -nx rps | cut -d: -f1)
is "$(tail -n +2 "$S/summary.csv" | cut -d, -f5,"${col:-1}" | sort | paste -sd' ')" \
	"readwrite,1024 readwrite,2048 readwrite,4096 splice,1024 splice,2048 splice,4096" \
	"summary.csv keeps each offered load of each strategy apart (its rps column)"
is "$(jq -r '.latency.offered_rps' "$S/results.jsonl" | sort -un | paste -sd' ')" "1024 2048 4096" \
	"each record names its offered load"

# The report: the latency table gains the offered and achieved loads, and a
# table says up to which load each strategy's p99 stayed within the limit.
# The p99s are set here (jq), so the verdict is checked on known figures:
# readwrite within 1000 µs at 1024 and 2048, above at 4096; splice above at 2048.
# Every load counts as offered here (achieved = offered): a loaded machine's
# short cell would be marked, and that mark is checked below on its own.
jq -c '.latency.achieved_rps = .latency.offered_rps |
       if .strategy == "readwrite" then .latency.p99_us = ({"1024": 500, "2048": 800, "4096": 3000}[.latency.offered_rps | tostring])
       else .latency.p99_us = ({"1024": 900, "2048": 1500, "4096": 700}[.latency.offered_rps | tostring]) end' \
	"$S/results.jsonl" >"$S/r.tmp" && mv "$S/r.tmp" "$S/results.jsonl"
cl plot --p99-limit 1000 "$S"
is "$RC" 0 "copylab plot --p99-limit 1000 draws the sweep" || cl_desc 10
grep -q '| strategy | message | outstanding | offered /s | achieved /s | p50 µs | p99 µs |' "$S/report.md"
ok $? "the latency table has the offered and achieved loads"
grep -qF '| readwrite | 1 KiB | 2048 | 4096 |' "$S/report.md"
ok $? "readwrite: p99 within 1000 µs up to 2048/s, above from 4096/s" "$(grep -A5 'stays within' "$S/report.md")"
grep -qF '| splice | 1 KiB | 1024 | 2048 |' "$S/report.md"
ok $? "splice: above from 2048/s, though lower again at 4096/s (the first crossing counts)"
grep -qE '^\| splice \(1024/s offered\) \|.* set by the offered load \|' "$S/report.md"
ok $? "open loop: the throughput ratio says the offered load set it, not a verdict" "$(grep -m3 'offered)' "$S/report.md")"
grep -qE '^- echo over tcp \([0-9]+ [KM]iB, 1 KiB requests\): open loop at [0-9.]+ requests/s offered' "$S/report.md" &&
	! grep -qE '^- echo over tcp .*fastest' "$S/report.md"
ok $? "open loop: the finding names no fastest strategy, the schedule set the throughput" "$(grep -m1 '^- echo' "$S/report.md")"
expect_usage_error "plot --p99-limit that is not a latency is refused" "--p99-limit '0' is not a latency in microseconds" plot --p99-limit 0 "$S"

# The load chart: p50/p99/p99.9 against the offered load, a line set per strategy.
L=$S/plots/load-echo-tcp
ok "$([ -s "$L.png" ] && [ -s "$L.svg" ] && echo 0 || echo 1)" "the sweep draws load-echo-tcp (png and svg)" "$(ls "$S/plots" 2>&1 | paste -sd' ')"
is "$(grep -v '^#' "$L.dat" 2>/dev/null | cut -f1 | paste -sd' ')" "1024 2048 4096" "its x: each offered load, ascending"
is "$(grep -v '^#' "$L.dat" 2>/dev/null | awk -F'\t' '$1 == 4096 { print $4, $8 }')" "3000 700" \
	"its p99 per strategy at 4096/s are the cells' (readwrite 3000, splice 700 µs)"
grep -q 'load-echo-tcp' "$S/report.html"
ok $? "report.html shows the load chart"

# A load the client could not offer (achieved under 90% of offered): said in
# words with both rates, marked in the table, not counted as within the
# limit, and ringed in the chart. The achieved rates are set here (jq), so
# the mark is checked on known figures.
jq -c 'if .strategy == "readwrite" and .latency.offered_rps == 2048 then .latency.achieved_rps = 1000
       else .latency.achieved_rps = .latency.offered_rps end' "$S/results.jsonl" >"$S/r.tmp" && mv "$S/r.tmp" "$S/results.jsonl"
cl plot --p99-limit 1000 "$S"
is "$RC" 0 "copylab plot draws a sweep with a load not offered" || cl_desc 10
grep -qF 'readwrite, 1 KiB messages, 256 outstanding: offered 2048/s, achieved 1000/s — not offered' "$S/report.md"
ok $? "the report says: offered 2048/s, achieved 1000/s, not offered" "$(grep -m2 'achieved' "$S/report.md")"
grep -qE '^\| readwrite \| 1 KiB \| 256 \| 2048 \| 1000 \(not offered\) \|' "$S/report.md"
ok $? "the latency table marks the cell"
grep -qF '| readwrite | 1 KiB | 1024 | 2048 (not offered) |' "$S/report.md"
ok $? "the p99-limit table does not count the load not offered as within the limit"
is "$(grep -v '^#' "$L.dat" | awk -F'\t' '{ print $1, $6, $10 }' | paste -sd' ' -)" \
	"1024 NaN NaN 2048 800 NaN 4096 NaN NaN" "the chart rings readwrite's p99 at 2048/s, and only there"

# --request N --response M: bad sizes, the wrong scenario, and the
# strategies that send back what came are refused before anything is made.
expect_usage_error "--response shorter than the request with a --fault is refused (the damage could land unchecked)" \
	"only the first 100 B of each request reach an answer" \
	run --scenario echo --strategy readwrite --request 1K --response 100 --size 64K --fault flip@5000
expect_usage_error "answers of more than 64 GiB are refused before anything is hashed" \
	"16384 requests would be answered with more than 64 GiB" \
	run --scenario echo --strategy readwrite --request 64 --response 64M --size 1M
expect_usage_error "--response 0 is refused" "--response: '0' is not a size from 1 byte to 64 MiB" \
	run --scenario echo --strategy readwrite --response 0
expect_usage_error "--response above 64 MiB is refused" "--response: '65M' is not a size from 1 byte to 64 MiB" \
	run --scenario echo --strategy readwrite --response 65M
expect_usage_error "--request 0 is refused" "--request: '0' is not a size from 1 byte to 64 MiB" \
	run --scenario echo --strategy readwrite --request 0
expect_usage_error "--request above 64 MiB is refused" "--request: '128M' is not a size from 1 byte to 64 MiB" \
	run --scenario echo --strategy readwrite --request 128M
expect_usage_error "--response outside echo is refused" "--response: only the echo scenario answers requests" \
	run --scenario relay --strategy readwrite --response 4K
expect_usage_error "--request and a different --block are refused" "--request 64 B and --block 1 KiB both set" \
	run --scenario echo --strategy readwrite --request 64 --block 1K --response 4K
expect_usage_error "splice cannot answer another size, and says why" \
	"splice cannot answer with --response .*moves the bytes it receives through a pipe unchanged" \
	run --scenario echo --strategy readwrite,splice --block 1K --response 4K --out "$TMP/refused"
ok "$([ -e "$TMP/refused" ] && echo 1 || echo 0)" "a refused run writes nothing"
expect_usage_error "sockmap cannot answer another size, and says why" "sockmap cannot answer with --response .*redirects each received skb" \
	run --scenario echo --strategy sockmap --block 1K --response 4K
expect_usage_error "a size that is not whole requests is refused" "--size 1000 B is not a whole number of 64 B requests" \
	run --scenario echo --strategy readwrite --request 64 --response 4K --size 1000
expect_usage_error "--response with a fault that acts on an echo is refused" "--response: --fault sink-reset" \
	run --scenario echo --strategy readwrite --block 1K --response 4K --fault sink-reset=8K

# 64 requests of 1 KiB, each answered with 3000 bytes (not a multiple):
# every answer verified, one round trip per request; all leaves out the
# strategies that cannot, naming them.
cl run --scenario echo --strategy all --request 1K --response 3000 --size 64K --reps 1 --warmup 0 \
	--out "$TMP/rr" --workdir "$TMP"
is "$RC" 0 "echo --request 1K --response 3000 runs" || cl_desc 10
RR=$TMP/rr/results.jsonl
is "$(jq -r '[.strategy, .verified, .latency.request_bytes, .latency.response_bytes, .latency.round_trips] | @tsv' "$RR" 2>/dev/null | sort -u)" \
	"$(printf 'readwrite\ttrue\t1024\t3000\t64')" "the record: readwrite, verified, 1024 B requests, 3000 B answers, 64 round trips"
grep -q 'left out .*splice (splice moves the bytes it receives' "$ERR"
ok $? "--strategy all says it left splice out, and why" "$(cat "$ERR")"
cl plot "$TMP/rr"
grep -qF '| readwrite | 1 KiB → 3000 B |' "$TMP/rr/report.md"
ok $? "the latency table says request → answer" "$(grep -m3 'readwrite' "$TMP/rr/report.md")"

# Smaller answers than requests, open loop: still one verified answer each.
cl run --scenario echo --strategy readwrite --request 4K --response 100 --size 256K --rps 4000 --reps 1 \
	--warmup 0 --out "$TMP/rr-small" --workdir "$TMP"
is "$RC" 0 "echo --request 4K --response 100 --rps 4000 runs" || cl_desc 10
is "$(jq -r '[.verified, .latency.response_bytes, .latency.round_trips, .latency.offered_rps] | @tsv' "$TMP/rr-small/results.jsonl" 2>/dev/null)" \
	"$(printf 'true\t100\t64\t4000')" "64 answers of 100 bytes, verified, at the offered load"

# The answers are checked to the byte: a bit flipped in request 4 (offset
# 5000 = 4 * 1024 + 904) first shows in answer 4 at byte 904, answer
# stream offset 4 * 3000 + 904 = 12904.
cl run --scenario echo --strategy readwrite --request 1K --response 3000 --size 64K --reps 1 --warmup 0 \
	--fault flip@5000 --out "$TMP/rr-flip" --workdir "$TMP" --no-bpf --no-perf
[ "$RC" -eq 1 ] && grep -q "verification failed: .*first bad byte at offset 12904 " "$ERR" && [ ! -s "$TMP/rr-flip/results.jsonl" ]
ok $? "a damaged request gives a damaged answer: exit 1, answer offset 12904 named, no record" "$(cat "$ERR")"

# relay --rps: the round trip through the relay under test to a fixed echo
# behind it and back. What the round trip cannot be is refused first.
expect_usage_error "relay --rps with --conns is refused" "relay --rps: the round trip through the relay is one connection each way" \
	run --scenario relay --strategy readwrite --rps 1000 --conns 4
expect_usage_error "relay --sweep rps= with --conns is refused" "relay --rps: the round trip" \
	run --scenario relay --strategy readwrite --sweep rps=1024..2048 --conns 2
expect_usage_error "relay --rps with the discarding sink is refused" "the sink echoes the requests back" \
	run --scenario relay --strategy readwrite --rps 1000 --sink discard
expect_usage_error "relay --rps with a one-way fault is refused" "--fault sink-reset acts on a one-way stream" \
	run --scenario relay --strategy readwrite --rps 1000 --fault sink-reset=8K
expect_usage_error "relay --rps with nat (no process to carry the replies) is refused" "nat cannot run relay --rps: no process plays the relay" \
	run --scenario relay --strategy nat --transport routed --rps 1000
expect_usage_error "--outstanding on relay without --rps is refused" "--outstanding: only the echo scenario, and relay's round trip" \
	run --scenario relay --strategy readwrite --outstanding 4

# 256 requests of 1 KiB at 4000 a second through each relay strategy that
# echo compares (sockmap needs root): every reply verified by the client,
# one round trip each, and the relay moved the bytes both ways.
strats=readwrite,splice
[ "$(id -u)" -eq 0 ] && strats=$strats,sockmap
cl run --scenario relay --strategy "$strats" --block 1K --size 256K --rps 4000 --reps 2 --warmup 0 \
	--out "$TMP/relay-rt" --workdir "$TMP"
is "$RC" 0 "relay --rps 4000 runs ($strats)" || cl_desc 10
RT=$TMP/relay-rt/results.jsonl
n=$(echo "$strats" | tr ',' '\n' | wc -l)
is "$(jq -s '[.[] | select(.verified == true)] | length' "$RT" 2>/dev/null)" $((n * 2)) \
	"every reply through the relay verified ($n strategies x 2 reps)"
is "$(jq -r '[.latency.offered_rps, .latency.round_trips, .latency.message_bytes] | @tsv' "$RT" | sort -u)" \
	"$(printf '4000\t256\t1024')" "each record has the round trips' latency: the offered load, one per request"
bad=$([ -s "$RT" ] || echo "no records"; jq -r 'select(.roles.relay.bytes != 2 * 262144) | "\(.strategy) \(.roles.relay.bytes)"' "$RT")
is "$bad" "" "the relay carried every byte both ways (2 x 256 KiB)"

# Every relay strategy with a process carries the round trip, over the
# routed transport (the relay in the router namespace); all leaves nat out,
# saying why.
if [ "$(id -u)" -eq 0 ]; then
	load_list
	cl run --scenario relay --transport routed --strategy all --rps 4000 --block 1K --size 64K --reps 1 --warmup 0 \
		--out "$TMP/relay-all" --workdir "$TMP"
	is "$RC" 0 "relay --rps over routed runs every relay strategy" || cl_desc 10
	grep -q 'left out nat (relay --rps: no process plays the relay' "$ERR"
	ok $? "--strategy all says it left nat out, and why" "$(head -3 "$ERR")"
	bad=$([ -s "$TMP/relay-all/results.jsonl" ] || echo "no records"
	      jq -r 'select(.verified != true or .latency.round_trips != 64 or .roles.relay.bytes != 131072) | .strategy' \
		"$TMP/relay-all/results.jsonl" 2>/dev/null)
	is "$bad" "" "each carried every round trip both ways, verified"
	is "$(jq -r .strategy "$TMP/relay-all/results.jsonl" 2>/dev/null | sort | paste -sd' ')" \
		"$(jq -r '.strategies[] | select(.scenarios.relay.ok and .transports.routed.ok and .role_replaced_by == null) | .name' "$LIST_JSON" 2>/dev/null | sort | paste -sd' ')" \
		"every relay strategy with a process ran"
else
	skip "root makes the routed transport's namespaces" "relay --rps over routed, every strategy"
fi

# The round trip is checked to the byte: a request damaged on its way out
# comes back damaged, and the client names where.
cl run --scenario relay --strategy readwrite --block 1K --size 256K --rps 4000 --reps 1 --warmup 0 \
	--fault flip@5000 --out "$TMP/relay-flip" --workdir "$TMP" --no-bpf --no-perf
[ "$RC" -eq 1 ] && grep -q "verification failed: .*first bad byte at offset 5000 " "$ERR" && [ ! -s "$TMP/relay-flip/results.jsonl" ]
ok $? "a damaged request through the relay: exit 1, offset 5000 named, no record" "$(cat "$ERR")"

# The far echo counts what reached it: a request the relay lost is named there, not only as a
# reply that never came.
cl run --scenario relay --strategy readwrite --block 1K --size 64K --rps 2000 --reps 1 --warmup 0 \
	--fault drop@5000 --out "$TMP/relay-drop" --workdir "$TMP" --no-bpf --no-perf
[ "$RC" -eq 1 ] && grep -q "the far echo got [0-9]* of the 65536 request bytes" "$ERR" && [ ! -s "$TMP/relay-drop/results.jsonl" ]
ok $? "a request lost on the way through the relay: exit 1, the far echo's count named, no record" "$(cat "$ERR")"

# A sweep of loads through the relay draws its load chart.
cl run --scenario relay --strategy readwrite,splice --block 1K --size 128K --sweep rps=1024..2048 --reps 1 \
	--warmup 0 --out "$TMP/relay-sweep" --workdir "$TMP"
is "$RC" 0 "relay --sweep rps=1024..2048 runs" || cl_desc 10
cl plot "$TMP/relay-sweep"
is "$RC" 0 "copylab plot draws the relay sweep" || cl_desc 10
is "$(grep -v '^#' "$TMP/relay-sweep/plots/load-relay-tcp.dat" 2>/dev/null | cut -f1 | paste -sd' ')" "1024 2048" \
	"load-relay-tcp: relay's round trip against the offered load"
done_testing
