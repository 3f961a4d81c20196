#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab serve` against clients that try to hold it, on 127.0.0.1 only
# (docs/threat-model.md): an accept that fails for want of descriptors
# with no connection open (the listener must come back on its own), a
# pipelining flood beside a normal download, silent sockets filling
# --max-conns (cut by --header-timeout, not the idle timeout), the
# keep-alive request cap, a bounded drain after a closing answer, a
# request with a body followed by a pipelined one, and path escapes (symlinks out of the root, a relative ../ link, a
# loop, a FIFO, a device node), with openat2 and with its fallback forced
# by the test-only switch COPYLAB_TEST_NO_OPENAT2=1.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab

for tool in python3 curl cmp prlimit; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

WWW=$TMP/www
mkdir -p "$WWW/sub" "$TMP/outside"
head -c $((1 << 20)) /dev/urandom >"$WWW/mib"
head -c 4097 /dev/urandom >"$WWW/small"
echo hello >"$WWW/sub/hello.txt"
echo "outside the root" >"$TMP/secret"
echo "outside the root" >"$TMP/outside/secret"

# The clients, each bounded in time; each prints one line of figures.
cat >"$TMP/client.py" <<'PY'
import re, socket, sys, threading, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def read_all(s, limit):
    """Everything until the server closes, or until limit seconds: (bytes, closed)."""
    s.settimeout(0.2)
    end = time.time() + limit
    data = b""
    while time.time() < end:
        try:
            b = s.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        except ConnectionResetError:
            return data, True
        if not b:
            return data, True
        data += b
    return data, False

if mode == "raw":
    # One write of the request text (with \r\n escapes); every status line
    # of the answer, and whether the server closed within 5 s.
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(sys.argv[4].encode().decode("unicode_escape").encode("latin-1"))
    data, closed = read_all(s, 5)
    lines = [l.decode("latin-1") for l in re.findall(rb"HTTP/1\.[01] [0-9]{3} [^\r]*", data)]
    heads = data.count(b"\r\nConnection: close\r\n")
    print("%s|closed=%s|close-headers=%d" % (",".join(lines), "yes" if closed else "no", heads))

elif mode == "silent":
    # N connections that never send.  Prints "open N", then how many the
    # server closed within SECONDS, and how many bytes came on them.
    n, limit = int(sys.argv[4]), float(sys.argv[5])
    socks = [socket.create_connection((host, port), timeout=5) for _ in range(n)]
    print("open %d" % n, flush=True)
    start = time.time(); closed = 0; got = 0
    for s in socks:
        data, c = read_all(s, max(0.1, limit - (time.time() - start)))
        closed += c; got += len(data)
        s.close()
    print("%d of %d closed by the server within %.1fs, %d bytes sent on them" % (closed, n, time.time() - start, got))
    sys.exit(0 if closed == n else 1)

elif mode == "flood":
    # One connection that pipelines small GETs as fast as the server takes
    # them for SECONDS, reading every answer.  Prints "flooding" once the
    # answers flow, then the count of answers.
    secs = float(sys.argv[4])
    s = socket.create_connection((host, port), timeout=5)
    req = b"HEAD /small HTTP/1.1\r\nHost: x\r\n\r\n" * 4096
    stop = time.time() + secs
    def sender():
        try:
            while time.time() < stop:
                s.sendall(req)
        except OSError:
            pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    threading.Thread(target=sender, daemon=True).start()
    s.settimeout(1)
    got = answers = 0; told = False; tail = b""
    while time.time() < stop + 5:
        try:
            b = s.recv(1 << 20)
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            break
        if not b:
            break
        got += len(b)
        chunk = tail + b
        answers += chunk.count(b"HTTP/1.1 200 ")
        tail = chunk[-16:]
        if not told and got > (1 << 20):
            print("flooding", flush=True); told = True
    print("%d answers, %d bytes" % (answers, got), flush=True)
elif mode == "linger":
    # A request that ends its connection, then bytes without end: the
    # server's drain must stop on its own.  Prints "draining" once the
    # answer came, then how the connection ended.
    secs = float(sys.argv[4])
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    junk = b"j" * (1 << 20); start = time.time(); sent = [0]; ended = ["still open after %.0fs" % secs]
    def sender():
        try:
            while time.time() - start < secs:
                sent[0] += s.send(junk)
            s.close()
        except OSError as e:
            ended[0] = "sending failed after %.1fs (%s)" % (time.time() - start, e.__class__.__name__)
    s.settimeout(secs)
    head = s.recv(65536)
    print("draining" if head.startswith(b"HTTP/1.1 200") else "no answer", flush=True)
    t = threading.Thread(target=sender, daemon=True); t.start(); t.join(secs + 5)
    print("%s, %d MiB sent" % (ended[0], sent[0] >> 20), flush=True)
PY
C="python3 $TMP/client.py"

SPID="" SADDR=""
# start_serve ROOT ARGS...: copylab serve on a free port; sets SPID, SADDR.
# SERVE_ENV (VAR=VALUE words) goes into its environment.
start_serve() {
	local root=$1 r=0
	shift
	TOOL_ENV=$SERVE_ENV start_tool serve --root "$root" "$@" || r=$?
	SPID=$TOOL_PID SADDR=$TOOL_ADDR
	return "$r"
}
stop_serve() {
	local rc=0
	stop_tool "$SPID" || rc=$?
	SPID=""
	return "$rc"
}

# get_exact URL FILE: curl downloads URL within 20 s and it equals FILE.
get_exact() {
	local code
	code=$(curl -sS --max-time 20 -o "$TMP/got" -w '%{http_code}' "$1" 2>"$TMP/curl.err")
	[ "$code" = 200 ] && cmp -s "$TMP/got" "$2" && return 0
	diag "curl $1: HTTP $code"
	diag_file "$TMP/curl.err" 3
	return 1
}

# ---- accept fails with EMFILE while no connection is open ----------------------
# The soft descriptor limit of the running server is lowered to the next
# descriptor it would get: its accept fails with EMFILE, and no connection
# is open whose close would wake the listener.  Then the limit comes back,
# and a new client must be served on the listener's own re-arm.

start_serve "$WWW" --quiet || bail_out "copylab serve does not start"
get_exact "http://$SADDR/small" "$WWW/small" >/dev/null
hard=$(prlimit --pid "$SPID" --nofile --output HARD --noheadings | tr -d ' ')
soft=$(prlimit --pid "$SPID" --nofile --output SOFT --noheadings | tr -d ' ')
low=$(lowest_free_fd "$SPID")
prlimit --pid "$SPID" --nofile="$low:$hard"
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GET /small HTTP/1.1\r\nHost: x\r\n\r\n' >&3
wait_for "$TMP/serve.err" 'accept.*(Too many open files|descriptors)' 5
ok $? "EMFILE on accept is said on stderr (even with --quiet)" "$(tail -n 3 "$TMP/serve.err")"
exec 3<&-
prlimit --pid "$SPID" --nofile="$soft:$hard"
get_exact "http://$SADDR/small" "$WWW/small"
ok $? "after EMFILE with no connection open, a new client is served (the listener re-arms itself)"
stop_serve
ok $? "SIGTERM after the EMFILE episode: exit 0"

# ---- silent sockets filling --max-conns are cut by --header-timeout ----------------

start_serve "$WWW" --quiet --max-conns 4 --header-timeout 1 --idle-timeout 60 ||
	bail_out "copylab serve does not start"
$C silent "${SADDR%:*}" "${SADDR##*:}" 4 20 >"$TMP/silent.out" 2>&1 &
SILENT_PID=$!
wait_for "$TMP/silent.out" '^open 4$' 10
ok $? "4 silent connections fill --max-conns 4" "$(cat "$TMP/silent.out")"
start=$(date +%s)
code=$(curl -sS --max-time 8 -o "$TMP/got" -w '%{http_code}' "http://$SADDR/small" 2>"$TMP/curl.err")
ok $([ "$code" = 200 ] && cmp -s "$TMP/got" "$WWW/small"; echo $?) \
	"a fifth client is served within 8 s: --header-timeout 1 cut the silent ones, not the 60 s idle timeout ($(( $(date +%s) - start ))s)" \
	"HTTP '$code' $(cat "$TMP/curl.err")"
wait "$SILENT_PID"
ok $? "silent connections closed by the server: $(tail -n 1 "$TMP/silent.out")"
stop_serve

# ---- one client pipelining without end does not hold the server --------------------

# (--max-requests would end the flood's connection: no cap here, to see the per-turn budget.)
start_serve "$WWW" --quiet --max-requests 1000000000 || bail_out "copylab serve does not start"
$C flood "${SADDR%:*}" "${SADDR##*:}" 25 >"$TMP/flood.out" 2>&1 &
FLOOD_PID=$!
wait_for "$TMP/flood.out" '^flooding' 15
ok $? "a client floods the server with pipelined HEADs, reading every answer" "$(cat "$TMP/flood.out")"
start=$(date +%s)
get_exact "http://$SADDR/mib" "$WWW/mib"
ok $? "meanwhile another client's 1 MiB download completes within 20 s ($(( $(date +%s) - start ))s)"
kill -0 "$SPID" 2>/dev/null
ok $? "the server survived the flood"
wait "$FLOOD_PID"
diag "flood: $(tail -n 1 "$TMP/flood.out")"
stop_serve
ok $? "SIGTERM after the flood: exit 0" "$(tail -n 3 "$TMP/serve.err")"

# ---- the drain after a closing answer is bounded ------------------------------------------

start_serve "$WWW" --quiet || bail_out "copylab serve does not start"
$C linger "${SADDR%:*}" "${SADDR##*:}" 20 >"$TMP/linger.out" 2>&1 &
LINGER_PID=$!
wait_for "$TMP/linger.out" '^draining' 10
ok $? "a client keeps sending after its Connection: close answer" "$(cat "$TMP/linger.out")"
start=$(date +%s)
get_exact "http://$SADDR/mib" "$WWW/mib"
ok $? "meanwhile another client's 1 MiB download completes ($(( $(date +%s) - start ))s)"
wait "$LINGER_PID"
# What the client got off is the server's drain plus the sockets' buffers
# (a few MiB on loopback): far below 64 MiB when the drain is bounded.
mib=$(sed -n 's/.*, \([0-9]*\) MiB sent$/\1/p' "$TMP/linger.out")
ok $(grep -q '^sending failed after' "$TMP/linger.out" && [ "${mib:-999999}" -lt 64 ]; echo $?) \
	"the server cut the drain by itself, after 1 MiB, not 2 s of whatever came: $(tail -n 1 "$TMP/linger.out")"
stop_serve

# ---- the keep-alive request cap; a body followed by a pipelined request ----------

start_serve "$WWW" --quiet --max-requests 3 || bail_out "copylab serve does not start"
R='GET /sub/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n'
out=$($C raw "${SADDR%:*}" "${SADDR##*:}" "$R$R$R$R$R")
is "$out" "HTTP/1.1 200 OK,HTTP/1.1 200 OK,HTTP/1.1 200 OK|closed=yes|close-headers=1" \
	"--max-requests 3: five pipelined requests get three answers, the third says Connection: close"
out=$($C raw "${SADDR%:*}" "${SADDR##*:}" \
	'GET /sub/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /small HTTP/1.1\r\nHost: x\r\n\r\n')
is "$out" "HTTP/1.1 200 OK|closed=yes|close-headers=1" \
	"a request with a body, then a pipelined one: one answer (Connection: close), the second not served"
stop_serve

# ---- path escapes, with openat2 and with its fallback ------------------------------

ln -s "$TMP/outside" "$WWW/outdir"		# a directory symlink pointing out
ln -s ../secret "$WWW/rel"			# a relative ../ symlink out
ln -s ../../secret "$WWW/sub/rel2"		# two levels up: out
ln -s loopB "$WWW/loopA"			# a loop
ln -s loopA "$WWW/loopB"
ln -s sub "$WWW/subl"				# a directory symlink inside: served
ln -s ../small "$WWW/sub/up"			# ../ that stays beneath: served
mkfifo "$WWW/fifo"
dev_made=yes
mknod "$WWW/null" c 1 3 2>/dev/null || dev_made=no

# escapes_refused LABEL: every escape is 403/404 with nothing of the secret,
# the links inside are served, and the server still answers after the FIFO.
escapes_refused() {
	local label=$1 bad="" path st
	for path in /outdir/secret /rel /sub/rel2 /loopA /loopB /fifo /null; do
		[ "$path" = /null ] && [ "$dev_made" = no ] && continue
		st=$($C raw "${SADDR%:*}" "${SADDR##*:}" "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		case $st in
		"HTTP/1.1 403 Forbidden|"*|"HTTP/1.1 404 Not Found|"*) ;;
		*) bad+=" $path -> '$st'" ;;
		esac
	done
	ok $([ -z "$bad" ]; echo $?) "$label: symlinks out (directory, ../, two levels), a loop, a FIFO, a device node$([ "$dev_made" = no ] && echo ' (no mknod here)') are refused" "$bad"
	get_exact "http://$SADDR/subl/hello.txt" "$WWW/sub/hello.txt" && get_exact "http://$SADDR/sub/up" "$WWW/small"
	ok $? "$label: a directory symlink inside and a ../ link that stays beneath are served"
}

start_serve "$WWW" --quiet || bail_out "copylab serve does not start"
escapes_refused "openat2"
stop_serve

SERVE_ENV="COPYLAB_TEST_NO_OPENAT2=1"
start_serve "$WWW" --quiet || bail_out "copylab serve does not start"
grep -q 'without openat2' "$TMP/serve.err"
ok $? "COPYLAB_TEST_NO_OPENAT2=1: the server says it resolves paths without openat2" "$(cat "$TMP/serve.err")"
escapes_refused "without openat2"
stop_serve

# --root / without openat2: the root's own check must not refuse everything.
start_serve / --quiet || bail_out "copylab serve --root / does not start"
get_exact "http://$SADDR$WWW/small" "$WWW/small"
ok $? "without openat2, --root / serves a file by its absolute path"
stop_serve
SERVE_ENV=""

ok $(no_leftovers "$TAG"; echo $?) "no server left running"
done_testing
