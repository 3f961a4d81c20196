# SPDX-License-Identifier: MIT
# CPU seconds per GiB by role, system and user stacked, one group of bars
# per strategy (a bar per role).  Data columns: x, strategy, role label,
# user s/GiB, system s/GiB, total s/GiB.  The vars file sets datafile,
# outbase, formats, scripts, width, height, title, and labels the groups.
set datafile separator "\t"
set style fill solid 0.9 border rgb '#404040'
set boxwidth 0.8
set grid ytics lc rgb '#d0d0d0'
set key outside right top vertical Left reverse
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xrange [0:*]
set tics nomirror
set border 3
set xtics scale 0 font ',9'
set ylabel 'CPU seconds per GiB moved (median over reps)'
set title title
set bmargin 7
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot datafile using 1:6:xtic(3) with boxes lc rgb '#9ecae1' title 'user', \
	     '' using 1:5 with boxes lc rgb '#2b6cb0' title 'system (kernel)', \
	     '' using 1:6:(sprintf('%.3f', $6)) with labels offset 0,0.7 font ',8' notitle
	unset output
}
