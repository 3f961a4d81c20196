#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# recv (socket -> memory): the role under test receives into its own
# memory and hashes the bytes there.  Byte-exact at the matrix's sizes on
# lo-ns (tcp and unix are matrix.t's, veth is veth.t's); readwrite:trunc
# (MSG_TRUNC) counts exact bytes and says it is unverified (tcp, lo-ns,
# veth); zerocopy_recv
# really maps on lo-ns (it cannot pass by mapping nothing); the digest is
# store's for the same bytes; damage and a short stream fail the rep.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab

SIZES=${RECV_SIZES:-"0 1 4095 4096 4097 65535 65537 1048577 67108864"}
WORKDIR=$TMP/work
mkdir -p "$WORKDIR"
AT=1048576

# check_verified FILE STRATEGY TRANSPORT SIZE: verified, SIZE bytes used by the receiver.
check_verified() {
	local file=$1 strat=$2 tr=$3 size=$4 problems
	problems=$(jq -s -r --arg s "$strat" --arg tr "$tr" --argjson n "$size" '
		[.[] | select(.strategy == $s)] as $r |
		if ($r | length) != 1 then "\($r | length) records for \($s), wanted 1"
		else $r[0] |
			[ (if .verified != true or .verify != "ok" then "verify: \(.verify) \(.verify_note)" else empty end),
			  (if .scenario != "recv" then "scenario: \(.scenario)" else empty end),
			  (if .bytes != $n then "bytes: \(.bytes)" else empty end),
			  (if .transport != $tr then "transport: \(.transport)" else empty end),
			  (if .roles.receiver.bytes != $n then "receiver bytes: \(.roles.receiver.bytes)" else empty end),
			  (if .roles.source.bytes != $n then "source bytes: \(.roles.source.bytes)" else empty end)
			] | join("; ")
		end' "$file" 2>&1)
	ok "$([ -z "$problems" ]; echo $?)" "recv $tr $size $strat: verified, $size bytes used" "$problems"
}

# check_trunc FILE TRANSPORT SIZE: readwrite:trunc counted SIZE bytes, and
# its record says unverified, and why, as --sink discard's does.
check_trunc() {
	local file=$1 tr=$2 size=$3 problems
	problems=$(jq -s -r --argjson n "$size" '
		[.[] | select(.strategy == "readwrite:trunc")] as $r |
		if ($r | length) != 1 then "\($r | length) records, wanted 1"
		else $r[0] |
			[ (if .verified != false or .verify != "skipped" then "verified \(.verified), verify \(.verify)" else empty end),
			  (if (.verify_note // "" | test("MSG_TRUNC.*nothing was hashed")) | not then "verify_note: \(.verify_note)" else empty end),
			  (if .bytes != $n or .roles.receiver.bytes != $n then "bytes \(.bytes), receiver \(.roles.receiver.bytes)" else empty end),
			  (if .status != "ok" then "status: \(.status)" else empty end)
			] | join("; ")
		end' "$file" 2>&1)
	ok "$([ -z "$problems" ]; echo $?)" "recv $tr $size readwrite:trunc: $size bytes counted, marked unverified" "$problems"
}

# ---- tcp: MSG_TRUNC at every size (the verified strategies are matrix.t's) -----

for size in $SIZES; do
	cl run --scenario recv --strategy readwrite:trunc --transport tcp --size "$size" --reps 1 --warmup 0 \
		--out "$TMP/t-$size" --workdir "$WORKDIR"
	ok "$RC" "recv tcp $size readwrite:trunc: exit 0" "$(tail -n 3 "$ERR")"
	check_trunc "$TMP/t-$size/results.jsonl" tcp "$size"
	rm -rf "$TMP/t-$size"
done
cl run --scenario recv --strategy readwrite,readwrite:trunc --size 1M --reps 1 --warmup 0 --out "$TMP/tsum" \
	--workdir "$WORKDIR"
ok "$RC" "recv readwrite beside readwrite:trunc: exit 0" "$(tail -n 3 "$ERR")"
got=$(grep -c "readwrite:trunc.*0/1" "$OUT")
is "$got" 1 "the table counts readwrite:trunc's repetition as not verified (0/1)"
# The ledger: MSG_TRUNC's returns are bytes the kernel discarded uncopied,
# not bytes to user memory; readwrite beside it brought every byte in.
bpf_note=$(jq -r 'select(.strategy == "readwrite") | .metrics.bpf' "$TMP/tsum/results.jsonl")
if [[ $bpf_note == ok* ]] || [ "${COPYLAB_REQUIRE_BPF:-}" = 1 ]; then
	got=$(jq -r '"\(.strategy) \(.roles.receiver.bpf.bytes_to_user) \(.roles.receiver.bpf.skb_copy_bytes)"' \
		"$TMP/tsum/results.jsonl" | tr '\n' ' ')
	is "$got" "readwrite 1048576 1048576 readwrite:trunc 0 0 " \
		"BPF ledger: readwrite:trunc brought no byte to user memory (nor did the kernel copy one)"
else
	skip "BPF does not load here: $bpf_note" "the MSG_TRUNC ledger"
fi
cl run --scenario recv --strategy readwrite,readwrite:trunc --size 1M --reps 1 --warmup 0 --out "$TMP/ttrace" \
	--workdir "$WORKDIR" --tracer --no-bpf
got=$(jq -r '"\(.strategy) \(.roles.receiver.tracer.bytes_to_user) \(.roles.receiver.tracer.calls.read > 0)"' \
	"$TMP/ttrace/results.jsonl" | tr '\n' ' ')
is "$RC/$got" "0/readwrite 1048576 true readwrite:trunc 0 true " \
	"tracer ledger: readwrite:trunc's recv calls counted, no byte to user memory" "$(tail -n 3 "$ERR")"

# ---- the same bytes, the same digest: recv's receiver hashes as store's file is checked ----

cl run --scenario recv --strategy readwrite,uring_rw,zerocopy_recv --size 1048577 --reps 1 --warmup 0 \
	--out "$TMP/dr" --workdir "$WORKDIR"
cl run --scenario store --strategy readwrite --size 1048577 --reps 1 --warmup 0 --out "$TMP/ds" --workdir "$WORKDIR"
want=$(jq -r .digest "$TMP/ds/results.jsonl" 2>/dev/null)
got=$(jq -s -r 'map(.digest) | unique | join(" ")' "$TMP/dr/results.jsonl" 2>&1)
is "$got" "$want" "recv 1 MiB + 1: every strategy's digest is store's for the same bytes"

# ---- damage on the way in: caught by the receiver, at the byte or its chunk ----

# A chunk that came whole in one piece is located to the byte; one spread
# over pieces is named by its range (the bytes were used where they lay).
declare -A first=( [flip]=$AT [drop]=$AT [dup]=$((AT + 4096)) [swap]=$AT )
for s in readwrite zerocopy_recv uring_rw; do
	for kind in flip drop dup swap; do
		out=$TMP/neg-$s-$kind
		cl run --scenario recv --strategy "$s" --size 4M --reps 1 --warmup 0 --fault "$kind@$AT" \
			--out "$out" --workdir "$WORKDIR" --no-bpf --no-perf
		if [ "$RC" -eq 1 ] && [ ! -s "$out/results.jsonl" ] &&
			grep -Eq "verification failed: receiver: (first bad byte at offset ${first[$kind]} |bad data in the chunk at offset $AT )" "$ERR"; then
			pass "recv $s: $kind at $AT caught by the receiver, exit 1, no record"
		else
			fail "recv $s: $kind at $AT caught by the receiver, exit 1, no record"
			cl_desc 5
		fi
	done
done
# MSG_TRUNC sees no byte, but it counts them: a dropped block is a short stream.
cl run --scenario recv --strategy readwrite:trunc --size 4M --reps 1 --warmup 0 --fault "drop@$AT" \
	--out "$TMP/neg-trunc" --workdir "$WORKDIR" --no-bpf --no-perf
ok "$([ "$RC" -eq 1 ] && grep -q "received 4190208 bytes of the 4194304 sent (counted only" "$ERR"; echo $?)" \
	"recv readwrite:trunc: a dropped block fails by its count" "$(tail -n 2 "$ERR")"
for s in readwrite readwrite:trunc zerocopy_recv uring_rw; do
	cl run --scenario recv --strategy "$s" --size 4M --reps 1 --warmup 0 --timeout 20 \
		--fault source-halfclose=64K --out "$TMP/short-$s" --workdir "$WORKDIR" --no-bpf --no-perf
	ok "$([ "$RC" -eq 1 ] && [ ! -s "$TMP/short-$s/results.jsonl" ] &&
		grep -Eq "(stream ended after 65536 of 4194304 bytes|received 65536 bytes of the 4194304 sent)" "$ERR"; echo $?)" \
		"recv $s: the source ends at 64 KiB: exit 1, the short stream named, no record" "$(tail -n 2 "$ERR")"
done

# ---- lo-ns: where pages map -------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	skip "lo-ns needs root (a network namespace of its own)" "recv over lo-ns"
	done_testing
	exit 0
fi
export PATH=$PATH:/usr/sbin:/sbin

for size in $SIZES; do
	d=$TMP/l-$size
	cl run --scenario recv --strategy readwrite,uring_rw,zerocopy_recv,readwrite:trunc --transport lo-ns \
		--size "$size" --reps 1 --warmup 0 --out "$d" --workdir "$WORKDIR"
	ok "$RC" "recv lo-ns $size: exit 0" "$(tail -n 3 "$ERR")"
	for s in readwrite uring_rw zerocopy_recv; do check_verified "$d/results.jsonl" "$s" lo-ns "$size"; done
	check_trunc "$d/results.jsonl" lo-ns "$size"
	rm -rf "$d"
done

# veth: the verified strategies are veth.t's matrix; MSG_TRUNC's count here.
cl run --scenario recv --strategy readwrite:trunc --transport veth --size 1048577 --reps 1 --warmup 0 \
	--out "$TMP/veth" --workdir "$WORKDIR"
ok "$RC" "recv veth 1048577 readwrite:trunc: exit 0" "$(tail -n 3 "$ERR")"
check_trunc "$TMP/veth/results.jsonl" veth 1048577

# 64 MiB in 512 KiB chunks, claim 13's cell: zerocopy_recv must map, or it
# would pass by copying everything (~99.9% maps on this machine).
cl run --scenario recv --strategy zerocopy_recv --transport lo-ns --size 64M --block 512K --reps 1 --warmup 0 \
	--out "$TMP/big" --workdir "$WORKDIR"
r=$(jq -r '.zerocopy_recv | if .bytes_mapped > 0 and .share_mapped > 0.9 and .bytes_mapped % 4096 == 0
	and .bytes_mapped + .bytes_copied == 67108864 then "ok" else tostring end' "$TMP/big/results.jsonl" 2>&1)
is "$r" ok "recv lo-ns 64 MiB, 512 KiB chunks: zerocopy_recv mapped > 90% in whole pages, mapped + copied = all"

done_testing
