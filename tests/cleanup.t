#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `copylab cleanup`: a veth run killed with SIGKILL mid-transfer leaves its
# namespaces; cleanup removes them and says so, and afterwards nothing of
# that run exists.  Stale copylab- links, tbf qdiscs and nft tables are
# removed too; anything without the prefix, or whose owner still runs (a
# link whose peer is in a live run's namespace: another test's stand-in
# host), is left alone; --dry-run removes nothing.
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_copylab

[ "$(id -u)" -eq 0 ] || skip_all "cleanup of namespaces needs root"
export PATH=$PATH:/usr/sbin:/sbin
"$COPYLAB" --help 2>/dev/null | grep -q '^  cleanup ' ||
	skip_all "this copylab has no cleanup command yet (main.c patch not applied)"

DEAD=$(( $(cat /proc/sys/kernel/pid_max) + 7 ))	# a pid no process can have
OTHER=cltest-$$			# no prefix: must survive
LIVE=copylab-test-$$-live	# our own (live) pid: must be kept
LNK=copylab-c$(($$ % 1000000))
LIVELNK=copylab-l$(($$ % 1000000))	# its peer in $LIVE: in use, must be kept
HAVE_NFT=0
command -v nft >/dev/null 2>&1 && HAVE_NFT=1

teardown() {
	ip netns del "$OTHER" 2>/dev/null
	ip netns del "$LIVE" 2>/dev/null
	ip link del "$LNK" 2>/dev/null
	ip link del "$LIVELNK" 2>/dev/null
	ip link del "cltest$(($$ % 100000))" 2>/dev/null
	[ "$HAVE_NFT" -eq 1 ] && nft delete table inet "cltest_$$" 2>/dev/null
	[ "$HAVE_NFT" -eq 1 ] && nft delete table inet "copylab-$DEAD-t" 2>/dev/null
	[ -n "${pid:-}" ] && ip netns list | awk '{print $1}' | grep -E "^copylab-$pid-" |
		while read -r n; do ip netns del "$n"; done
	return 0
}
at_exit teardown

# ---- a run killed with SIGKILL mid-transfer -------------------------------------

"$COPYLAB" run --scenario relay --strategy readwrite --transport veth --size 256M --reps 50 --warmup 0 \
	--out "$TMP/killed" --workdir "$TMP" >/dev/null 2>"$TMP/killed.err" &
pid=$!
mine=""
for i in $(seq 100); do
	mine=$(ip netns list | awk '{print $1}' | grep -E "^copylab-$pid-" || true)
	[ -n "$mine" ] && break
	sleep 0.1
done
# Mid-transfer: the roles are running (payload generation takes a while).
for i in $(seq 200); do
	[ "$(pgrep -P "$pid" | wc -l)" -ge 3 ] && break
	sleep 0.05
done
sleep 0.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null
sleep 0.2
left=$(ip netns list | awk '{print $1}' | grep -E "^copylab-$pid-" | sort | tr '\n' ' ')
ok "$([ -n "$left" ]; echo $?)" "SIGKILL mid-transfer leaves the namespaces (nothing runs to remove them)" \
	"namespaces seen while it ran: ${mine:-none}"

# ---- stale things of every kind, and things that must stay ------------------------

ip netns add "$OTHER"
ip netns add "$LIVE"
ip link add "$LNK" type veth peer name "cltest$(($$ % 100000))"
ip link add "$LIVELNK" type veth peer name live0 netns "$LIVE"
tc qdisc add dev "$LNK" root tbf rate 100mbit burst 64k latency 10ms
if [ "$HAVE_NFT" -eq 1 ]; then
	nft add table inet "copylab-$DEAD-t"
	nft add table inet "cltest_$$"
fi

cl cleanup --dry-run
ok "$([ "$RC" -eq 0 ] && grep -q "would remove namespace copylab-$pid-" "$OUT"; echo $?)" \
	"--dry-run: names what it would remove" "$(cat "$OUT" "$ERR")"
is "$(ip netns list | awk '{print $1}' | grep -cE "^copylab-$pid-")" "2" "--dry-run: removes nothing"

cl cleanup
ok "$RC" "cleanup: exit 0" "$(cat "$OUT" "$ERR")"
for n in $left; do
	ok "$(grep -q "removed namespace $n" "$OUT"; echo $?)" "cleanup says it removed $n" "$(cat "$OUT")"
done
ok "$(grep -q "removed link $LNK.*tbf qdisc" "$OUT"; echo $?)" "cleanup removes a stale copylab- link and says it had a tbf qdisc" \
	"$(cat "$OUT")"
ok "$(grep -q "kept namespace $LIVE" "$OUT"; echo $?)" "cleanup keeps a namespace whose owner is alive, and says so" \
	"$(cat "$OUT")"
ok "$(grep -q "kept link $LIVELNK: its peer is in namespace $LIVE, whose owner (pid $$) is still running" "$OUT" &&
	ip link show "$LIVELNK" >/dev/null 2>&1; echo $?)" \
	"cleanup keeps a link whose peer is in a live owner's namespace (a running test's), and says so" "$(cat "$OUT")"
if [ "$HAVE_NFT" -eq 1 ]; then
	ok "$(grep -q "removed nftables table inet copylab-$DEAD-t" "$OUT"; echo $?)" "cleanup removes a stale copylab- nft table" \
		"$(cat "$OUT")"
	ok "$(nft list tables | grep -q "cltest_$$"; echo $?)" "an nft table without the prefix is left alone"
else
	skip "nft is not installed" "nft tables"
	skip "nft is not installed" "nft tables without the prefix"
fi

is "$(ip netns list | awk '{print $1}' | grep -E "^copylab-$pid-")" "" "afterwards: no namespace of the killed run"
is "$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(copylab-[0-9a-f]{6}[ab]|$LNK)$")" "" \
	"afterwards: no copylab- veth link here"
ok "$(ip netns list | awk '{print $1}' | grep -qx "$OTHER"; echo $?)" "a namespace without the prefix is left alone"
ok "$(ip netns list | awk '{print $1}' | grep -qx "$LIVE"; echo $?)" "the live owner's namespace is still there"

ip netns del "$LIVE"
[ "$HAVE_NFT" -eq 1 ] && nft delete table inet "cltest_$$"
# Deleting a namespace is asynchronous: its veth's peer here lingers a
# moment, and a cleanup that saw it would remove it and say so.
for i in $(seq 50); do
	ip link show "$LIVELNK" >/dev/null 2>&1 || break
	sleep 0.1
done
# Any copylab's namespaces and links, here and now: another run (a second
# clone's suite) may start or end while cleanup looks.
copylab_things() {
	ip netns list | awk '{print $1}' | grep '^copylab-'
	ip -o link show | awk -F': ' '{print $2}' | grep '^copylab-'
}
before=$(copylab_things)
cl cleanup
after=$(copylab_things)
ok "$([ "$RC" -eq 0 ] && ! grep -q "copylab-$pid-\|$LNK\|$LIVELNK\|copylab-$DEAD" "$OUT"; echo $?)" \
	"a second cleanup finds nothing of ours" "$(cat "$OUT")"
if [ -z "$before" ] && [ -z "$after" ]; then
	ok "$(grep -qx "nothing to clean" "$OUT"; echo $?)" "with nothing left: \"nothing to clean\"" "$(cat "$OUT")"
else
	skip "another copylab's namespaces exist on this machine" "\"nothing to clean\""
fi

# ---- one liveness rule: a name without a pid proves nothing; a socket is alive while listened on --

NOPID=copylab-nopid-$$
SOCKDIR=$(sed -n 's/^#define US_SOCKET_DIR "\(.*\)"/\1/p' "$ROOT/userstack/proto.h")
mkdir -p "$SOCKDIR"
LIVESOCK=$SOCKDIR/copylab-named-$$.sock DEADSOCK=$SOCKDIR/copylab-gone-$$.sock
ip netns add "$NOPID"
at_exit "ip netns del $NOPID 2>/dev/null; rm -f $LIVESOCK $DEADSOCK"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4); time.sleep(60)' "$LIVESOCK" &
listener=$!
at_exit "kill $listener 2>/dev/null"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$DEADSOCK"
for ((i = 0; i < 100; i++)); do [ -S "$LIVESOCK" ] && break; sleep 0.05; done
cl cleanup
ok "$(grep -q "kept namespace $NOPID: its name carries no owner pid" "$OUT" && ip netns list | grep -q "^$NOPID"; echo $?)" \
	"a namespace whose name carries no pid is kept, and cleanup says why" "$(cat "$OUT")"
ok "$(grep -q "kept stackd socket $LIVESOCK: a stackd still listens" "$OUT" && [ -S "$LIVESOCK" ]; echo $?)" \
	"a stackd socket without a pid in its name, still listened on, is kept" "$(cat "$OUT")"
ok "$(grep -q "removed stackd socket $DEADSOCK" "$OUT" && [ ! -e "$DEADSOCK" ]; echo $?)" \
	"a stackd socket nobody listens on is removed" "$(cat "$OUT")"
kill "$listener" 2>/dev/null
ip netns del "$NOPID"

expect_usage_error "cleanup --bogus: exit 2" "unknown option" cleanup --bogus

done_testing
