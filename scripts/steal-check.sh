#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Does the system-wide CPU figure leave the hypervisor's steal out?  Runs
# echo and relay at three offered loads (where this kind of VM's host steals
# the most) and a 256 MiB relay, then fits (ns busy - /proc/stat's busy)
# against each rep's steal: with steal taken out the slope is near 0 (it was
# 0.65 before, docs/metrics.md).  On an idle machine; about 2 minutes.
# Usage: scripts/steal-check.sh [COPYLAB] [OUTDIR]
set -u
B=${1:-./copylab}
O=${2:-results/steal-check-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$O" || exit 1
for sc in echo relay; do
	for rps in 1000 4000 16000; do
		"$B" run --scenario $sc --strategy readwrite,splice,sockmap --block 1K --rps $rps --size $((rps * 1024)) \
			--reps 5 --out "$O/$sc-$rps" >"$O/$sc-$rps.log" 2>&1 || echo "$sc at $rps/s failed: see $O/$sc-$rps.log"
	done
done
"$B" run --scenario relay --strategy readwrite,splice --size 256M --reps 5 --out "$O/relay-256m" \
	>"$O/relay-256m.log" 2>&1 || echo "relay 256M failed: see $O/relay-256m.log"
python3 "$(dirname "$0")/steal-fit.py" "$O"/*/results.jsonl | tee "$O/fit.txt"
