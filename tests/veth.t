#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Transport veth: every scenario and strategy that runs over tcp also runs
# over a veth pair between two network namespaces, byte-exact at 0, 1,
# 4097, 1 MiB + 1 and 64 MiB (`--strategy all` per scenario, as matrix.t).
# Each run must leave no copylab- namespace or link behind: on success, on
# a usage error, on SIGINT/SIGTERM and when a role dies.  The link options
# (--mtu 9000, --offload, --rate, --delay) are tested where the CLI has them.
# timeout: 1200
. "$(dirname "$0")/lib.sh"
require_copylab
load_list

if [ "$(id -u)" -ne 0 ]; then
	skip_all "veth needs root (network namespaces)"
fi
if ! command -v ip >/dev/null 2>&1 && [ ! -x /usr/sbin/ip ] && [ ! -x /sbin/ip ]; then
	[ -n "${COPYLAB_REQUIRE_VETH:-}" ] && bail_out "iproute2 (ip) is missing, and veth is required here"
	skip_all "iproute2 (ip) is not installed"
fi
export PATH=$PATH:/usr/sbin:/sbin

SIZES=${VETH_SIZES:-"0 1 4097 1048577 67108864"}
WORKDIR=$TMP/work
mkdir -p "$WORKDIR"
RUN_TIMEOUT=300

# vrun ARGS...: copylab in the background so its pid is known (the
# namespaces carry it); a watchdog sends SIGTERM after RUN_TIMEOUT.  Sets
# RC, OUT, ERR and PID.
vrun() {
	OUT=$TMP/last.out ERR=$TMP/last.err
	"$COPYLAB" "$@" >"$OUT" 2>"$ERR" </dev/null &
	PID=$!
	( sleep "$RUN_TIMEOUT"; kill -TERM "$PID" 2>/dev/null ) &
	local wd=$!
	RC=0
	wait "$PID" || RC=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	return 0
}

# leftovers PID: the namespaces of copylab PID, and any veth made by a
# copylab run in this namespace (copylab-<6 hex>a|b), one a line.
leftovers() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^copylab-$1-" || true
	ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep -E '^copylab-[0-9a-f]{6}[ab]$' || true
}

# check_clean NAME PID: nothing of PID's link is left.
check_clean() {
	local left
	left=$(leftovers "$2")
	is "$left" "" "$1: no copylab- namespace or link left"
}

check_record() {
	local file=$1 strat=$2 sc=$3 size=$4 sink problems
	sink=$(sink_role "$sc")
	problems=$(jq -s -r --arg s "$strat" --arg sink "$sink" --argjson n "$size" '
		[.[] | select(.strategy == $s)] as $r |
		if ($r | length) != 1 then "\($r | length) records for \($s), wanted 1"
		else $r[0] |
			[ (if .verified != true then "verified: \(.verified) \(.verify_note)" else empty end),
			  (if .bytes != $n then "bytes: \(.bytes)" else empty end),
			  (if .transport != "veth" then "transport: \(.transport)" else empty end),
			  (if .roles[$sink].bytes != $n then "\($sink) bytes: \(.roles[$sink].bytes)" else empty end)
			] | join("; ")
		end' "$file" 2>&1)
	ok "$([ -z "$problems" ]; echo $?)" "$sc veth $size $strat: verified, $size bytes at the $sink" "$problems"
}

run_cell() {
	local sc=$1 size=$2 arg=$3
	shift 3
	local out=$TMP/$sc-$size-${arg//[:,]/_}
	vrun run --scenario "$sc" --strategy "$arg" --transport veth --size "$size" \
		--reps 1 --warmup 0 --out "$out" --workdir "$WORKDIR"
	if ! ok "$RC" "$sc veth $size --strategy $arg: exit 0"; then
		cl_desc 15
	fi
	check_clean "$sc veth $size" "$PID"
	if [ ! -s "$out/results.jsonl" ]; then
		local s
		for s in "$@"; do fail "$sc veth $size $s: a record"; done
		return
	fi
	if [ "$arg" = all ]; then
		local got want
		got=$(jq -s -r 'map(.strategy) | sort | join(" ")' "$out/results.jsonl")
		want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
		is "$got" "${want% }" "$sc veth $size: --strategy all ran every supporting strategy"
	fi
	for s in "$@"; do check_record "$out/results.jsonl" "$s" "$sc" "$size"; done
	rm -rf "$out"
}

# ---- the byte-exact matrix ------------------------------------------------

SCENARIOS=$(jq -r '.scenarios[] | select(.uses_transport) | .name' "$LIST_JSON")
for sc in $SCENARIOS; do
	mapfile -t strats < <(supported "$sc")
	for size in $SIZES; do
		run_cell "$sc" "$size" all "${strats[@]}"
		case $sc in
		send) run_cell "$sc" "$size" vmsplice:gift vmsplice:gift ;;
		esac
	done
done

# ---- the digest is the transport's business only -----------------------------

vrun run --scenario relay --strategy splice --transport veth --size 1048577 --reps 1 --warmup 0 \
	--out "$TMP/dv" --workdir "$WORKDIR"
cl run --scenario relay --strategy splice --transport tcp --size 1048577 --reps 1 --warmup 0 \
	--out "$TMP/dt" --workdir "$WORKDIR"
is "$(jq -r .digest "$TMP/dv/results.jsonl")" "$(jq -r .digest "$TMP/dt/results.jsonl")" \
	"relay 1 MiB + 1: the same digest over veth as over tcp"

# ---- the way out: signals and a dying role leave nothing ---------------------

for sig in INT TERM; do
	"$COPYLAB" run --scenario relay --strategy readwrite --transport veth --size 256M --reps 50 \
		--warmup 0 --out "$TMP/sig-$sig" --workdir "$WORKDIR" >"$TMP/sig.out" 2>"$TMP/sig.err" &
	pid=$!
	for i in $(seq 50); do
		[ -n "$(ip netns list | grep -E "^copylab-$pid-")" ] && break
		sleep 0.1
	done
	sleep 1
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	ok "$([ "$rc" -eq 1 ]; echo $?)" "SIG$sig mid-transfer: copylab exits 1" "exit $rc" "$(tail -n 3 "$TMP/sig.err")"
	check_clean "SIG$sig mid-transfer" "$pid"
done

"$COPYLAB" run --scenario serve --strategy readwrite --transport veth --size 256M --reps 50 \
	--warmup 0 --out "$TMP/rolekill" --workdir "$WORKDIR" >"$TMP/rk.out" 2>"$TMP/rk.err" &
pid=$!
# The roles are copylab's children named copylab (the ip and tc it runs are not).
killed=""
for i in $(seq 400); do
	kids=$(pgrep -P "$pid" -x copylab | tr '\n' ' ')
	if [ "$(echo $kids | wc -w)" -ge 2 ]; then
		sleep 0.2
		kids=$(pgrep -P "$pid" -x copylab | tr '\n' ' ')
		[ -n "$kids" ] && kill -KILL $kids && killed=$kids && break
	fi
	sleep 0.05
done
rc=0
wait "$pid" || rc=$?
ok "$([ "$rc" -eq 1 ] && grep -q "died from signal\|exited" "$TMP/rk.err"; echo $?)" \
	"a role killed mid-transfer: copylab exits 1 and says so" "killed: ${killed:-nothing}" "exit $rc" "$(tail -n 3 "$TMP/rk.err")"
check_clean "a role killed mid-transfer" "$pid"

# ---- link options (when the CLI has them) ------------------------------------

if "$COPYLAB" run --help 2>/dev/null | grep -q -- '--mtu'; then
	vrun run --scenario relay --strategy all --transport veth --mtu 9000 --size 64M --reps 1 --warmup 0 \
		--out "$TMP/mtu" --workdir "$WORKDIR"
	ok "$RC" "--mtu 9000: relay 64 MiB exit 0" "$(cat "$ERR")"
	for s in $(supported relay); do check_record "$TMP/mtu/results.jsonl" "$s" relay 67108864; done
	if jq -e '.transport' "$TMP/mtu/env.json" >/dev/null 2>&1; then
		is "$(jq -r '[.transport.ends[].mtu] | join(",")' "$TMP/mtu/env.json")" "9000,9000" \
			"--mtu 9000: env.json records MTU 9000 on both ends"
	else
		skip "env.json has no transport facts yet (results.c hook not applied)" "--mtu 9000 in env.json"
	fi
	check_clean "--mtu 9000" "$PID"

	for o in off on; do
		vrun run --scenario serve --strategy sendfile --transport veth --offload "$o" --size 1048577 \
			--reps 1 --warmup 0 --out "$TMP/off-$o" --workdir "$WORKDIR"
		ok "$RC" "--offload $o: exit 0" "$(cat "$ERR")"
		check_record "$TMP/off-$o/results.jsonl" sendfile serve 1048577
		if jq -e '.transport' "$TMP/off-$o/env.json" >/dev/null 2>&1; then
			want=$([ "$o" = on ] && echo true || echo false)
			is "$(jq -r '[.transport.ends[].offload | .tso, .gso, .gro] | unique | join(",")' "$TMP/off-$o/env.json")" \
				"$want" "--offload $o: TSO, GSO and GRO read back $o"
		fi
	done

	# 200 Mbit/s = 25 MB/s: 16 MiB takes at least ~0.6 s.
	vrun run --scenario serve --strategy readwrite --transport veth --rate 200mbit --size 16M \
		--reps 1 --warmup 0 --out "$TMP/rate" --workdir "$WORKDIR"
	ok "$RC" "--rate 200mbit: exit 0" "$(cat "$ERR")"
	bps=$(jq -r .bytes_per_s "$TMP/rate/results.jsonl" 2>/dev/null)
	ok "$(awk -v b="${bps:-0}" 'BEGIN { exit !(b > 5e6 && b < 25e6 * 1.15) }'; echo $?)" \
		"--rate 200mbit: throughput at most the rate (got ${bps:-none} B/s)"
	check_clean "--rate" "$PID"

	vrun run --scenario serve --strategy readwrite --transport veth --delay 5ms --size 1M \
		--reps 1 --warmup 0 --out "$TMP/delay" --workdir "$WORKDIR"
	if [ "$RC" -eq 2 ]; then
		ok "$(grep -qi 'netem.*missing from this kernel' "$ERR"; echo $?)" \
			"--delay without netem: exit 2 and a sentence saying the qdisc is missing" "$(cat "$ERR")"
	else
		ok "$RC" "--delay 5ms (netem present): exit 0" "$(cat "$ERR")"
	fi
	check_clean "--delay" "$PID"

	expect_usage_error "--mtu over tcp: exit 2" "mtu.*veth" \
		run --scenario serve --strategy readwrite --transport tcp --mtu 9000 --size 1 --out "$TMP/no"
	expect_usage_error "--offload maybe: exit 2" "offload" \
		run --scenario serve --strategy readwrite --transport veth --offload maybe --size 1 --out "$TMP/no"
	expect_usage_error "--rate nonsense: exit 2" "rate" \
		run --scenario serve --strategy readwrite --transport veth --rate fast --size 1 --out "$TMP/no"
else
	skip "copylab run has no --mtu yet (cli_run.c patch not applied)" "link options"
fi

left=$(find "$WORKDIR" -mindepth 1 | head -n 5)
is "$left" "" "the runs left no files in --workdir"

done_testing
