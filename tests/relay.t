#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab relay`, the TCP proxy, with clients that are not copylab: for
# every strategy that relays (io_uring's and sockmap's too; nat, which runs
# no process, is refused), 64 MiB each way byte-exact through a half-close
# (the client shuts down its writing and still gets the reply), 8 at once,
# a client that resets mid-transfer beside them, curl through the relay to
# `copylab serve`, an upstream that refuses, iperf3 -P 8 both directions,
# and the relay's descriptors (sockets, pipes, rings, timers, BPF maps and
# programs) back to where they were.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

for tool in python3 iperf3 curl cmp; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done
"$COPYLAB" relay --help >/dev/null 2>&1 || skip_all "this copylab has no relay command"

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# A peer that knows nothing of copylab.  server: for each connection, read
# to EOF (the client's half-close), answer "<sha256 of what came>\n", then
# the reply file, then close.  client: send a file, shut down writing, save
# everything that comes back.
cat >"$TMP/peer.py" <<'EOF'
import hashlib, socket, struct, sys, threading, time
def serve(port_file, reply):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0)); ls.listen(64)
    open(port_file, "w").write("%d\n" % ls.getsockname()[1])
    data = open(reply, "rb").read()
    def one(c):
        h = hashlib.sha256()
        while True:
            b = c.recv(1 << 20)
            if not b: break
            h.update(b)
        try:
            c.sendall(h.hexdigest().encode() + b"\n" + data)
        except OSError:
            pass    # the relay closed a pair whose client reset
        c.close()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()
def reset(port, send):
    # Half of the file, then a close with SO_LINGER 0: a RST, mid-transfer.
    s = socket.create_connection(("127.0.0.1", int(port)))
    data = open(send, "rb").read()
    s.sendall(data[:len(data) // 2])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
def trickle(port, n, out):
    # n chunks of 1000 bytes 0.1 s apart, a half-close, everything back to out.
    s = socket.create_connection(("127.0.0.1", int(port)))
    for i in range(int(n)):
        s.sendall(b"y" * 1000)
        time.sleep(0.1)
    s.shutdown(socket.SHUT_WR)
    drain(s, out)
def drain(s, out):
    # Everything the peer sends until its FIN, into the file out.
    with open(out, "wb") as o:
        while True:
            b = s.recv(1 << 20)
            if not b: break
            o.write(b)
def client(port, send, out):
    s = socket.create_connection(("127.0.0.1", int(port)))
    with open(send, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b: break
            s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    drain(s, out)
if sys.argv[1] == "serve": serve(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "reset": reset(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "trickle": trickle(sys.argv[2], sys.argv[3], sys.argv[4])
else: client(sys.argv[2], sys.argv[3], sys.argv[4])
EOF

SIZE=$((64 << 20))
NPAR=8
head -c "$SIZE" /dev/urandom >"$TMP/up"
head -c "$SIZE" /dev/urandom >"$TMP/down"
want_hash=$(sha256sum "$TMP/up" | cut -d' ' -f1)
trickle_hash=$(head -c 20000 /dev/zero | tr '\0' y | sha256sum | cut -d' ' -f1)
mkdir -p "$TMP/www"
head -c "$SIZE" /dev/urandom >"$TMP/www/f64m"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_line FILE PATTERN: the first match of sed PATTERN in FILE within 5 s.
wait_line() {
	local i v
	for i in $(seq 50); do
		v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.1
	done
	return 1
}

COPYLAB_TEST_TAG=$TAG python3 "$TMP/peer.py" serve "$TMP/peer.port" "$TMP/down" &
HELPERS=($!)
PEER_PORT=$(wait_line "$TMP/peer.port" 'p') || bail_out "the python peer did not start"

COPYLAB_TEST_TAG=$TAG "$COPYLAB" serve --listen 127.0.0.1:0 --root "$TMP/www" --quiet \
	>"$TMP/serve.out" 2>"$TMP/serve.err" &
HELPERS+=($!)
SERVE_ADDR=$(wait_line "$TMP/serve.out" 's/^listening on //p') || bail_out "copylab serve did not start"

IPERF_PORT=$(free_port)
COPYLAB_TEST_TAG=$TAG iperf3 -s -p "$IPERF_PORT" -B 127.0.0.1 >"$TMP/iperf-server.log" 2>&1 &
HELPERS+=($!)
sleep 0.3

RPID="" RADDR=""
# start_relay TO STRATEGY [OPTION...]: starts copylab relay; sets RPID, RADDR.
start_relay() {
	: >"$TMP/relay.out"
	COPYLAB_TEST_TAG=$TAG "$COPYLAB" relay --listen 127.0.0.1:0 --to "$1" --strategy "$2" "${@:3}" \
		>"$TMP/relay.out" 2>"$TMP/relay.err" </dev/null &
	RPID=$!
	RADDR=$(wait_line "$TMP/relay.out" 's/^listening on //p') && return 0
	diag_file "$TMP/relay.err"
	return 1
}
stop_relay() {
	local rc=0
	kill -TERM "$RPID" 2>/dev/null
	wait "$RPID" || rc=$?
	return "$rc"
}
fd_settles() {
	local i now
	for i in $(seq 30); do
		now=$(fd_count "$1")
		[ "$now" -eq "$2" ] && return 0
		sleep 0.1
	done
	diag "descriptors: $2 before, $now after"
	return 1
}

# iperf3 through the relay: every stream's bytes, on both ends.  Sizes
# (-n), not time (-t): a timed test ends on the control connection while
# data is still in flight in the proxy, and its receiver stops counting
# there (socat and HAProxy show the same: see docs/tools.md).
iperf_check() {
	local st=$1 dir=$2 json=$TMP/iperf$dir.json sent recv
	timeout 60 iperf3 -c 127.0.0.1 -p "${RADDR##*:}" -P 8 -n 256M $dir -J >"$json" 2>"$TMP/iperf.err"
	local rc=$?
	sent=$(jq -r '.end.sum_sent.bytes // empty' "$json" 2>/dev/null)
	recv=$(jq -r '.end.sum_received.bytes // empty' "$json" 2>/dev/null)
	if [ "$rc" -ne 0 ] || [ -z "$sent" ] || [ -z "$recv" ]; then
		fail "$st: iperf3 -P 8 ${dir:-(forward)} completes"
		diag "iperf3 exit $rc" "$(jq -r '.error // empty' "$json" 2>/dev/null)"
		diag_file "$TMP/iperf.err" 5
		return
	fi
	pass "$st: iperf3 -P 8 ${dir:-(forward)} completes ($(jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | floor / 100' "$json") Gbit/s)"
	if [ "$dir" = -R ]; then
		# The receiving client ends the test only once it holds all 256 MiB
		# (bytes_received >= -n), so nothing the relay carried can be
		# missing.  Its last reads may overshoot -n by a block (seen: 128
		# KiB), and the sending server counts a block or two more than
		# arrived (seen: 1 MiB), so 256 MiB <= received <= sent.
		if [ "$recv" -ge $((256 << 20)) ] && [ "$recv" -le "$sent" ]; then
			pass "$st: iperf3 -R: the client received all 256 MiB asked for (sender counted $sent)"
		else
			fail "$st: iperf3 -R: the client received all 256 MiB asked for"
			diag "sent $sent received $recv"
		fi
	else
		# Forward, the receiver is iperf3's server: it stops counting when
		# the client's TEST_END overtakes the data still in the relay's
		# buffers.  What arrived is at most what was sent, and short of it
		# by no more than the in-flight buffers of 8 streams.
		local rmem wmem bound
		rmem=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_rmem)
		wmem=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem)
		bound=$(( 8 * (2 * rmem + 2 * wmem + (1 << 20)) ))
		if [ "$recv" -le "$sent" ] && [ $((sent - recv)) -le "$bound" ]; then
			pass "$st: iperf3 forward: received $recv of $sent bytes (short by $((sent - recv)), in-flight bound $bound)"
		else
			fail "$st: iperf3 forward: received within the in-flight bound of sent"
			diag "sent $sent received $recv bound $bound"
		fi
	fi
}

# The tool drives every relay strategy a process plays, whatever it waits
# on (sockets, an io_uring ring, sockmap's timer); one whose role no
# process plays (nat) is refused with its table's sentence.  A strategy
# that needs a privilege this user lacks is left out, saying so
# (tests/unprivileged.t checks the tool's refusal of it).
mapfile -t STRATEGIES < <(jq -r '.strategies[] | select(.scenarios.relay.ok and .role_replaced_by == null
	and (.needs_privilege == null or '"$([ "$(id -u)" -eq 0 ] && echo true || echo false)"')) | .name' "$LIST_JSON")
for st in $(jq -r '.strategies[] | select(.scenarios.relay.ok and .needs_privilege != null and .role_replaced_by == null) | .name' "$LIST_JSON"); do
	[ "$(id -u)" -eq 0 ] || skip "not root" "$st: needs a privilege: $(jq -r --arg s "$st" '.strategies[] | select(.name == $s) | .needs_privilege' "$LIST_JSON")"
done
diag "relay strategies driven: ${STRATEGIES[*]}"
for st in $(jq -r '.strategies[] | select(.scenarios.relay.ok and .role_replaced_by != null) | .name' "$LIST_JSON"); do
	cl relay --listen 127.0.0.1:0 --to 127.0.0.1:1 --strategy "$st"
	ok $([ "$RC" -eq 2 ] && grep -q "cannot relay with this tool: this strategy runs no process" "$ERR"; echo $?) \
		"$st: the tool refuses it, saying no process plays its role (exit 2)" "$(cl_desc 3)"
done

for st in "${STRATEGIES[@]}"; do
	start_relay "127.0.0.1:$PEER_PORT" "$st" || { fail "$st: relay starts"; continue; }
	fds0=$(fd_count "$RPID")

	rm -f "$TMP/back"
	timeout 60 python3 "$TMP/peer.py" client "${RADDR##*:}" "$TMP/up" "$TMP/back" 2>"$TMP/client.err"
	got_hash=$(head -n 1 "$TMP/back" 2>/dev/null)
	is "$got_hash" "$want_hash" "$st: 64 MiB client -> upstream byte-exact (sha256 at the upstream)"
	if tail -c +66 "$TMP/back" | cmp -s - "$TMP/down"; then
		pass "$st: half-close: the client shut down writing and still got 64 MiB back, byte-exact"
	else
		fail "$st: half-close: the client shut down writing and still got 64 MiB back, byte-exact"
		diag "got $(($(stat -c %s "$TMP/back" 2>/dev/null || echo 65) - 65)) bytes after the hash line"
		diag_file "$TMP/client.err" 5
	fi

	# Several at once, so the loop interleaves them, and one client that
	# resets half-way: its pair closes, the others go on unhurt.
	pids=()
	for i in $(seq $NPAR); do
		timeout 60 python3 "$TMP/peer.py" client "${RADDR##*:}" "$TMP/up" "$TMP/back$i" &
		pids+=($!)
	done
	timeout 30 python3 "$TMP/peer.py" reset "${RADDR##*:}" "$TMP/up"
	bad=0
	for i in $(seq $NPAR); do
		wait "${pids[$((i - 1))]}" || bad=1
		[ "$(head -n 1 "$TMP/back$i")" = "$want_hash" ] && tail -c +66 "$TMP/back$i" | cmp -s - "$TMP/down" || bad=1
	done
	ok $bad "$st: $NPAR concurrent 64 MiB round trips, all byte-exact, beside a client that reset" \
		"$(grep ' back: ' "$TMP/relay.err" | head -n 4)"
	# The reset pair's line: closed with an error, not as a clean end.
	closed=$(grep -c ': closed, ' "$TMP/relay.err")
	errs=$(grep ': closed, ' "$TMP/relay.err" | grep -c ' back: ')
	ok $([ "$closed" -eq $((NPAR + 2)) ] && [ "$errs" -ge 1 ]; echo $?) \
		"$st: the reset pair closed with a reason ($errs of $closed pairs closed on an error)" \
		"$(grep ' back: ' "$TMP/relay.err" | head -n 3)"
	fd_settles "$RPID" "$fds0"
	ok $? "$st: relay descriptors back to $fds0 after the pairs closed"
	rm -f "$TMP"/back*
	stop_relay
	ok $? "$st: SIGTERM stops the relay with status 0"

	# A client that sends a little every 0.1 s for 2 s is not idle: a
	# strategy whose bytes move without the process (sockmap) must still
	# count as busy at --idle-timeout 0.8 (the sweep runs each second).
	start_relay "127.0.0.1:$PEER_PORT" "$st" --idle-timeout 0.8 || { fail "$st: relay with --idle-timeout starts"; continue; }
	timeout 30 python3 "$TMP/peer.py" trickle "${RADDR##*:}" 20 "$TMP/back" 2>"$TMP/client.err"
	ok $([ "$(head -n 1 "$TMP/back" 2>/dev/null)" = "$trickle_hash" ] && tail -c +66 "$TMP/back" | cmp -s - "$TMP/down"
		echo $?) "$st: --idle-timeout 0.8 spares a client sending every 0.1 s for 2 s; byte-exact both ways" \
		"$(grep ': closed' "$TMP/relay.err" | head -n 2)"
	rm -f "$TMP/back"
	stop_relay

	# curl through the relay to copylab serve: another client, another upstream.
	start_relay "$SERVE_ADDR" "$st" || { fail "$st: relay to serve starts"; continue; }
	code=$(curl -sS --max-time 30 -o "$TMP/viarelay" -w '%{http_code}' "http://$RADDR/f64m" 2>/dev/null)
	ok $([ "$code" = 200 ] && cmp -s "$TMP/viarelay" "$TMP/www/f64m"; echo $?) \
		"$st: curl through the relay to copylab serve: 64 MiB byte-exact"
	rm -f "$TMP/viarelay"
	stop_relay

	start_relay "127.0.0.1:$IPERF_PORT" "$st" || { fail "$st: relay to iperf3 starts"; continue; }
	fds0=$(fd_count "$RPID")
	iperf_check "$st" ""
	iperf_check "$st" -R
	fd_settles "$RPID" "$fds0"
	ok $? "$st: relay descriptors back to $fds0 after iperf3 left"
	stop_relay
done

# An upstream that refuses: the client's connection ends at once.
DEAD_PORT=$(free_port)
start_relay "127.0.0.1:$DEAD_PORT" "${STRATEGIES[0]}" || bail_out "relay does not start"
start=$(date +%s)
exec 3<>"/dev/tcp/${RADDR%:*}/${RADDR##*:}"
timeout 5 cat <&3 >/dev/null
rc=$?
exec 3<&-
ok $([ "$rc" -eq 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; echo $?) \
	"an upstream that refuses: the client's connection is closed at once"
grep -q "Connection refused" "$TMP/relay.err"
ok $? "the relay says why (connection refused)"
stop_relay

expect_usage_error "relay refuses a strategy that cannot relay, saying why" \
	"sendfile cannot relay: sendfile cannot read from a socket" \
	relay --listen 127.0.0.1:0 --to 127.0.0.1:1 --strategy sendfile
expect_usage_error "relay needs --to" "needs --listen" relay --listen 127.0.0.1:0

kill -TERM "${HELPERS[@]}" 2>/dev/null
wait "${HELPERS[@]}" 2>/dev/null
ok $(no_leftovers "$TAG"; echo $?) "nothing left running"
done_testing
