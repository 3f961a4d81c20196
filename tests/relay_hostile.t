#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab relay` against peers that hold its slots, on 127.0.0.1 only
# (docs/threat-model.md): pairs where nobody speaks, and pairs where one
# side half-closed and then nobody speaks, filling --max-conns, are closed
# by --idle-timeout and --fin-timeout (short ones, set here) so a new
# client gets through, while a pair that is merely quiet within its time
# stays; the defaults are on (no pair is held for ever unless asked); an
# accept that fails for want of descriptors with no pair open, then
# recovery on the listener's own re-arm.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab

for tool in python3 prlimit; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# The upstream: a connection that sends "ping" gets "pong" and a close;
# any other is read and held, never answered, never closed (even after
# the client's FIN): the peer that keeps a relay's pair alive.
cat >"$TMP/peers.py" <<'PY'
import socket, sys, threading, time
def upstream(port_file):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0)); ls.listen(64)
    open(port_file, "w").write("%d\n" % ls.getsockname()[1])
    held = []
    def one(c):
        data = b""
        while True:
            b = c.recv(4096)
            if not b: break
            data += b
            if data.startswith(b"ping"):
                c.sendall(b"pong"); c.close(); return
        held.append(c)      # EOF without "ping": keep it open, say nothing
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()

def ping(port, limit):
    # A round trip through the relay within limit seconds: "pong", or why not.
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=limit)
        s.sendall(b"ping")
        s.shutdown(socket.SHUT_WR)
        got = s.recv(16)
        print("pong" if got == b"pong" else "got %r" % got)
    except OSError as e:
        print("error: %s" % e)

def hold(port, kind, secs, out):
    # One client held for secs: "silent" never sends; "fin" sends a byte
    # and half-closes.  Writes "open" to out, then whether the relay
    # closed it and after how long.
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    if kind == "fin":
        s.sendall(b"x"); s.shutdown(socket.SHUT_WR)
    open(out, "w").write("open\n")
    start = time.time(); s.settimeout(0.2)
    while time.time() - start < float(secs):
        try:
            b = s.recv(4096)
            if not b:
                open(out, "a").write("closed by the relay after %.1fs\n" % (time.time() - start)); return
        except (socket.timeout, TimeoutError):
            continue
        except ConnectionResetError:
            open(out, "a").write("reset by the relay after %.1fs\n" % (time.time() - start)); return
    open(out, "a").write("still open after %ss\n" % secs)

if sys.argv[1] == "upstream": upstream(sys.argv[2])
elif sys.argv[1] == "ping": ping(sys.argv[2], float(sys.argv[3]))
else: hold(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
PY
P="python3 $TMP/peers.py"

COPYLAB_TEST_TAG=$TAG $P upstream "$TMP/up.port" &
UP_PID=$!
wait_for "$TMP/up.port" '^[0-9]+$' 5 || bail_out "the python upstream did not start"
UP=127.0.0.1:$(cat "$TMP/up.port")

RPID="" RADDR=""
start_relay() {
	local r=0
	start_tool relay --to "$UP" "$@" || r=$?
	RPID=$TOOL_PID RADDR=$TOOL_ADDR
	return "$r"
}
stop_relay() {
	local rc=0
	stop_tool "$RPID" || rc=$?
	RPID=""
	return "$rc"
}

# ---- the defaults: no pair is held for ever unless asked ------------------------------

start_relay || bail_out "copylab relay does not start"
grep -Eq 'timeouts: connect 10\.000 s, idle 300\.000 s, fin 30\.000 s' "$TMP/relay.err"
ok $? "by default a silent pair is closed after 300 s, a half-closed silent one after 30 s" \
	"$(head -n 2 "$TMP/relay.err")"
is "$($P ping "${RADDR##*:}" 5)" pong "a round trip through the relay"
stop_relay

# ---- half-closed and silent pairs fill --max-conns 2 ----------------------------------
# One pair half-closed (the client sent a byte and its FIN; the upstream
# holds its side open and says nothing), one merely silent: --fin-timeout 1
# closes the first, --idle-timeout 30 keeps the second, and a third client
# gets the freed slot.

start_relay --max-conns 2 --idle-timeout 30 --fin-timeout 1 || bail_out "copylab relay does not start"
$P hold "${RADDR##*:}" fin 12 "$TMP/fin.out" &
FIN_PID=$!
$P hold "${RADDR##*:}" silent 12 "$TMP/silent.out" &
SIL_PID=$!
wait_for "$TMP/fin.out" '^open' 5 && wait_for "$TMP/silent.out" '^open' 5
ok $? "two pairs fill --max-conns 2: one half-closed, one silent"
start=$(date +%s)
got=$($P ping "${RADDR##*:}" 10)
is "$got" pong "a third client gets through within 10 s, once --fin-timeout 1 closed the half-closed pair ($(( $(date +%s) - start ))s)"
wait_for "$TMP/fin.out" 'closed by the relay|reset by the relay' 5
ok $? "the half-closed pair was closed by the relay: $(tail -n 1 "$TMP/fin.out")"
grep -q 'half-closed, then silent (--fin-timeout 1.000 s)' "$TMP/relay.err"
ok $? "its log line says why" "$(grep ': closed' "$TMP/relay.err" | head -n 3)"
wait "$FIN_PID" "$SIL_PID"
grep -q '^still open after 12s' "$TMP/silent.out"
ok $? "the silent pair, within its --idle-timeout 30, stayed open: $(tail -n 1 "$TMP/silent.out")"
stop_relay

# ---- silent pairs fill --max-conns 2: --idle-timeout 1 ---------------------------------

start_relay --max-conns 2 --idle-timeout 1 || bail_out "copylab relay does not start"
$P hold "${RADDR##*:}" silent 12 "$TMP/s1.out" &
S1=$!
$P hold "${RADDR##*:}" silent 12 "$TMP/s2.out" &
S2=$!
wait_for "$TMP/s1.out" '^open' 5 && wait_for "$TMP/s2.out" '^open' 5
ok $? "two silent pairs fill --max-conns 2"
is "$($P ping "${RADDR##*:}" 10)" pong "a third client gets through within 10 s once --idle-timeout 1 closed them"
wait "$S1" "$S2"
ok $(grep -q 'closed by the relay' "$TMP/s1.out" && grep -q 'closed by the relay' "$TMP/s2.out"; echo $?) \
	"both silent pairs were closed by the relay" "$(cat "$TMP/s1.out" "$TMP/s2.out")"
stop_relay
ok $? "SIGTERM: exit 0"
grep -q 'copylab relay: stopped after .*idle timeout 2' "$TMP/relay.err"
ok $? "the summary on exit counts the two idle closes" "$(tail -n 2 "$TMP/relay.err")"

# ---- accept fails with EMFILE while no pair is open ------------------------------------

start_relay --quiet || bail_out "copylab relay does not start"
hard=$(prlimit --pid "$RPID" --nofile --output HARD --noheadings | tr -d ' ')
soft=$(prlimit --pid "$RPID" --nofile --output SOFT --noheadings | tr -d ' ')
prlimit --pid "$RPID" --nofile="$(lowest_free_fd "$RPID"):$hard"
exec 3<>"/dev/tcp/${RADDR%:*}/${RADDR##*:}"
wait_for "$TMP/relay.err" 'accept: Too many open files' 5
ok $? "EMFILE on accept is said on stderr (even with --quiet)" "$(tail -n 3 "$TMP/relay.err")"
exec 3<&-
prlimit --pid "$RPID" --nofile="$soft:$hard"
is "$($P ping "${RADDR##*:}" 5)" pong "after EMFILE with no pair open, a new client gets through (the listener re-arms itself)"
stop_relay
ok $? "SIGTERM after the EMFILE episode: exit 0"

kill "$UP_PID" 2>/dev/null
wait "$UP_PID" 2>/dev/null
ok $(no_leftovers "$TAG"; echo $?) "nothing left running"
done_testing
