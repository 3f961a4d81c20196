#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# zerocopy_recv (TCP_ZEROCOPY_RECEIVE) and transport lo-ns: byte-exact
# beside readwrite at the foundation's sizes on lo-ns (where pages map) and
# on tcp (where they cannot: the MSS is not whole pages, and everything is
# copied), blocking and non-blocking; on lo-ns the fixed source sends with
# MSG_ZEROCOPY for every strategy and at least 90% of 64 MiB is mapped (a
# floor that fails if mapping silently stops; ~99.8% is what this machine
# shows); over unix the strategy is refused with its reason; no namespace
# is left behind.
# timeout: 600
. "$(dirname "$0")/lib.sh"
require_copylab

if [ "$(id -u)" -ne 0 ]; then
	skip_all "lo-ns needs root (a network namespace of its own)"
fi
export PATH=$PATH:/usr/sbin:/sbin
if ! command -v ip >/dev/null 2>&1; then
	[ -n "${COPYLAB_REQUIRE_ZCRECV:-}" ] && bail_out "iproute2 (ip) is missing, and lo-ns is required here"
	skip_all "iproute2 (ip) is not installed"
fi

SIZES=${ZCRECV_SIZES:-"0 1 4095 4096 4097 65535 65537 1048577 67108864"}
WORKDIR=$TMP/work
mkdir -p "$WORKDIR"

# zrun OUT ARGS...: copylab in the background so its pid is known (its
# namespace carries it), under a timeout.  Sets RC, OUT, ERR and PID.
zrun() {
	local dir=$1
	shift
	OUT=$TMP/last.out ERR=$TMP/last.err
	timeout -s TERM 300 "$COPYLAB" run "$@" --reps 1 --warmup 0 --out "$dir" --workdir "$WORKDIR" \
		>"$OUT" 2>"$ERR" </dev/null &
	PID=$!
	RC=0
	wait "$PID" || RC=$?
}

check_clean() {
	local left
	left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^copylab-$2-" || true)
	is "$left" "" "$1: no copylab- namespace of this run left"
}

# check_record FILE STRATEGY TRANSPORT SIZE WHAT: verified, SIZE bytes
# written and received, the fixed sender as that transport wants it, and
# zerocopy_recv's mapped + copied bytes adding up to SIZE.
check_record() {
	local file=$1 strat=$2 tr=$3 size=$4 what=$5 sender problems
	sender=send
	[ "$tr" = lo-ns ] && sender=msg_zerocopy
	problems=$(jq -s -r --arg s "$strat" --arg tr "$tr" --arg snd "$sender" --argjson n "$size" '
		[.[] | select(.strategy == $s)] as $r |
		if ($r | length) != 1 then "\($r | length) records for \($s), wanted 1"
		else $r[0] |
			[ (if .verified != true then "verified: \(.verified) \(.verify_note)" else empty end),
			  (if .bytes != $n then "bytes: \(.bytes)" else empty end),
			  (if .transport != $tr then "transport: \(.transport)" else empty end),
			  (if .roles.receiver.bytes != $n then "receiver bytes: \(.roles.receiver.bytes)" else empty end),
			  (if .roles.source.bytes != $n then "source bytes: \(.roles.source.bytes)" else empty end),
			  (if .fixed_sender != $snd then "fixed_sender: \(.fixed_sender), wanted \($snd)" else empty end),
			  (if $s == "zerocopy_recv" then
				(if (.zerocopy_recv | type) != "object" then "zerocopy_recv: \(.zerocopy_recv)"
				 elif .zerocopy_recv.bytes_mapped + .zerocopy_recv.bytes_copied != $n
				 then "mapped \(.zerocopy_recv.bytes_mapped) + copied \(.zerocopy_recv.bytes_copied) != \($n)"
				 elif .zerocopy_recv.bytes_copybuf + .zerocopy_recv.bytes_read != .zerocopy_recv.bytes_copied
				 then "copybuf + read != copied" else empty end)
			   elif .zerocopy_recv != null then "zerocopy_recv of \($s) is not null" else empty end)
			] | join("; ")
		end' "$file" 2>&1)
	ok "$([ -z "$problems" ]; echo $?)" "$what $strat: verified, $size bytes" "$problems"
}

for tr in lo-ns tcp; do
	for size in $SIZES; do
		for nb in "" --nonblock; do
			# Non-blocking at the sizes where a step can stop halfway.
			case "$nb:$size" in --nonblock:0|--nonblock:1|--nonblock:4095|--nonblock:4096|--nonblock:65535) continue ;; esac
			what="store $tr $size${nb:+ nonblock}"
			d=$TMP/m-$tr-$size$nb
			zrun "$d" --scenario store --strategy readwrite,zerocopy_recv --transport "$tr" --size "$size" $nb
			if ! ok "$RC" "$what: exit 0"; then
				cl_desc 10
			fi
			for s in readwrite zerocopy_recv; do check_record "$d/results.jsonl" "$s" "$tr" "$size" "$what"; done
			[ "$tr" = lo-ns ] && check_clean "$what" "$PID"
			rm -rf "$d"
		done
	done
done

# ---- every other strategy runs on lo-ns too (side by side with zerocopy_recv) ----

load_list
for sc in $(jq -r '.scenarios[] | select(.uses_transport) | .name' "$LIST_JSON"); do
	d=$TMP/all-$sc
	zrun "$d" --scenario "$sc" --strategy all --transport lo-ns --size 1048577
	ok "$RC" "$sc over lo-ns, --strategy all, 1 MiB + 1: exit 0" "$(tail -n 3 "$ERR")"
	mapfile -t want < <(supported "$sc")
	got=$(jq -s -r 'map(select(.verified == true and .bytes == 1048577 and .transport == "lo-ns") | .strategy) | sort | join(" ")' \
		"$d/results.jsonl" 2>&1)
	# Those that need a privilege or refuse the transport are left out by `all`; none does here as root.
	is "$got" "$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
		"$sc over lo-ns: every supporting strategy verified"
	check_clean "$sc over lo-ns" "$PID"
	rm -rf "$d"
done

# ---- what was mapped (64 MiB, whatever the sizes above) ------------------------

for tr in lo-ns tcp; do
	zrun "$TMP/big-$tr" --scenario store --strategy readwrite,zerocopy_recv --transport "$tr" --size 64M
	ok "$RC" "store $tr 64 MiB for the mapped share: exit 0" "$(cat "$ERR")"
	cp "$TMP/big-$tr/results.jsonl" "$TMP/big-$tr.jsonl" 2>/dev/null
done
cp "$TMP/big-lo-ns/env.json" "$TMP/big-lons-env.json" 2>/dev/null
cp "$TMP/big-lo-ns.jsonl" "$TMP/big-lons.jsonl" 2>/dev/null

share() { jq -r 'select(.strategy == "zerocopy_recv") | .zerocopy_recv.share_mapped' "$1" 2>/dev/null; }

s=$(share "$TMP/big-lons.jsonl")
if [ -n "$s" ] && awk -v s="$s" 'BEGIN { exit !(s > 0.90) }'; then
	pass "lo-ns 64 MiB with the MSG_ZEROCOPY sender: $s of the bytes mapped (> 0.90)"
else
	fail "lo-ns 64 MiB with the MSG_ZEROCOPY sender: share mapped is '$s', wanted > 0.90"
	diag "$(jq -c 'select(.strategy == "zerocopy_recv") | .zerocopy_recv' "$TMP/big-lons.jsonl" 2>&1)"
fi
# The kernel maps only whole pages, and never past the end of the ring: the
# number of getsockopt calls is at least one, and mapped bytes are pages.
r=$(jq -r 'select(.strategy == "zerocopy_recv") | .zerocopy_recv |
	if .maps >= 1 and .bytes_mapped % 4096 == 0 then "ok" else tostring end' "$TMP/big-lons.jsonl" 2>&1)
is "$r" ok "lo-ns 64 MiB: mapped bytes are whole pages, at least one getsockopt"
# The copy ledger agrees: what was mapped never went through a copy to user memory.
r=$(jq -r 'select(.strategy == "zerocopy_recv") |
	if .roles.receiver.bpf == null then "no ledger"
	elif .roles.receiver.bpf.skb_copy_bytes == .zerocopy_recv.bytes_copied then "ok"
	else "skb_copy_bytes \(.roles.receiver.bpf.skb_copy_bytes) vs copied \(.zerocopy_recv.bytes_copied)" end' \
	"$TMP/big-lons.jsonl" 2>&1)
if [ "$r" = "no ledger" ] && [ -z "${COPYLAB_REQUIRE_BPF:-}" ]; then
	skip "the BPF ledger is not loaded" "lo-ns 64 MiB: the ledger's socket copies equal the bytes copied"
else
	is "$r" ok "lo-ns 64 MiB: the ledger's socket copies (skb_copy_datagram_iovec) equal the bytes copied"
fi
s=$(share "$TMP/big-tcp.jsonl")
is "$s" 0 "tcp 64 MiB (MSS not whole pages, plain sender): nothing mapped, all of it copied, still byte-exact"
r=$(jq -r '.transport.mtu // empty' "$TMP/big-lons-env.json" 2>/dev/null)
is "$r" 61492 "env.json: the lo-ns namespace's lo has MTU 61492"
r=$(ip -j link show lo 2>/dev/null | jq -r '.[0].mtu')
ok "$([ "$r" != 61492 ]; echo $?)" "the host's lo keeps its own MTU ($r)"

# ---- the way out: SIGINT cleans up; after SIGKILL, copylab cleanup does ------

for sig in INT KILL; do
	"$COPYLAB" run --scenario store --strategy zerocopy_recv --transport lo-ns --size 256M --reps 50 \
		--warmup 0 --out "$TMP/sig-$sig" --workdir "$WORKDIR" >"$TMP/sig.out" 2>"$TMP/sig.err" &
	pid=$!
	for i in $(seq 50); do
		[ -n "$(ip netns list | grep -E "^copylab-$pid-")" ] && break
		sleep 0.1
	done
	sleep 0.5
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	if [ "$sig" = INT ]; then
		is "$rc" 1 "SIGINT mid-transfer: copylab exits 1"
	else
		left=$(ip netns list | awk '{print $1}' | grep -E "^copylab-$pid-" || true)
		ok "$([ -n "$left" ]; echo $?)" "SIGKILL mid-transfer leaves its namespace ($left)"
		cl cleanup
		ok "$RC" "copylab cleanup after the SIGKILL: exit 0" "$(cat "$ERR")"
	fi
	check_clean "SIG$sig mid-transfer" "$pid"
done

# ---- refusals ----------------------------------------------------------------

expect_usage_error "zerocopy_recv over unix: exit 2 with the reason" "zerocopy_recv.*unix.*AF_UNIX" \
	run --scenario store --strategy zerocopy_recv --transport unix --out "$TMP/nope1"
expect_usage_error "zerocopy_recv cannot run send: exit 2 with the reason" "zerocopy_recv cannot run send: .*sender" \
	run --scenario send --strategy zerocopy_recv --transport lo-ns --out "$TMP/nope2"
cl run --scenario store --strategy all --transport unix --size 1M --reps 1 --warmup 0 --out "$TMP/all-unix"
r=$(jq -s -r 'map(.strategy) | index("zerocopy_recv") // "absent"' "$TMP/all-unix/results.jsonl" 2>&1)
is "$r" absent "store --strategy all over unix leaves zerocopy_recv out"

done_testing
