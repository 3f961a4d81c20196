# SPDX-License-Identifier: MIT
# TAP helpers for the shell tests in tests/*.t: sourced, never run.
# Gives a plan, ok/not ok with diagnostics, skips, a temporary directory
# removed on exit (with cleanup hooks), and wrappers that run ./copylab and
# keep its exit status, stdout and stderr for the assertions.

# The repository root, whatever the caller's directory.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
COPYLAB=${COPYLAB:-$ROOT/copylab}
export LC_ALL=C

_tap_n=0		# tests run so far
_tap_failed=0
_tap_planned=""		# set by plan
_cleanup_hooks=()

# --- cleanup ---------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/copylab-test.XXXXXX") || exit 1

# Runs CMD (a string for eval) on exit, before the temporary directory goes.
# Hooks run last-added first, like nested cleanups.
at_exit() { _cleanup_hooks=("$1" "${_cleanup_hooks[@]}"); }

_tap_exit() {
	local rc=$? hook
	for hook in "${_cleanup_hooks[@]}"; do
		eval "$hook" >/dev/null 2>&1 || true
	done
	rm -rf "$TMP"
	if [ -n "$_tap_planned" ] && [ "$_tap_planned" -ne "$_tap_n" ]; then
		echo "# planned $_tap_planned tests but ran $_tap_n"
	fi
	[ "$rc" -ne 0 ] && exit "$rc"
	[ "$_tap_failed" -gt 0 ] && exit 1
	exit 0
}
trap _tap_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- TAP -------------------------------------------------------------------

# plan N: announce how many tests follow (before the first one).
plan() { _tap_planned=$1; echo "1..$1"; }

# done_testing: the plan at the end, for a file that counts as it goes.
done_testing() { _tap_planned=$_tap_n; echo "1..$_tap_n"; }

# skip_all REASON: the whole file does not apply on this machine.
skip_all() { echo "1..0 # SKIP $*"; _tap_planned=""; exit 0; }

# bail_out REASON: nothing further can be tested.
bail_out() { echo "Bail out! $*"; exit 1; }

# diag TEXT...: diagnostics, one "# " line per line of text (lines that
# are diagnostics already are kept as they are).
diag() { printf '%s\n' "$@" | sed -e '/^#/!s/^/# /'; }

# diag_file FILE [LINES]: the last LINES (20) lines of a file as diagnostics.
diag_file() {
	[ -s "$1" ] || { diag "($(basename "$1") is empty)"; return 0; }
	diag "--- $(basename "$1") (last ${2:-20} lines)"
	tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}

pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }

# ok STATUS NAME [DIAG...]: STATUS 0 passes; otherwise the diagnostics follow.
ok() {
	local status=$1 name=$2
	shift 2
	if [ "$status" -eq 0 ]; then
		pass "$name"
	else
		fail "$name"
		[ $# -gt 0 ] && diag "$@"
	fi
	return "$status"
}

# check NAME CMD...: runs CMD; passes if it succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; diag "command failed: $*"; return 1; fi
}

# is GOT EXPECTED NAME
is() {
	if [ "$1" == "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "got:      '$1'" "expected: '$2'"
		return 1
	fi
}

# skip REASON NAME: a test that cannot run here, with the reason.
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $2 # SKIP $1"; }

# --- running copylab -------------------------------------------------------

# cl ARGS...: runs copylab with a timeout; sets RC, OUT (stdout file) and
# ERR (stderr file).  Never fails itself.
CL_TIMEOUT=${CL_TIMEOUT:-300}
cl() {
	OUT=$TMP/last.out ERR=$TMP/last.err
	RC=0
	timeout -k 5 "$CL_TIMEOUT" "$COPYLAB" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
	[ "$RC" -eq 124 ] && echo "copylab: test harness timeout after ${CL_TIMEOUT}s" >>"$ERR"
	return 0
}

# cl_desc: what the last cl run showed, for diagnostics.
cl_desc() {
	diag "exit status $RC"
	diag_file "$ERR" "${1:-10}"
}

# expect_usage_error NAME PATTERN ARGS...: copylab ARGS must exit 2 with a
# message on stderr that matches the extended regex PATTERN.
expect_usage_error() {
	local name=$1 pattern=$2
	shift 2
	cl "$@"
	if [ "$RC" -eq 2 ] && grep -Eq -- "$pattern" "$ERR"; then
		pass "$name"
	else
		fail "$name"
		diag "copylab $*" "wanted exit 2 and stderr matching /$pattern/"
		cl_desc
		return 1
	fi
}

# require_copylab: bail out early when the binary is not built.
require_copylab() {
	[ -x "$COPYLAB" ] || bail_out "$COPYLAB is not built (run make)"
}

# jsonl_valid FILE: every line of FILE is one JSON object.
jsonl_valid() {
	local line n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		printf '%s' "$line" | jq -e 'type == "object"' >/dev/null 2>&1 ||
			{ diag "line $n is not a JSON object: ${line:0:200}"; return 1; }
	done <"$1"
	return 0
}

# --- processes left behind -------------------------------------------------

# Each copylab started by a test can carry a tag in its environment
# (COPYLAB_TEST_TAG); forked roles inherit it, even if they change their
# session or process group, so /proc tells which processes are ours.
tag_new() { echo "copylab-test-$$-$RANDOM$RANDOM"; }

# tagged_pids TAG: live (non-zombie) processes whose environment holds TAG.
tagged_pids() {
	local f pid state
	# One grep over every environ (a grep per process costs ~0.35 s here).
	for f in $(grep -lz -- "^COPYLAB_TEST_TAG=$1\$" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || continue
		[ "$state" = Z ] || [ -z "$state" ] && continue
		echo "$pid"
	done
}

# no_leftovers TAG: waits up to a second for the tagged processes to go.
# Returns 1 (and names them) if any is still there.
no_leftovers() {
	local i pids
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(tagged_pids "$1")
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	diag "processes left running:"
	local p
	for p in $pids; do diag "  $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; done
	return 1
}

# kill_tagged TAG: cleanup of processes this test started and left behind.
kill_tagged() {
	local p
	for p in $(tagged_pids "$1"); do kill -KILL "$p" 2>/dev/null; done
	return 0
}

# --- the tools that listen (copylab serve, relay) ---------------------------

# wait_for FILE REGEX SECONDS: FILE gets a line matching REGEX in time.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# fd_count PID: the descriptors it holds; lowest_free_fd PID: the number its next open gets.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
lowest_free_fd() {
	local n=0
	while [ -e "/proc/$1/fd/$n" ]; do n=$((n + 1)); done
	echo "$n"
}

# start_tool serve|relay ARGS...: copylab serve or relay on 127.0.0.1:0 in
# the background, tagged with $TAG, TOOL_ENV (VAR=VALUE words) in its
# environment, output in $TMP/KIND.out and .err.  Sets TOOL_PID and, once
# it says "listening on ADDR" (5 s at most), TOOL_ADDR; 1, with its stderr
# as diagnostics, if it did not start.
start_tool() {
	local kind=$1
	shift
	: >"$TMP/$kind.out"
	TOOL_ADDR=""
	env COPYLAB_TEST_TAG="${TAG:-}" ${TOOL_ENV:-} "$COPYLAB" "$kind" --listen 127.0.0.1:0 "$@" \
		>"$TMP/$kind.out" 2>"$TMP/$kind.err" </dev/null &
	TOOL_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		TOOL_ADDR=$(sed -n 's/^listening on //p' "$TMP/$kind.out")
		[ -n "$TOOL_ADDR" ] && return 0
		kill -0 "$TOOL_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "copylab $kind $* did not start"
	diag_file "$TMP/$kind.err"
	return 1
}

# stop_tool PID: SIGTERM, and the exit status of its graceful stop.
stop_tool() {
	local rc=0
	kill -TERM "$1" 2>/dev/null
	wait "$1" || rc=$?
	return "$rc"
}

# --- the support matrix, from `copylab list --json` -------------------------

# load_list: fills LIST_JSON (a file) or bails out.
load_list() {
	LIST_JSON=$TMP/list.json
	timeout 60 "$COPYLAB" list --json >"$LIST_JSON" 2>"$TMP/list.err" ||
		bail_out "copylab list --json failed: $(head -c 300 "$TMP/list.err")"
	jq -e . "$LIST_JSON" >/dev/null 2>&1 || bail_out "copylab list --json is not JSON"
}

# supported SCENARIO: the strategies that support it, one a line, in order.
# supported SCENARIO TRANSPORT: only those that can also use that transport.
supported() {
	jq -r --arg sc "$1" --arg tr "${2:-tcp}" \
		'.strategies[] | select(.scenarios[$sc].ok and (.transports[$tr].ok != false)) | .name' "$LIST_JSON"
}

# tested_role SCENARIO / sink_role SCENARIO: role names of a scenario.
tested_role() { jq -r --arg sc "$1" '.scenarios[] | select(.name == $sc) | .tested_role' "$LIST_JSON"; }

# The role that receives the stream at the end of the path: its byte count
# must equal the size asked for.
sink_role() {
	case $1 in
	serve|echo) echo client ;;
	send|relay|fanout) echo sink ;;
	store|recv) echo receiver ;;
	copy) echo copier ;;
	pipe) echo reader ;;
	*) echo "?" ;;
	esac
}

# userstack_peer NS SECONDS ARGS...: tests/userstack_peer.py (the kernel-stack
# end of the user-space stack's tests) in namespace NS under a timeout, with
# ARGS; it writes the port the kernel chose to $W/port.  Sets SP and PORT,
# adds SP to PEER_PIDS; 1 (with its output as diagnostics) if no port came.
userstack_peer() {
	local ns=$1 secs=$2
	shift 2
	rm -f "$W/port"
	timeout "$secs" ip netns exec "$ns" python3 "$ROOT/tests/userstack_peer.py" "$@" >"$W/serve.out" 2>&1 &
	SP=$!
	PEER_PIDS+=("$SP")
	for _ in $(seq 100); do
		[ -s "$W/port" ] && { PORT=$(cat "$W/port"); return 0; }
		sleep 0.05
	done
	diag_file "$W/serve.out"
	return 1
}
