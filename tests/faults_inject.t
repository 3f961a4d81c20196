#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fault injection (--fault), for every strategy in every scenario it
# supports over tcp: the peer resets or half-closes mid-transfer, reads
# slowly, stalls; socket and pipe buffers at their minimum; a storm of
# signals on the role under test; the source file truncated while served;
# each role SIGKILLed in turn; and a bench that goes on past stuck cells.
# Every run is bounded by --timeout and by timeout(1), must end with exit 1
# and an error naming strategy, scenario, role, syscall and errno (or a
# signal), or end cleanly and verified; no role may be left running and a
# failed rep writes no record.  Figures: FAULTS_SUMMARY=FILE appends one
# line per fault kind (runs, verified bytes, EINTRs seen).
# timeout: 900
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

TAG=$(tag_new)
at_exit "kill_tagged $TAG"

# The instruments are not what these tests are about: off, so each run is quick.
QUIET=(--no-bpf --no-perf --no-tracer)
runs=0 bytes_verified=0

# frun ARGS...: one copylab run with the tag; RC, OUT, ERR as cl sets them.
frun() {
	OUT=$TMP/last.out ERR=$TMP/last.err RC=0
	runs=$((runs + 1))
	COPYLAB_TEST_TAG=$TAG timeout -k 5 60 "$COPYLAB" run "$@" "${QUIET[@]}" >"$OUT" 2>"$ERR" </dev/null || RC=$?
	[ "$RC" -eq 124 ] && echo "copylab: test harness timeout after 60 s" >>"$ERR"
	return 0
}

records_in() { [ -f "$1/results.jsonl" ] && wc -l <"$1/results.jsonl" | tr -d ' ' || echo 0; }

n_out=0

# failed_cleanly LABEL OUTDIR PATTERN: exit 1, stderr matching PATTERN, no
# role left, no record.
failed_cleanly() {
	ok $([ "$RC" -eq 1 ] && grep -Eq -- "$3" "$ERR"; echo $?) "$1: exit 1, error /$3/" "$(cl_desc)"
	ok $(no_leftovers "$TAG"; echo $?) "$1: no role left running"
	is "$(records_in "$2")" 0 "$1: no record for the failed rep"
}

# ended_verified LABEL OUTDIR SIZE: exit 0, one record, verified, every byte at the sink.
ended_verified() {
	local rec=$2/results.jsonl
	ok $([ "$RC" -eq 0 ] && [ "$(records_in "$2")" -eq 1 ] &&
		[ "$(jq -r '.verified' "$rec")" = true ] && [ "$(jq -r '.bytes' "$rec")" = "$3" ]; echo $?) \
		"$1: exit 0, one verified record of $3 bytes" "$(cl_desc)"
	ok $(no_leftovers "$TAG"; echo $?) "$1: no role left running"
	[ "$RC" -eq 0 ] && bytes_verified=$((bytes_verified + $3))
}

section_start=$SECONDS
summary() {
	local line="$1: $runs runs, $bytes_verified bytes verified${2:+, $2} ($((SECONDS - section_start)) s)"
	[ -n "${FAULTS_SUMMARY:-}" ] && echo "$line" >>"$FAULTS_SUMMARY"
	diag "$line"
	runs=0 bytes_verified=0 section_start=$SECONDS
}

RESET_ERR='(ECONNRESET|EPIPE)'
SOCKET_SCENARIOS=(serve send relay fanout echo)

# --- usage: a fault that does not apply is refused -----------------------------

expect_usage_error "sink-reset on copy is refused" "fault sink-reset: scenario copy has no .*applies to serve" \
	run --scenario copy --strategy readwrite --fault sink-reset=1K --out "$TMP/no"
expect_usage_error "truncate on relay is refused" "fault truncate: scenario relay has no source file" \
	run --scenario relay --strategy readwrite --fault truncate=1K --out "$TMP/no"
expect_usage_error "kill of a role the scenario lacks is refused, naming its roles" \
	"scenario serve has no role 'relay'; its roles: server, client" \
	run --scenario serve --strategy readwrite --fault kill=relay@1K --out "$TMP/no"
expect_usage_error "kill without @N is refused" "use kill=ROLE@N" \
	run --scenario serve --strategy readwrite --fault kill=client --out "$TMP/no"
expect_usage_error "two fault kinds in one run are refused" "one fault kind per run" \
	run --scenario relay --strategy readwrite --fault sink-reset=1K --fault source-reset=1K --out "$TMP/no"
expect_usage_error "signals=0 is refused" "signals=: '0' is not a whole number from 1" \
	run --scenario relay --strategy readwrite --fault signals=0 --out "$TMP/no"
expect_usage_error "a sink fault with --sink discard is refused" "acts in the sink that hashes" \
	run --scenario relay --strategy readwrite --sink discard --fault sink-stall=1K --out "$TMP/no"
ok $([ ! -e "$TMP/no" ]; echo $?) "refused faults wrote no results directory"
cl run --help
ok $(for k in sink-close sink-reset sink-halfclose sink-stall sink-slow source-reset source-halfclose \
	signals truncate kill=ROLE; do grep -q -- "$k" "$OUT" || exit 1; done; echo $?) \
	"copylab run --help lists every fault kind"

# --- (a) the peer resets the connection ----------------------------------------

# 16 MiB: more than the loopback socket buffers take in while the receiver
# holds still at 64 KiB, so the role under test is mid-send when the RST
# comes.  The error names the role that met it; a role that had already
# handed everything to the kernel ends, and the short stream fails
# verification instead (both are failures, never a record).
for sc in "${SOCKET_SCENARIOS[@]}"; do
	role=$(tested_role "$sc")
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 16M --reps 1 --warmup 0 --timeout 20 \
			--fault sink-reset=64K --out "$out" --workdir "$TMP"
		failed_cleanly "sink resets: $sc $s" "$out" \
			"$s $sc.*(role $role: [a-z_0-9]+ failed: .*\\($RESET_ERR\\)|verification failed: )"
	done
done
for sc in relay fanout store echo recv; do
	role=$(tested_role "$sc")
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 4M --reps 1 --warmup 0 --timeout 20 \
			--fault source-reset=64K --out "$out" --workdir "$TMP"
		failed_cleanly "source resets: $sc $s" "$out" "$s $sc.*role $role: [a-z_0-9]+ failed: .*\\($RESET_ERR\\)"
	done
done
summary "reset (sink and source)"

# --- (b) the peer half-closes ----------------------------------------------------

# The sink's FIN at 64 KiB says nothing about the stream toward it: the
# transfer must go on to the end, verified.
for sc in serve send relay fanout; do
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 4194305 --reps 1 --warmup 0 --timeout 20 \
			--fault sink-halfclose=64K --out "$out" --workdir "$TMP"
		ended_verified "sink half-closes: $sc $s" "$out" 4194305
	done
done
# The source finishing early is a short stream: the role under test ends at
# its EOF, and the verification must refuse the missing bytes.
for sc in relay fanout store echo recv; do
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 4M --reps 1 --warmup 0 --timeout 20 \
			--fault source-halfclose=1000000 --out "$out" --workdir "$TMP"
		failed_cleanly "source ends early: $sc $s" "$out" \
			"$s $sc.*(verification failed: .*(ended after 1000000 of 4194304|1000000 bytes)|failed: .*\\((EPIPE|ECONNRESET)\\))"
	done
done
summary "half-close"

# --- (c) a slow reader ------------------------------------------------------------

# 4 KiB reads from a 4 KiB SO_RCVBUF, 100 µs asleep after each.  Over tcp
# loopback (MSS 64 KiB) a window that small waits on TCP's persist timer,
# about 60 KB/s: so 32 KiB + 1, with --sndbuf 1 (the kernel's minimum) so
# the role under test blocks on the full socket rather than handing it
# all to its send buffer.
for sc in serve send relay fanout echo pipe; do
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 32769 --reps 1 --warmup 0 --timeout 30 \
			--sndbuf 1 --fault sink-slow=100 --out "$out" --workdir "$TMP"
		ended_verified "slow reader: $sc $s" "$out" 32769
	done
done
summary "slow reader"

# --- (d) buffers at their minimum --------------------------------------------------

# --sndbuf 1: the kernel's floor (SOCK_MIN_SNDBUF, 4608 bytes granted);
# --pipe-size 4096: one page, for the scenario's pipe and every strategy's.
# The receive side's floor is the slow reader's (c): a 1152-byte window
# under loopback's 64 KiB MSS leaves TCP waiting on its persist timer, and
# MSG_ZEROCOPY's skbs, charged whole pages each, crawl at ~1.5 KB/s there
# (measured with --rcvbuf 1: 4240 bytes acked in 3 s), which is TCP's
# doing and no strategy's.
for sc in serve send relay fanout store copy echo pipe; do
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 262145 --reps 1 --warmup 0 --timeout 30 \
			--sndbuf 1 --pipe-size 4096 --out "$out" --workdir "$TMP"
		ended_verified "minimum buffers: $sc $s" "$out" 262145
	done
done
summary "minimum buffers"

# --- (e) a storm of signals on the role under test ---------------------------------

# SIGUSR1 and SIGCHLD, 5000 a second, handlers without SA_RESTART; minimum
# buffers so the role blocks often and the signals land inside its calls.
# Every run must end verified; somewhere the role must have seen EINTR and
# retried (io.eintr of the role under test), or the storm missed.
eintr_total=0 eintr_cells=""
for sc in serve send relay fanout store copy echo pipe; do
	role=$(tested_role "$sc")
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 262145 --reps 1 --warmup 0 --timeout 30 \
			--sndbuf 1 --pipe-size 4096 --fault signals=5000 --out "$out" --workdir "$TMP"
		ended_verified "signal storm: $sc $s" "$out" 262145
		e=$(jq -r --arg r "$role" '.roles[$r].eintr // 0' "$out/results.jsonl" 2>/dev/null || echo 0)
		if [ "${e:-0}" -gt 0 ]; then
			eintr_total=$((eintr_total + e))
			eintr_cells+=" $sc/$s:$e"
		fi
	done
done
ok $([ "$eintr_total" -gt 0 ]; echo $?) "signal storm: the role under test saw EINTR and retried (total $eintr_total:$eintr_cells)"
summary "signal storm" "EINTR retried $eintr_total times in:$eintr_cells"

# SIGTERM to copylab while its roles are inside their calls (SIGINT: faults.t).
set -m
out=$TMP/out-$((n_out += 1))
COPYLAB_TEST_TAG=$TAG "$COPYLAB" run --scenario relay --strategy readwrite,splice --size 64M --reps 200 \
	--warmup 0 --out "$out" "${QUIET[@]}" >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
BG=$!
set +m
for ((i = 0; i < 300; i++)); do
	[ "$(records_in "$out")" -ge 2 ] && break
	kill -0 "$BG" 2>/dev/null || break
	sleep 0.1
done
kill -TERM "$BG" 2>/dev/null
for ((i = 0; i < 100; i++)); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$BG" 2>/dev/null; then
	kill -KILL "$BG"; wait "$BG" 2>/dev/null; BG_RC=hung
else
	wait "$BG"; BG_RC=$?
fi
ok $([ "$BG_RC" != hung ] && [ "$BG_RC" -eq 1 ] && grep -Eq "interrupted by (SIGTERM|Terminated)" "$TMP/bg.err"; echo $?) \
	"SIGTERM mid-run: copylab ends within 10 s, exit 1, saying it was terminated" "exit: $BG_RC" "$(diag_file "$TMP/bg.err" 4)"
ok $(no_leftovers "$TAG"; echo $?) "SIGTERM mid-run: no role left running"
ok $(jsonl_valid "$out/results.jsonl" && [ -z "$(jq -r 'select(.verified != true) | .strategy' "$out/results.jsonl")" ]; echo $?) \
	"SIGTERM mid-run: results.jsonl holds only whole, verified records"

# --- (g) the source file is truncated while served -----------------------------------

# Cut to 1000003 bytes of 4 MiB once the role has opened (and mapped) it: a
# strategy must stop with an error, or end short and fail verification;
# none may loop on a read or sendfile that returns 0, or count the
# missing bytes as good.
for sc in serve copy; do
	role=$(tested_role "$sc")
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 4M --reps 1 --warmup 0 --timeout 20 \
			--fault truncate=1000003 --out "$out" --workdir "$TMP"
		failed_cleanly "truncated source: $sc $s" "$out" \
			"$s $sc.*role $role: [a-z_0-9]+ failed: .*\\([A-Z]+\\): the input file shrank to 1000003 bytes during the transfer of 4194304"
	done
done
summary "truncated source"

# --- (h) each role SIGKILLed in turn ----------------------------------------------------

for sc in serve send relay fanout store copy echo pipe recv; do
	for role in $(jq -r --arg sc "$sc" '.scenarios[] | select(.name == $sc) | .roles[]' "$LIST_JSON"); do
		for s in $(supported "$sc"); do
			out=$TMP/out-$((n_out += 1))
			frun --scenario "$sc" --strategy "$s" --size 1M --reps 1 --warmup 0 --timeout 20 \
				--fault "kill=$role@64K" --out "$out" --workdir "$TMP"
			failed_cleanly "$role killed: $sc $s" "$out" "$s $sc.*role $role: the role process died from signal SIGKILL"
		done
	done
done
summary "SIGKILL of a role"

# --- the timeout ends a stuck run, and the bench goes on ----------------------------------

# The receiver stops reading at 64 KiB and holds the connection: only
# --timeout can end such a run.
for sc in serve send relay fanout echo pipe; do
	for s in $(supported "$sc"); do
		out=$TMP/out-$((n_out += 1))
		frun --scenario "$sc" --strategy "$s" --size 16M --reps 1 --warmup 0 --timeout 0.3 \
			--fault sink-stall=64K --out "$out" --workdir "$TMP"
		failed_cleanly "stuck receiver: $sc $s" "$out" "$s $sc.*timeout: still running after 0.3 s"
	done
done
summary "stuck receiver (timeout)"

# bench with the same stuck receiver: every cell that has one times out
# and is reported; store, copy and recv (no fixed receiver to stall) still
# run and are recorded, before and after the stuck cells (recv with
# readwrite:trunc beside its strategies).
out=$TMP/out-$((n_out += 1))
COPYLAB_TEST_TAG=$TAG timeout -k 5 300 "$COPYLAB" bench --quick --size 256K --reps 1 --timeout 0.3 \
	--fault sink-stall=64K --out "$out" --workdir "$TMP" "${QUIET[@]}" >"$TMP/bench.out" 2>"$TMP/bench.err" </dev/null
RC=$?
ERR=$TMP/bench.err
n_store=$(jq -r 'select(.scenario == "store") | .strategy' "$out/results.jsonl" 2>/dev/null | sort -u | wc -l)
n_copy=$(jq -r 'select(.scenario == "copy") | .strategy' "$out/results.jsonl" 2>/dev/null | sort -u | wc -l)
n_recv=$(jq -r 'select(.scenario == "recv") | .strategy' "$out/results.jsonl" 2>/dev/null | sort -u | wc -l)
n_other=$(jq -r 'select(.scenario != "store" and .scenario != "copy" and .scenario != "recv") | .scenario' "$out/results.jsonl" 2>/dev/null | wc -l)
ok $([ "$RC" -eq 1 ] && grep -q "scenario groups had a failed cell" "$ERR"; echo $?) \
	"bench with stuck receivers: exit 1, saying which groups failed" "$(cl_desc)"
ok $(grep -q "readwrite serve over tcp: .*timeout" "$ERR" && grep -q "vmsplice pipe: .*timeout" "$ERR" &&
	grep -q "going on with the next cell" "$ERR"; echo $?) \
	"bench: stuck serve and pipe cells were timed out and the bench went on" "$(diag_file "$ERR" 6)"
is "$n_store $n_copy $n_recv $n_other" "$(supported store | wc -l) $(supported copy | wc -l) $(($(supported recv | wc -l) + 1)) 0" \
	"bench: every store, copy and recv strategy has its record, and no stuck cell has one"
ok $(no_leftovers "$TAG"; echo $?) "bench: no role left running"

done_testing
