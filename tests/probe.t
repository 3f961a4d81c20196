#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab probe: the BPF ledger of a process copylab did not start, counted
# while a command runs.  A copylab serve stands in for the outside server:
# readwrite's bytes cross from user memory, sendfile's stay in the kernel.
# The command's exit status comes back; bad arguments are refused.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab
command -v curl >/dev/null || skip_all "curl is missing (make deps installs it)"

expect_usage_error "probe without --pid" "--pid PID is required" probe -- true
expect_usage_error "probe with a pid that is not a number" "'12x' is not a process id" probe --pid 12x -- true
expect_usage_error "probe with no such process" "--pid 2147483646: no such process" probe --pid 2147483646 -- true
expect_usage_error "probe without a command" "no command given" probe --pid $$
expect_usage_error "probe with a bad --bytes" "bytes" probe --pid $$ --bytes 3Q -- true

# The ledger must load as root here (tests/required-here); elsewhere the
# refusal is a clear error, exit 1.
cl probe --pid $$ -- true
if [ "$RC" -ne 0 ]; then
	if [ "${COPYLAB_REQUIRE_BPF:-}" = 1 ]; then
		fail "the BPF ledger loads for copylab probe (required here)"
		cl_desc
	else
		is "$RC" 1 "without the BPF ledger, probe exits 1"
		grep -q "BPF ledger cannot load" "$ERR"
		ok $? "and says why" "$(cl_desc)"
	fi
	done_testing
	exit 0
fi
pass "copylab probe runs a command with the ledger loaded"

cl probe --pid $$ -- sh -c 'exit 7'
is "$RC" 7 "the command's exit status is probe's"

ROOT_DIR=$TMP/www
mkdir -p "$ROOT_DIR"
head -c $((4 << 20)) /dev/urandom >"$ROOT_DIR/f"
TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# probe_serve STRATEGY: a copylab serve of f, probed over one download; sets J.
probe_serve() {
	local i addr="" pid
	: >"$TMP/serve.out"
	COPYLAB_TEST_TAG=$TAG "$COPYLAB" serve --listen 127.0.0.1:0 --root "$ROOT_DIR" --strategy "$1" --quiet \
		>"$TMP/serve.out" 2>"$TMP/serve.err" </dev/null &
	pid=$!
	for i in $(seq 50); do
		addr=$(sed -n 's/^listening on //p' "$TMP/serve.out")
		[ -n "$addr" ] && break
		sleep 0.1
	done
	J=$TMP/probe-$1.json
	cl probe --pid "$pid" --bytes 4M --json --out "$J" -- curl -sS --max-time 30 -o "$TMP/got" "http://$addr/f"
	ok "$RC" "$1: probe --json --out around a curl download exits 0" "$(cl_desc)"
	cmp -s "$TMP/got" "$ROOT_DIR/f"
	ok $? "$1: the download is byte-exact"
	kill -TERM "$pid"
	wait "$pid"
}

probe_serve readwrite
is "$(jq -r .schema "$J")" "copylab.probe/1" "the JSON names its schema"
is "$(jq -r '.bytes' "$J")" $((4 << 20)) "and the payload given with --bytes"
n=$(jq -r '.bpf.bytes_from_user' "$J")
ok $([ "${n:-0}" -ge $((4 << 20)) ]; echo $?) "readwrite: the server wrote at least the 4 MiB from user memory ($n)"
n=$(jq -r '.bpf.syscalls_by_family.write' "$J")
ok $([ "${n:-0}" -ge 64 ]; echo $?) "readwrite: in at least 64 write-family calls of 64 KiB ($n)"
ok $(jq -e '.bpf.per_gib.bytes_from_user > 1e9' "$J" >/dev/null; echo $?) \
	"readwrite: per GiB of payload, at least a GiB from user memory"

probe_serve sendfile
n=$(jq -r '.bpf.bytes_in_kernel' "$J")
ok $([ "${n:-0}" -ge $((4 << 20)) ]; echo $?) "sendfile: the 4 MiB moved inside the kernel ($n)"
n=$(jq -r '.bpf.bytes_from_user' "$J")
ok $([ "${n:-1}" -lt 4096 ]; echo $?) "sendfile: only the response head came from user memory ($n bytes)"

# A process probe did not name is not counted: this shell moved nothing.
cl probe --pid $$ --json -- curl -sS --max-time 30 -o /dev/null "file://$ROOT_DIR/f"
is "$(jq -r '.bpf.bytes_to_user' "$OUT")" 0 "curl's own reads are not counted when only this shell is probed"

# --- a watched process that does nothing; its child that does the work ---------
# The issue's nginx: --pid named the master, which only waits, and probe
# printed zeros without a word.  Here a sh (the master) waits for its cat
# (the worker), which reads a FIFO the probed command fills.  This shell
# holds the FIFO open for writing too, so cat sees no EOF and neither it nor
# the sh can end (and so make a system call) inside the window.
mkfifo "$TMP/ff"
exec 9<>"$TMP/ff"
sh -c 'cat "$0" >/dev/null; exit 0' "$TMP/ff" 9>&- &
master=$!
at_exit "kill $master 2>/dev/null"
worker=""
for i in $(seq 100); do
	worker=$(pgrep -P "$master" -x cat || true)
	[ -n "$worker" ] && break
	sleep 0.1
done
[ -n "$worker" ] || bail_out "the test's cat under sh $master did not start"

cl probe --pid "$master" --json -- sh -c "head -c 4M /dev/zero >'$TMP/ff'"
ok $([ "$RC" -eq 0 ] && [ "$(jq -r .bpf.syscalls "$OUT")" = 0 ]; echo $?) \
	"probe of a process that only waits: exit 0, zero system calls" "$(cl_desc)"
ok $(grep -q "warning: pid $master made no system calls" "$ERR" && grep -q -- "--children" "$ERR" &&
	grep -q "its children: $worker" "$ERR"; echo $?) \
	"and a warning names the pid, its child $worker and --children" "$(cl_desc)"

cl probe --pid "$master" --require-activity -- true
ok $([ "$RC" -eq 1 ] && [ ! -s "$OUT" ] && grep -q "no system calls" "$ERR"; echo $?) \
	"--require-activity makes a window without system calls a failure: exit 1, no ledger" "$(cl_desc)"

cl probe --pid "$master" --children --json -- sh -c "head -c 4M /dev/zero >'$TMP/ff'"
ok "$RC" "probe --children exits 0" "$(cl_desc)"
is "$(jq -c .pids "$OUT")" "[$master,$worker]" "--children watches the pid and its child as they were at start"
n=$(jq -r .bpf.bytes_to_user "$OUT")
ok $([ "${n:-0}" -ge $((3 << 20)) ] && ! grep -q warning "$ERR"; echo $?) \
	"--children counts the child's reads (at least 3 of the 4 MiB; $n), no warning" "$(cl_desc)"
exec 9>&-
wait "$master"

ok $(no_leftovers "$TAG"; echo $?) "no server left running"
done_testing
