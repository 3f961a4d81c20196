#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab stackd --netif xdp: lwIP's frames through an AF_XDP socket on a
# veth pair instead of the TAP.  The ready line names the mode used and
# every mode the kernel refused (errno); a program under the shim sends a
# file to a kernel-stack server in the namespace and fetches one back,
# byte-exact, over both data paths (ipc, shm), in native and in generic
# mode; a forced mode the kernel refuses is a skip with its errno and
# leaves nothing behind; SIGTERM removes the namespace and frees the XDP
# program, and after SIGKILL `copylab cleanup` does.
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_copylab

[ "$(id -u)" -eq 0 ] || skip_all "stackd needs root (a namespace, XDP, AF_XDP)"
export PATH=$PATH:/usr/sbin:/sbin
if [ ! -r /usr/include/lwip/lwipopts.h ] || [ ! -r /usr/include/xdp/xsk.h ] || ! "$COPYLAB" stackd --help 2>/dev/null | grep -q "xdp:native"; then
	[ -n "${COPYLAB_REQUIRE_XDP:-}${COPYLAB_REQUIRE_TAP:-}" ] &&
		bail_out "this copylab's stackd has no xdp backend, and lwIP and xdp are required here"
	skip_all "this copylab's stackd has no xdp backend (needs lwIP: liblwip-dev; AF_XDP: libxdp-dev)"
fi
for c in python3 jq bpftool; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed (scripts/deps.sh installs it)"
done
[ -r "$ROOT/libcopylab-stack.so" ] || bail_out "libcopylab-stack.so is not built (make)"

PEER=$ROOT/tests/userstack_peer.py
KADDR=10.214.0.1
W=$TMP/w
mkdir -p "$W"
SD_PIDS=()
PEER_PIDS=()
at_exit 'for p in "${SD_PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3; for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; "$COPYLAB" cleanup >/dev/null 2>&1'

# sd_start NETIF: stackd in the background; SPID, SNS (its namespace), SNAME; waits for "stackd xdp:".
sd_start() {
	SNAME=xt$$x$((RANDOM % 1000))
	SOUT=$W/sd.$SNAME.out
	"$COPYLAB" stackd --netns "$SNAME" --netif "$1" >"$SOUT" 2>&1 </dev/null &
	SPID=$!
	SD_PIDS+=("$SPID")
	SNS=copylab-$SPID-$SNAME
	for _ in $(seq 100); do
		grep -q '^stackd xdp: ' "$SOUT" 2>/dev/null && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^stackd xdp: ' "$SOUT"
}
facts() { sed -n 's/^stackd xdp: //p' "$SOUT" | jq -r "$@"; }

serve() { userstack_peer "$SNS" 90 "$@"; }

# exact NAME FILE GOT: GOT must be byte for byte FILE.
exact() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1"; diag "$(cmp "$2" "$3" 2>&1 | head -2)" "sizes: $(stat -c %s "$2" "$3" 2>/dev/null | tr '\n' ' ')"; diag_file "$W/client.out" 5; diag_file "$SOUT" 5; fi
}

# transfer SIZE LABEL: up (shim -> kernel) and down (kernel -> shim) on each data path, byte-exact.
transfer() {
	local size=$1 label=$2 path
	head -c "$size" /dev/urandom >"$W/in.bin"
	for path in ipc shm; do
		rm -f "$W/sink.bin" "$W/got.bin"
		if serve serve-sink "$W/port" "$W/sink.bin" "$KADDR"; then
			timeout -k 5 60 "$COPYLAB" stack --netns "$SNAME" --path "$path" -- \
				python3 "$PEER" send "$KADDR" "$PORT" "$W/in.bin" >"$W/client.out" 2>&1 ||
				kill "$SP" 2>/dev/null	# a client that failed never connects: the peer is not waited for
			wait "$SP"
			exact "$label, $path: $size bytes shim -> kernel, byte-exact" "$W/in.bin" "$W/sink.bin"
		else
			fail "$label, $path: $size bytes shim -> kernel (the peer did not start)"
		fi
		if serve serve-source "$W/port" "$W/in.bin" "$KADDR"; then
			timeout -k 5 60 "$COPYLAB" stack --netns "$SNAME" --path "$path" -- \
				python3 "$PEER" recv "$KADDR" "$PORT" "$W/got.bin" >"$W/client.out" 2>&1 ||
				kill "$SP" 2>/dev/null
			wait "$SP"
			exact "$label, $path: $size bytes kernel -> shim, byte-exact" "$W/in.bin" "$W/got.bin"
		else
			fail "$label, $path: $size bytes kernel -> shim (the peer did not start)"
		fi
	done
}

prog_gone() {
	for _ in $(seq 30); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

expect_usage_error "stackd --netif xdp:bogus: exit 2" "unknown; valid: tap, xdp" stackd --netns "xb$$" --netif xdp:bogus
expect_usage_error "stackd --netif xdpx: exit 2" "unknown; valid: tap, xdp" stackd --netns "xb$$" --netif xdpx
expect_usage_error "stackd --netif xdp:native:generic (two attach words): exit 2" "unknown; valid: tap, xdp" stackd --netns "xb$$" --netif xdp:native:generic
expect_usage_error "stackd --netif xdp::copy: exit 2" "unknown; valid: tap, xdp" stackd --netns "xb$$" --netif xdp::copy

for nf in xdp xdp:generic; do
	if ! sd_start "$nf"; then
		fail "stackd --netif $nf: no ready line"
		diag_file "$SOUT"
		continue
	fi
	want=native
	[ "$nf" = xdp:generic ] && want=generic
	is "$(facts '"\(.attach)/\(.bind)"')" "$want/copy" "stackd --netif $nf: the ready line says $want attach, copy bind"
	grep -q "^stackd ready: .*netif xdp\$" "$SOUT"
	ok $? "stackd --netif $nf: the ready line names netif xdp"
	addr=$(ip -n "$SNS" -o -4 addr show dev copylab-tap 2>/dev/null | awk '{print $4}')
	is "$addr" "$KADDR/24" "stackd --netif $nf: the veth's kernel end is copylab-tap, $KADDR/24"
	prog=$(facts .prog_id)
	ipid=$(ip -n "$SNS" -o link show dev copylab-xsk | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	is "$ipid" "$prog" "stackd --netif $nf: ip link shows its program ($prog) on copylab-xsk"
	if [ "$nf" = xdp ]; then
		is "$(facts '[.refused[] | "\(.attach)/\(.bind) \(.step) \(.errname)"] | join(",")')" \
			"native/zerocopy bind EOPNOTSUPP" "stackd --netif xdp: the ready line names the refused zero-copy bind with its errno"
		for size in 0 1 65537 1048577; do transfer "$size" "xdp native"; done
	else
		for size in 4097 1048577; do transfer "$size" "xdp generic"; done
	fi
	kill -TERM "$SPID"
	wait "$SPID"
	rc=$?
	is "$rc" 0 "stackd --netif $nf: SIGTERM, exit 0"
	is "$(ip netns list | awk '{print $1}' | grep -xc "$SNS")" 0 "stackd --netif $nf: its namespace (veth and all) is gone"
	ok "$(prog_gone "$prog"; echo $?)" "stackd --netif $nf: program $prog freed"
done

# A forced mode veth does not have: a clear error with the errno, nothing left.
cl stackd --netns "xz$$" --netif xdp:zerocopy
if [ "$RC" -eq 0 ]; then
	fail "stackd --netif xdp:zerocopy started on a veth (veth has no AF_XDP zero-copy here)"
elif grep -q 'refused every mode.*zerocopy: bind EOPNOTSUPP' "$ERR"; then
	skip "refused by the kernel: $(grep -o 'native/zerocopy: bind [A-Z]*' "$ERR" | head -1)" "stackd --netif xdp:zerocopy"
	is "$RC" 1 "stackd --netif xdp:zerocopy refused: exit 1 (a failed run)"
	is "$(ip netns list | awk '{print $1}' | grep -c -- "-xz$$\$")" 0 "after the refused start: no namespace left"
else
	fail "stackd --netif xdp:zerocopy: exit $RC without the kernel's refusal"
	cl_desc
fi

# SIGKILL: nothing detaches; copylab cleanup removes the namespace and its program.
if sd_start xdp; then
	prog=$(facts .prog_id)
	kill -KILL "$SPID"
	wait "$SPID" 2>/dev/null
	cl cleanup
	ok "$(grep -q "removed namespace $SNS (with .*xdp program xsk_def_prog id $prog, native" "$OUT"; echo $?)" \
		"after SIGKILL: copylab cleanup removes the namespace and names the XDP program" "$(cat "$OUT" "$ERR")"
	ok "$(prog_gone "$prog"; echo $?)" "after cleanup: program $prog freed"
else
	fail "stackd --netif xdp (for SIGKILL): no ready line"
	diag_file "$SOUT"
fi

done_testing
