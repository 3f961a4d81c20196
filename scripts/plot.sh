#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Charts of a results directory: DIR/plots/throughput.png and cpu_per_gib.png,
# drawn by gnuplot from DIR/summary.csv.  Each chart is written to a
# temporary directory first and moved into place, so none is half-written.
set -euo pipefail
dir=${1:?usage: scripts/plot.sh RESULTS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -s "$dir/summary.csv" ] || { echo "plot: $dir/summary.csv is missing or empty: run copylab first" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot is not installed (make deps installs gnuplot-nox)" >&2; exit 1; }
[ "$(wc -l < "$dir/summary.csv")" -gt 1 ] || { echo "plot: $dir/summary.csv has no rows" >&2; exit 1; }

cpu=$(jq -r '.cpu_model // "unknown CPU"' "$dir/env.json" 2>/dev/null || echo "unknown CPU")
kernel=$(jq -r '.kernel.release // "unknown kernel"' "$dir/env.json" 2>/dev/null || echo "unknown kernel")
cores=$(jq -r '.cpus_online // "?"' "$dir/env.json" 2>/dev/null || echo "?")
title="$(basename "$dir"): $cpu, $cores CPUs, Linux $kernel"

tmp=$(mktemp -d "$dir/.plots.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gnuplot -e "datafile='$dir/summary.csv'; outdir='$tmp'; title='${title//\'/}'" "$here/plot/summary.gp"
mkdir -p "$dir/plots"
for f in "$tmp"/*.png; do mv -f "$f" "$dir/plots/"; done
echo "plots: $dir/plots/ (throughput.png, cpu_per_gib.png)"
