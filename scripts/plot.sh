#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Charts and report of a results directory, for `make bench`: runs
# `copylab plot DIR`, which draws DIR/plots/*.png and *.svg with gnuplot
# (scripts/plot/*.gp) and writes DIR/report.md and DIR/report.html.
# usage: scripts/plot.sh RESULTS_DIR [copylab plot options]
set -euo pipefail
dir=${1:?usage: scripts/plot.sh RESULTS_DIR [--format png,svg] [--no-report]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
copylab=${COPYLAB:-$root/copylab}
[ -x "$copylab" ] || { echo "plot: $copylab is not built (run make)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot is not installed (make deps installs gnuplot-nox)" >&2; exit 1; }
COPYLAB_SCRIPTS=${COPYLAB_SCRIPTS:-$root/scripts/plot} exec "$copylab" plot "$@" "$dir"
