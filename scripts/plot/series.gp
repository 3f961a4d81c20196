# SPDX-License-Identifier: MIT
# --interval's series of one cell: above, the receiving side's throughput
# in each interval (MB/s); below, each role's CPU in each interval as a
# share of one CPU (user + system from /proc/PID/stat, 10 ms ticks, so a
# short interval's share is coarse).  A NaN is a gap: an interval whose
# figure could not be read, drawn as a break, never as a zero.  The data:
# t_s (the interval's end after the release), mbps, then one column per
# role.  The vars file sets datafile, outbase, formats, scripts, width,
# height, title, color (the strategy's), nroles and roles (one word each).
set datafile separator "\t"
set grid xtics ytics lc rgb '#d0d0d0'
set tics nomirror
set border 3
set key top right
do for [fmt in formats] {
	load scripts.'/term.gp'
	set multiplot layout 2,1 title title
	set xlabel ''
	set ylabel 'throughput (MB/s)'
	set yrange [0:*]
	plot datafile using 1:2 skip 1 with linespoints lw 2 pt 7 ps 0.5 lc rgb color title 'bytes received per interval / its length'
	set xlabel 'time since the barrier''s release (s)'
	set ylabel 'CPU (share of one CPU)'
	set yrange [0:*]
	plot for [r=1:nroles] datafile using 1:(column(2+r)) skip 1 with linespoints lw 1.6 pt 7 ps 0.4 title word(roles, r)
	unset multiplot
	unset output
}
