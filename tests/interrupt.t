#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every way out cleans up: SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR1,
# each at 10 points from exec to the end of a routed relay run, and at 10
# points of `bench --quick` (its probes, its links, its first cells), leave
# no copylab namespace of the run, no scratch directory and no role
# process.  copylab starts with default signal dispositions, as from a
# terminal; the terminal's signals (INT, QUIT, HUP) go to the whole process
# group, as ^C and ^\ do, the others to copylab alone.  An interrupted run
# exits 1 with a message naming the signal; a signal that came after the
# end changes nothing.
# timeout: 900
. "$(dirname "$0")/lib.sh"
require_copylab

[ "$(id -u)" -eq 0 ] || skip_all "routed and bench's links need root (network namespaces)"
export PATH=$PATH:/usr/sbin:/sbin
env --default-signal=INT true 2>/dev/null || skip_all "env --default-signal (coreutils 8.31+) is missing"

EXE=$(readlink -f "$COPYLAB")
TAG=$(tag_new)
at_exit "kill_tagged $TAG"
W=$TMP/work
mkdir -p "$W"
SIGNALS="INT TERM HUP QUIT USR1"

# start ARGS...: copylab in its own session and process group, with default
# dispositions (a non-interactive shell starts background jobs with INT
# and QUIT ignored).  Sets PID.
start() {
	# A signal can end the forked shell before its redirections: no stale file may speak for it.
	rm -f "$TMP/int.out" "$TMP/int.err"
	COPYLAB_TEST_TAG=$TAG env --default-signal=INT,QUIT,HUP,TERM,USR1 \
		setsid "$COPYLAB" "$@" >"$TMP/int.out" 2>"$TMP/int.err" </dev/null &
	PID=$!
	# The points count from copylab's exec.  Before it, PID is a fork of this
	# shell that still runs this shell's traps: a signal there would run the
	# test's own exit hook (and remove $TMP) in the child.
	local i
	for ((i = 0; i < 5000; i++)); do
		[ "$(readlink "/proc/$PID/exe" 2>/dev/null)" = "$EXE" ] && return 0
		kill -0 "$PID" 2>/dev/null || return 0
	done
	diag "copylab $PID did not exec within 5000 looks"
}

# finish SECONDS: waits for PID up to SECONDS, then kills it; sets RC.
finish() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$PID" 2>/dev/null && { diag "copylab $PID still running after ${1}s: killed"; kill -KILL -- "-$PID"; }
	RC=0
	wait "$PID" || RC=$?
}

# left_behind: what of PID's is still here (namespaces named after it, scratch, processes).
left_behind() {
	local what="" ns
	ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^copylab-$PID-" || true)
	[ -n "$ns" ] && what+="namespaces: $(echo $ns); "
	ls "$W" | grep -q '^copylab-' && what+="scratch: $(ls "$W" | grep '^copylab-' | tr '\n' ' '); "
	no_leftovers "$TAG" >/dev/null 2>&1 || what+="processes: $(tagged_pids "$TAG" | tr '\n' ' '); "
	echo "$what"
}

# signal_at SIG SECONDS NAME ARGS...: one interrupted run, and its checks.
signal_at() {
	local sig=$1 at=$2 name=$3 sent=1 left
	shift 3
	start "$@"
	sleep "$at"
	case $sig in
	INT | QUIT | HUP) kill -s "$sig" -- "-$PID" 2>/dev/null || sent=0 ;;
	*) kill -s "$sig" "$PID" 2>/dev/null || sent=0 ;;
	esac
	finish 120
	left=$(left_behind)
	if [ -z "$left" ]; then
		pass "$name: SIG$sig at ${at}s leaves nothing behind"
	else
		fail "$name: SIG$sig at ${at}s leaves nothing behind"
		diag "left: $left" "exit $RC"
		diag_file "$TMP/int.err" 5
		kill_tagged "$TAG"
		ip netns list 2>/dev/null | awk '{print $1}' | grep "^copylab-$PID-" | xargs -r -n1 ip netns del
	fi
	# Before the handlers exist (the first instants after exec) the default
	# action ends copylab with 128+N, having made nothing; after them, 1 and
	# a sentence naming the signal; after the end, 0.
	case $RC in
	0) ok 0 "$name: SIG$sig at ${at}s: the run had ended (exit 0)" ;;
	1) ok $(grep -q "SIG$sig\|interrupted by" "$TMP/int.err"; echo $?) \
		"$name: SIG$sig at ${at}s: exit 1 says it was interrupted" "$(diag_file "$TMP/int.err" 5)" ;;
	*) ok $([ "$RC" -gt 128 ] && [ ! -s "$TMP/int.err" ] 2>/dev/null; echo $?) \
		"$name: SIG$sig at ${at}s: exit $RC only before copylab began (nothing said, nothing made)" \
		"$(diag_file "$TMP/int.err" 5)" ;;
	esac
	[ "$sent" -eq 1 ] || [ "$RC" -eq 0 ] || fail "$name: SIG$sig could not be sent, yet exit $RC"
}

# --- a routed relay run: 10 points from exec to its end --------------------

RUN=(run --scenario relay --strategy readwrite,splice --transport routed --size 4M --reps 2 --no-perf
	--workdir "$W")
t0=$(date +%s%N)
start "${RUN[@]}" --out "$TMP/full"
finish 120
t1=$(date +%s%N)
is "$RC" 0 "routed relay: an uninterrupted run exits 0" || diag_file "$TMP/int.err" 5
is "$(left_behind)" "" "routed relay: an uninterrupted run leaves nothing behind"
# Ten points spread from exec to the measured end, the first ones dense
# where the probes load and the links are made.
dur_ms=$(((t1 - t0) / 1000000))
points=""
for i in 0 1 2 3 4 5 6 7 8 9; do
	points+=" $(awk -v d="$dur_ms" -v i="$i" 'BEGIN { printf "%.3f", d * (i / 9) ^ 2 / 1000 }')"
done
diag "routed run: ${dur_ms} ms; signals at:$points s"
n=0
for at in $points; do
	for sig in $SIGNALS; do
		n=$((n + 1))
		signal_at "$sig" "$at" "routed run" "${RUN[@]}" --out "$TMP/out-r$n"
	done
done

# --- bench --quick: its probes, links and first cells ----------------------

sigs=($SIGNALS)
n=0
# Each signal at two of the points, turning.
for at in 0.01 0.05 0.1 0.2 0.4 0.7 1.0 1.5 2.5 4.0; do
	signal_at "${sigs[n % 5]}" "$at" "bench --quick" bench --quick --no-perf --workdir "$W" --out "$TMP/out-b$n"
	n=$((n + 1))
done

done_testing
