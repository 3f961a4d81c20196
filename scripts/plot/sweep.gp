# SPDX-License-Identifier: MIT
# A sweep (block size or transfer size): throughput and CPU per GiB of the
# role under test against the swept value, log axes, a line per strategy.
# Data columns: value (bytes), its label, then per strategy four columns:
# median MB/s, min, max, CPU s/GiB; the header names the strategies.  The
# vars file sets datafile, outbase, formats, scripts, width, height, title,
# xlabel, nstrat, colors.
set datafile separator "\t"
set grid xtics ytics lc rgb '#d0d0d0'
set logscale x 2
set logscale y 10
set tics nomirror
set border 3
set offsets graph 0.03, graph 0.03, 0, 0
set xtics font ',9' rotate by -30 left
set key outside bottom center horizontal
set xlabel xlabel
do for [fmt in formats] {
	load scripts.'/term.gp'
	set multiplot layout 1,2 title title
	set ylabel 'throughput (MB/s, median; bars min..max)'
	set title 'throughput'
	plot for [i=0:nstrat-1] datafile using 1:(column(3+4*i)):(column(4+4*i)):(column(5+4*i)):xtic(2) \
		with yerrorlines lw 2 pt 7 ps 0.8 lc rgb word(colors, i+1) title columnheader(3+4*i)
	set ylabel 'CPU seconds per GiB (user + system, median)'
	set title 'CPU of the role under test per GiB'
	plot for [i=0:nstrat-1] datafile using 1:(column(6+4*i)):xtic(2) \
		with linespoints lw 2 pt 7 ps 0.8 lc rgb word(colors, i+1) title columnheader(3+4*i)
	unset multiplot
	unset output
}
