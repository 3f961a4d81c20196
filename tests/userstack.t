#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The user-space TCP stack: copylab stackd (lwIP over a TAP in a namespace
# of its own) and the LD_PRELOAD shim (copylab stack).  Byte-exact
# transfers at the edge sizes both ways over both data paths (ipc, shm),
# nonblocking sockets with poll, unmodified curl (64 MiB) and iperf3
# (-t 2), fork and exec under the shim, two programs at once, a client
# closing mid-transfer, stackd killed mid-transfer (an error, never a
# hang), and cleanup (no namespace, TAP or socket file left).
# timeout: 400
. "$(dirname "$0")/lib.sh"
require_copylab

if [ "$(id -u)" -ne 0 ]; then
	skip_all "stackd needs root (a network namespace and /dev/net/tun)"
fi
export PATH=$PATH:/usr/sbin:/sbin
if [ ! -c /dev/net/tun ] || [ ! -r /usr/include/lwip/lwipopts.h ]; then
	[ -n "${COPYLAB_REQUIRE_TAP:-}" ] && bail_out "TUN/TAP or lwIP (liblwip-dev) is missing, and tap is required here"
	skip_all "no /dev/net/tun or no lwIP (Debian liblwip-dev; scripts/deps.sh installs it)"
fi
command -v python3 >/dev/null || skip_all "python3 is not installed (the test's peers)"
[ -r "$ROOT/libcopylab-stack.so" ] || bail_out "libcopylab-stack.so is not built (make)"

PEER=$ROOT/tests/userstack_peer.py
SIZES=${USERSTACK_SIZES:-"0 1 4095 4096 4097 65535 65537 1048577 67108864"}
KADDR=10.214.0.1
W=$TMP/w
mkdir -p "$W"
SD_PIDS=()
at_exit 'for p in "${SD_PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3; for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; "$COPYLAB" cleanup >/dev/null 2>&1'
PEER_PIDS=()

# start_stackd NAME: stackd in the background; sets SD and NS, waits for its socket.
start_stackd() {
	"$COPYLAB" stackd --netns "$1" >"$W/stackd-$1.out" 2>"$W/stackd-$1.err" &
	SD=$!
	SD_PIDS+=("$SD")
	NS=copylab-$SD-$1
	SOCK=/run/copylab/copylab-$SD-$1.sock
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$SD" 2>/dev/null || break
		sleep 0.1
	done
	diag_file "$W/stackd-$1.err"
	return 1
}

serve() { userstack_peer "$NS" 120 "$@"; }

# shimmed PATH CMD...: CMD under the shim, through stackd NAME ($STACK).
shimmed() {
	local path=$1
	shift
	timeout -k 5 60 "$COPYLAB" stack --netns "$STACK" --path "$path" -- "$@"
}

# exact NAME FILE GOT: GOT must be byte for byte FILE.
exact() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1"; diag "$(cmp "$2" "$3" 2>&1 | head -2)" "sizes: $(stat -c %s "$2" "$3" 2>/dev/null | tr '\n' ' ')"; diag_file "$W/serve.out" 5; fi
}

expect_usage_error "stackd without --netns is a usage error" "--netns NAME is required" stackd
expect_usage_error "stackd --netns with a bad name is a usage error" "a NAME is 1 to 24" stackd --netns 'Bad/Name'
expect_usage_error "stack without a command is a usage error" "no COMMAND" stack --path ipc
expect_usage_error "stack --path other is a usage error" "valid: ipc, shm" stack --path udp -- true

# --- stack waits, bounded, for a stackd that is starting ------------------------------
# `copylab stackd --netns N &` then at once `copylab stack --netns N`: the
# stack command is started first here, so it cannot find the stackd on its
# first look and must wait for it (issue 22).

expect_usage_error "stack --wait with a bad number is a usage error" "--wait: 'soon'.*seconds" stack --wait soon -- true
cl stack --netns nosuch$$ --wait 0.3 -- true
ok $(( RC == 1 && $(grep -c "no running stackd for --netns nosuch$$ (waited 0.3 s" "$ERR") == 1 ? 0 : 1 )) \
	"stack --wait 0.3 with no stackd: gives up, exit 1, saying how long it waited" "exit $RC" "$(cat "$ERR")"

WSTACK=uw$$
timeout -k 5 60 "$COPYLAB" stack --netns "$WSTACK" --wait 30 -- sh -c 'echo through' >"$W/wait.out" 2>"$W/wait.err" &
wait_pid=$!
if start_stackd "$WSTACK"; then
	wrc=0
	wait "$wait_pid" || wrc=$?
	ok $([ "$wrc" -eq 0 ] && [ "$(cat "$W/wait.out")" = through ]; echo $?) \
		"stack started before its stackd waits for it and then runs the command" "exit $wrc" "$(cat "$W/wait.err")"
	kill "$SD"
	wait "$SD" 2>/dev/null
else
	kill "$wait_pid" 2>/dev/null
	fail "stack started before its stackd waits for it (stackd $WSTACK did not start)"
fi

STACK=ut$$
if ! start_stackd "$STACK"; then
	bail_out "stackd did not start"
fi
check "stackd made its namespace" test -e "/run/netns/$NS"
addr=$(ip -n "$NS" -o -4 addr show dev copylab-tap 2>/dev/null | awk '{print $4}')
is "$addr" "$KADDR/24" "the TAP's kernel side is $KADDR/24 inside the namespace"
check "stackd's control socket exists" test -S "$SOCK"

for path in ipc shm; do
	for size in $SIZES; do
		head -c "$size" /dev/urandom >"$W/in.bin"
		if serve serve-sink "$W/port" "$W/sink.bin" "$KADDR"; then
			shimmed "$path" python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" >"$W/client.out" 2>&1
			rc=$?
			wait "$SP"
			[ "$rc" -eq 0 ] || diag_file "$W/client.out" 5
			exact "$path: $size bytes shim -> kernel, byte-exact" "$W/in.bin" "$W/sink.bin"
		else
			fail "$path: $size bytes shim -> kernel (the peer did not start)"
		fi
		if serve serve-source "$W/port" "$W/in.bin" "$KADDR"; then
			rm -f "$W/got.bin"
			shimmed "$path" python3 "$PEER" recv "$KADDR" "$PORT" "$W/got.bin" >"$W/client.out" 2>&1 ||
				diag_file "$W/client.out" 5
			wait "$SP"
			exact "$path: $size bytes kernel -> shim, byte-exact" "$W/in.bin" "$W/got.bin"
		else
			fail "$path: $size bytes kernel -> shim (the peer did not start)"
		fi
	done
done

# Nonblocking sockets, readiness from poll (O_NONBLOCK through fcntl/ioctl).
for path in ipc shm; do
	for size in 65537 1048577; do
		head -c "$size" /dev/urandom >"$W/in.bin"
		serve serve-sink "$W/port" "$W/sink.bin" "$KADDR" &&
			shimmed "$path" python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" nonblock >"$W/client.out" 2>&1
		wait "$SP"
		exact "$path: nonblocking send of $size with poll, byte-exact" "$W/in.bin" "$W/sink.bin"
		rm -f "$W/got.bin"
		serve serve-source "$W/port" "$W/in.bin" "$KADDR" &&
			shimmed "$path" python3 "$PEER" recv "$KADDR" "$PORT" "$W/got.bin" nonblock >"$W/client.out" 2>&1
		wait "$SP"
		exact "$path: nonblocking receive of $size with poll, byte-exact" "$W/in.bin" "$W/got.bin"
	done
done

# Unmodified programs: curl (poll, nonblocking connect) and iperf3 (select).
mkdir -p "$W/www"
head -c 67108864 /dev/urandom >"$W/www/big.bin"
HTTP_PORT=$((20000 + RANDOM % 20000))
(cd "$W/www" && exec timeout 120 ip netns exec "$NS" python3 -m http.server "$HTTP_PORT" --bind "$KADDR" >"$W/http.log" 2>&1) &
PEER_PIDS+=("$!")
for _ in $(seq 100); do ip netns exec "$NS" ss -ltn 2>/dev/null | grep -q ":$HTTP_PORT " && break; sleep 0.05; done
for path in ipc shm; do
	rm -f "$W/curl.bin"
	shimmed "$path" curl -sS -o "$W/curl.bin" "http://$KADDR:$HTTP_PORT/big.bin" >"$W/curl.out" 2>&1 || diag_file "$W/curl.out" 5
	exact "$path: unmodified curl fetches 64 MiB from a kernel-stack server, byte-exact" "$W/www/big.bin" "$W/curl.bin"
done
if command -v iperf3 >/dev/null; then
	for path in ipc shm; do
		IPORT=$((20000 + RANDOM % 20000))
		timeout 30 ip netns exec "$NS" iperf3 -s -1 -B "$KADDR" -p "$IPORT" >"$W/iperf-s.out" 2>&1 &
		IS=$!
		PEER_PIDS+=("$IS")
		for _ in $(seq 100); do ip netns exec "$NS" ss -ltn 2>/dev/null | grep -q ":$IPORT " && break; sleep 0.05; done
		shimmed "$path" iperf3 -c "$KADDR" -p "$IPORT" -t 2 >"$W/iperf.out" 2>&1
		rc=$?
		wait "$IS"
		if [ "$rc" -eq 0 ] && grep -q "receiver" "$W/iperf.out"; then
			pass "$path: unmodified iperf3 -t 2 runs through the shim ($(grep receiver "$W/iperf.out" | awk '{print $7, $8}'))"
		else
			fail "$path: unmodified iperf3 -t 2 runs through the shim"
			diag_file "$W/iperf.out" 8
		fi
	done
else
	skip "iperf3 is not installed" "unmodified iperf3 through the shim"
fi

# fork and exec under the shim.
head -c 1048577 /dev/urandom >"$W/in.bin"
for path in ipc shm; do
	serve serve-sink "$W/port" "$W/sink.bin" "$KADDR" &&
		shimmed "$path" python3 "$PEER" fork-send "$KADDR" "$PORT" "$W/in.bin" >"$W/client.out" 2>&1 ||
		diag_file "$W/client.out" 5
	wait "$SP"
	exact "$path: a forked child sends on its parent's socket, byte-exact" "$W/in.bin" "$W/sink.bin"
	serve serve-sink "$W/port" "$W/sink.bin" "$KADDR" &&
		shimmed "$path" bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat "$2" >&3' "$KADDR" "$PORT" "$W/in.bin" >"$W/client.out" 2>&1 ||
		diag_file "$W/client.out" 5
	wait "$SP"
	exact "$path: bash opens /dev/tcp, an exec'd cat writes to it, byte-exact" "$W/in.bin" "$W/sink.bin"
done

# Two programs at once through one stackd, one on each data path.
head -c 16777216 /dev/urandom >"$W/a.bin"
head -c 16777217 /dev/urandom >"$W/b.bin"
serve serve-sink "$W/port" "$W/sink.bin" "$KADDR"
SPA=$SP PA=$PORT
serve serve-source "$W/port" "$W/b.bin" "$KADDR"
SPB=$SP PB=$PORT
rm -f "$W/got.bin"
shimmed ipc python3 "$PEER" send "$KADDR" "$PA" "$W/a.bin" >"$W/c1.out" 2>&1 &
C1=$!
shimmed shm python3 "$PEER" recv "$KADDR" "$PB" "$W/got.bin" >"$W/c2.out" 2>&1 &
C2=$!
wait "$C1"; wait "$C2"; wait "$SPA"; wait "$SPB"
exact "two programs at once: the ipc sender's 16 MiB, byte-exact" "$W/a.bin" "$W/sink.bin"
exact "two programs at once: the shm receiver's 16 MiB + 1, byte-exact" "$W/b.bin" "$W/got.bin"

# A client that closes mid-transfer: the peer sees the connection end, stackd goes on.
for path in ipc shm; do
	serve serve-source "$W/port" - "$KADDR" 1 slow
	shimmed "$path" python3 "$PEER" recv "$KADDR" "$PORT" "$W/got.bin" block 1048576 >"$W/client.out" 2>&1
	rc=$?
	timeout 15 tail --pid="$SP" -f /dev/null
	if [ "$rc" -eq 0 ] && ! kill -0 "$SP" 2>/dev/null && grep -Eq "peer-error (EPIPE|ECONNRESET)" "$W/serve.out"; then
		pass "$path: a client closing mid-transfer ends the peer's connection ($(cat "$W/serve.out"))"
	else
		fail "$path: a client closing mid-transfer ends the peer's connection"
		diag "client exit $rc"; diag_file "$W/serve.out" 3; diag_file "$W/client.out" 3
		kill "$SP" 2>/dev/null
	fi
	head -c 65537 /dev/urandom >"$W/in.bin"
	serve serve-sink "$W/port" "$W/sink.bin" "$KADDR" &&
		shimmed "$path" python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" >"$W/client.out" 2>&1
	wait "$SP"
	exact "$path: stackd still serves after that" "$W/in.bin" "$W/sink.bin"
done

# SIGTERM: stackd removes its namespace (with the TAP) and its socket.
kill -TERM "$SD"
timeout 10 tail --pid="$SD" -f /dev/null
check "stackd exits on SIGTERM" bash -c "! kill -0 $SD 2>/dev/null"
check "no namespace left after SIGTERM" test ! -e "/run/netns/$NS"
check "no control socket left after SIGTERM" test ! -e "$SOCK"
check "no TAP left anywhere in this namespace" bash -c "! ip link show copylab-tap >/dev/null 2>&1"

# stackd killed mid-transfer: every shimmed program gets ECONNRESET or EPIPE, never a hang.
for path in ipc shm; do
	STACK=uk$$$path
	start_stackd "$STACK" || { fail "$path: a second stackd starts"; continue; }
	serve serve-source "$W/port" - "$KADDR" 1 slow
	SPR=$SP PR=$PORT
	shimmed "$path" python3 "$PEER" recv "$KADDR" "$PR" "$W/got.bin" >"$W/kr.out" 2>&1 &
	CR=$!
	head -c 67108864 /dev/zero >"$W/zero.bin"
	serve serve-sink "$W/port" /dev/null "$KADDR" 1 slow
	shimmed "$path" python3 "$PEER" send "$KADDR" "$PORT" "$W/zero.bin" >"$W/ks.out" 2>&1 &
	CS=$!
	sleep 1
	kill -KILL "$SD"
	wait "$SD" 2>/dev/null
	timeout 20 tail --pid="$CR" -f /dev/null
	timeout 20 tail --pid="$CS" -f /dev/null
	if kill -0 "$CR" 2>/dev/null; then
		fail "$path: a reader gets an error when stackd is killed (it hangs)"
		kill "$CR"
	else
		wait "$CR"
		rc=$?
		if [ "$rc" -eq 3 ] && grep -Eq "error (ECONNRESET|EPIPE)" "$W/kr.out"; then
			pass "$path: a reader gets an error when stackd is killed ($(cat "$W/kr.out"))"
		else
			fail "$path: a reader gets an error when stackd is killed"
			diag "exit $rc"; diag_file "$W/kr.out" 3
		fi
	fi
	if kill -0 "$CS" 2>/dev/null; then
		fail "$path: a writer gets an error when stackd is killed (it hangs)"
		kill "$CS"
	else
		wait "$CS"
		rc=$?
		# The sink reads 6 MiB/s: the 64 MiB are far from sent when stackd dies.
		if [ "$rc" -eq 3 ] && grep -Eq "error (ECONNRESET|EPIPE)" "$W/ks.out"; then
			pass "$path: a writer gets an error when stackd is killed (exit $rc: $(cat "$W/ks.out"))"
		else
			fail "$path: a writer gets an error when stackd is killed"
			diag "exit $rc"; diag_file "$W/ks.out" 3
		fi
	fi
	kill "$SPR" 2>/dev/null
	cl cleanup
	if [ "$RC" -eq 0 ] && [ ! -e "/run/netns/$NS" ] && [ ! -e "$SOCK" ]; then
		pass "$path: copylab cleanup removes the killed stackd's namespace and socket"
	else
		fail "$path: copylab cleanup removes the killed stackd's namespace and socket"
		cl_desc; diag_file "$OUT" 5
	fi
done

# Transport userstack in the harness: the role under test's sockets in lwIP, the peer in the kernel.
if command -v jq >/dev/null; then
	for sc in send store echo serve relay; do
		for size in ${USERSTACK_RUN_SIZES:-0 1 4097 1048577}; do
			rm -rf "$W/run"
			cl run --scenario "$sc" --strategy readwrite --transport userstack --size "$size" --reps 1 --warmup 0 --out "$W/run"
			if [ "$RC" -eq 0 ] && [ "$(jq -r '.verify' "$W/run/results.jsonl" 2>/dev/null | sort -u)" = ok ] &&
			   [ "$(jq -r '.roles.stack | has("cpu_user_s")' "$W/run/results.jsonl")" = true ]; then
				pass "run --transport userstack: $sc, $size bytes, verified, with the stack's own role"
			else
				fail "run --transport userstack: $sc, $size bytes, verified, with the stack's own role"
				cl_desc; [ -s "$W/run/results.jsonl" ] && diag "$(jq -c '{verify, status, error}' "$W/run/results.jsonl")"
			fi
		done
	done
	rm -rf "$W/run"
	cl run --scenario send --strategy all --transport userstack --size 65537 --reps 1 --warmup 0 --out "$W/run"
	n=$(jq -r 'select(.verify == "ok") | .strategy' "$W/run/results.jsonl" 2>/dev/null | sort -u | wc -l)
	if [ "$RC" -eq 0 ] && [ "$n" -ge 2 ]; then
		pass "run --transport userstack --strategy all: every strategy that runs over AF_UNIX is verified ($n)"
	else
		fail "run --transport userstack --strategy all"; cl_desc
	fi
	# Each run's stackd is copylab-<stackd pid>-r<run pid>: none of a finished run may be left.
	left=$(ls /run/netns /run/copylab 2>/dev/null | grep -E '^copylab-[0-9]+-r[0-9]+(\.sock)?$' |
		while read -r n; do p=${n#copylab-}; p=${p%%-*}; kill -0 "$p" 2>/dev/null || echo "$n"; done)
	is "$left" "" "no namespace or socket left by the runs' own stackd"
else
	skip "jq is not installed" "run --transport userstack"
fi

done_testing
