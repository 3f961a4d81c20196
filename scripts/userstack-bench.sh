#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The user-space stack's figures, measured side by side in one run:
#  1. a send of SIZE (default 256 MiB) from an unmodified dd under
#     `copylab stack`, once per data path (ipc, shm), REPS times each:
#     throughput, and the application's + stackd's CPU per GiB (the shm/ipc
#     ratio is the issue's "at most 0.7x" goal);
#  2. lwIP against the kernel's stack on the same cell: `copylab run
#     --scenario send --strategy readwrite` over userstack and over veth,
#     throughput and CPU per GiB (role under test, stack, whole machine).
#  3. with PROFILE=1, a perf profile of stackd during the first ipc send
#     (2 s, perf record -g -p): where the stack's time goes.
# Needs root (stackd).  Prints figures; asserts nothing (tests/userstack.t
# checks behaviour).  usage: [PROFILE=1] scripts/userstack-bench.sh [SIZE_MiB] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-256}
REPS=${2:-3}
CL=./copylab
W=$(mktemp -d /tmp/copylab-usbench.XXXXXX)
SD=""
cleanup() { [ -n "$SD" ] && kill "$SD" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

$CL stackd --netns ub$$ --quiet &
SD=$!
NS=copylab-$SD-ub$$
for _ in $(seq 100); do [ -S /run/copylab/$NS.sock ] && break; sleep 0.1; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

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
	perf report -i "$W/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4
	perf report -i "$W/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12
fi
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mi=$(med <<<"${tot[ipc]}"); ms=$(med <<<"${tot[shm]}")
echo "median application + stackd CPU per GiB: ipc $mi s, shm $ms s; shm/ipc = $(awk -v a="$ms" -v b="$mi" 'BEGIN { printf "%.2f", a / b }') (goal <= 0.70)"
kill "$SD"; wait "$SD" 2>/dev/null || true; SD=""

echo
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
