#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The AF_XDP frame port (harness/net/xsk_port.c, through `copylab xdp`):
# in each mode, UDP datagrams from a kernel socket arrive at the port
# byte-exact and come back byte-exact, and datagrams the port builds reach
# the kernel socket byte-exact; a mode the kernel refuses is a skip with
# the errno; a queue other than 0 works when the veth has it; an open that
# fails half-way (attached, then the bind refused) leaves nothing attached,
# checked with `ip link` and `bpftool net` on a link of the test's own;
# a port held open answers socat's UDP from the kernel side byte-exact, and
# after SIGTERM, or SIGKILL + `copylab cleanup`, no namespace, link or XDP
# program is left.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

[ "$(id -u)" -eq 0 ] || skip_all "AF_XDP needs root (namespaces, XDP programs, AF_XDP sockets)"
export PATH=$PATH:/usr/sbin:/sbin
if ! "$COPYLAB" xdp --help >/dev/null 2>&1; then
	[ -n "${COPYLAB_REQUIRE_XDP:-}" ] && bail_out "this copylab has no xdp command, and xdp is required here"
	skip_all "this copylab has no xdp command"
fi
CL_TIMEOUT=120

# xdp ARGS...: copylab xdp --json; JSON on $OUT.
xdp() { cl xdp --json "$@"; }

# mode_field FILTER: jq on the last JSON result.
jqo() { jq -r "$@" "$OUT" 2>/dev/null; }

# ---- every mode, forced, then auto ----------------------------------------------

xdp --all
if [ "$RC" -ne 0 ] && grep -q "without libxdp" "$ERR"; then
	[ -n "${COPYLAB_REQUIRE_XDP:-}" ] && bail_out "copylab was built without libxdp, and xdp is required here"
	skip_all "copylab was built without libxdp (libxdp-dev)"
fi
ok "$RC" "copylab xdp --all: exit 0 (each forced mode worked or was refused; auto worked)" "$(cl_desc; cat "$OUT")"
jq -e . "$OUT" >/dev/null 2>&1 || bail_out "copylab xdp --json printed no JSON: $(head -c 300 "$OUT")"
diag "modes on this machine (copylab xdp --all):"
diag "$(jqo '.modes[] | "  \(.request.attach)/\(.request.bind): \(.status)" +
	(if .status == "ok" then " (\(.facts.attach) attach, \(.facts.bind) bind)" else ": " + ([.facts.refused[] | "\(.step) \(.errname) \(.kernel_message)"] | join("; ")) end)')"

# check_exchange LABEL JQ-SELECT: a mode that worked moved every datagram byte-exact both ways.
check_exchange() {
	local label=$1 sel=$2 problems
	problems=$(jq -r "$sel"' |
		[ (if .exchange.to_port_datagrams != 4 then "to port: \(.exchange.to_port_datagrams) of 4" else empty end),
		  (if .exchange.to_port_bad != 0 then "to port: \(.exchange.to_port_bad) changed" else empty end),
		  (if .exchange.echoes_back != 4 then "echoed back: \(.exchange.echoes_back) of 4" else empty end),
		  (if .exchange.echoes_bad != 0 then "echoes changed: \(.exchange.echoes_bad)" else empty end),
		  (if .exchange.from_port_datagrams != 4 then "from port: \(.exchange.from_port_datagrams) of 4" else empty end),
		  (if .exchange.from_port_bad != 0 then "from port changed: \(.exchange.from_port_bad)" else empty end),
		  (if .exchange.to_port_bytes != 2491 or .exchange.from_port_bytes != 2491 then "bytes: \(.exchange.to_port_bytes) in, \(.exchange.from_port_bytes) out, wanted 2491" else empty end),
		  (if .attached_while_open != .facts.prog_id then "ip link showed program \(.attached_while_open) while open, the port says \(.facts.prog_id)" else empty end),
		  (if .ip_link_mode != .facts.attach then "ip link says \(.ip_link_mode), the port says \(.facts.attach)" else empty end),
		  (if .attached_after != 0 then "program \(.attached_after) still attached after close" else empty end)
		] | join("; ")' "$OUT" 2>&1)
	ok "$([ -z "$problems" ]; echo $?)" "$label: 1, 18, 1000 and 1472-byte datagrams kernel -> port -> kernel and port -> kernel, byte-exact; detached on close" "$problems"
}

for m in native/zerocopy native/copy generic/zerocopy generic/copy auto/auto; do
	a=${m%/*} b=${m#*/}
	sel=".modes[] | select(.request.attach == \"$a\" and .request.bind == \"$b\")"
	st=$(jqo "$sel | .status")
	case $st in
	ok)
		check_exchange "$m" "$sel" ;;
	refused)
		why=$(jqo "$sel | [.facts.refused[] | \"\(.step) \(.errname) (\(.error))\" + (if .kernel_message != \"\" then \": \" + .kernel_message else \"\" end)] | join(\"; \")")
		left=$(jqo "$sel | .attached_after")
		# Copy mode is what veth has (NOTES): refusing it here is a failure, not a skip.
		if [ "$b" = copy ] && [ "$a" = native ] && [ -n "${COPYLAB_REQUIRE_XDP:-}" ]; then
			fail "$m: refused ($why), and native copy mode is required here"
		elif [ "$left" != 0 ]; then
			fail "$m: refused, and program $left was left attached"
		else
			skip "refused by the kernel: $why" "$m"
		fi ;;
	*)
		fail "$m: $st: $(jqo "$sel | .error")" ;;
	esac
done
is "$(jqo '.modes[] | select(.request.attach == "auto") | "\(.facts.attach)/\(.facts.bind)"')" \
	"$(jqo 'first(.modes[] | select(.status == "ok" and .request.attach != "auto") | "\(.facts.attach)/\(.facts.bind)")')" \
	"auto takes the first mode that works, in the order native/zerocopy, native/copy, generic/zerocopy, generic/copy"
is "$(jqo '[.modes[] | select(.request.attach == "auto") | .facts.refused[] | "\(.attach)/\(.bind) \(.errname)"] | join(",")')" \
	"$(jqo '[.modes[] | select(.request.attach != "auto")] | ((map(.status == "ok") | to_entries | map(select(.value)) | .[0].key) // length) as $i |
		.[0:$i] | map("\(.request.attach)/\(.request.bind) \(.facts.refused[0].errname)") | join(",")')" \
	"auto reports, with errno, each mode it passed over on the way"
ok "$(jqo '[.modes[] | select(.status == "ok") | .exchange.udp_in_with_partial_checksum] | all(. == 0)' | grep -qx true; echo $?)" \
	"with TX checksum offload off at the kernel's end, every UDP frame reaches the port with a full checksum" \
	"$(jqo '.modes[] | .exchange.udp_in_with_partial_checksum')"

# ---- queues, MTU, and the peer's queues ------------------------------------------

xdp --queue 1 --queues 2
st=$(jqo '.modes[0].status')
if [ "$st" = ok ]; then
	check_exchange "queue 1 of 2 (the kernel's end steered to tx queue 1 by XPS)" '.modes[0]'
else
	fail "queue 1 of a two-queue veth: $st: $(jqo '.modes[0].error')"
fi
xdp --queue 2 --queues 2
ok "$([ "$RC" -eq 1 ] && jqo '.modes[0].error' | grep -q 'queue 2 does not exist on xsk0: it has 2 rx queues'; echo $?)" \
	"a queue the veth lacks: exit 1, the error says how many queues it has" "$(jqo '.modes[0].error')"

xdp --mtu 9000 --attach native
ok "$([ "$RC" -eq 1 ] && [ "$(jqo '.modes[0].facts.refused[0].errname')" = ERANGE ] && [ "$(jqo '.modes[0].attached_after')" = 0 ]; echo $?)" \
	"MTU 9000: native XDP on veth refused with ERANGE, nothing attached" "$(jqo '.modes[0].error')"
xdp --mtu 9000
ok "$([ "$RC" -eq 0 ] && [ "$(jqo '.modes[0].facts.attach')" = generic ]; echo $?)" \
	"MTU 9000, auto: falls back to generic XDP and works" "$(cl_desc; jqo '.modes[0].error')"
xdp --kern-queues 2
ok "$([ "$RC" -eq 0 ] && [ "$(jqo '.modes[0].facts.attach')" = generic ] &&
	[ "$(jqo '.modes[0].facts.refused[0] | "\(.attach) \(.step) \(.errname)"')" = "native attach ENOSPC" ]; echo $?)" \
	"peer with more tx queues than the port's rx queues: native refused (ENOSPC), auto falls back to generic" \
	"$(jqo '.modes[0].facts.refused')"

# ---- a link of the test's own: failed opens leave nothing attached ---------------

NS=copylab-test-$$-xdp
at_exit "ip netns del $NS"
ip netns add "$NS" && ip -n "$NS" link add xa type veth peer name xb && ip -n "$NS" link set xa up && ip -n "$NS" link set xb up ||
	bail_out "cannot make the test's own veth pair in $NS"
# attached_on NS DEV: XDP program ids on DEV by ip link and by bpftool net, "ip=... bpftool=...".
attached_on() {
	local ipid bt
	ipid=$(ip -n "$1" -o link show dev "$2" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	bt=$(ip netns exec "$1" bpftool -j net show dev "$2" 2>/dev/null | jq -r '[.[0].xdp[]?.id] | join(",")' 2>/dev/null)
	echo "ip=${ipid:-none} bpftool=${bt:-none}"
}
is "$(attached_on "$NS" xa)" "ip=none bpftool=none" "the test's veth starts with no XDP program"
cl xdp --netns "$NS" --dev xa --attach native --bind zerocopy
ok "$([ "$RC" -eq 1 ] && grep -q 'bind EOPNOTSUPP' "$OUT"; echo $?)" \
	"forced native/zerocopy on veth: exit 1 naming EOPNOTSUPP (attached, then the bind refused)" "$(cl_desc; cat "$OUT")"
is "$(attached_on "$NS" xa)" "ip=none bpftool=none" "after that half-way failure: nothing attached (ip link, bpftool net)"
cl xdp --netns "$NS" --dev xa --queue 3
ok "$([ "$RC" -eq 1 ] && grep -q 'queue 3 does not exist on xa' "$OUT"; echo $?)" "queue 3 on a one-queue veth: a clear error" "$(cat "$OUT")"
is "$(attached_on "$NS" xa)" "ip=none bpftool=none" "after it: nothing attached"
cl xdp --netns "$NS" --dev nosuch0
ok "$([ "$RC" -eq 1 ] && grep -q "no interface nosuch0 in namespace $NS" "$OUT"; echo $?)" "no such interface: named in the error" "$(cat "$OUT")"
# Someone else's program: libxdp's own object, attached by ip itself.
obj=$(dpkg -L libxdp1 2>/dev/null | grep '/xsk_def_xdp_prog\.o$' | head -n 1)
[ -n "$obj" ] && ip -n "$NS" link set xa xdpgeneric obj "$obj" sec xdp 2>/dev/null
other=$(ip -n "$NS" -o link show dev xa | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
if [ -n "$other" ]; then
	cl xdp --netns "$NS" --dev xa --attach generic
	ok "$([ "$RC" -eq 1 ] && grep -q 'attach EBUSY' "$OUT"; echo $?)" \
		"someone else's XDP program on the link: refused (EBUSY), never replaced" "$(cat "$OUT")"
	is "$(attached_on "$NS" xa)" "ip=$other bpftool=$other" "and theirs is still the one attached"
	ip -n "$NS" link set xa xdpgeneric off
else
	skip "ip could not attach a program of its own to test with" "someone else's XDP program is never replaced"
	skip "ip could not attach a program of its own to test with" "theirs stays attached"
fi

# ---- held open: socat from the kernel side, then SIGTERM ----------------------------

# hold_start ARGS: copylab xdp --hold in the background; HPID, and the ready line's fields.
hold_start() {
	HOUT=$TMP/hold.out
	"$COPYLAB" xdp --hold "$@" >"$HOUT" 2>"$TMP/hold.err" </dev/null &
	HPID=$!
	at_exit "kill -KILL $HPID"
	for i in $(seq 100); do
		grep -q '^ready ' "$HOUT" 2>/dev/null && break
		kill -0 "$HPID" 2>/dev/null || break
		sleep 0.1
	done
	HNS=$(sed -n 's/^ready .*netns=\([^ ]*\).*/\1/p' "$HOUT")
	HIP=$(sed -n 's/^ready .*port_ip=\([^ ]*\).*/\1/p' "$HOUT")
	HPROG=$(sed -n 's/^ready .*prog_id=\([0-9]*\).*/\1/p' "$HOUT")
	[ -n "$HNS" ] && at_exit "ip netns del $HNS"
	[ -n "$HNS" ]
}

# prog_gone ID: the kernel freed program ID (it is freed after an RCU grace period).
prog_gone() {
	for i in $(seq 30); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

if hold_start; then
	pass "copylab xdp --hold: ready ($(head -n 1 "$HOUT"))"
	is "$(attached_on "$HNS" xsk0)" "ip=$HPROG bpftool=$HPROG" "while held: its program is the one on xsk0 (ip link, bpftool net)"
	for n in 1 1472; do
		head -c "$n" /dev/urandom >"$TMP/dgram.$n"
		timeout 10 ip netns exec "$HNS" socat -t 2 -T 3 - UDP:"$HIP":7 <"$TMP/dgram.$n" >"$TMP/echo.$n" 2>"$TMP/socat.err"
		ok "$(cmp -s "$TMP/dgram.$n" "$TMP/echo.$n"; echo $?)" \
			"a $n-byte UDP datagram from socat in the namespace comes back from the port byte-exact" \
			"$(wc -c <"$TMP/echo.$n") bytes came back; $(head -c 200 "$TMP/socat.err")"
	done
	kill -TERM "$HPID"
	wait "$HPID"
	rc=$?
	ok "$([ "$rc" -eq 0 ] && grep -q '^stopped: [1-9][0-9]* ARP replies, 0 ping replies, [1-9][0-9]* UDP echoes' "$HOUT"; echo $?)" \
		"SIGTERM: exit 0, and it says what it answered" "exit $rc; $(cat "$HOUT" "$TMP/hold.err")"
	is "$(ip netns list | awk '{print $1}' | grep -xc "$HNS")" "0" "after SIGTERM: its namespace (and the veth) is gone"
	ok "$(prog_gone "$HPROG"; echo $?)" "after SIGTERM: program $HPROG no longer exists (bpftool prog show id)"
else
	fail "copylab xdp --hold never said ready" "$(cat "$HOUT" "$TMP/hold.err")"
fi

# ---- SIGKILL, then copylab cleanup ---------------------------------------------------

if hold_start --attach generic; then
	kill -KILL "$HPID"
	wait "$HPID" 2>/dev/null
	is "$(attached_on "$HNS" xsk0)" "ip=$HPROG bpftool=$HPROG" "after SIGKILL: the namespace is left with its program attached (nothing ran to detach it)"
	cl cleanup
	ok "$([ "$RC" -eq 0 ] && grep -q "removed namespace $HNS (with .*xdp program xsk_def_prog id $HPROG, generic)" "$OUT"; echo $?)" \
		"copylab cleanup removes it and names the XDP program it had" "$(cat "$OUT" "$ERR")"
	is "$(ip netns list | awk '{print $1}' | grep -xc "$HNS")" "0" "after cleanup: no namespace of the killed port"
	ok "$(prog_gone "$HPROG"; echo $?)" "after cleanup: program $HPROG no longer exists"
else
	fail "copylab xdp --hold --attach generic never said ready" "$(cat "$HOUT" "$TMP/hold.err")"
fi

# ---- usage -----------------------------------------------------------------------------

expect_usage_error "--attach bogus: exit 2" "--attach 'bogus': use auto, native or generic" xdp --attach bogus
expect_usage_error "--bind bogus: exit 2" "--bind 'bogus': use auto, zerocopy or copy" xdp --bind bogus
expect_usage_error "--all with --hold: exit 2" "do not go together" xdp --all --hold
expect_usage_error "--netns without --dev: exit 2" "go together" xdp --netns x
expect_usage_error "--queue x: exit 2" "--queue 'x'" xdp --queue x

done_testing
