#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# copylab relay with several strategies side by side in one run: an iperf3
# -R sender on loopback behind one relay per strategy, measured in rounds
# (each round once per strategy), so that figures compared were taken
# seconds apart.  Per measurement: throughput at the receiving client, the
# relay process's CPU (the delta of its threads' /proc/PID/task/*/schedstat
# run time), and the whole machine's busy CPU (/proc/stat), which is where
# sockmap's work shows: it runs in softirq and kworker context, charged to
# whoever is on the CPU (../shared/NOTES.md).  Prints one line per
# measurement and a median per strategy; no files are written.
#
# usage: scripts/relay-strategies.sh [--size 1G] [--reps 3] [--block N] [LABEL...]
#   LABEL: a strategy with options, as copylab relay --strategy takes it
#   (default: splice uring_splice sockmap); --block N goes to every relay
#   (default: the tool's own, 1 MiB for splice, 64 KiB for the others).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COPYLAB=${COPYLAB:-$ROOT/copylab}
SIZE=1G REPS=3 BLOCK=()
while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--block) BLOCK=(--block "$2"); shift 2 ;;
	-h|--help) sed -n '3,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "relay-strategies.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "relay-strategies.sh: --reps needs a whole number of 1 or more, not '$REPS'" >&2; exit 2; }
STRATS=("$@")
[ ${#STRATS[@]} -gt 0 ] || STRATS=(splice uring_splice sockmap)
for t in iperf3 jq python3; do
	command -v "$t" >/dev/null || { echo "relay-strategies.sh: $t is not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -x "$COPYLAB" ] || { echo "relay-strategies.sh: $COPYLAB is not built (run make)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/copylab-relaystrat.XXXXXX) || exit 1
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && kill -TERM "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IPORT=$(free_port)
iperf3 -s -p "$IPORT" -B 127.0.0.1 >"$TMP/iperf-s.log" 2>&1 &
PIDS+=($!)

declare -A RPID RPORT
for st in "${STRATS[@]}"; do
	"$COPYLAB" relay --listen 127.0.0.1:0 --to "127.0.0.1:$IPORT" --strategy "$st" "${BLOCK[@]}" --quiet \
		>"$TMP/$st.out" 2>"$TMP/$st.err" </dev/null &
	RPID[$st]=$! PIDS+=($!)
	for i in $(seq 50); do grep -q '^listening on ' "$TMP/$st.out" && break; sleep 0.1; done
	RPORT[$st]=$(sed -n 's/^listening on .*://p' "$TMP/$st.out")
	[ -n "${RPORT[$st]}" ] || { echo "relay-strategies.sh: copylab relay $st did not start: $(head -c 300 "$TMP/$st.err")" >&2; exit 1; }
done

# Nanoseconds on CPU of every thread of PID.
task_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }
# Busy and total jiffies of the machine.
machine() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
HZ=$(getconf CLK_TCK)

echo "# copylab relay, iperf3 -c 127.0.0.1 -R -n $SIZE through each, $REPS rounds; $(nproc) CPUs, $(uname -r)"
printf '%-22s %5s %9s %13s %14s %14s\n' strategy round Gbit/s "relay CPU-s" "relay CPU/GiB" "machine CPU/GiB"
for r in $(seq "$REPS"); do
	# rotate the order each round
	n=${#STRATS[@]}
	for k in $(seq 0 $((n - 1))); do
		st=${STRATS[$(((k + r - 1) % n))]}
		c0=$(task_ns "${RPID[$st]}")
		read -r b0 t0 < <(machine)
		timeout 180 iperf3 -c 127.0.0.1 -p "${RPORT[$st]}" -R -n "$SIZE" -J >"$TMP/j.json" 2>"$TMP/j.err"
		rc=$?
		read -r b1 t1 < <(machine)
		c1=$(task_ns "${RPID[$st]}")
		bytes=$(jq -r '.end.sum_received.bytes // 0' "$TMP/j.json" 2>/dev/null)
		bps=$(jq -r '.end.sum_received.bits_per_second // 0' "$TMP/j.json" 2>/dev/null)
		if [ "$rc" -ne 0 ] || [ "${bytes:-0}" = 0 ]; then
			echo "$st round $r: iperf3 failed (exit $rc): $(jq -r '.error // empty' "$TMP/j.json" 2>/dev/null)" >&2
			continue
		fi
		awk -v st="$st" -v r="$r" -v bps="$bps" -v c="$((c1 - c0))" -v by="$bytes" \
			-v mb="$((b1 - b0))" -v hz="$HZ" 'BEGIN {
			gib = by / 1073741824
			printf "%-22s %5d %9.2f %13.3f %14.3f %14.3f\n", st, r, bps / 1e9, c / 1e9, c / 1e9 / gib, mb / hz / gib
		}' | tee -a "$TMP/rows"
	done
done
echo "# medians per strategy (each column on its own)"
printf '%-22s %9s %14s %14s\n' strategy Gbit/s "relay CPU/GiB" "machine CPU/GiB"
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for st in "${STRATS[@]}"; do
	awk -v st="$st" '$1 == st' "$TMP/rows" >"$TMP/one"
	[ -s "$TMP/one" ] || continue
	printf '%-22s %9s %14s %14s\n' "$st" "$(awk '{print $3}' "$TMP/one" | med)" \
		"$(awk '{print $5}' "$TMP/one" | med)" "$(awk '{print $6}' "$TMP/one" | med)"
done
