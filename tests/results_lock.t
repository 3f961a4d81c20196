#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One writer per results directory: while a run holds DIR (its lock file
# DIR/.copylab.lock names it), a second run with --out DIR is refused with
# exit 2, a message naming the first one's pid, and nothing written; the
# first run's records are then all there and verified, and the lock file
# is gone when it ends.  A stale lock file (its holder gone) does not
# stand in the way.  The first run is stopped (SIGSTOP) while the second
# tries, so the overlap does not depend on timing.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

D=$TMP/shared
LOCK=$D/.copylab.lock
COPYLAB_TEST_TAG=$TAG timeout -k 5 240 "$COPYLAB" run --scenario pipe --strategy readwrite --size 256M \
	--reps 3 --warmup 0 --out "$D" >"$TMP/first.out" 2>"$TMP/first.err" </dev/null &
FIRST=$!
at_exit "kill -CONT \$HOLDER 2>/dev/null"

# Bounded poll (at most 30 s) for the lock file to name a copylab started
# here, and for its env.json (written under the lock, just after it).
HOLDER=""
for _ in $(seq 1 600); do
	HOLDER=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$LOCK" 2>/dev/null)
	[ -n "$HOLDER" ] && [ -e "$D/env.json" ] && break
	kill -0 "$FIRST" 2>/dev/null || break
	sleep 0.05
done
ppid=$(awk '{ print $4 }' "/proc/$HOLDER/stat" 2>/dev/null)
ok $([ -n "$HOLDER" ] && [ "$ppid" = "$FIRST" ]; echo $?) "the first run's lock file names its pid ($HOLDER)" \
	"lock file: $(cat "$LOCK" 2>&1 | head -c 300)" "$(diag_file "$TMP/first.err")"

[ -n "$HOLDER" ] && kill -STOP "$HOLDER"
ls -la "$D" >"$TMP/before.ls" 2>&1
cp "$D/env.json" "$TMP/env.before" 2>/dev/null
cl run --scenario pipe --strategy readwrite --size 1M --reps 1 --warmup 0 --out "$D"
[ -n "$HOLDER" ] && kill -CONT "$HOLDER"
if [ "$RC" -eq 2 ] && grep -Eq "$D is in use by another run: pid $HOLDER \(.*copylab run --scenario pipe" "$ERR"; then
	pass "a second run into the same --out is refused with exit 2, naming the holder's pid and command"
else
	fail "a second run into the same --out is refused with exit 2, naming the holder's pid and command"
	cl_desc
fi
cmp -s "$D/env.json" "$TMP/env.before"
ok $? "the refused run left the first run's env.json as it was"

rc=0
wait "$FIRST" || rc=$?
ok "$rc" "the first run ends with exit 0" "$(diag_file "$TMP/first.err")"
run_id=$(jq -r .run_id "$D/env.json" 2>/dev/null)
n=$(jq -s --arg id "$run_id" '[.[] | select(.verified == true and .run_id == $id)] | length' "$D/results.jsonl" 2>/dev/null)
total=$(grep -c '' "$D/results.jsonl" 2>/dev/null)
is "$n/$total" "3/3" "all 3 of the first run's records are there and verified, and no other"
ok $([ ! -e "$LOCK" ]; echo $?) "the lock file is gone when the run ends" "$(ls -la "$D")"

# A lock file left by a run that was killed: its pid is only informative.
S=$TMP/stale
mkdir -p "$S"
printf 'pid 999999999\ncommand copylab run (killed)\n' >"$S/.copylab.lock"
cl run --scenario pipe --strategy readwrite --size 1M --reps 1 --warmup 0 --out "$S"
ok "$RC" "a stale lock file (its holder gone) does not block a run" "$(cl_desc)"
ok $([ ! -e "$S/.copylab.lock" ]; echo $?) "and that run removes it when it ends"

# The directory already holds another run's results: refused as before, exit 2 now.
cl run --scenario pipe --strategy readwrite --size 1M --reps 1 --warmup 0 --out "$S"
ok $([ "$RC" -ne 0 ] && grep -q "already holds the results of a run" "$ERR"; echo $?) \
	"a directory with results is refused, whoever held it" "$(cl_desc)"
ok $([ ! -e "$S/.copylab.lock" ]; echo $?) "and the refusal leaves no lock file behind"

ok $(no_leftovers "$TAG"; echo $?) "no process of these runs is left"
done_testing
