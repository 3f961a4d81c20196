#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nic mode's daemons against peers that do not play fair (issue 18, item
# 1; docs/threat-model-nic.md): no key or the wrong one, a run larger than
# the far host should hold, a control connection that says nothing or only
# hello, strangers on the data port, a sink peer that trickles.  Each is
# refused or ended with a sentence, and a real driver is still served.  The
# daemons listen on loopback; tests/nic_peer.py plays the hostile peers.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

"$COPYLAB" sink --help 2>/dev/null | grep -q -- '--key' || bail_out "this copylab's sink has no --key"
command -v python3 >/dev/null || skip_all "tests/nic_peer.py needs python3"
PEER=$ROOT/tests/nic_peer.py
WORKDIR=$TMP/work
mkdir -p "$WORKDIR"
DAEMON_PIDS=()
stop_daemons() { local p; for p in "${DAEMON_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit stop_daemons

# start_daemon NAME KIND ARGS...: a daemon on a free loopback port, logging
# to $TMP/NAME.log; sets PORT.  1 if it never listened.
start_daemon() {
	local name=$1 kind=$2 i try
	shift 2
	for try in $(seq 20); do
		PORT=$((20000 + RANDOM % 40000))
		ss -ltnH "sport = :$PORT" 2>/dev/null | grep -q . && continue
		"$COPYLAB" "$kind" --listen "127.0.0.1:$PORT" "$@" >"$TMP/$name.log" 2>&1 &
		DAEMON_PIDS+=($!)
		for i in $(seq 50); do
			ss -ltnH "sport = :$PORT" 2>/dev/null | grep -q . && return 0
			kill -0 "$!" 2>/dev/null || break
			sleep 0.1
		done
	done
	return 1
}

# wait_for FILE PATTERN SECONDS: until FILE holds PATTERN, at most SECONDS.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# drive OUT PEERS [ARGS...]: a real driver's run, 1 MiB, one repetition.
drive() {
	local out=$1 peers=$2 sc=send
	shift 2
	[[ $peers == *,* ]] && sc=relay
	rm -rf "$out"
	cl run --scenario "$sc" --strategy readwrite --transport nic --peer "$peers" --size 1M --reps 1 --warmup 0 \
		--out "$out" --workdir "$WORKDIR" "$@"
}

# ---- the key: required, private, and proved ---------------------------------------

KEY=$TMP/key
cl sink --make-key "$KEY"
ok "$([ "$RC" -eq 0 ] && [ "$(stat -c %a "$KEY")" = 600 ] && [ "$(stat -c %s "$KEY")" = 32 ]; echo $?)" \
	"sink --make-key: 32 random bytes, mode 0600" "$(cat "$ERR")" "$(stat -c '%a %s' "$KEY" 2>&1)"
sum=$(sha256sum <"$KEY")
cl source --make-key "$KEY"
ok "$([ "$RC" -eq 1 ] && grep -q 'never overwritten' "$ERR" && [ "$(sha256sum <"$KEY")" = "$sum" ]; echo $?)" \
	"--make-key over an existing key: exit 1, the key untouched" "exit $RC" "$(cat "$ERR")"

expect_usage_error "a daemon without --key or --insecure-no-auth: exit 2" "--key FILE is required" \
	sink --listen 127.0.0.1:1
expect_usage_error "--key and --insecure-no-auth together: exit 2" "contradict" \
	source --listen 127.0.0.1:1 --key "$KEY" --insecure-no-auth
cp "$KEY" "$TMP/open-key" && chmod 644 "$TMP/open-key"
expect_usage_error "a daemon's key readable by others: exit 2, says chmod 600" "mode 0644.*chmod 600" \
	sink --listen 127.0.0.1:1 --key "$TMP/open-key"
expect_usage_error "a driver's key readable by others: exit 2" "--key: key file .*chmod 600" \
	run --scenario send --strategy readwrite --transport nic --peer 127.0.0.1:1 --key "$TMP/open-key" --out "$TMP/no"
head -c 8 /dev/urandom >"$TMP/short-key" && chmod 600 "$TMP/short-key"
expect_usage_error "a key of 8 bytes: exit 2, names the least" "8 bytes; a key is 16 to 4096 bytes" \
	sink --listen 127.0.0.1:1 --key "$TMP/short-key"
expect_usage_error "--key without --peer: exit 2" "--key .*needs --transport nic --peer" \
	run --scenario send --strategy readwrite --transport tcp --key "$KEY" --out "$TMP/no"
expect_usage_error "--max-size that is no size: exit 2" "--max-size" \
	sink --listen 127.0.0.1:1 --key "$KEY" --max-size lots

check "a keyed sink listens (--max-size 64M, --run-timeout 2)" \
	start_daemon sink sink --key "$KEY" --max-size 64M --run-timeout 2
SINK=127.0.0.1:$PORT
check "a keyed source listens" start_daemon source source --key "$KEY"
SOURCE=127.0.0.1:$PORT

# An authenticated connection that never asks for a run: closed after 30 s (checked at the end).
"$PEER" auth-idle 127.0.0.1 "${SINK##*:}" "$KEY" 60 >"$TMP/auth-idle.out" 2>&1 &
auth_idle_pid=$!
drive "$TMP/nokey" "$SINK"
ok "$([ "$RC" -eq 1 ] && grep -q 'the far sink needs a key: give --key FILE' "$ERR" && [ ! -e "$TMP/nokey" ]; echo $?)" \
	"a driver without --key: exit 1, told to give --key FILE, nothing written" "exit $RC" "$(cat "$ERR")"
head -c 32 /dev/urandom >"$TMP/other-key" && chmod 600 "$TMP/other-key"
drive "$TMP/badkey" "$SINK" --key "$TMP/other-key"
ok "$([ "$RC" -eq 1 ] && grep -q 'refused the key: the key does not match' "$ERR"; echo $?)" \
	"a driver with another key: exit 1, the daemon says the key does not match" "exit $RC" "$(cat "$ERR")"
drive "$TMP/good" "$SINK,$SOURCE" --key "$KEY"
ok "$([ "$RC" -eq 0 ] && [ "$(jq -r .verified "$TMP/good/results.jsonl" 2>&1)" = true ]; echo $?)" \
	"a driver with the key: relay through the far source and sink, verified" "exit $RC" "$(tail -n 5 "$ERR")"

r=$(timeout 20 "$PEER" run 127.0.0.1 "${SINK##*:}" - sink 1048576 2>&1)
ok "$(jq -e '.reply.ok == false and (.reply.error | test("needs a key")) and (.reply.token == null)' <<<"$r" >/dev/null; echo $?)" \
	"a run message without the key's proof: refused, no token, nothing prepared" "$r"

# ---- a run larger than the far host should hold ------------------------------------

r=$(timeout 20 "$PEER" run 127.0.0.1 "${SINK##*:}" "$KEY" sink $((8 << 30)) 2>&1)
ok "$(jq -e '.reply.ok == false and (.reply.error | test("a run of 8589934592 bytes; this sink takes at most 67108864 \\(its --max-size\\)"))' <<<"$r" >/dev/null; echo $?)" \
	"an 8 GiB run over --max-size 64M: refused at once, naming both" "$r"
drive "$TMP/big" "$SINK" --key "$KEY" --size 65M
ok "$([ "$RC" -eq 1 ] && grep -q 'refused the run: a run of 68157440 bytes; this sink takes at most 67108864' "$ERR"; echo $?)" \
	"the driver prints the refusal of a run over --max-size" "exit $RC" "$(cat "$ERR")"

# ---- silent and chatty control connections do not hold the daemon -------------------

"$PEER" idle 127.0.0.1 "${SINK##*:}" 30 >"$TMP/idle.out" 2>&1 &
idle_pid=$!
"$PEER" hello-spam 127.0.0.1 "${SINK##*:}" 1 30 >"$TMP/spam.out" 2>&1 &
spam_pid=$!
wait_for "$TMP/idle.out" connected 10 && wait_for "$TMP/spam.out" connected 10
t0=$SECONDS
drive "$TMP/busy" "$SINK" --key "$KEY"
ok "$([ "$RC" -eq 0 ] && [ "$(jq -r .verified "$TMP/busy/results.jsonl" 2>&1)" = true ] && [ $((SECONDS - t0)) -le 15 ]; echo $?)" \
	"a silent connection and a hello every second ahead of it: the driver is served ($((SECONDS - t0)) s)" \
	"exit $RC" "$(cat "$ERR")"
wait "$idle_pid" "$spam_pid"
ok "$(jq -e '.closed_after != null and .closed_after < 15 and (.last.error | test("no answer to the key challenge within 5 s"))' \
	<(tail -n 1 "$TMP/idle.out") >/dev/null 2>&1; echo $?)" "a silent control connection is closed, saying why" "$(cat "$TMP/idle.out")"
ok "$(tail -n 1 "$TMP/spam.out" | jq -e '.closed_after != null and .closed_after < 15 and
	(.last.error | test("no answer to the key challenge within 5 s"))' >/dev/null 2>&1; echo $?)" \
	"a hello every second, each answered, does not extend an unauthenticated connection" "$(cat "$TMP/spam.out")"

# ---- strangers on the data port ------------------------------------------------------

r=$(timeout 120 "$PEER" strangers 127.0.0.1 "${SOURCE##*:}" "$KEY" 6 2>&1)
ok "$(jq -e '.received == 1048576 and .result.op == "result" and .result.status == 0 and .result.bytes == 1048576' \
	<<<"$r" >/dev/null 2>&1; echo $?)" \
	"six strangers (silent, a wrong token) ahead of the data connection: the run completes" "$r"

# ---- a sink peer that trickles ends by the run's deadline ----------------------------

r=$(timeout 60 "$PEER" trickle 127.0.0.1 "${SINK##*:}" "$KEY" 30 2>&1)
ok "$(jq -e '.result.status == -110 and (.result.what | test("deadline")) and .seconds < 20' <<<"$r" >/dev/null 2>&1; echo $?)" \
	"a byte every 0.2 s to the far sink: the run ends at its deadline with a result that says so" "$r"
drive "$TMP/after" "$SINK" --key "$KEY"
ok "$RC" "the sink serves the next run after all of that" "$(cat "$ERR")"

wait "$auth_idle_pid"
ok "$(head -n 1 "$TMP/auth-idle.out" | grep -qx authenticated && tail -n 1 "$TMP/auth-idle.out" |
	jq -e '.closed_after != null and .closed_after < 45 and (.last.error | test("no run within 30 s"))' >/dev/null 2>&1
	echo $?)" "an authenticated connection with no run is closed after 30 s, saying why" "$(cat "$TMP/auth-idle.out")"

# ---- --insecure-no-auth, explicitly ---------------------------------------------------

check "a sink with --insecure-no-auth listens" start_daemon open sink --insecure-no-auth
ok "$(grep -q 'WARNING: --insecure-no-auth' "$TMP/open.log"; echo $?)" "--insecure-no-auth warns" "$(cat "$TMP/open.log")"
drive "$TMP/open" "127.0.0.1:$PORT"
ok "$([ "$RC" -eq 0 ] && [ "$(jq -r .verified "$TMP/open/results.jsonl" 2>&1)" = true ]; echo $?)" \
	"--insecure-no-auth: a driver without a key is served" "exit $RC" "$(cat "$ERR")"

done_testing
