# SPDX-License-Identifier: MIT
# Round-trip latency (echo, open loop: --rps, --sweep rps=) against the
# offered load, log-log: per strategy (colour) p50 (solid), p99 (dashed)
# and p99.9 (dotted), each the median over the reps of that rep's
# percentile.  A p99 drawn with a ring is at a load the client could not
# offer (the replies came back at under 90% of it): its latency holds the
# client's lateness too.  Data columns: offered requests/s, its label,
# then per strategy p50, p99, p99.9 and the ringed p99 (NaN where the load
# was offered).  The vars file sets datafile, outbase, formats, scripts,
# width, height, title, nstrat, names and colors (one word per strategy),
# rings (how many ringed points), xmin, xmax, ymin, ymax.
set datafile separator "\t"
set grid xtics ytics mytics lc rgb '#d0d0d0', lc rgb '#ececec'
set logscale x 2
set logscale y 10
set xrange [xmin:xmax]
set yrange [ymin:ymax]
set format y '%g'
set tics nomirror
set border 3
set xtics font ',9' rotate by -30 left
set xlabel 'offered load (requests per second, open loop, log scale)'
set ylabel 'round-trip time from the scheduled send (µs, log scale)'
set key outside bottom center horizontal maxrows 2 width 2 samplen 3
do for [fmt in formats] {
	load scripts.'/term.gp'
	set title title
	plot for [i=0:nstrat-1] datafile using 1:(column(3+4*i)):xtic(2) \
		with linespoints lw 2.2 dt 1 pt 7 ps 0.9 lc rgb word(colors, i+1) notitle, \
	     for [i=0:nstrat-1] '' using 1:(column(4+4*i)) \
		with linespoints lw 1.6 dt 2 pt 5 ps 0.7 lc rgb word(colors, i+1) notitle, \
	     for [i=0:nstrat-1] '' using 1:(column(5+4*i)) \
		with linespoints lw 1.4 dt 3 pt 9 ps 0.8 lc rgb word(colors, i+1) notitle, \
	     for [i=0:nstrat-1] '' using 1:(column(6+4*i)) \
		with points pt 6 ps 3 lw 2 lc rgb '#c00000' notitle, \
	     for [i=1:nstrat] NaN with lines lw 6 lc rgb word(colors, i) title word(names, i), \
	     NaN with linespoints lw 2 dt 1 pt 7 lc rgb '#404040' title 'p50', \
	     NaN with linespoints lw 2 dt 2 pt 5 lc rgb '#404040' title 'p99', \
	     NaN with linespoints lw 2 dt 3 pt 9 lc rgb '#404040' title 'p99.9', \
	     NaN with points pt 6 ps 2 lw 2 lc rgb '#c00000' title (rings ? 'load not offered (achieved < 90%)' : '')
	unset output
}
