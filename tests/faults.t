#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Failed runs end cleanly: a run past its --timeout, a run interrupted by
# SIGINT and a run whose disk fills up each exit non-zero with a message
# that says what happened, leave no role process running, write no record
# for the failed repetition and leave only whole lines in results.jsonl.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

# Every copylab started here carries a tag; whatever is left at exit is killed.
TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# run_tagged ARGS...: like cl, with the tag in copylab's environment.
run_tagged() {
	OUT=$TMP/last.out ERR=$TMP/last.err RC=0
	COPYLAB_TEST_TAG=$TAG timeout -k 5 120 "$COPYLAB" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
}

# records_in DIR: how many records DIR/results.jsonl holds (0 if none).
records_in() { [ -f "$1/results.jsonl" ] && wc -l <"$1/results.jsonl" | tr -d ' ' || echo 0; }

# --- (a) a run that cannot finish within --timeout --------------------------------

for sc in relay echo; do
	out=$TMP/timeout-$sc
	run_tagged run --scenario "$sc" --strategy readwrite --size 1G --reps 1 --warmup 0 \
		--timeout 0.05 --out "$out" --workdir "$TMP"
	ok $([ "$RC" -eq 1 ] && grep -qi "time.\{0,3\}out" "$ERR"; echo $?) \
		"$sc: 1 GiB within --timeout 0.05 ends with exit 1 and a timeout message" "$(cl_desc)"
	ok $(grep -q readwrite "$ERR" && grep -q "$sc" "$ERR"; echo $?) \
		"$sc timeout: the message names the strategy and the scenario" "$(cl_desc)"
	ok $(no_leftovers "$TAG"; echo $?) "$sc timeout: no role process left running"
	is "$(records_in "$out")" 0 "$sc timeout: no record for the failed rep"
done

# --- (b) SIGINT -----------------------------------------------------------------------

# start_bg ARGS...: copylab in the background with SIGINT at its default
# (job control on: a background job of a script would otherwise ignore it).
start_bg() {
	set -m
	COPYLAB_TEST_TAG=$TAG "$COPYLAB" "$@" >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
	BG=$!
	set +m
}

# wait_bg SECONDS: waits for the background copylab; BG_RC is its status,
# or "hung" (then it is killed).
wait_bg() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$BG" 2>/dev/null; then
		BG_RC=hung
		kill -KILL -- "-$BG" 2>/dev/null || kill -KILL "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
	else
		wait "$BG"
		BG_RC=$?
	fi
}

sigint_case() {
	local label=$1 out=$2
	ok $([ "$BG_RC" != hung ] && [ "$BG_RC" -ne 0 ]; echo $?) \
		"SIGINT $label: copylab ends (within 10 s), exit non-zero" \
		"$([ "$BG_RC" = hung ] && echo "still running 10 s after SIGINT (then killed)" || echo "exit: $BG_RC")" \
		"$(diag_file "$TMP/bg.err" 5)"
	ok $(no_leftovers "$TAG"; echo $?) "SIGINT $label: no copylab process left running"
	ok $(jsonl_valid "$out/results.jsonl" 2>/dev/null || [ ! -e "$out/results.jsonl" ]; echo $?) \
		"SIGINT $label: results.jsonl holds only whole records"
	is "$(find "$out" -name '*.tmp*' 2>/dev/null | head -n 3)" "" "SIGINT $label: no *.tmp file left"
}

# Early, to the whole process group, as Ctrl-C at a terminal does: with
# 4 GiB to prepare (pattern and expected hashes), the interrupt lands
# before the roles start, and must not wait for the preparation to end.
out=$TMP/int-early
start_bg run --scenario relay --strategy readwrite,splice --size 4G --reps 1 --warmup 0 --out "$out"
sleep 0.3
kill -INT -- "-$BG" 2>/dev/null
wait_bg 10
sigint_case "to the group after 0.3 s" "$out"

# Once some records are written, to copylab alone: the interrupt lands
# between or inside reps, and copylab must stop its roles itself.
out=$TMP/int-late
start_bg run --scenario relay --strategy readwrite,splice --size 64M --reps 200 --warmup 0 --out "$out"
for ((i = 0; i < 300; i++)); do
	[ "$(records_in "$out")" -ge 3 ] && break
	kill -0 "$BG" 2>/dev/null || break
	sleep 0.1
done
n_before=$(records_in "$out")
sleep 0.05
kill -INT "$BG" 2>/dev/null
wait_bg 10
ok $([ "$n_before" -ge 3 ]; echo $?) "SIGINT after records: 3 records were written before the interrupt" "records: $n_before"
sigint_case "after records" "$out"
ok $(bad=$(jq -r 'select(.verified != true) | .strategy' "$out/results.jsonl" 2>&1); [ -z "$bad" ]; echo $?) \
	"SIGINT after records: every record kept is a verified rep"
# summary.csv is computed from records that are all in results.jsonl.
n_rec=$(records_in "$out")
n_sum=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "reps") c = i; next } c { n += $c } END { print n + 0 }' \
	"$out/summary.csv" 2>/dev/null)
ok $([ -n "$n_sum" ] && [ "$n_sum" -le "$n_rec" ]; echo $?) \
	"SIGINT after records: summary.csv counts no rep that results.jsonl lacks" "summary reps: $n_sum, records: $n_rec"

# --- (b2) the sink goes away mid-stream ------------------------------------------------

# --fault sink-close=N: the fixed sink closes its end after N bytes.  The
# role under test must fail with EPIPE or ECONNRESET, named with the
# strategy, scenario, role and syscall, and nothing may be recorded.  The
# payload (64 MiB) is far larger than what loopback socket buffers hold, so
# the role under test is still sending when the sink goes (with 4 MiB, a
# slow build could hand it all to the kernel first, and only the
# verification would fail).
for sc in serve send relay fanout pipe; do
	role=$(tested_role "$sc")
	for s in $(supported "$sc"); do
		out=$TMP/close-$sc-$s
		run_tagged run --scenario "$sc" --strategy "$s" --size 64M --reps 1 --warmup 0 \
			--fault sink-close=100000 --timeout 30 --out "$out" --workdir "$TMP"
		ok $([ "$RC" -eq 1 ] &&
			grep -Eq "$s $sc.*role $role: [a-z_0-9]+ failed: .*\((EPIPE|ECONNRESET)\)" "$ERR"; echo $?) \
			"sink closes: $sc $s exits 1 naming strategy, scenario, role, syscall and EPIPE/ECONNRESET" "$(cl_desc)"
		ok $(no_leftovers "$TAG"; echo $?) "sink closes: $sc $s left no role running"
		is "$(records_in "$out")" 0 "sink closes: $sc $s wrote no record"
	done
done

# --- (c) a full disk --------------------------------------------------------------------

# A 6 MiB tmpfs as --workdir: store's 8 MiB output cannot fit; copy's 4 MiB
# source fits but its copy cannot, so the copier itself meets ENOSPC.
FULL=$TMP/full
if [ "$(id -u)" -ne 0 ]; then
	skip "not root: cannot mount a small tmpfs" "full disk: store and copy fail with ENOSPC"
else
	mkdir -p "$FULL"
	if ! mount -t tmpfs -o size=6m copylab-test-full "$FULL" 2>"$TMP/mount.err"; then
		skip "cannot mount tmpfs: $(head -c 200 "$TMP/mount.err")" "full disk: store and copy fail with ENOSPC"
	else
		at_exit "umount -l '$FULL'"
		for sc in store copy; do
			case $sc in store) size=8M ;; copy) size=4M ;; esac
			role=$(tested_role "$sc")
			for s in $(supported "$sc"); do
				rm -rf "${FULL:?}"/* 2>/dev/null
				out=$TMP/enospc-$sc-$s
				run_tagged run --scenario "$sc" --strategy "$s" --size "$size" --reps 1 --warmup 0 \
					--timeout 30 --workdir "$FULL" --out "$out"
				ok $([ "$RC" -eq 1 ] &&
					grep -Eq "$s $sc.*role $role: [a-z_0-9]+ failed: No space left on device \(ENOSPC\)" "$ERR"; echo $?) \
					"full disk: $sc $s $size exits 1, the $role's syscall failing with ENOSPC" "$(cl_desc)"
				ok $(no_leftovers "$TAG"; echo $?) "full disk: $sc $s left no role running"
				is "$(records_in "$out")" 0 "full disk: $sc $s wrote no record"
				is "$(find "$FULL" -mindepth 1 | head -n 3)" "" "full disk: $sc $s removed its scratch files"
			done
		done
		umount "$FULL" 2>/dev/null
	fi
fi

done_testing
