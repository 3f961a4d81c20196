#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab serve`, the static HTTP/1.1 server, with real clients: curl
# downloads every size byte for byte with every strategy that serves,
# ranges start mid-file (the strategies' in_offset), HEAD, keep-alive, the
# error answers, path escapes refused, a slow-loris head timed out, wrk
# with 64 connections without an error, and no descriptor left behind.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

for tool in curl wrk cmp; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.sh installs it)"
done
"$COPYLAB" serve --help >/dev/null 2>&1 || skip_all "this copylab has no serve command"

TAG=$(tag_new)
at_exit "kill_tagged $TAG"
ROOT_DIR=$TMP/root
mkdir -p "$ROOT_DIR/sub" "$ROOT_DIR/dir"
SIZES="0 1 4095 4096 4097 65537 1048577 67108864"
for n in $SIZES; do
	head -c "$n" /dev/urandom >"$ROOT_DIR/f$n"
done
echo "hello" >"$ROOT_DIR/sub/hello.txt"
echo "<p>index</p>" >"$ROOT_DIR/dir/index.html"
echo "outside the root" >"$TMP/secret"
ln -s "$TMP/secret" "$ROOT_DIR/escape"		# points out: refused
ln -s sub/hello.txt "$ROOT_DIR/inside"		# stays beneath: served

SPID="" SADDR=""
# start_serve ARGS...: starts copylab serve on a free port; sets SPID, SADDR.
start_serve() {
	local r=0
	start_tool serve --root "$ROOT_DIR" "$@" || r=$?
	SPID=$TOOL_PID SADDR=$TOOL_ADDR
	return "$r"
}

# stop_serve: SIGTERM, and the exit status of a graceful stop.
stop_serve() {
	local rc=0
	stop_tool "$SPID" || rc=$?
	SPID=""
	return "$rc"
}


# fd_settles PID N: the process's descriptor count comes back to N within 3 s.
fd_settles() {
	local i now
	for i in $(seq 30); do
		now=$(fd_count "$1")
		[ "$now" -eq "$2" ] && return 0
		sleep 0.1
	done
	diag "descriptors: $2 before, $now after"
	ls -l "/proc/$1/fd" | sed 's/^/#   /' | tail -n 12
	return 1
}

# fetch NAME URL FILE EXPECTED-CODE [CURL ARGS...]: one curl, code checked.
fetch() {
	local out=$1 url=$2 want=$3 code
	shift 3
	code=$(curl -sS --max-time 30 -o "$out" -w '%{http_code}' "$@" "$url" 2>"$TMP/curl.err") || true
	[ "$code" = "$want" ] && return 0
	diag "curl $* $url: HTTP '$code', expected $want"
	diag_file "$TMP/curl.err" 3
	return 1
}

# The tool drives every serve strategy: those that wait on descriptors of
# their own (an io_uring ring, the socket's error queue) as well.
mapfile -t STRATEGIES < <(supported serve)
is "$(printf '%s\n' "${STRATEGIES[@]}" | grep -Ecx 'uring_rw|uring_splice|uring_send_zc|msg_zerocopy')" 4 \
	"the ring and error-queue strategies are among those served (${STRATEGIES[*]})"

# --- every strategy: sizes, ranges, wrk, descriptors ----------------------------

for st in "${STRATEGIES[@]}"; do
	if ! start_serve --strategy "$st" --quiet; then
		fail "$st: server starts"
		continue
	fi
	base=http://$SADDR
	for n in $SIZES; do
		if fetch "$TMP/got" "$base/f$n" 200 && cmp -s "$TMP/got" "$ROOT_DIR/f$n"; then
			pass "$st: GET of $n bytes is byte-exact"
		else
			fail "$st: GET of $n bytes is byte-exact"
			[ -f "$TMP/got" ] && diag "got $(stat -c %s "$TMP/got") bytes"
		fi
	done

	# Three responses on one kept-alive connection: a strategy's state that
	# belongs to the socket (msg_zerocopy's send numbering) carries over.
	conns=$(curl -sS --max-time 30 -w '%{num_connects} ' -o "$TMP/k1" "$base/f1048577" -o "$TMP/k2" "$base/f65537" \
		-o "$TMP/k3" "$base/f4097" 2>"$TMP/curl.err")
	if [ "$conns" = "1 0 0 " ] && cmp -s "$TMP/k1" "$ROOT_DIR/f1048577" && cmp -s "$TMP/k2" "$ROOT_DIR/f65537" &&
	   cmp -s "$TMP/k3" "$ROOT_DIR/f4097"; then
		pass "$st: three GETs on one kept-alive connection, each byte-exact"
	else
		fail "$st: three GETs on one kept-alive connection, each byte-exact"
		diag "connections opened per transfer: '$conns'"
		diag_file "$TMP/curl.err" 3
	fi

	# Ranges start inside a page and across page boundaries: in_offset at work.
	ok_range=0
	fetch "$TMP/r" "$base/f65537" 206 -r 4095-8200 && cmp -s "$TMP/r" \
		<(tail -c +4096 "$ROOT_DIR/f65537" | head -c 4106) || ok_range=1
	ok $ok_range "$st: Range bytes=4095-8200 (206, exact)"
	ok_range=0
	fetch "$TMP/r" "$base/f1048577" 206 -r 5000- && cmp -s "$TMP/r" \
		<(tail -c +5001 "$ROOT_DIR/f1048577") || ok_range=1
	ok $ok_range "$st: Range bytes=5000- (206, exact)"
	ok_range=0
	fetch "$TMP/r" "$base/f67108864" 206 -r -100000 && cmp -s "$TMP/r" \
		<(tail -c 100000 "$ROOT_DIR/f67108864") || ok_range=1
	ok $ok_range "$st: Range bytes=-100000 of 64 MiB (206, exact)"

	# wrk: 64 connections for 3 s, keep-alive; no errors, no descriptor leaked.
	fds_before=$(fd_count "$SPID")
	wrk -t 2 -c 64 -d 3s "$base/f4097" >"$TMP/wrk.out" 2>&1
	wrk_rc=$?
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	if [ "$wrk_rc" -eq 0 ] && [ "${reqs:-0}" -gt 0 ] &&
	   ! grep -q 'Non-2xx or 3xx responses' "$TMP/wrk.out" && ! grep -q 'Socket errors' "$TMP/wrk.out"; then
		pass "$st: wrk -c 64 -d 3s: $reqs requests, no error"
	else
		fail "$st: wrk -c 64 -d 3s: no error"
		diag_file "$TMP/wrk.out"
	fi
	if fd_settles "$SPID" "$fds_before"; then
		pass "$st: server descriptors back to $fds_before after wrk"
	else
		fail "$st: server descriptors back to baseline after wrk"
	fi
	stop_serve
	ok $? "$st: SIGTERM stops the server with status 0" "$(tail -n 3 "$TMP/serve.err")"
done

# --- HTTP behaviour (one strategy suffices: the strategies differ only in bodies) ---

start_serve --strategy "${STRATEGIES[0]}" --header-timeout 1 || bail_out "server does not start"
base=http://$SADDR

curl -sS -I "$base/f65537" >"$TMP/head" 2>&1
len=$(tr -d '\r' <"$TMP/head" | sed -n 's/^Content-Length: //Ip')
code=$(head -n 1 "$TMP/head" | awk '{print $2}')
ok $([ "$code" = 200 ] && [ "$len" = 65537 ]; echo $?) "HEAD: 200 with Content-Length 65537 and no body" \
	"$(cat "$TMP/head")"

# HEAD must not send a body: on one connection, a HEAD then a GET must both parse.
curl -sS -I "$base/sub/hello.txt" -o /dev/null --next -sS "$base/sub/hello.txt" -o "$TMP/after-head" 2>"$TMP/curl.err"
ok $(cmp -s "$TMP/after-head" "$ROOT_DIR/sub/hello.txt"; echo $?) "HEAD then GET on one connection: the GET is intact"

curl -sS -v "$base/f4097" "$base/f65537" -o "$TMP/k1" -o "$TMP/k2" 2>"$TMP/keep.err"
if grep -qi 're-using existing connection' "$TMP/keep.err" && cmp -s "$TMP/k1" "$ROOT_DIR/f4097" &&
   cmp -s "$TMP/k2" "$ROOT_DIR/f65537"; then
	pass "keep-alive: two requests on one connection, both exact"
else
	fail "keep-alive: two requests on one connection, both exact"
	diag_file "$TMP/keep.err" 8
fi

# Two requests in one write (pipelining): two answers, in order.
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GET /sub/hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /f1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
timeout 5 cat <&3 >"$TMP/pipelined"
exec 3<&-
got=$(grep -c '^HTTP/1.1 200' "$TMP/pipelined")
is "$got" 2 "pipelined requests: two 200 answers"

fetch "$TMP/body" "$base/nope" 404
ok $? "404 for a missing file"
is "$(cat "$TMP/body")" "404 Not Found" "404 has a small text body"
fetch "$TMP/body" "$base/f1" 405 -X POST
ok $? "405 for POST"
curl -sS -i -X DELETE "$base/f1" 2>/dev/null | tr -d '\r' | grep -qi '^Allow: GET, HEAD'
ok $? "405 says Allow: GET, HEAD"
curl -sS -i -r 70000- "$base/f65537" >"$TMP/416" 2>/dev/null
ok $(head -n 1 "$TMP/416" | grep -q ' 416 ' && tr -d '\r' <"$TMP/416" | grep -q '^Content-Range: bytes \*/65537$'; echo $?) \
	"416 for a range past the end, with Content-Range: bytes */65537" "$(head -n 8 "$TMP/416")"
fetch "$TMP/body" "$base/f0" 416 -r 0-0
ok $? "416 for any range of an empty file"
fetch "$TMP/body" "$base/f1048577" 200 -H 'Range: bytes=0-1,5-6'
ok $? "several ranges are ignored: 200 with the whole file"
fetch "$TMP/body" "$base/f1%00x" 400
ok $? "400 for %00 in the path"
fetch "$TMP/body" "$base/f1%zz" 400
ok $? "400 for a bad percent escape"
fetch "$TMP/body" "$base/f1" 431 -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)"
ok $? "431 for a request head over 8 KiB"
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GARBAGE\r\n\r\n' >&3
first=$(timeout 5 head -n 1 <&3 | tr -d '\r')
exec 3<&-
is "$first" "HTTP/1.1 400 Bad Request" "400 for a malformed request line"
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GET /f1 HTTP/1.1\r\n\r\n' >&3
first=$(timeout 5 head -n 1 <&3 | tr -d '\r')
exec 3<&-
is "$first" "HTTP/1.1 400 Bad Request" "400 for HTTP/1.1 without Host"
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GET /f1 HTTP/2.0\r\nHost: x\r\n\r\n' >&3
first=$(timeout 5 head -n 1 <&3 | tr -d '\r')
exec 3<&-
is "$first" "HTTP/1.1 505 HTTP Version Not Supported" "505 for HTTP/2.0 in an HTTP/1 request line"

# Escapes: every form is refused, and nothing of the secret leaks.
for path in "../secret" "%2e%2e/secret" "%2E%2E%2Fsecret" "sub/../../secret" "sub/%2e%2e/%2e%2e/secret" \
	    "escape" "..%2fsecret"; do
	code=$(curl -sS --path-as-is -o "$TMP/esc" -w '%{http_code}' "$base/$path" 2>/dev/null)
	if [ "$code" = 403 ] || [ "$code" = 404 ] || [ "$code" = 400 ]; then
		if grep -q 'outside the root' "$TMP/esc"; then
			fail "escape /$path refused"
			diag "the secret leaked"
		else
			pass "escape /$path refused ($code)"
		fi
	else
		fail "escape /$path refused"
		diag "HTTP $code"
	fi
done
fetch "$TMP/body" "$base/inside" 200 && cmp -s "$TMP/body" "$ROOT_DIR/sub/hello.txt"
ok $? "a symlink that stays beneath the root is served"
fetch "$TMP/body" "$base/dir/" 200 && grep -q index "$TMP/body"
ok $? "a directory serves its index.html"
fetch "$TMP/body" "$base/sub/" 403
ok $? "a directory without index.html is 403 (no listing)"

# Slow loris: a head that never ends is cut off after --header-timeout 1.
exec 3<>"/dev/tcp/${SADDR%:*}/${SADDR##*:}"
printf 'GET /f1 HTTP/1.1\r\nHost: x\r\n' >&3
start=$(date +%s)
timeout 6 cat <&3 >"$TMP/loris"
took=$(( $(date +%s) - start ))
exec 3<&-
ok $([ "$took" -le 4 ] && grep -q ' 408 ' "$TMP/loris"; echo $?) \
	"an unfinished head is answered 408 and closed within the header timeout (${took}s)"

stop_serve
ok $? "SIGTERM: graceful stop, exit 0"

# --- the command line --------------------------------------------------------------
expect_usage_error "serve refuses a strategy that cannot serve, saying why" \
	"vmsplice cannot serve" serve --listen 127.0.0.1:0 --root "$ROOT_DIR" --strategy vmsplice
expect_usage_error "serve needs --root" "needs --listen" serve --listen 127.0.0.1:0
expect_usage_error "serve refuses a bad address" "ADDR:PORT" serve --listen nowhere --root "$ROOT_DIR"

ok $(no_leftovers "$TAG"; echo $?) "no server left running"
done_testing
