#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab trace` and libcopytrace.so: real programs (cat, dd, sh, bash,
# curl or python3) traced, their figures checked against known sizes;
# exit status forwarding and usage errors.  Network traffic goes to
# 127.0.0.1 only; the HTTP server started here is killed on exit.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

SIZE=1048577			# 1 MiB + 1: one short read/write at the end
NET_SIZE=4194304		# 4 MiB over HTTP
STEP_TIMEOUT=60			# seconds for any one traced command

TRACER=${COPYLAB_TRACER:-$(dirname "$(readlink -f "$COPYLAB")")/libcopytrace.so}
[ -r "$TRACER" ] || bail_out "$TRACER is not built (run make)"

# A tracer built with -fsanitize=address cannot be preloaded into
# uninstrumented programs (docs/tracer.md): nothing here could pass.
if ! env LD_PRELOAD="$TRACER" COPYTRACE_OUT="$TMP/probe.jsonl" true 2>"$TMP/probe.err"; then
	if grep -qiE 'sanitizer|ASan' "$TMP/probe.err"; then
		skip_all "libcopytrace.so was built with a sanitizer: it cannot be preloaded into cat or dd"
	fi
	bail_out "preloading $TRACER into true fails: $(head -c 300 "$TMP/probe.err")"
fi

F=$TMP/data
head -c "$SIZE" /dev/urandom >"$F" || bail_out "cannot write $F"

# trace_run STDOUT ARGS...: copylab trace ARGS with its stdout (and so the traced
# command's) going to STDOUT; sets RC and ERR.
ERR=$TMP/trace.err
trace_run() {
	local dest=$1
	shift
	RC=0
	timeout -k 5 "$STEP_TIMEOUT" "$COPYLAB" trace "$@" >"$dest" 2>"$ERR" </dev/null || RC=$?
	[ "$RC" -eq 124 ] && echo "test: copylab trace timed out after ${STEP_TIMEOUT}s" >>"$ERR"
	return 0
}

# jv FILE EXPR: one value from a JSON file ("" if jq fails).
jv() { jq -r "$2" "$1" 2>/dev/null; }

# expect_eq NAME GOT WANT [DIAG FILE]
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1"
		diag "got:      '$2'" "expected: '$3'"
		[ -n "${4:-}" ] && diag_file "$4" 40
		diag_file "$ERR" 5
	fi
}

# --- command line -------------------------------------------------------------

trace_run "$TMP/help.out" --help
ok $(( RC == 0 && $(grep -c 'usage: copylab trace' "$TMP/help.out") >= 1 ? 0 : 1 )) \
	"trace --help exits 0 with the usage" "exit status $RC"

expect_usage_error "trace with no command exits 2" 'no command' trace
expect_usage_error "trace with only -- exits 2" 'no command' trace --
expect_usage_error "trace with an unknown option exits 2" "unknown option '--bogus'" trace --bogus -- true
expect_usage_error "trace --out without a file exits 2" 'needs a file' trace --out

# --- where the ledger goes ------------------------------------------------------
# Like time and strace: the ledger goes to stderr (or --out FILE), never into
# the traced command's stdout, so `copylab trace -- cat F >/dev/null` shows it
# and `copylab trace -- cat F >G` copies F exactly.

trace_run "$TMP/plain.out" -- cat "$F"
ok "$( [ "$RC" -eq 0 ] && cmp -s "$F" "$TMP/plain.out"; echo $?)" \
	"trace -- cat FILE: stdout is cat's output alone, byte for byte" "exit $RC" "$(head -c 300 "$TMP/plain.out" | tr -dc '[:print:]\n' | tail -n 5)"
ok "$(grep -q '^copy ledger of: cat ' "$ERR" && grep -q '^total over 1 process$' "$ERR"; echo $?)" \
	"trace -- cat FILE: the ledger table is on stderr" "$(head -n 5 "$ERR")"

trace_run "$TMP/json.out" --json -- cat "$F"
ok "$( [ "$RC" -eq 0 ] && cmp -s "$F" "$TMP/json.out"; echo $?)" \
	"trace --json -- cat FILE: stdout is cat's output alone" "exit $RC"
expect_eq "trace --json: stderr holds the JSON ledger (one process, cat)" \
	"$(jv "$ERR" '[.processes[].comm] | join(",")')" "cat"

trace_run "$TMP/outf.out" --out "$TMP/outf.json" -- cat "$F"
ok "$( [ "$RC" -eq 0 ] && cmp -s "$F" "$TMP/outf.out" && ! grep -q 'copy ledger\|bytes_to_user' "$ERR"; echo $?)" \
	"trace --out FILE: the ledger goes to FILE only (not stdout, not stderr)" "exit $RC" "$(head -n 5 "$ERR")"
expect_eq "trace --out FILE: FILE holds the JSON ledger (one process, cat)" \
	"$(jv "$TMP/outf.json" '[.processes[].comm] | join(",")')" "cat"

mkdir -p "$TMP/ro"
trace_run /dev/null --out "$TMP/ro/missing/l.json" -- true
ok $(( RC == 1 && $(grep -c -- "--out $TMP/ro/missing/l.json" "$ERR") >= 1 ? 0 : 1 )) \
	"trace --out into a missing directory: exit 1, --out named" "exit $RC" "$(cat "$ERR")"
is "$(ls -A "$TMP/ro")" "" "trace --out that fails leaves no file behind"

# --- cat: a file to /dev/null -------------------------------------------------
# coreutils cat (9.1 here) moves a file to /dev/null with read/write, 128 KiB
# at a time: /dev/null is a character device, which the tracer counts as
# fd kind "other".  JSON through --out, since cat's stdout is /dev/null.

J=$TMP/cat.json
trace_run /dev/null --out "$J" -- cat "$F"
ok "$RC" "trace -- cat FILE >/dev/null exits 0" "$(cat "$ERR")"
ok "$( jq -e '.totals and (.processes | type == "array")' "$J" >/dev/null 2>&1; echo $?)" \
	"--out writes one JSON object with totals and processes"
expect_eq "cat: one process recorded, comm cat" "$(jv "$J" '[.processes[].comm] | join(",")')" "cat" "$J"
expect_eq "cat: read bytes from files == $SIZE" "$(jv "$J" '.totals.read.file.bytes')" "$SIZE" "$J"
expect_eq "cat: write bytes to /dev/null (kind other) == $SIZE" "$(jv "$J" '.totals.write.other.bytes')" "$SIZE" "$J"
expect_eq "cat: bytes_to_user == bytes_from_user == $SIZE, nothing in kernel" \
	"$(jv "$J" '[.totals.bytes_to_user, .totals.bytes_from_user, .totals.bytes_in_kernel] | join(" ")')" \
	"$SIZE $SIZE 0" "$J"

# --- cat: a file to a file ------------------------------------------------------
# To a regular file, cat 9.1 uses copy_file_range (the splice family:
# bytes_in_kernel, route file>file) and reads nothing into user memory.  An
# older cat would read/write: either way the bytes add up to the size.

J=$TMP/catcp.json
trace_run /dev/null --out "$J" -- sh -c "cat '$F' >'$TMP/copy'"
ok "$( [ "$RC" -eq 0 ] && cmp -s "$F" "$TMP/copy"; echo $?)" "trace -- cat FILE >FILE exits 0 and copies exactly"
cfr=$(jv "$J" '.totals.splice_routes["file>file"].bytes // 0')
rw=$(jv "$J" '.totals.write.file.bytes')
expect_eq "cat to a file: copy_file_range (file>file) + write bytes == $SIZE" "$((cfr + rw))" "$SIZE" "$J"
if [ "$cfr" -gt 0 ]; then
	expect_eq "cat to a file used copy_file_range: no bytes to user" "$(jv "$J" '.totals.bytes_to_user')" 0 "$J"
else
	skip "cat did not use copy_file_range here (read $(jv "$J" '.totals.bytes_to_user') bytes)" \
		"cat to a file used copy_file_range: no bytes to user"
fi

# --- dd ---------------------------------------------------------------------------
# dd bs=64k: 16 full reads, one of 1 byte, one at EOF.  The ledger through
# --out: dd's statistics share stderr with it.

J=$TMP/dd.json
trace_run /dev/null --json --out "$J" -- dd if="$F" of=/dev/null bs=64k
ok "$RC" "trace --json -- dd exits 0" "$(cat "$ERR")"
expect_eq "dd: read bytes from files == $SIZE" "$(jv "$J" '.totals.read.file.bytes')" "$SIZE" "$J"
expect_eq "dd: 18 read calls (16 x 64 KiB, 1 byte, EOF)" "$(jv "$J" '.totals.read.file.calls')" 18 "$J"
expect_eq "dd: write bytes to /dev/null == $SIZE" "$(jv "$J" '.totals.write.other.bytes')" "$SIZE" "$J"

# --- processes: fork, exec, pipes ------------------------------------------------
# sh forks two cats; each reports its own figures (the atfork reset keeps a
# child from repeating its parent's), and the totals are their sum.

J=$TMP/fork.json
trace_run /dev/null --out "$J" -- sh -c "cat '$F' >/dev/null; cat '$F' >/dev/null"
ok "$RC" "trace -- sh -c 'cat; cat' exits 0" "$(cat "$ERR")"
expect_eq "sh: two cat processes, each read $SIZE bytes from the file" \
	"$(jv "$J" '[.processes[] | select(.comm == "cat") | .read.file.bytes] | join(" ")')" "$SIZE $SIZE" "$J"
expect_eq "sh: the two cats have distinct pids and one parent" \
	"$(jv "$J" '[.processes[] | select(.comm == "cat")] | [(map(.pid) | unique | length), (map(.ppid) | unique | length)] | join(" ")')" \
	"2 1" "$J"
expect_eq "sh: totals are the sum of the processes" \
	"$(jv "$J" '[([.processes[].bytes_to_user] | add), .totals.bytes_to_user, ([.processes[].bytes_from_user] | add), .totals.bytes_from_user] | join(" ")')" \
	"$((2 * SIZE)) $((2 * SIZE)) $((2 * SIZE)) $((2 * SIZE))" "$J"

# cat | cat: the bytes cross a pipe, written by one and read by the other.
J=$TMP/pipe.json
trace_run /dev/null --out "$J" -- sh -c "cat '$F' | cat >/dev/null"
expect_eq "cat | cat: pipe bytes written == pipe bytes read == $SIZE" \
	"$(jv "$J" '[.totals.write.pipe.bytes, .totals.read.pipe.bytes] | join(" ")')" "$SIZE $SIZE" "$J"

# bash reads the file with its read builtin, then execs cat in the same
# process: the image before exec reports first (event "exec"), cat after.
J=$TMP/exec.json
trace_run /dev/null --out "$J" -- bash -c "read -r x <'$F'; exec cat '$F' >/dev/null"
expect_eq "exec: bash reports before exec, cat after, same pid" \
	"$(jv "$J" '([.processes[] | "\(.event):\(.comm)"] | join(" ")) + " " + ([.processes[].pid] | unique | length | tostring)')" \
	"exec:bash exit:cat 1" "$J"
expect_eq "exec: cat's own record holds only cat's reads" \
	"$(jv "$J" '.processes[] | select(.comm == "cat") | .read.file.bytes')" "$SIZE" "$J"

# --- the splice family ----------------------------------------------------------
# python3's os.splice calls libc's splice(): file -> pipe -> file.

# The interpreter itself, not a wrapper script (a pyenv shim runs dozens
# of processes of its own before python starts).
PY=$(command -v python3 >/dev/null && python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
if [ -n "$PY" ] && "$PY" -c 'import os; os.splice' 2>/dev/null; then
	J=$TMP/splice.json
	trace_run /dev/null --out "$J" -- "$PY" -c '
import os, sys
src = os.open(sys.argv[1], os.O_RDONLY)
dst = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
r, w = os.pipe()
while True:
    n = os.splice(src, w, 65536)
    if n == 0:
        break
    while n:
        n -= os.splice(r, dst, n)
' "$F" "$TMP/spliced"
	ok "$( [ "$RC" -eq 0 ] && cmp -s "$F" "$TMP/spliced"; echo $?)" "python3 os.splice file>pipe>file copies exactly" \
		"$(cat "$ERR")"
	expect_eq "splice: routes file>pipe and pipe>file each $SIZE, bytes_in_kernel twice that" \
		"$(jv "$J" '[.totals.splice_routes["file>pipe"].bytes, .totals.splice_routes["pipe>file"].bytes, .totals.bytes_in_kernel] | join(" ")')" \
		"$SIZE $SIZE $((2 * SIZE))" "$J"
else
	skip "python3 with os.splice (3.10+) not found" "python3 os.splice file>pipe>file copies exactly"
	skip "python3 with os.splice (3.10+) not found" "splice: routes file>pipe and pipe>file"
fi

# --- a download from 127.0.0.1 --------------------------------------------------
# python3 -m http.server on a port the kernel picks (it prints it); the
# traced client is curl (its recv() calls are seen; its fwrite to the -o
# file is stdio inside libc, unseen) or, without curl, python3's urllib.

net_tests=2
server_pid=""
start_server() {
	mkdir -p "$TMP/www" && head -c "$NET_SIZE" /dev/urandom >"$TMP/www/f" || return 1
	(cd "$TMP/www" && exec "$PY" -u -m http.server 0 --bind 127.0.0.1 >"$TMP/server.log" 2>&1) &
	server_pid=$!
	at_exit "kill $server_pid"
	local i
	for i in $(seq 1 100); do
		PORT=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$TMP/server.log" | head -n 1)
		[ -n "$PORT" ] && return 0
		kill -0 "$server_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
if [ -z "$PY" ]; then
	for i in $(seq 1 $net_tests); do skip "python3 not found (the HTTP server)" "download over 127.0.0.1"; done
elif ! start_server; then
	for i in $(seq 1 $net_tests); do skip "python3 -m http.server did not start: $(head -c 200 "$TMP/server.log")" "download over 127.0.0.1"; done
else
	J=$TMP/net.json
	url=http://127.0.0.1:$PORT/f
	if command -v curl >/dev/null; then
		client=curl
		trace_run /dev/null --out "$J" -- curl -s --max-time 30 -o "$TMP/net.got" "$url"
	else
		client=python3
		trace_run /dev/null --out "$J" -- "$PY" -c \
			'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' \
			"$url" "$TMP/net.got"
	fi
	ok "$( [ "$RC" -eq 0 ] && cmp -s "$TMP/www/f" "$TMP/net.got"; echo $?)" \
		"$client fetched the $NET_SIZE-byte file from 127.0.0.1 under trace" "exit $RC" "$(cat "$ERR")"
	got=$(jv "$J" '.totals.read.socket.bytes')
	# The body plus the response headers (a few hundred bytes).
	ok "$( [ "${got:-0}" -ge "$NET_SIZE" ] && [ "${got:-0}" -le $((NET_SIZE + 65536)) ]; echo $?)" \
		"$client: socket bytes_to_user >= 4 MiB (got ${got:-none})" "$(jq -c .totals "$J" 2>/dev/null | head -c 1500)"
fi

# --- exit status and failures ------------------------------------------------------

trace_run /dev/null -- false
ok $(( RC == 1 && $(grep -c "exited with status 1" "$ERR") >= 1 ? 0 : 1 )) \
	"trace -- false exits 1 and says so" "exit $RC" "$(cat "$ERR")"

trace_run /dev/null -- sh -c 'exit 3'
ok $(( RC == 1 && $(grep -c "exited with status 3" "$ERR") >= 1 ? 0 : 1 )) \
	"trace -- sh -c 'exit 3' exits 1 and names status 3" "exit $RC" "$(cat "$ERR")"

trace_run /dev/null -- copylab-no-such-command-here
ok $(( RC == 1 && $(grep -c "not found" "$ERR") >= 1 ? 0 : 1 )) \
	"a command that is not found: exit 1, 'not found'" "exit $RC" "$(cat "$ERR")"

trace_run /dev/null -- sh -c 'kill -TERM $$'
ok $(( RC == 1 && $(grep -c "signal 15" "$ERR") >= 1 ? 0 : 1 )) \
	"a command killed by SIGTERM: exit 1, the signal named" "exit $RC" "$(cat "$ERR")"

RC=0
COPYLAB_TRACER=$TMP/none.so timeout 30 "$COPYLAB" trace -- true >/dev/null 2>"$ERR" </dev/null || RC=$?
ok $(( RC == 1 && $(grep -c 'make' "$ERR") >= 1 ? 0 : 1 )) \
	"no tracer library: exit 1, saying make builds it" "exit $RC" "$(cat "$ERR")"

# --- pass-through ------------------------------------------------------------------------
# Without COPYTRACE_OUT the library only passes calls on and writes nothing.

ok "$( env -u COPYTRACE_OUT LD_PRELOAD="$TRACER" cat "$F" | cmp -s - "$F"; echo $?)" \
	"preloaded without COPYTRACE_OUT: cat's output is unchanged"

done_testing
