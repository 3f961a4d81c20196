#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The user-space stack's figures, measured side by side in one run:
#  paths: a send of SIZE (default 256 MiB) from an unmodified dd under
#     `copylab stack`, once per data path (ipc, shm), REPS times each:
#     throughput, and the application's + stackd's CPU per GiB (the shm/ipc
#     ratio is the issue's "at most 0.7x" goal);
#  netif: the same dd send and a dd receive of SIZE through the shim
#     (path $NETIF_PATH, default shm) with `stackd --netif tap` and
#     `stackd --netif xdp` (both running, repetitions interleaved), and the
#     kernel's stack on a veth pair between two namespaces of the script's
#     own (the same dd and peer, no lwIP): throughput, CPU per GiB of the
#     application, stackd and the kernel-side peer, and the ratios;
#  run: lwIP against the kernel's stack on the same cell: `copylab run
#     --scenario send --strategy readwrite` over userstack and over veth,
#     throughput and CPU per GiB (role under test, stack, whole machine).
# With PROFILE=1, a perf profile of stackd (perf record -g -p, ~2 s): during
# the first ipc send (paths) and during the first send over each of tap and
# xdp (netif): where the stack's time goes.
# Needs root (stackd).  Prints figures; asserts nothing (tests/userstack.t
# and tests/stackd_xdp.t check behaviour).
# usage: [PROFILE=1] [PARTS="paths netif run"] [NETIF_PATH=shm|ipc] scripts/userstack-bench.sh [SIZE_MiB] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-256}
REPS=${2:-3}
CL=./copylab
W=$(mktemp -d /tmp/copylab-usbench.XXXXXX)
PARTS=${PARTS:-paths netif run}
NETIF_PATH=${NETIF_PATH:-shm}
SD=""
PEER=""
SDS=()
KNS=()
cleanup() {
	for p in $SD $PEER "${SDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "${KNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
part() { [[ " $PARTS " == *" $1 "* ]]; }
case $NETIF_PATH in ipc|shm) ;; *) echo "userstack-bench.sh: NETIF_PATH=$NETIF_PATH: valid: ipc, shm" >&2; exit 2 ;; esac
for p in $PARTS; do
	case $p in paths|netif|run) ;; *) echo "userstack-bench.sh: PARTS: unknown part '$p'; valid: paths, netif, run" >&2; exit 2 ;; esac
done
[ "$(id -u)" -eq 0 ] || { echo "userstack-bench.sh: needs root (stackd makes a namespace)" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Every CPU's busy ticks (user nice system irq softirq steal): softirq work no process is charged for.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
tck=$(getconf CLK_TCK)
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

if part paths; then
$CL stackd --netns ub$$ --quiet &
SD=$!
NS=copylab-$SD-ub$$
for _ in $(seq 100); do [ -S /run/copylab/$NS.sock ] && break; sleep 0.1; done

echo "send of $MIB MiB from dd (bs 64K) under copylab stack, kernel sink in stackd's namespace"
printf '%-5s %4s %10s %12s %14s %14s\n' path rep "MB/s" "app s/GiB" "stackd s/GiB" "total s/GiB"
declare -A tot
for rep in $(seq "$REPS"); do
	for path in ipc shm; do
		rm -f "$W/port"
		ip netns exec "$NS" python3 tests/userstack_peer.py serve-sink "$W/port" /dev/null 10.214.0.1 &
		sink=$!
		for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
		t0=$(cpu_ticks "$SD")
		if [ "${PROFILE:-0}" = 1 ] && [ "$rep$path" = 1ipc ]; then
			(sleep 0.3; perf record -F 999 -g -o "$W/perf.data" -p "$SD" -- sleep 2 >/dev/null 2>&1) &
		fi
		/usr/bin/time -f "%e %U %S" -o "$W/time" \
			$CL stack --netns ub$$ --path "$path" -- bash -c \
			'exec 3<>"/dev/tcp/10.214.0.1/$0" && exec dd if=/dev/zero bs=64K count="$1" status=none >&3' \
			"$(cat "$W/port")" "$((MIB * 16))"
		wait "$sink"
		t1=$(cpu_ticks "$SD")
		read -r wall u s <"$W/time"
		line=$(awk -v w="$wall" -v u="$u" -v s="$s" -v d="$((t1 - t0))" -v tck="$tck" -v mib="$MIB" 'BEGIN {
			g = mib / 1024; app = (u + s) / g; st = d / tck / g
			printf "%10.0f %12.3f %14.3f %14.3f", mib * 1048576 / w / 1e6, app, st, app + st }')
		printf '%-5s %4d %s\n' "$path" "$rep" "$line"
		tot[$path]="${tot[$path]:-} $(awk '{print $4}' <<<"$line")"
	done
done
if [ "${PROFILE:-0}" = 1 ] && [ -s "$W/perf.data" ]; then
	echo "stackd's profile during the first ipc send (by object, then the top symbols):"
	perf report -i "$W/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4 || true
	perf report -i "$W/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12 || true
fi
mi=$(med <<<"${tot[ipc]}"); ms=$(med <<<"${tot[shm]}")
echo "median application + stackd CPU per GiB: ipc $mi s, shm $ms s; shm/ipc = $(awk -v a="$ms" -v b="$mi" 'BEGIN { printf "%.2f", a / b }') (goal <= 0.70)"
kill "$SD"; wait "$SD" 2>/dev/null || true; SD=""
echo
fi

if part netif; then
	# --- tap vs xdp vs the kernel: the same dd send and receive, one run -----
	declare -A SDP SNM CL_NS
	for nf in tap xdp; do
		SNM[$nf]=n$nf$$
		$CL stackd --netns "${SNM[$nf]}" --netif "$nf" >"$W/sd-$nf.out" 2>&1 </dev/null &
		SDP[$nf]=$!
		SDS+=("$!")
		for _ in $(seq 100); do [ -S "/run/copylab/copylab-${SDP[$nf]}-${SNM[$nf]}.sock" ] && break; sleep 0.1; done
		[ -S "/run/copylab/copylab-${SDP[$nf]}-${SNM[$nf]}.sock" ] ||
			{ echo "stackd --netif $nf did not start:"; tail -3 "$W/sd-$nf.out"; exit 1; }
		CL_NS[$nf]=copylab-${SDP[$nf]}-${SNM[$nf]}
	done
	xmode=$(sed -n 's/^stackd xdp: //p' "$W/sd-xdp.out" | jq -r '"\(.attach) attach, \(.bind) bind"')
	# The kernel's stack on both ends: a veth pair between two namespaces of this script's own.
	KA=copylab-$$-ka KB=copylab-$$-kb
	ip netns add "$KA" && KNS+=("$KA")
	ip netns add "$KB" && KNS+=("$KB")
	ip link add kv-a netns "$KA" type veth peer name kv-b netns "$KB"
	ip -n "$KA" addr add 10.214.1.1/24 dev kv-a
	ip -n "$KB" addr add 10.214.1.2/24 dev kv-b
	for n in "$KA" "$KB"; do ip -n "$n" link set lo up; done
	ip -n "$KA" link set kv-a up
	ip -n "$KB" link set kv-b up

	BYTES=$((MIB * 1048576))
	# cell CELL DIR REP: one transfer of BYTES; prints its line and records MB/s and total s/GiB.
	cell() {
		local c=$1 dir=$2 rep=$3 ns addr port t0 t1 sd=0 got wall u s pu ps
		if [ "$c" = kernel ]; then ns=$KB addr=10.214.1.2; else ns=${CL_NS[$c]} addr=10.214.0.1; fi
		rm -f "$W/port" "$W/peer.out"
		if [ "$dir" = send ]; then
			ip netns exec "$ns" timeout 120 /usr/bin/time -f "%U %S" -o "$W/peer.time" \
				python3 tests/userstack_peer.py serve-count "$W/port" "$addr" >"$W/peer.out" &
		else
			ip netns exec "$ns" timeout 120 /usr/bin/time -f "%U %S" -o "$W/peer.time" \
				python3 tests/userstack_peer.py serve-zeros "$W/port" "$addr" "$BYTES" >"$W/peer.out" &
		fi
		local peer=$!
		PEER=$peer	# timeout's group: cleanup's kill reaches the peer too
		for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
		port=$(cat "$W/port")
		local -a run
		if [ "$c" = kernel ]; then run=(ip netns exec "$KA" timeout 120); else run=(timeout 120 $CL stack --netns "${SNM[$c]}" --path "$NETIF_PATH" --); fi
		local b0 b1 ns0 ns1 perfpid=""
		# perf's own cost lands in the profiled cells (rep 1, send): compare figures of the runs without PROFILE.
		if [ "${PROFILE:-0}" = 1 ] && [ "$rep$dir" = 1send ] && [ "$c" != kernel ]; then
			perf record -F 999 -g -o "$W/perf-$c.data" -p "${SDP[$c]}" -- sleep 2 >"$W/perf-$c.log" 2>&1 &
			perfpid=$!
			sleep 0.2
		fi
		[ "$c" = kernel ] || t0=$(cpu_ticks "${SDP[$c]}")
		b0=$(busy_ticks)
		ns0=$(date +%s%N)
		if [ "$dir" = send ]; then
			/usr/bin/time -f "%e %U %S" -o "$W/time" "${run[@]}" bash -c \
				'exec 3<>"/dev/tcp/$0/$1" && exec dd if=/dev/zero bs=64K count="$2" status=none >&3' \
				"$addr" "$port" "$((MIB * 16))" || true
		else
			/usr/bin/time -f "%e %U %S" -o "$W/time" "${run[@]}" bash -c \
				'exec 3<>"/dev/tcp/$0/$1" && exec dd of=/dev/null bs=64K <&3 2>&1 | sed -n "s/ bytes.*//p"' \
				"$addr" "$port" >"$W/client.out" || true
		fi
		ns1=$(date +%s%N)
		wait "$peer" || true
		b1=$(busy_ticks)
		[ "$c" = kernel ] || { t1=$(cpu_ticks "${SDP[$c]}"); sd=$((t1 - t0)); }
		[ -z "$perfpid" ] || wait "$perfpid" || true	# its overhead out of the next cell
		if [ "$dir" = send ]; then got=$(awk '/^received/ {print $2}' "$W/peer.out"); else got=$(cat "$W/client.out"); fi
		if [ "${got:-0}" != "$BYTES" ]; then
			printf '%-7s %-5s %4d   incomplete: %s of %s bytes\n' "$c" "$dir" "$rep" "${got:-?}" "$BYTES"
			return 0
		fi
		read -r wall u s <"$W/time"
		wall=$(awk -v a="$ns0" -v b="$ns1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')	# time's %e has 10 ms steps
		read -r pu ps <"$W/peer.time"
		local line
		line=$(awk -v w="$wall" -v u="$u" -v s="$s" -v pu="$pu" -v ps="$ps" -v d="$sd" -v tck="$tck" -v mib="$MIB" -v mb="$((b1 - b0))" 'BEGIN {
			g = mib / 1024; app = (u + s) / g; st = d / tck / g; pe = (pu + ps) / g
			printf "%9.0f %10.3f %12.3f %10.3f %11.3f %10.3f %9.3f", mib * 1048576 / w / 1e6, app, st, pe, app + st, app + st + pe, mb / tck / g }')
		printf '%-7s %-5s %4d %s\n' "$c" "$dir" "$rep" "$line"
		MBS[$c.$dir]="${MBS[$c.$dir]:-} $(awk '{print $1}' <<<"$line")"
		TOT[$c.$dir]="${TOT[$c.$dir]:-} $(awk '{print $5}' <<<"$line")"
		ALL[$c.$dir]="${ALL[$c.$dir]:-} $(awk '{print $6}' <<<"$line")"
	}
	declare -A MBS TOT ALL
	echo "tap vs xdp vs the kernel: $MIB MiB with dd (bs 64K), $REPS reps interleaved; lwIP cells through the shim (--path $NETIF_PATH)"
	echo "  tap:    lwIP -> TAP -> the kernel's TCP in stackd's namespace (a Python peer)"
	echo "  xdp:    lwIP -> AF_XDP ($xmode) -> veth -> the kernel's TCP in stackd's namespace (the same peer)"
	echo "  kernel: dd's kernel TCP -> veth (default offloads) -> the kernel's TCP, two namespaces (the same peer)"
	echo "  send: dd writes, the peer reads; recv: the peer writes, dd reads.  CPU: user + sys per GiB;"
	echo "  machine: every CPU's busy time per GiB, other processes' load included (a shared machine: an upper bound)"
	printf '%-7s %-5s %4s %9s %10s %12s %10s %11s %10s %9s\n' cell dir rep "MB/s" "app s/GiB" "stackd s/GiB" "peer s/GiB" "app+stackd" "all three" "machine"
	for rep in $(seq "$REPS"); do
		for dir in send recv; do
			for c in tap xdp kernel; do cell "$c" "$dir" "$rep"; done
		done
	done
	echo "medians: MB/s, app+stackd s/GiB, all three s/GiB; ratios of the medians (CPU: app+stackd / all three)"
	for dir in send recv; do
		declare -A M T A
		for c in tap xdp kernel; do
			M[$c]=$(med <<<"${MBS[$c.$dir]:-}")
			T[$c]=$(med <<<"${TOT[$c.$dir]:-}")
			A[$c]=$(med <<<"${ALL[$c.$dir]:-}")
		done
		awk -v d="$dir" -v mt="${M[tap]}" -v mx="${M[xdp]}" -v mk="${M[kernel]}" \
			-v tt="${T[tap]}" -v tx="${T[xdp]}" -v tk="${T[kernel]}" \
			-v at="${A[tap]}" -v ax="${A[xdp]}" -v ak="${A[kernel]}" '
			function r(a, b) { return (b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
			function pair(a1, b1, a2, b2, a3, b3) { return sprintf("MB/s %s, CPU/GiB %s / %s", r(a1, b1), r(a2, b2), r(a3, b3)) }
			BEGIN {
			printf "  %-4s tap %5.0f MB/s %6.3f / %6.3f s/GiB | xdp %5.0f MB/s %6.3f / %6.3f | kernel %5.0f MB/s %6.3f / %6.3f\n",
				d, mt, tt, at, mx, tx, ax, mk, tk, ak
			printf "       xdp/tap: %s\n       tap/kernel: %s\n       xdp/kernel: %s\n",
				pair(mx, mt, tx, tt, ax, at), pair(mt, mk, tt, tk, at, ak), pair(mx, mk, tx, tk, ax, ak) }'
		unset M T A
	done
	if [ "${PROFILE:-0}" = 1 ]; then
		for c in tap xdp; do
			[ -s "$W/perf-$c.data" ] || { echo "stackd --netif $c: no profile: $(tail -2 "$W/perf-$c.log" 2>/dev/null)"; continue; }
			echo "stackd --netif $c: profile during the first send (by object, then the top symbols):"
			perf report -i "$W/perf-$c.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -5 || true
			perf report -i "$W/perf-$c.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -14 || true
		done
	fi
	for nf in tap xdp; do kill "${SDP[$nf]}"; wait "${SDP[$nf]}" 2>/dev/null || true; done
	SDS=()
	for n in "${KNS[@]}"; do ip netns del "$n"; done
	KNS=()
	echo
fi

if part run; then
echo "copylab run --scenario send --strategy readwrite, $MIB MiB: lwIP (userstack) vs the kernel (veth), $REPS reps"
for tr in userstack veth; do
	$CL run --scenario send --strategy readwrite --transport "$tr" --size "${MIB}M" --reps "$REPS" --out "$W/run-$tr" >/dev/null 2>"$W/run-$tr.err" ||
		{ echo "$tr: run failed"; tail -3 "$W/run-$tr.err"; continue; }
done
printf '%-10s %8s %16s %16s %16s\n' transport "MB/s" "sender s/GiB" "stack s/GiB" "machine s/GiB"
for tr in userstack veth; do
	[ -s "$W/run-$tr/results.jsonl" ] || continue
	jq -rs --arg tr "$tr" '
		def med: sort | if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		map(select(.rep > 0)) as $r | ($r[0].bytes / 1073741824) as $g |
		[$tr,
		 ($r | map(.bytes_per_s / 1e6) | med),
		 ($r | map(.roles.sender.cpu_per_gib_s) | med),
		 ($r | map(if .roles.stack then (.roles.stack.cpu_user_s + .roles.stack.cpu_sys_s) / $g else 0 end) | med),
		 ($r | map(.system_cpu.busy_per_gib_s) | med)]
		| "\(.[0])\t\(.[1])\t\(.[2])\t\(.[3])\t\(.[4])"' "$W/run-$tr/results.jsonl" |
		awk -F'\t' '{ printf "%-10s %8.0f %16.3f %16.3f %16.3f\n", $1, $2, $3, $4, $5 }'
done
fi
