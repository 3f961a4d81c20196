# SPDX-License-Identifier: MIT
# Efficiency: throughput against the CPU the role under test spent per GiB,
# one labelled point per strategy (up and to the left is better).  The
# data has one block per transport (two blank lines between): strategy,
# CPU s/GiB, MB/s, colour.  The vars file sets datafile, outbase, formats,
# scripts, width, height, title, transports (one word each).
set datafile separator "\t"
set grid lc rgb '#d0d0d0'
set xrange [0:*]
set yrange [0:*]
set offsets 0, graph 0.15, graph 0.12, 0
set tics nomirror
set border 3
set key outside right top vertical Left reverse
set xlabel 'CPU seconds per GiB of the role under test (user + system, median)'
set ylabel 'throughput (MB/s, median)'
set title title
do for [fmt in formats] {
	load scripts.'/term.gp'
	plot for [i=0:words(transports)-1] datafile index i using 2:3:4 with points pt (7+2*i) ps 2 lc rgb variable notitle, \
	     for [i=0:words(transports)-1] NaN with points pt (7+2*i) ps 2 lc rgb '#404040' title 'transport '.word(transports, i+1), \
	     for [i=0:words(transports)-1] datafile index i using 2:3:1 with labels offset 0,1.3 font ',9' notitle
	unset output
}
