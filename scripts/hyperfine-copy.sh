#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Times `copylab copy` with every copy strategy, and coreutils cp, on the
# same files with hyperfine; runs the harness's own copy scenario on the same
# size and block; prints the ratio of the harness's throughput to
# hyperfine's (size / mean time) per strategy, and plots both.  A ratio near
# 1 says the harness measures what a user of the real command would see.
#
# usage: scripts/hyperfine-copy.sh [--sizes 256M,1G] [--runs N] [--block 1M]
#                                  [--dir /var/tmp] [--out DIR]
#   --sizes   file sizes (K/M/G are powers of 1024); default 256M,1G
#   --runs    timed runs per command, and harness repetitions; default 10
#   --block   bytes per call for copylab copy and the harness; default 1M
#   --dir     where the files go (one filesystem); default /var/tmp
#   --out     results directory; default results/hyperfine-<UTC time>
# Needs hyperfine (Debian package hyperfine), jq and gnuplot.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
copylab=${COPYLAB:-$root/copylab}
sizes=256M,1G runs=10 block=1M dir=/var/tmp out=""

usage() { sed -n '9,15s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=${2:?--sizes needs a value}; shift 2 ;;
	--runs) runs=${2:?--runs needs a value}; shift 2 ;;
	--block) block=${2:?--block needs a value}; shift 2 ;;
	--dir) dir=${2:?--dir needs a value}; shift 2 ;;
	--out) out=${2:?--out needs a value}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "hyperfine-copy: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for tool in hyperfine jq gnuplot; do
	command -v "$tool" >/dev/null || { echo "hyperfine-copy: $tool is not installed (apt-get install $tool; make deps)" >&2; exit 1; }
done
[ -x "$copylab" ] || { echo "hyperfine-copy: $copylab is not built (run make)" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "hyperfine-copy: --runs: '$runs' is not a positive number" >&2; exit 2; }

bytes_of() {	# 256M -> 268435456
	local n=${1%[KMGkmg]} u=${1##*[0-9]}
	[[ $n =~ ^[0-9]+$ ]] || { echo "hyperfine-copy: '$1' is not a size (e.g. 256M)" >&2; exit 2; }
	case $u in
	K|k) echo $((n << 10)) ;; M|m) echo $((n << 20)) ;; G|g) echo $((n << 30)) ;;
	"$1") echo "$n" ;; *) echo "hyperfine-copy: '$1': unknown unit" >&2; exit 2 ;;
	esac
}
block_bytes=$(bytes_of "$block")

out=${out:-$root/results/hyperfine-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
work=$(mktemp -d "$dir/copylab-hyperfine.XXXXXX")
trap 'rm -rf "$work"' EXIT

mapfile -t strategies < <("$copylab" list --json | jq -r '.strategies[] | select(.scenarios.copy.ok) | .name')
[ ${#strategies[@]} -gt 0 ] || { echo "hyperfine-copy: copylab list shows no copy strategy" >&2; exit 1; }
fs=$(stat -f -c %T "$dir")
cpv=$(cp --version | head -n 1)
echo "hyperfine-copy: ${strategies[*]} and cp ($cpv) in $dir ($fs), block $block, $runs runs; results in $out"

summary=$out/ratios.tsv
printf 'size\tbytes\tcommand\thyperfine_mean_s\thyperfine_stddev_s\thyperfine_mb_s\tharness_mb_s\tratio_harness_to_hyperfine\n' >"$summary"

IFS=, read -r -a size_list <<<"$sizes"
for size in "${size_list[@]}"; do
	n=$(bytes_of "$size")
	src=$work/src-$size dst=$work/dst-$size
	# Any bytes will do for a copy, but written as the harness writes its
	# source (64 MiB writes): the page cache then holds it in large folios.
	# Written in small writes (head -c alone), the same file copies up to
	# 1.5x slower and mmap_write takes 16 times the page faults, whatever
	# the copier: the source's history is part of the measurement.
	head -c "$n" /dev/urandom | dd of="$src" bs=64M iflag=fullblock status=none

	cmds=()
	for s in "${strategies[@]}"; do
		cmds+=(-n "$s" "$copylab copy --strategy $s --block $block $src $dst")
	done
	cmds+=(-n cp "cp $src $dst")
	# --prepare removes the last copy outside the timed command: freeing its
	# page cache is not part of the copy (the harness truncates before its window).
	hyperfine --style basic --warmup 2 --runs "$runs" --prepare "rm -f $dst" \
		--export-json "$out/hyperfine-$size.json" "${cmds[@]}" >"$out/hyperfine-$size.txt"

	# The harness: the same size and block, no probes (hyperfine has none).
	"$copylab" run --scenario copy --strategy all --size "$size" --block "$block" --reps "$runs" \
		--workdir "$dir" --no-bpf --no-perf --out "$out/harness-$size" >"$out/harness-$size.txt"

	for s in "${strategies[@]}" cp; do
		read -r mean sd < <(jq -r --arg s "$s" '.results[] | select(.command == $s) | "\(.mean) \(.stddev // 0)"' \
			"$out/hyperfine-$size.json")
		hmb=$(awk -v n="$n" -v t="$mean" 'BEGIN { printf "%.1f", n / t / 1e6 }')
		if [ "$s" = cp ]; then
			cmb="" ratio=""
		else
			cmb=$(awk -F, -v s="$s" -v b="$block_bytes" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
				$c["strategy"] == s && $c["block"] == b { printf "%.1f", $c["bytes_per_s_median"] / 1e6 }' \
				"$out/harness-$size/summary.csv")
			ratio=$(awk -v a="$cmb" -v b="$hmb" 'BEGIN { if (a != "" && b > 0) printf "%.3f", a / b }')
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$n" "$s" "$mean" "$sd" "$hmb" "$cmb" "$ratio" >>"$summary"
	done
	rm -f "$src" "$dst"
done

echo
echo "harness median throughput / hyperfine (size / mean time), per command:"
column -t -s $'\t' "$summary"

# The chart: per size, hyperfine's and the harness's MB/s side by side.
tmp=$(mktemp -d "$out/.plots.XXXXXX")
trap 'rm -rf "$work" "$tmp"' EXIT
machine=$(jq -r '"\(.cpu_model // "unknown CPU"), \(.cpus_online // "?") CPUs, Linux \(.kernel.release // "?")"' \
	"$out/harness-${size_list[0]}/env.json" 2>/dev/null || echo "unknown machine")
mkdir -p "$out/plots"
for size in "${size_list[@]}"; do
	awk -F'\t' -v s="$size" 'NR > 1 && $1 == s { print NR - 1 "\t" $3 "\t" $6 "\t" ($7 == "" ? "NaN" : $7) "\t" ($8 == "" ? "-" : $8) }' \
		"$summary" | awk -F'\t' '{ $1 = NR; print }' OFS='\t' >"$tmp/hyperfine-$size.dat"
	gnuplot -e "datafile='$tmp/hyperfine-$size.dat'; outbase='$tmp/hyperfine-$size'; formats='png svg'; \
		scripts='$here/plot'; width=1100; height=600; \
		title=\"copylab copy under hyperfine vs the harness's copy scenario: $size files, block $block, $runs runs each\\n$fs in $dir; ${machine//\"/}\"" \
		"$here/plot/hyperfine.gp"
	mv -f "$tmp/hyperfine-$size.png" "$tmp/hyperfine-$size.svg" "$tmp/hyperfine-$size.dat" "$out/plots/"
done
echo "plots: $out/plots/hyperfine-*.png"
