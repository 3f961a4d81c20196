#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Strategy nat and transport routed: the relay with no relay process.
# Every relay strategy (nat among them) over the routed path, byte-exact at
# 0, 1, 4097, 1 MiB + 1 and 64 MiB; nat's records say the relay role is
# absent and carry no relay figures; nat is refused with the reason over
# every other transport and for an ordinary user; its DNAT table exists in
# the router namespace while a run is in progress and nothing is left
# after it, after SIGTERM, and (with `copylab cleanup`) after SIGKILL.
# timeout: 900
. "$(dirname "$0")/lib.sh"
require_copylab
load_list
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps.sh installs it)"

[ "$(id -u)" -eq 0 ] || skip_all "nat and the routed transport need root (network namespaces, nftables)"
export PATH=$PATH:/usr/sbin:/sbin
if ! command -v nft >/dev/null 2>&1; then
	[ -n "${COPYLAB_REQUIRE_NAT:-}" ] && bail_out "nft (package nftables) is missing, and nat is required here"
	skip_all "nft is not installed (package nftables; scripts/deps.sh installs it)"
fi

SIZES=${NAT_SIZES:-"0 1 4097 1048577 67108864"}
WORKDIR=$TMP/work
mkdir -p "$WORKDIR"

# Our runs' namespaces: copylab-<pid>-<id>-{a,r,b}.
ns_of() { ip netns list | awk '{print $1}' | grep -E "^copylab-$1-[0-9a-f]{6}-[arb]$" | sort; }
kill_ours() { [ -n "${BGPID:-}" ] && kill -KILL "$BGPID" 2>/dev/null; ns_of "${BGPID:-none}" | while read -r n; do ip netns del "$n"; done; return 0; }
at_exit kill_ours
# Router namespaces other runs on this machine left (a SIGKILLed bench, say):
# not this test's to judge.
ROUTERS_BEFORE=$(ns_of '[0-9]+' | grep -E -- '-r$' || true)

# ---- what list says ---------------------------------------------------------------

is "$(jq -r '.strategies[] | select(.name == "nat") | [.transports | to_entries[] | select(.value.ok) | .key] | join(",")' "$LIST_JSON")" \
	"routed" "list --json: nat runs over routed only"
is "$(jq -r '.transports | index("routed") != null' "$LIST_JSON")" "true" "list --json: transport routed exists"
is "$(jq -r '.strategies[] | select(.name == "nat") | .role_replaced_by | type' "$LIST_JSON")" "string" \
	"list --json: nat says what replaces its relay process"
cl list
ok "$(grep -q '^  nat over tcp, veth, nic[a-z, -]* (it runs over routed only): DNAT' "$OUT"; echo $?)" \
	"list: says why nat cannot run over tcp, veth and nic" "$(grep nat "$OUT")"

# ---- refusals ---------------------------------------------------------------------

expect_usage_error "nat over tcp: exit 2 naming the routed transport" "nat cannot run here \(tcp\):.*--transport routed" \
	run --scenario relay --strategy nat --size 1M --out "$TMP/refused-tcp"
expect_usage_error "nat over veth: exit 2" "nat cannot run here \(veth\)" \
	run --scenario relay --strategy nat --transport veth --size 1M --out "$TMP/refused-veth"
expect_usage_error "nat over unix: exit 2" "nat cannot run here \(unix\): AF_UNIX" \
	run --scenario relay --strategy nat --transport unix --size 1M --out "$TMP/refused-unix"
expect_usage_error "nat echo: exit 2 with the reason" "nat cannot run echo: DNAT" \
	run --scenario echo --strategy nat --transport routed --size 1M --out "$TMP/refused-echo"
ok "$([ ! -e "$TMP/refused-tcp" ] && [ ! -e "$TMP/refused-veth" ]; echo $?)" "a refusal writes no results directory"
if command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
	U=$(mktemp -d /tmp/copylab-nat-nobody.XXXXXX) || bail_out "mktemp failed"
	at_exit "rm -rf '$U'"
	cp "$COPYLAB" "$U/copylab" && chmod 755 "$U" "$U/copylab"
	RC=0
	(cd / && timeout 30 runuser -u nobody -- "$U/copylab" run --scenario relay --strategy nat \
		--transport routed --size 1M >"$TMP/nobody.out" 2>"$TMP/nobody.err" </dev/null) || RC=$?
	ok "$([ "$RC" -eq 2 ] && grep -q "needs root (CAP_NET_ADMIN)" "$TMP/nobody.err"; echo $?)" \
		"as nobody: nat is refused (exit 2) naming the privilege" "exit $RC" "$(diag_file "$TMP/nobody.err" 3)"
else
	skip "runuser or user nobody missing" "as nobody: nat is refused"
fi

# ---- byte-exact: every relay strategy over routed ---------------------------------

want=$(supported relay routed | sort | tr '\n' ' ')
want=${want% }
ok "$([[ " $want " == *" nat "* && " $want " == *" readwrite "* ]]; echo $?)" \
	"relay over routed: nat and the process relays are all listed ($want)"
for size in $SIZES; do
	out=$TMP/relay-$size
	cl run --scenario relay --strategy all --transport routed --size "$size" --reps 1 --warmup 0 \
		--out "$out" --workdir "$WORKDIR"
	if [ "$RC" -ne 0 ] || [ ! -s "$out/results.jsonl" ]; then
		fail "relay routed $size: exit 0 with records"
		cl_desc 15
		continue
	fi
	pass "relay routed $size: exit 0 with records"
	is "$(jq -s -r 'map(.strategy) | sort | join(" ")' "$out/results.jsonl")" "$want" \
		"relay routed $size: --strategy all ran every relay strategy"
	bad=$(jq -r --argjson n "$size" 'select(.verified != true or .bytes != $n or .transport != "routed"
		or .roles.sink.bytes != $n or .roles.source.bytes != $n)
		| "\(.strategy): verified=\(.verified) sink=\(.roles.sink.bytes) source=\(.roles.source.bytes)"' \
		"$out/results.jsonl")
	is "$bad" "" "relay routed $size: every strategy verified, exactly $size bytes from source to sink"
	is "$(jq -r 'select(.strategy == "nat") | "\(.roles | keys | join(",")) \(.role_absent | type) \([.roles[].under_test] | any)"' \
		"$out/results.jsonl")" "sink,source string false" \
		"relay routed $size: nat's record has no relay role, says it is absent, and no role claims to be under test"
	is "$(jq -r 'select(.strategy != "nat") | select(.role_absent != null or .roles.relay.under_test != true) | .strategy' \
		"$out/results.jsonl")" "" "relay routed $size: the process relays have their relay role and no role_absent"
	digests=$(jq -r '.digest' "$out/results.jsonl" | sort -u | wc -l)
	is "$digests" 1 "relay routed $size: every strategy delivered the same digest"
	rm -rf "$out"
done
# Only routed paths have a router namespace; a finished run removes its own.
is "$(ns_of '[0-9]+' | grep -E -- '-r$' | grep -vxF -e "${ROUTERS_BEFORE:-none}" |
	while read -r n; do pid=${n#copylab-}; pid=${pid%%-*}; kill -0 "$pid" 2>/dev/null || echo "$n"; done)" "" \
	"no router namespace of a finished run is left"

# Other scenarios cross the router from A to B.
cl run --scenario serve --strategy sendfile,splice --transport routed --size 1048577 --reps 1 --warmup 0 \
	--out "$TMP/serve" --workdir "$WORKDIR"
ok "$([ "$RC" -eq 0 ] && [ "$(jq -s 'map(select(.verified)) | length' "$TMP/serve/results.jsonl")" -eq 2 ]; echo $?)" \
	"serve over routed (A to B through the router): verified" "$(cl_desc)"
ok "$(jq -e '.transport.router.namespace | test("^copylab-[0-9]+-[0-9a-f]{6}-r$")' "$TMP/serve/env.json" >/dev/null; echo $?)" \
	"env.json: the routed transport names its router namespace"

# ---- the DNAT table while running, and cleanup after SIGTERM and SIGKILL ------------

# bg_nat: a long nat run in the background; waits until its table is in the router.
bg_nat() {
	"$COPYLAB" run --scenario relay --strategy nat --transport routed --size 256M --reps 400 --warmup 0 \
		--out "$TMP/$1" --workdir "$WORKDIR" >"$TMP/$1.out" 2>"$TMP/$1.err" </dev/null &
	BGPID=$!
	TABLE=""
	for _ in $(seq 300); do
		router=$(ns_of "$BGPID" | grep -- '-r$' || true)
		[ -n "$router" ] && TABLE=$(ip netns exec "$router" nft list tables 2>/dev/null | awk '{print $3}' | grep -- '-nat$' || true)
		[ -n "$TABLE" ] && break
		sleep 0.1
	done
	# Mid-transfer: both fixed roles are running.
	for _ in $(seq 100); do
		[ "$(pgrep -P "$BGPID" | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
}

bg_nat term
ok "$([ -n "$TABLE" ] && [ "$TABLE" = "${router}-nat" ]; echo $?)" \
	"while nat runs: its DNAT table ${router:-?}-nat is in the router namespace" "table: ${TABLE:-none}"
ok "$(ip netns exec "$router" nft list table ip "$TABLE" 2>/dev/null | grep -q 'dnat to 10\.213\.'; echo $?)" \
	"the table holds a DNAT rule to the sink's 10.213. address"
is "$(pgrep -P "$BGPID" | wc -l)" 2 "while nat runs: two role processes (source, sink), no relay process"
kill -TERM "$BGPID"
RC=0
wait "$BGPID" || RC=$?
is "$RC" 1 "SIGTERM mid-transfer: exit 1"
is "$(ns_of "$BGPID")" "" "after SIGTERM: no namespace (so no DNAT table) of that run is left"

bg_nat killed
kpid=$BGPID
ok "$([ -n "$TABLE" ]; echo $?)" "second run: its DNAT table is in place before the kill"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
BGPID=""
sleep 0.2
left=$(ns_of "$kpid" | tr '\n' ' ')
is "$(ns_of "$kpid" | sed 's/.*-//' | sort | tr '\n' ' ')" "a b r " \
	"SIGKILL mid-transfer leaves the three namespaces (nothing runs to remove them)"
cl cleanup
ok "$RC" "cleanup after SIGKILL: exit 0" "$(cat "$OUT" "$ERR")"
ok "$(grep -q "removed namespace $router (with .*nftables table ip $TABLE" "$OUT"; echo $?)" \
	"cleanup removes the router namespace and says it held the DNAT table" "$(grep "$kpid" "$OUT")"
is "$(ns_of "$kpid")" "" "after cleanup: nothing of the killed run is left ($left)"

done_testing
