# SPDX-License-Identifier: MIT
# Round-trip latency (echo) against the message size, log-log: per
# strategy (colour) p50 (solid), p99 (dashed) and p99.9 (dotted), each the
# median over the reps of that rep's percentile.  One panel per number of
# messages outstanding (1, and the largest of the run).  The data has one
# block per panel (two blank lines between): message bytes, its label, then
# p50, p99, p99.9 in µs per strategy (NaN = not measured).  The vars file
# sets datafile, outbase, formats, scripts, width, height, title, nstrat,
# names and colors (one word per strategy), npanels, out1/out2 (the
# outstanding of each panel), has1/has2, xmin, xmax, ymin, ymax.
set datafile separator "\t"
set grid xtics ytics mytics lc rgb '#d0d0d0', lc rgb '#ececec'
set logscale x 2
set logscale y 10
set xrange [xmin:xmax]
set yrange [ymin:ymax]	# the same in both panels
set format y '%g'
set tics nomirror
set border 3
set xtics font ',9'
set xlabel 'message size (bytes per request and per reply, log scale)'
set ylabel 'round-trip time (µs, log scale)'
# one legend for both panels, centred under them
set key at screen 0.5, screen 0.015 center bottom horizontal maxrows 1 width 2 samplen 3
set bmargin 7
panel_title(o) = o == 1 ? '1 outstanding: one message in flight, request then reply' : sprintf('%d outstanding: %d messages in flight at once', o, o)
do for [fmt in formats] {
	load scripts.'/term.gp'
	set multiplot layout 1,npanels title title
	do for [k=1:npanels] {
		o = k == 1 ? out1 : out2
		has = k == 1 ? has1 : has2
		set title panel_title(o)
		if (k == 1) { set key } else { unset key }
		if (has) {
			plot for [i=0:nstrat-1] datafile index (k-1) using 1:(column(3+3*i)):xtic(2) \
				with linespoints lw 2.2 dt 1 pt 7 ps 0.9 lc rgb word(colors, i+1) notitle, \
			     for [i=0:nstrat-1] '' index (k-1) using 1:(column(4+3*i)) \
				with linespoints lw 1.6 dt 2 pt 5 ps 0.7 lc rgb word(colors, i+1) notitle, \
			     for [i=0:nstrat-1] '' index (k-1) using 1:(column(5+3*i)) \
				with linespoints lw 1.4 dt 3 pt 9 ps 0.8 lc rgb word(colors, i+1) notitle, \
			     for [i=1:nstrat] NaN with lines lw 6 lc rgb word(colors, i) title word(names, i), \
			     NaN with linespoints lw 2 dt 1 pt 7 lc rgb '#404040' title 'p50', \
			     NaN with linespoints lw 2 dt 2 pt 5 lc rgb '#404040' title 'p99', \
			     NaN with linespoints lw 2 dt 3 pt 9 lc rgb '#404040' title 'p99.9'
		} else {
			set label 99 'not measured' at graph 0.5, graph 0.5 center tc rgb '#a00000'
			plot NaN notitle
			unset label 99
		}
	}
	unset multiplot
	unset output
}
