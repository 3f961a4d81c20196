# SPDX-License-Identifier: MIT
# Two runs compared cell by cell: B/A of the median throughput and of the
# CPU per GiB of the role under test (1 = no change), each with its
# interval from the two runs' repetitions as whiskers.  Data columns: x,
# cell label, throughput ratio, CPU ratio, throughput interval lo and hi,
# CPU interval lo and hi.  The vars file sets datafile, outbase, formats,
# scripts, width, height, title, and the x tics: one label per cell, at the
# middle of its pair of bars (a label from the data too drew each twice,
# the second off to the left).
set datafile separator "\t"
set style fill solid 0.85 border rgb '#404040'
set boxwidth 0.38
set grid ytics lc rgb '#d0d0d0'
set key outside right top vertical Left reverse
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.1, 0
set tics nomirror
set border 3
set xtics scale 0 font ',9' rotate by -35 left
set ylabel 'ratio B / A (1 = same)'
set title title
set bmargin 10
top(v, hi) = hi == hi ? hi : v
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot datafile using ($1-0.2):3 with boxes lc rgb '#3a78b5' title 'throughput B/A (higher: B faster)', \
	     '' using ($1+0.2):4 with boxes lc rgb '#c0504d' title 'CPU per GiB B/A (lower: B cheaper)', \
	     '' using ($1-0.2):3:5:6 with yerrorbars lc rgb '#202020' pt 0 title 'interval (95%, or what the reps allow)', \
	     '' using ($1+0.2):4:7:8 with yerrorbars lc rgb '#202020' pt 0 notitle, \
	     '' using ($1-0.2):(top($3, $6)):(sprintf('%.3g', $3)) with labels offset 0,0.6 font ',8' notitle, \
	     '' using ($1+0.2):(top($4, $8)):(sprintf('%.3g', $4)) with labels offset 0,0.6 font ',8' notitle, \
	     1 with lines lc rgb '#202020' dt 2 title 'no change'
	unset output
}
