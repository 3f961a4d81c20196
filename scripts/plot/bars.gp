# SPDX-License-Identifier: MIT
# Bars with min..max error bars, one colour per strategy, grouped (by
# transport, or by scenario in the overview).  copylab plot writes the data
# (columns: x, median, min, max, colour as 0xRRGGBB, value label) and a vars
# file that sets: datafile, outbase, formats, scripts, width, height, title,
# ylabel, xlabel, xlabel_drop (lines to move the x label down, below
# multi-line group labels), names and colors (the legend, one word each),
# show_values, and the x tics (group labels at group centres).
set datafile separator "\t"
set style fill solid 0.85 border rgb '#404040'
set boxwidth 0.85
set grid ytics lc rgb '#d0d0d0'
set key outside right top vertical Left reverse noautotitle
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xrange [0:*]
set tics nomirror
set border 3
set xtics scale 0
set ylabel ylabel
set xlabel xlabel offset 0, -xlabel_drop
set title title
set bmargin 6
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot datafile using 1:2:5 with boxes lc rgb variable, \
	     '' using 1:3:(0):($4-$3) with vectors heads size screen 0.004,90 lc rgb '#202020' lw 1.2, \
	     '' using 1:($4):(show_values ? stringcolumn(6) : '') with labels offset 0,0.7 font ',8', \
	     for [i=1:words(names)] NaN with boxes lc rgb word(colors, i) title word(names, i)
	unset output
}
