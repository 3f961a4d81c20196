#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two instruments, one set of calls: with --tracer, every role is counted by
# the BPF ledger (syscall returns in the kernel) and by the LD_PRELOAD tracer
# (libc call returns in the process) over the same window.  Where both see
# the same calls, bytes_to_user, bytes_from_user and bytes_in_kernel must
# agree within 1% (plus a page for incidental I/O).  Then, as an ordinary
# user, where BPF cannot load, the tracer alone must carry the ledger.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab

N=$((8 << 20))
cells=(
	"relay readwrite,splice"
	"serve readwrite,mmap_write,sendfile,splice"
	"store readwrite,mmap_write,splice"
	"fanout readwrite,tee"
	"echo readwrite,splice"
	"send readwrite,vmsplice"
	"pipe readwrite,vmsplice"
	"copy readwrite,sendfile,splice"
)

for cell in "${cells[@]}"; do
	read -r sc strats <<<"$cell"
	cl run --scenario "$sc" --strategy "$strats" --size $N --reps 1 --warmup 0 --tracer \
		--out "$TMP/$sc" --workdir "$TMP"
	if [ "$RC" -ne 0 ]; then
		fail "$sc: run with --tracer"
		cl_desc 10
		continue
	fi
	notes=$(jq -r '[.metrics.bpf, .metrics.tracer] | @tsv' "$TMP/$sc/results.jsonl" | head -1)
	if [[ $notes != ok*$'\t'ok* ]]; then
		if [ "${COPYLAB_REQUIRE_BPF:-}" = 1 ]; then
			fail "$sc: both instruments loaded"; diag "$notes"
		else
			skip "both instruments are needed: $notes" "$sc: BPF and tracer agree"
		fi
		continue
	fi
	# Every role and figure where they differ by more than 1% + 4096 bytes.
	# BPF's splice family includes vmsplice; the tracer keeps it apart.
	diffs=$(jq -r '
		def off(a; b): (a - b | if . < 0 then -. else . end) > (([a, b] | max) / 100 + 4096);
		.strategy as $s | .roles | to_entries[] | .key as $r | .value |
		[ ["bytes_to_user", .bpf.bytes_to_user, .tracer.bytes_to_user],
		  ["bytes_from_user", .bpf.bytes_from_user, .tracer.bytes_from_user],
		  ["bytes_in_kernel", .bpf.bytes_in_kernel, (.tracer.bytes_in_kernel + .tracer.vmsplice_bytes)] ][]
		| select(off(.[1]; .[2])) | "\($s) \($r) \(.[0]): bpf \(.[1]) tracer \(.[2])"' \
		"$TMP/$sc/results.jsonl")
	is "$diffs" "" "$sc ($strats): BPF and tracer agree within 1% for every role"
	# And the tested role moved the payload by the family its strategy uses.
	moved=$(jq -r --argjson n $N '.roles | to_entries[] | select(.value.under_test) | .value.tracer |
		(.bytes_to_user + .bytes_from_user + .bytes_in_kernel + .vmsplice_bytes) >= $n' "$TMP/$sc/results.jsonl" | sort -u)
	is "$moved" true "$sc: the tested role's ledger accounts for the whole payload"
done

# ---- unprivileged: BPF refused, the tracer takes over -----------------------
if [ "$(id -u)" -ne 0 ] || ! command -v runuser >/dev/null; then
	skip "needs root to drop to nobody" "unprivileged run falls back to the tracer"
else
	dir=$(mktemp -d /tmp/copylab-nobody.XXXXXX)
	at_exit "rm -rf '$dir'"
	chmod 1777 "$dir"
	cp "$COPYLAB" "$ROOT/libcopytrace.so" "$dir/"
	rc=0
	runuser -u nobody -- "$dir/copylab" run --scenario relay --strategy readwrite,splice --size $N \
		--reps 1 --warmup 0 --out "$dir/out" --workdir "$dir" >"$TMP/nobody.out" 2>"$TMP/nobody.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "unprivileged relay run exits 0"
		diag_file "$TMP/nobody.err"
	else
		got=$(jq -r '[.strategy, (.metrics.bpf | startswith("unavailable")), (.metrics.tracer | startswith("ok")),
			.roles.relay.tracer.bytes_to_user, .roles.relay.tracer.bytes_in_kernel] | @tsv' "$dir/out/results.jsonl")
		is "$got" "$(printf 'readwrite\ttrue\ttrue\t%d\t0\nsplice\ttrue\ttrue\t0\t%d' $N $((2 * N)))" \
			"unprivileged: BPF refused and said why, the tracer counted the relay exactly"
	fi
fi

done_testing
