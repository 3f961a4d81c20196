# SPDX-License-Identifier: MIT
# Two runs compared cell by cell: B/A of the median throughput and of the
# CPU per GiB of the role under test (1 = no change).  Data columns: x,
# cell label, throughput ratio, CPU ratio.  The vars file sets datafile,
# outbase, formats, scripts, width, height, title.
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
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot datafile using ($1-0.2):3:xtic(2) with boxes lc rgb '#3a78b5' title 'throughput B/A (higher: B faster)', \
	     '' using ($1+0.2):4 with boxes lc rgb '#c0504d' title 'CPU per GiB B/A (lower: B cheaper)', \
	     '' using ($1-0.2):3:(sprintf('%.2f', $3)) with labels offset 0,0.6 font ',8' notitle, \
	     '' using ($1+0.2):4:(sprintf('%.2f', $4)) with labels offset 0,0.6 font ',8' notitle, \
	     1 with lines lc rgb '#202020' dt 2 title 'no change'
	unset output
}
