#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile clients against the real tools, on 127.0.0.1 only.  copylab
# serve: slow-loris heads held open (cut by --header-timeout, while a
# normal download still succeeds), 10,000 connection attempts (half send
# garbage), a head over 8 KiB, path escapes, clients that vanish
# mid-response; then its descriptor count is back where it was and it
# still serves byte for byte.  copylab relay: clients that connect and
# vanish, an upstream that refuses, 1,000 connection attempts; descriptors
# back to baseline, still relaying.
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_copylab

for tool in python3 curl cmp; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done
"$COPYLAB" serve --help >/dev/null 2>&1 || skip_all "this copylab has no serve command"

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

WWW=$TMP/www
mkdir -p "$WWW"
head -c $((64 << 20)) /dev/urandom >"$WWW/big"
head -c 65537 /dev/urandom >"$WWW/small"
echo "outside the root" >"$TMP/secret"
ln -s "$TMP/secret" "$WWW/escape"

# The hostile clients, each bounded in time.  Every mode prints one line
# of figures; its exit status says whether the server behaved.
cat >"$TMP/hostile.py" <<'PY'
import socket, sys, time, os
host, port = sys.argv[2], int(sys.argv[3])
mode = sys.argv[1]

def conn(timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    return s

if mode == "loris-open":
    # N connections that send a partial head and stall; they stay open
    # until this process is told (stdin closes), then report how each ended.
    n = int(sys.argv[4]); limit = float(sys.argv[5])
    socks = []
    for i in range(n):
        s = conn()
        s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    print("open", n, flush=True)
    start = time.time()
    closed = 0; answered408 = 0
    for s in socks:
        s.settimeout(max(0.1, limit - (time.time() - start)))
        try:
            data = b""
            while True:
                b = s.recv(4096)
                if not b: break
                data += b
            closed += 1
            if b" 408 " in data.split(b"\r\n", 1)[0]: answered408 += 1
        except (socket.timeout, TimeoutError):
            pass
        except ConnectionResetError:
            closed += 1
        s.close()
    print("closed %d of %d within %.1fs (%d answered 408)" % (closed, n, time.time() - start, answered408))
    sys.exit(0 if closed == n else 1)

elif mode == "storm":
    # N connection attempts within a time bound: connect, then (every
    # other one) send garbage, then close.  Refusals are counted, not fatal.
    n = int(sys.argv[4]); bound = float(sys.argv[5])
    start = time.time(); done = refused = errors = 0
    garbage = os.urandom(512)
    while done < n and time.time() - start < bound:
        try:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.settimeout(2)
            s.connect((host, port))
            if done % 2:
                s.sendall(garbage if done % 4 == 1 else b"GET /small HTTP/1.1\r\n")
            s.close()
        except ConnectionRefusedError:
            refused += 1
        except OSError:
            errors += 1
        done += 1
    print("%d attempts in %.1fs, %d refused, %d other errors" % (done, time.time() - start, refused, errors))
    sys.exit(0 if done == n and refused == 0 else 1)

elif mode == "vanish":
    # N clients that ask for PATH, read KB kilobytes of the answer, and go.
    n = int(sys.argv[4]); path = sys.argv[5]; kb = int(sys.argv[6]); rst = sys.argv[7] == "rst"
    got_total = 0
    for i in range(n):
        s = conn()
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        got = 0
        while got < kb * 1024:
            b = s.recv(kb * 1024 - got)
            if not b: break
            got += len(b)
        got_total += got
        s.close()
    print("%d clients read %d bytes in all, then went" % (n, got_total))
    sys.exit(0 if got_total >= n * kb * 1024 else 1)

elif mode == "raw":
    # One request as given (escapes \r \n), the status line of the answer.
    s = conn()
    s.sendall(sys.argv[4].encode().decode("unicode_escape").encode("latin-1"))
    s.settimeout(5)
    data = b""
    try:
        while b"\r\n" not in data:
            b = s.recv(4096)
            if not b: break
            data += b
    except OSError:
        pass
    print(data.split(b"\r\n", 1)[0].decode("latin-1"))
PY
H="python3 $TMP/hostile.py"

# fd_settles PID N SECONDS: the descriptor count comes back to N in time.
fd_settles() {
	local i now
	for ((i = 0; i < $3 * 10; i++)); do
		now=$(fd_count "$1")
		[ "$now" -eq "$2" ] && return 0
		sleep 0.1
	done
	diag "descriptors: $2 before, $now after"
	ls -l "/proc/$1/fd" | sed 's/^/#   /' | tail -n 12
	return 1
}

# start_tool VAR-PREFIX ARGS...: a copylab tool on a free port; sets
# ${prefix}PID and ${prefix}ADDR.
start_tool() {
	local p=$1 i addr
	shift
	COPYLAB_TEST_TAG=$TAG "$COPYLAB" "$@" >"$TMP/$p.out" 2>"$TMP/$p.err" </dev/null &
	eval "${p}PID=$!"
	for i in $(seq 50); do
		addr=$(sed -n 's/^listening on //p' "$TMP/$p.out")
		[ -n "$addr" ] && { eval "${p}ADDR=$addr"; return 0; }
		sleep 0.1
	done
	diag "copylab $* did not start"
	diag_file "$TMP/$p.err"
	return 1
}

# get_exact URL FILE: curl downloads URL and it equals FILE.
get_exact() {
	local code
	code=$(curl -sS --max-time 30 -o "$TMP/got" -w '%{http_code}' "$1" 2>"$TMP/curl.err")
	[ "$code" = 200 ] && cmp -s "$TMP/got" "$2" && return 0
	diag "curl $1: HTTP $code"
	diag_file "$TMP/curl.err" 3
	return 1
}

# ============================== copylab serve ===================================

HT=2
start_tool S serve --listen 127.0.0.1:0 --root "$WWW" --strategy sendfile --header-timeout $HT --quiet ||
	bail_out "copylab serve does not start"
SHOST=${SADDR%:*} SPORT=${SADDR##*:}
get_exact "http://$SADDR/small" "$WWW/small" >/dev/null	# warm up: first-use descriptors
FDS0=$(fd_count "$SPID")
diag "serve: pid $SPID on $SADDR, $FDS0 descriptors at rest"

# --- slow loris: 50 heads that never end ---
coproc LORIS { $H loris-open "$SHOST" "$SPORT" 50 $((HT + 4)); }
read -r -t 10 word n <&"${LORIS[0]}"
ok $([ "$word" = open ]; echo $?) "slow loris: 50 connections hold partial heads" "got: $word $n"
now=$(fd_count "$SPID")
ok $([ "$now" -ge $((FDS0 + 50)) ]; echo $?) "slow loris: the server holds them ($now descriptors)"
start=$(date +%s.%N)
get_exact "http://$SADDR/big" "$WWW/big"
ok $? "slow loris: meanwhile a normal curl download of 64 MiB is byte-exact"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
read -r -t $((HT + 10)) line <&"${LORIS[0]}"
wait "$LORIS_PID"
ok $? "slow loris: all cut by --header-timeout $HT ($line; download took ${took}s)"

# --- 10,000 connection attempts within 20 s ---
out=$($H storm "$SHOST" "$SPORT" 10000 20 2>&1)
ok $? "10,000 connection attempts (connect, half send garbage or a partial head, reset): $out"
kill -0 "$SPID" 2>/dev/null
ok $? "the server survived the storm"

# --- an oversized head, path escapes ---
big_hdr=$(head -c 9000 /dev/zero | tr '\0' a)
st=$($H raw "$SHOST" "$SPORT" "GET /small HTTP/1.1\r\nHost: x\r\nX-Big: $big_hdr\r\n\r\n")
ok $([[ $st =~ ^HTTP/1\.[01]\ (431|400)\  ]]; echo $?) "a head over 8 KiB: $st"
st=$($H raw "$SHOST" "$SPORT" "GET /small HTTP/1.1\r\n$(for i in $(seq 400); do printf 'X-H%d: aaaaaaaaaaaaaaaaaaaa\\r\\n' "$i"; done)\r\n")
ok $([[ $st =~ ^HTTP/1\.[01]\ (431|400)\  ]]; echo $?) "400 headers adding up past 8 KiB: $st"
bad=""
for path in "/../secret" "/%2e%2e/secret" "/%2E%2E%2Fsecret" "/small/../../secret" "/escape" "/..%2f..%2f..%2fetc/passwd" \
	    "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd" "//etc/passwd" "/./../secret" "/%252e%252e/secret"; do
	st=$($H raw "$SHOST" "$SPORT" "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	[[ $st =~ ^HTTP/1\.1\ (400|403|404)\  ]] || bad+=" $path -> '$st'"
done
ok $([ -z "$bad" ]; echo $?) "10 path escapes refused (400/403/404)" "$bad"

# --- clients that vanish mid-response ---
out=$($H vanish "$SHOST" "$SPORT" 20 /big 1 fin 2>&1)
ok $? "20 clients read 1 KiB of 64 MiB and close: $out"
out=$($H vanish "$SHOST" "$SPORT" 20 /big 256 rst 2>&1)
ok $? "20 clients read 256 KiB of 64 MiB and reset: $out"
fails=0
for i in $(seq 10); do
	curl -sS --max-time 0.2 --limit-rate 1M -o /dev/null "http://$SADDR/big" 2>/dev/null
	[ $? -eq 28 ] || fails=$((fails + 1))
done
ok $([ "$fails" -eq 0 ]; echo $?) "10 curl --max-time 0.2 --limit-rate 1M give up mid-body (each timed out)" "$fails did not time out"

# --- afterwards ---
fd_settles "$SPID" "$FDS0" $((HT + 10))
ok $? "serve: descriptors back to $FDS0 after every hostile client"
get_exact "http://$SADDR/big" "$WWW/big"
ok $? "serve: still serves 64 MiB byte-exact"
kill -TERM "$SPID"
wait "$SPID"
ok $? "serve: SIGTERM, exit 0"

# ============================== copylab relay ===================================

"$COPYLAB" relay --help >/dev/null 2>&1 || { skip "this copylab has no relay command" "relay"; done_testing; exit 0; }
start_tool U serve --listen 127.0.0.1:0 --root "$WWW" --quiet || bail_out "upstream serve does not start"
start_tool R relay --listen 127.0.0.1:0 --to "$UADDR" --strategy splice --quiet || bail_out "relay does not start"
RHOST=${RADDR%:*} RPORT=${RADDR##*:}
get_exact "http://$RADDR/small" "$WWW/small" >/dev/null
sleep 0.2
RFDS0=$(fd_count "$RPID")
diag "relay: pid $RPID on $RADDR -> $UADDR, $RFDS0 descriptors at rest"

out=$($H vanish "$RHOST" "$RPORT" 20 /big 1 fin 2>&1)
ok $? "relay: 20 clients read 1 KiB of 64 MiB and close: $out"
out=$($H vanish "$RHOST" "$RPORT" 20 /big 64 rst 2>&1)
ok $? "relay: 20 clients read 64 KiB of 64 MiB and reset: $out"
out=$($H storm "$RHOST" "$RPORT" 1000 20 2>&1)
ok $? "relay: 1,000 connection attempts: $out"
kill -0 "$RPID" 2>/dev/null
ok $? "relay: survived"
fd_settles "$RPID" "$RFDS0" 10
ok $? "relay: descriptors back to $RFDS0"
get_exact "http://$RADDR/big" "$WWW/big"
ok $? "relay: still relays 64 MiB byte-exact"

# An upstream that refuses: 200 clients, each closed at once, nothing kept.
DEAD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_tool D relay --listen 127.0.0.1:0 --to "127.0.0.1:$DEAD_PORT" --quiet || bail_out "relay to a dead port does not start"
DFDS0=$(fd_count "$DPID")
out=$($H storm "${DADDR%:*}" "${DADDR##*:}" 200 20 2>&1)
ok $? "refusing upstream: 200 connection attempts: $out"
start=$(date +%s)
exec 3<>"/dev/tcp/${DADDR%:*}/${DADDR##*:}"
timeout 5 cat <&3 >/dev/null
rc=$?
exec 3<&-
ok $([ "$rc" -eq 0 ] && [ $(( $(date +%s) - start )) -le 2 ]; echo $?) \
	"refusing upstream: a client's connection is closed at once"
fd_settles "$DPID" "$DFDS0" 10
ok $? "refusing upstream: descriptors back to $DFDS0"

for p in R D U; do
	eval "pid=\$${p}PID"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
done
ok $(no_leftovers "$TAG"; echo $?) "nothing left running"
done_testing
