#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The newer paths (issue 6), checked on their records: zero-copy sends on
# loopback say the kernel copied (copied == completions, share 0);
# uring_rw's bytes show in the ledger's io_uring part, not in read/write
# syscalls; a sockmap relay's process makes next to no syscalls while
# readwrite's makes thousands per GiB; copy_file_range's bytes stay in the
# kernel; and a transport a strategy cannot use is refused with a reason,
# never passed.  BPF-based figures skip without BPF, except where
# tests/required-here says this machine kind has it.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

N=$((16 << 20))

run_cell() {
	local name=$1
	shift
	cl run --reps 1 --warmup 0 --out "$TMP/$name" --workdir "$TMP" "$@"
	[ "$RC" -eq 0 ] || { diag "copylab run $* failed"; cl_desc 10; return 1; }
	cp "$TMP/$name/results.jsonl" "$TMP/$name.jsonl"
}

fig() { jq -r --arg s "$2" "select(.strategy == \$s) | $3" "$1"; }

# has STRATEGY SCENARIO: the strategy runs the scenario on this build.
has() { [ "$(jq -r --arg s "$1" --arg sc "$2" '.strategies[] | select(.name == $s) | .scenarios[$sc].ok' "$LIST_JSON")" = true ]; }

# need_ledger FILE STRATEGY ROLE NAME: 0 when the record has the BPF ledger;
# otherwise a skip, or a failure where BPF is required here.
need_ledger() {
	local b
	b=$(fig "$1" "$2" ".roles.$3.bpf")
	[ -n "$b" ] && [ "$b" != null ] && return 0
	if [ "${COPYLAB_REQUIRE_BPF:-}" = 1 ]; then
		fail "$4: the BPF ledger loaded"
		diag "$(fig "$1" "$2" .notes 2>/dev/null | head -c 300)"
	else
		skip "no BPF ledger here" "$4"
	fi
	return 1
}

# ---- zero-copy sends on loopback: the kernel copies, and says so ------------
zc=()
for s in msg_zerocopy uring_send_zc; do has "$s" send && zc+=("$s"); done
if [ ${#zc[@]} -eq 0 ]; then
	skip "neither msg_zerocopy nor uring_send_zc is built" "zero-copy records"
elif run_cell zc --scenario send --strategy "$(IFS=,; echo "${zc[*]}")" --size $N; then
	for s in "${zc[@]}"; do
		z=$(fig "$TMP/zc.jsonl" "$s" '.zerocopy | "\(.sends) \(.completions) \(.copied) \(.share_not_copied)"')
		read -r sends comps copied share <<<"$z"
		if [ "${comps:-0}" -gt 0 ] 2>/dev/null && [ "$comps" = "$copied" ] && [ "$share" = 0 ] &&
			[ "$sends" -ge "$comps" ]; then
			pass "$s send on loopback: $comps completions, all copied (share_not_copied 0)"
		else
			fail "$s send on loopback: zerocopy says the kernel copied every send"
			diag "zerocopy: $(fig "$TMP/zc.jsonl" "$s" .zerocopy | tr -d '\n ')"
		fi
	done
	r=$(fig "$TMP/zc.jsonl" msg_zerocopy '.zerocopy.bytes_copied')
	if has msg_zerocopy send; then is "$r" "$N" "msg_zerocopy: bytes_copied is the payload"; fi
else
	fail "zero-copy send run"
fi

# ---- uring_rw: bytes by SQE, few read/write syscalls -----------------------
if ! has uring_rw copy; then
	skip "uring_rw is not built (liburing)" "uring_rw ledger"
elif run_cell ur --scenario copy --strategy uring_rw,readwrite --size $N &&
	need_ledger "$TMP/ur.jsonl" uring_rw copier "uring_rw ledger"; then
	u=$(fig "$TMP/ur.jsonl" uring_rw '.roles.copier.bpf | "\(.uring.sqes.read) \(.uring.sqes.write) \(.uring.cqe_bytes.read) \(.uring.cqe_bytes.write) \(.syscalls_by_family.read + .syscalls_by_family.write) \(.bytes_to_user + .bytes_from_user)"')
	read -r sr sw br bw rwcalls rwbytes <<<"$u"
	if [ "$sr" = null ]; then
		fail "uring_rw: the ledger has its io_uring part"
	else
		is "$br $bw" "$N $N" "uring_rw: io_uring READ and WRITE completions carry the payload each"
		ok $(( sr >= N / (64 << 10) && sw >= N / (64 << 10) ? 0 : 1 )) \
			"uring_rw: one READ and one WRITE SQE per 64 KiB block at least ($sr, $sw)"
		ok $(( rwcalls <= 8 && rwbytes == 0 ? 0 : 1 )) \
			"uring_rw: no bytes through read/write syscalls ($rwcalls calls)" \
			"read+write syscalls $rwcalls, bytes $rwbytes"
		rw=$(fig "$TMP/ur.jsonl" readwrite '.roles.copier.bpf.uring.sqes_total')
		is "$rw" 0 "readwrite: no io_uring SQEs"
	fi
fi

# ---- uring_rw in the ledger: a GiB each way per GiB, as readwrite ---------
# The role's ledger object counts io_uring's READ/RECV completions as bytes
# to user memory and WRITE/SEND as bytes from it: through user memory
# uring_rw copies what readwrite copies, whatever the syscalls are called.
for sc in serve relay; do
	role=$( [ $sc = serve ] && echo server || echo relay )
	if ! has uring_rw $sc; then
		skip "uring_rw is not built (liburing)" "uring_rw $sc ledger"
	elif run_cell ur-$sc --scenario $sc --strategy uring_rw,readwrite --size $N &&
		need_ledger "$TMP/ur-$sc.jsonl" uring_rw $role "uring_rw $sc ledger"; then
		for s in uring_rw readwrite; do
			l=$(fig "$TMP/ur-$sc.jsonl" $s ".roles.$role.ledger | \"\(.per_gib.bytes_to_user) \(.per_gib.bytes_from_user) \(.io_uring_seen)\"")
			read -r to from seen <<<"$l"
			ok $(awk -v a="$to" -v b="$from" 'BEGIN { exit !(a > 0.99 * 2^30 && a < 1.01 * 2^30 && b > 0.99 * 2^30 && b < 1.01 * 2^30) }'; echo $?) \
				"$s $sc: the ledger has a GiB to and a GiB from user memory per GiB (io_uring seen: $seen)" \
				"to $to from $from per GiB"
		done
	fi
done
if has uring_send_zc serve && run_cell uzc --scenario serve --strategy uring_send_zc --size $N &&
	need_ledger "$TMP/uzc.jsonl" uring_send_zc server "uring_send_zc serve ledger"; then
	is "$(fig "$TMP/uzc.jsonl" uring_send_zc '.roles.server.ledger | "\(.bytes_to_user) \(.bytes_from_user) \(.zerocopy_not_copied)"')" \
		"$N $N 0" "uring_send_zc serve on loopback: read into user memory, and every send copied after all (none not copied)"
fi

# ---- sockmap: the relay process is idle while the kernel relays ------------
M=$((256 << 20))
if ! has sockmap relay; then
	skip "sockmap is not built" "sockmap relay"
else
	cl run --reps 1 --warmup 0 --out "$TMP/sm" --workdir "$TMP" --scenario relay \
		--strategy readwrite,sockmap --size $M
	if [ "$RC" -ne 0 ] && [ "${COPYLAB_REQUIRE_BPF:-}" != 1 ] && grep -q "sockmap" "$ERR"; then
		skip "sockmap could not load here: $(grep -m1 sockmap "$ERR" | head -c 200)" "sockmap relay"
	elif [ "$RC" -ne 0 ]; then
		fail "sockmap relay run"
		cl_desc 10
	elif need_ledger "$TMP/sm/results.jsonl" sockmap relay "sockmap relay ledger"; then
		f=$TMP/sm/results.jsonl
		smg=$(fig "$f" sockmap '.roles.relay.bpf.per_gib.syscalls')
		rwg=$(fig "$f" readwrite '.roles.relay.bpf.per_gib.syscalls')
		is "$(fig "$f" sockmap '"\(.verify) \(.bytes)"')" "ok $M" "sockmap relay: every byte verified"
		# The relay's own calls are a fixed cost (setup, one wake-up at
		# the FIN, 1 ms ticks while the backlog drains), not a cost per
		# byte: how many ticks depends on how busy the machine is, so the
		# bound is a ratio to readwrite's per-chunk calls at a size where
		# the fixed part is small.
		ok $(awk -v a="$smg" -v b="$rwg" 'BEGIN { exit !(a * 10 < b) }'; echo $?) \
			"sockmap relay: relay-role syscalls per GiB under a tenth ($smg) of readwrite's ($rwg)"
		# The only reads are of the timerfd (8 bytes a tick) while the
		# backlog drains: no socket byte reaches the relay's memory.
		is "$(fig "$f" sockmap '.roles.relay.bpf | "\(.skb_copy_bytes) \(.bytes_from_user) \(.bytes_to_user < 4096)"')" "0 0 true" \
			"sockmap relay: no payload through the relay process (skb copies 0, from user 0)"
	fi
fi

# ---- sockmap: the end is exact at one byte past a 64 KiB send ----------------
# The relay declares the end when every byte the input received is in the
# output socket; a count that also held the SYN declared it one byte early,
# and the sink saw 65536 of 65537 (1 rep in 150 on a quiet machine, most
# under load).  Twenty reps of exactly that size.
if has sockmap relay && [ "$(id -u)" -eq 0 ]; then
	cl run --reps 20 --warmup 0 --no-perf --no-bpf --out "$TMP/sm1" --workdir "$TMP" --scenario relay \
		--strategy sockmap --size 65537
	is "$RC $(jq -s -r '[.[] | select(.verify == "ok" and .bytes == 65537)] | length' "$TMP/sm1/results.jsonl" 2>/dev/null)" \
		"0 20" "sockmap relay, 65537 bytes, 20 reps: every rep verified" "$(tail -n 3 "$ERR")"
fi

# ---- copy_file_range: every byte moved in the kernel -----------------------
if run_cell cfr --scenario copy --strategy copy_file_range --size $N &&
	need_ledger "$TMP/cfr.jsonl" copy_file_range copier "copy_file_range ledger"; then
	is "$(fig "$TMP/cfr.jsonl" copy_file_range '.roles.copier.bpf | "\(.bytes_in_kernel) \(.bytes_to_user + .bytes_from_user)"')" \
		"$N 0" "copy_file_range: bytes_in_kernel is the payload, nothing through user memory"
fi

# ---- refusals: a transport the kernel cannot do fails, with the reason -----
# refused STRATEGY SCENARIO PATTERN: over unix, a failed run naming why.
refused() {
	has "$1" "$2" || { skip "$1 is not built" "$1 over unix is refused"; return; }
	cl run --reps 1 --warmup 0 --out "$TMP/ref-$1" --workdir "$TMP" --scenario "$2" \
		--strategy "$1" --transport unix --size 4096
	if [ "$RC" -ne 0 ] && grep -Eq -- "$3" "$ERR"; then
		pass "$1 $2 over unix is refused: $(grep -Eo -m1 -- "$3.{0,60}" "$ERR" | head -n 1)"
	else
		fail "$1 $2 over unix is refused with a reason"
		diag "wanted a failure matching /$3/"
		cl_desc 10
	fi
}
refused msg_zerocopy send 'SO_ZEROCOPY|AF_UNIX'
refused uring_send_zc send 'SEND_ZC|AF_UNIX'
refused sockmap relay 'sockmap|AF_UNIX'

done_testing
