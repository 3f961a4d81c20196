#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What copylab run writes reaches its reader, or the run fails: --json
# into a full disk or a pipe whose reader went away, and the table into a
# full disk, each exit 1 with a sentence (the records stay in
# results.jsonl).  And the paths and options given are checked before
# anything is made: a --workdir that is missing, not a directory or not
# writable, an --out under a file or one that holds a run's results, and
# --transport for a scenario without sockets each exit 2 and leave no
# results directory and no scratch.
# timeout: 120
. "$(dirname "$0")/lib.sh"
require_copylab

W=$TMP/work
mkdir -p "$W"
RUN=(run --scenario copy --strategy readwrite --size 64K --reps 2 --warmup 0 --no-bpf --no-perf --workdir "$W")

# --- output that does not reach its reader -------------------------------------

[ -w /dev/full ] || skip_all "/dev/full is missing"
RC=0
timeout 60 "$COPYLAB" "${RUN[@]}" --json --out "$TMP/full-json" >/dev/full 2>"$TMP/err" </dev/null || RC=$?
is "$RC" 1 "--json into /dev/full: exit 1"
ok $(grep -q "cannot write a record to standard output: No space left on device" "$TMP/err"; echo $?) \
	"--json into /dev/full: the message says the record could not be written, and why" "$(diag_file "$TMP/err" 5)"
ok $([ -s "$TMP/full-json/results.jsonl" ]; echo $?) "--json into /dev/full: the record is kept in results.jsonl"

# --json into a pipe whose reader is gone (as `| head -c 10` once it has
# its bytes). The read end is closed before copylab starts: with a real
# head, a loaded machine could let every record into the pipe's buffer
# before head exited, and then no write ever failed (round 5 of issue 19's
# runs beside a CPU hog saw exactly that).
RC=0
python3 - "$COPYLAB" "${RUN[@]}" --json --out "$TMP/head-json" 2>"$TMP/err" <<'PY' || RC=$?
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
try:
    sys.exit(subprocess.run(sys.argv[1:], stdout=w, stdin=subprocess.DEVNULL, timeout=60).returncode)
except subprocess.TimeoutExpired:
    sys.exit(124)
PY
is "$RC" 1 "--json into a pipe whose reader went away: exit 1"
ok $(grep -q "Broken pipe" "$TMP/err"; echo $?) "--json into a pipe whose reader went away: the message says the pipe broke" \
	"$(diag_file "$TMP/err" 5)"

RC=0
timeout 60 "$COPYLAB" "${RUN[@]}" --out "$TMP/full-table" >/dev/full 2>"$TMP/err" </dev/null || RC=$?
is "$RC" 1 "the table into /dev/full: exit 1"
ok $(grep -q "cannot write the table to standard output" "$TMP/err"; echo $?) \
	"the table into /dev/full: the message says so" "$(diag_file "$TMP/err" 5)"

# --- paths and options checked before anything is made ---------------------------

scratch_count() { ls "$W" | grep -c '^copylab-' || true; }
echo file >"$TMP/a-file"
mkdir -p "$TMP/ro"
# RUN carries its own --workdir; the last one given wins
expect_usage_error "--workdir that does not exist: exit 2" "--workdir .*/missing: No such file" \
	"${RUN[@]}" --workdir "$TMP/missing" --out "$TMP/o1"
expect_usage_error "--workdir that is a file: exit 2" "--workdir .*a-file is not a directory" \
	"${RUN[@]}" --workdir "$TMP/a-file" --out "$TMP/o2"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$TMP" "$TMP/ro"
	RC=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$COPYLAB" run --scenario copy --strategy readwrite \
		--size 1K --no-bpf --no-perf --workdir "$TMP/ro" --out /tmp/copylab-never-$$ >/dev/null 2>"$TMP/err" </dev/null || RC=$?
	ok $([ "$RC" -eq 2 ] && grep -q "cannot make files there" "$TMP/err"; echo $?) \
		"--workdir this user cannot write: exit 2" "exit $RC$(diag_file "$TMP/err" 3)"
	rm -rf "/tmp/copylab-never-$$"
else
	skip "needs root and user nobody" "--workdir this user cannot write: exit 2"
fi
expect_usage_error "--out under a file: exit 2" "--out .*a-file/x" "${RUN[@]}" --out "$TMP/a-file/x"
cl "${RUN[@]}" --out "$TMP/done"
is "$RC" 0 "a run into a new --out exits 0"
expect_usage_error "--out that holds a run's results: exit 2" "already holds the results of a run" \
	"${RUN[@]}" --out "$TMP/done"
is "$(wc -l <"$TMP/done/results.jsonl")" 2 "the refused run left the first run's records as they were"
for sc in copy pipe; do
	expect_usage_error "--transport tcp with $sc (no sockets): exit 2" "scenario $sc .*no transport" \
		run --scenario "$sc" --strategy readwrite --transport tcp --size 1K --workdir "$W" --out "$TMP/t-$sc"
	ok $([ ! -e "$TMP/t-$sc" ]; echo $?) "--transport with $sc: no results directory"
done
for o in o1 o2; do
	ok $([ ! -e "$TMP/$o" ]; echo $?) "refused run ($o): no results directory"
done
is "$(scratch_count)" 0 "no scratch left by any of these runs"

done_testing
