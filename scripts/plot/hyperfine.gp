# SPDX-License-Identifier: MIT
# scripts/hyperfine-copy.sh: per command, the throughput hyperfine measured
# (size / mean time of `copylab copy` or cp) beside the harness's median for
# the same strategy, labelled with their ratio.  Data columns: x, command,
# hyperfine MB/s, harness MB/s (NaN for cp), ratio harness/hyperfine.
# Set on the command line: datafile, outbase, formats, scripts, width,
# height, title.
set datafile separator "\t"
set style fill solid 0.85 border rgb '#404040'
set boxwidth 0.38
set grid ytics lc rgb '#d0d0d0'
set key outside right top vertical Left reverse
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.12, 0
set tics nomirror
set border 3
set xtics scale 0
set ylabel 'throughput (MB/s, 1 MB = 10^6 bytes)'
set xlabel 'copy strategy (cp: coreutils, timed by hyperfine only)'
set title title
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot datafile using ($1-0.2):3:xtic(2) with boxes lc rgb '#7f7f7f' title 'hyperfine: size / mean time of the command', \
	     '' using ($1+0.2):4 with boxes lc rgb '#3a78b5' title 'harness: copy scenario, median', \
	     '' using ($1+0.2):4:(stringcolumn(5) eq '-' ? '' : 'x'.stringcolumn(5)) with labels offset 0,0.7 font ',9' notitle, \
	     '' using ($1-0.2):3:(sprintf('%.0f', $3)) with labels offset 0,0.7 font ',8' tc rgb '#505050' notitle
	unset output
}
