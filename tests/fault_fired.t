#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults that really fire, and failures that blame the right role.  A fault
# out of reach of --size is refused (exit 2); damage lands at the exact byte
# asked and the verifier names it; a record says which fault was asked and
# where it fired; a role stopped with SIGSTOP is the one a --timeout names;
# Ctrl-C to the process group says "interrupted" and blames no role.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

TAG=$(tag_new)
at_exit "kill_tagged $TAG"
QUIET=(--no-bpf --no-perf --no-tracer --reps 1 --warmup 0 --workdir "$TMP")
records_in() { [ -f "$1/results.jsonl" ] && wc -l <"$1/results.jsonl" | tr -d ' ' || echo 0; }

# --- faults out of reach are refused up front ---------------------------------------

for f in kill=server@2M sink-close=2M sink-reset=2M sink-halfclose=1M truncate=1M; do
	expect_usage_error "serve 1M: --fault $f (at or past --size) is refused" \
		"fault $f: the (payload|source file) is 1048576 bytes \(--size\)" \
		run --scenario serve --strategy readwrite --size 1M --fault "$f" --out "$TMP/no" "${QUIET[@]}"
done
expect_usage_error "relay 1M: --fault source-halfclose=2M is refused" "would never fire; give N below 1048576" \
	run --scenario relay --strategy readwrite --size 1M --fault source-halfclose=2M --out "$TMP/no" "${QUIET[@]}"
expect_usage_error "relay 1M: --fault flip@2M is refused" "flip@2M: byte 2097152 is past the payload of 1048576" \
	run --scenario relay --strategy readwrite --size 1M --fault flip@2M --out "$TMP/no" "${QUIET[@]}"
expect_usage_error "relay 1M: swap@N without two whole blocks after N is refused" "needs N \+ 8192 <= --size" \
	run --scenario relay --strategy readwrite --size 1M --fault swap@1044481 --out "$TMP/no" "${QUIET[@]}"
ok $([ ! -e "$TMP/no" ]; echo $?) "refused faults wrote no results directory"

# --- damage at the exact byte ------------------------------------------------------------

# flip, drop and swap change the stream at N itself; dup's second copy of
# the 4096 bytes from N starts at N + 4096.  1000 and 70001: not on a block
# boundary, and the second not in the first 64 KiB chunk.
for at in 1000 70001; do
	declare -A first=( [flip]=$at [drop]=$at [dup]=$((at + 4096)) [swap]=$at )
	for kind in flip drop dup swap; do
		cl run --scenario relay --strategy readwrite --size 1M --fault "$kind@$at" --out "$TMP/d-$kind-$at" "${QUIET[@]}"
		ok $([ "$RC" -eq 1 ] && grep -q "verification failed: sink: first bad byte at offset ${first[$kind]} " "$ERR"; echo $?) \
			"$kind@$at: the verifier names offset ${first[$kind]}, exit 1" "$(cl_desc 3)"
	done
done
cl run --scenario copy --strategy readwrite --size 1M --fault flip@1048575 --out "$TMP/d-last" "${QUIET[@]}"
ok $([ "$RC" -eq 1 ] && grep -q "first bad byte at offset 1048575 " "$ERR"; echo $?) \
	"flip@1048575 (the last byte) damages the last byte, not its block's first" "$(cl_desc 3)"

# --- the record names the fault asked and where it fired --------------------------------

out=$TMP/halfclose
cl run --scenario relay --strategy readwrite --size 1M --fault sink-halfclose=65537 --out "$out" "${QUIET[@]}"
is "$(jq -c '.fault' "$out/results.jsonl" 2>&1)" \
	'{"asked":"sink-halfclose=65537","kind":"sink-halfclose","role":"sink","at":65537,"fired":true,"fired_at":65537,"signals_sent":null}' \
	"sink-halfclose: the record names the fault, the role and the byte it fired at"
out=$TMP/signals
cl run --scenario relay --strategy readwrite --size 1M --fault signals=1000 --out "$out" "${QUIET[@]}"
ok $(jq -e '.fault | .asked == "signals=1000" and .role == "relay" and .fired == true and .signals_sent > 0 and .at == null' \
	"$out/results.jsonl" >/dev/null; echo $?) "signals: the record says how many were sent" "$(jq -c .fault "$out/results.jsonl" 2>&1)"
out=$TMP/plain
cl run --scenario relay --strategy readwrite --size 1M --out "$out" "${QUIET[@]}"
is "$(jq -c '.fault' "$out/results.jsonl" 2>&1)" null "without --fault the record's fault is null"

# --- blame: a stopped role, and an interrupt ------------------------------------------------

# start_group ARGS...: copylab in a session (and process group) of its own,
# so a signal to the group reaches it and its roles only.  MAIN: its pid.
start_group() {
	COPYLAB_TEST_TAG=$TAG setsid "$COPYLAB" "$@" >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
	MAIN=$!
}
# roles_started N: waits (10 s at most) for MAIN's N role processes; ROLES: their pids, in role order.
roles_started() {
	local i
	for ((i = 0; i < 100; i++)); do
		ROLES=$(cat "/proc/$MAIN/task/$MAIN/children" 2>/dev/null)
		[ "$(wc -w <<<"$ROLES")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# busy_past PID TICKS: waits (10 s at most) until PID has used more than
# TICKS of CPU (/proc/PID/stat utime + stime).  The tested role's setup
# costs next to nothing, so its CPU time shows its transfer has begun (the
# fixed roles send and receive with send(2) and recv(2), which
# /proc/PID/io does not count).
busy_past() {
	local i t
	for ((i = 0; i < 100; i++)); do
		t=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}')
		[ "${t:-0}" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_main SECONDS: MAIN's exit status in MAIN_RC, or "hung" (then killed).
wait_main() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do kill -0 "$MAIN" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$MAIN" 2>/dev/null; then
		MAIN_RC=hung
		kill -KILL -- "-$MAIN" 2>/dev/null
		wait "$MAIN" 2>/dev/null
	else
		wait "$MAIN"
		MAIN_RC=$?
	fi
}

# Echo's client stopped mid-exchange: the server waits on it, and the
# timeout must name the client, not the first role in order.
start_group run --scenario echo --strategy readwrite --size 1G --timeout 2 --out "$TMP/stop" "${QUIET[@]}"
if roles_started 2 && read -r server client <<<"$ROLES" && busy_past "$server" 20; then
	kill -STOP "$client"
	wait_main 30
	ok $([ "$MAIN_RC" = 1 ] && grep -q "readwrite echo over tcp: role client: timeout: .*role client was stopped" "$TMP/bg.err"; echo $?) \
		"echo, client SIGSTOPped: the timeout names the client" "exit: $MAIN_RC" "$(diag_file "$TMP/bg.err" 3)"
	ok $(! grep -q "role server" "$TMP/bg.err"; echo $?) "echo, client SIGSTOPped: the server is not blamed"
else
	fail "echo, client SIGSTOPped: the roles started and the exchange began" "$(diag_file "$TMP/bg.err" 3)"
	kill -KILL -- "-$MAIN" 2>/dev/null
fi
ok $(no_leftovers "$TAG"; echo $?) "echo, client SIGSTOPped: no role left running"

# The relay's source stopped: the relay and the sink wait on it.
start_group run --scenario relay --strategy readwrite --size 1G --timeout 2 --out "$TMP/stop2" "${QUIET[@]}"
if roles_started 3 && read -r relay source sink <<<"$ROLES" && busy_past "$relay" 20; then
	kill -STOP "$source"
	wait_main 30
	ok $([ "$MAIN_RC" = 1 ] && grep -q "role source: timeout: .*role source was stopped" "$TMP/bg.err"; echo $?) \
		"relay, source SIGSTOPped: the timeout names the source" "exit: $MAIN_RC" "$(diag_file "$TMP/bg.err" 3)"
else
	fail "relay, source SIGSTOPped: the roles started and the transfer began" "$(diag_file "$TMP/bg.err" 3)"
	kill -KILL -- "-$MAIN" 2>/dev/null
fi
ok $(no_leftovers "$TAG"; echo $?) "relay, source SIGSTOPped: no role left running"

# Ctrl-C as a terminal sends it: to the whole group, roles included.
start_group run --scenario relay --strategy readwrite --size 1G --timeout 60 --out "$TMP/int" "${QUIET[@]}"
if roles_started 3 && read -r relay source sink <<<"$ROLES" && busy_past "$relay" 20; then
	kill -INT -- "-$MAIN"
	wait_main 20
	ok $([ "$MAIN_RC" = 1 ] && grep -q "readwrite relay over tcp: interrupted by SIGINT" "$TMP/bg.err"; echo $?) \
		"SIGINT to the group: the message says interrupted" "exit: $MAIN_RC" "$(diag_file "$TMP/bg.err" 3)"
	ok $(! grep -Eq "role [a-z]+: the role process died" "$TMP/bg.err"; echo $?) \
		"SIGINT to the group: no role is blamed for it" "$(diag_file "$TMP/bg.err" 3)"
	is "$(records_in "$TMP/int")" 0 "SIGINT to the group: no record"
else
	fail "SIGINT to the group: the roles started and the transfer began" "$(diag_file "$TMP/bg.err" 3)"
	kill -KILL -- "-$MAIN" 2>/dev/null
fi
ok $(no_leftovers "$TAG"; echo $?) "SIGINT to the group: no role left running"

done_testing
