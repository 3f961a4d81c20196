#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs `copylab claims` twice, back to back, with the same options, and
# prints claim by claim the two verdicts and whether they agree: a verdict
# that flips between two runs on one quiet machine was not measured, it
# was drawn.  Exit 0 when every claim agrees, 1 otherwise, 2 bad usage.
#
# usage: scripts/claims-stability.sh [--dir DIR] [copylab claims options]
#   --dir   where the two runs go, DIR/run1 and DIR/run2;
#           default results/claims-stability-<UTC time>
#   other options (--quick, --size, --reps, --transport) go to both runs;
#   --out is the script's to choose.
# Needs jq.  COPYLAB: the binary (default ./copylab of this tree).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
copylab=${COPYLAB:-$root/copylab}
dir=""
pass=()

usage() { sed -n '8,13s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=${2:?--dir needs a value}; shift 2 ;;
	--out|--out=*) echo "claims-stability: --out is chosen here (see --dir)" >&2; exit 2 ;;
	-h|--help) usage; exit 0 ;;
	*) pass+=("$1"); shift ;;
	esac
done
command -v jq >/dev/null || { echo "claims-stability: needs jq" >&2; exit 2; }
[ -x "$copylab" ] || { echo "claims-stability: no copylab at $copylab (make, or set COPYLAB)" >&2; exit 2; }
[ -n "$dir" ] || dir=$root/results/claims-stability-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$dir" || exit 1

for run in run1 run2; do
	echo "claims-stability: copylab claims ${pass[*]} --out $dir/$run" >&2
	"$copylab" claims "${pass[@]}" --out "$dir/$run" >"$dir/$run.out" 2>"$dir/$run.err"
	rc=$?
	# A failed cell still leaves a ledger; only a run without one cannot be compared.
	if [ ! -s "$dir/$run/claims.json" ]; then
		echo "claims-stability: $run wrote no claims.json (exit $rc); see $dir/$run.err" >&2
		exit 1
	fi
	[ "$rc" -eq 0 ] || echo "claims-stability: $run exited $rc (a cell failed; see $dir/$run.err)" >&2
done

# id, then each run's verdict and repetitions, in the first ledger's order.
pairs() {
	jq -rn --slurpfile a "$dir/run1/claims.json" --slurpfile b "$dir/run2/claims.json" '
		($b[0].claims | map({(.id): .}) | add) as $two
		| $a[0].claims[]
		| [.id, .verdict, (.repetitions | tostring),
		   ($two[.id].verdict // "absent"), (($two[.id].repetitions // 0) | tostring)]
		| @tsv'
}
differ=0 total=0
printf '%-28s  %-34s  %-34s  %s\n' claim "run 1" "run 2" agree
while IFS=$'\t' read -r id v1 r1 v2 r2; do
	total=$((total + 1))
	# Agreement is of the verdict; the repetitions it took are shown, not compared.
	same=yes
	[ "$v1" = "$v2" ] || { same=NO; differ=$((differ + 1)); }
	[ "$v1" = "no difference measured" ] && v1="$v1 at $r1"
	[ "$v2" = "no difference measured" ] && v2="$v2 at $r2"
	printf '%-28s  %-34s  %-34s  %s\n' "$id" "$v1" "$v2" "$same"
done < <(pairs)
echo "claims-stability: $((total - differ)) of $total claims agree; ledgers in $dir/run1 and $dir/run2"
[ "$differ" -eq 0 ] && [ "$total" -gt 0 ]
