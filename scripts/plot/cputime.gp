# SPDX-License-Identifier: MIT
# Where each role's CPU went, per GiB moved: a panel per role (the one
# under test first), a bar per strategy, the sampler's groups stacked in
# their order (copying at the bottom), getrusage's CPU as a dot beside the
# sampled total.  All panels share one y range, so the roles compare.
# Data: a block per role (index 0, 1, ...), columns: x, strategy, the
# ngroups groups in s/GiB, the sampled total, getrusage's user + system
# (NaN = not measured).  The vars file sets datafile, outbase, formats,
# scripts, width, height, title, the x range and tics, key_role (the
# panel with the legend), ngroups, group_title_G and
# group_color_G, nroles, role_title_R, role_have_R, role_note_R and ymax.
set datafile separator "\t"
set style fill solid 0.9 border rgb '#404040'
set boxwidth 0.6
set grid ytics lc rgb '#d0d0d0'
set tics nomirror
set border 3
set xtics scale 0 font ',9' rotate by -20 left
set yrange [0:ymax]
set ylabel 'CPU s per GiB moved'
# the legend in the right margin of the first panel; every panel keeps that margin, so they line up
set rmargin at screen 0.74
group_title(g) = value(sprintf('group_title_%d', g))
group_color(g) = value(sprintf('group_color_%d', g))
role_value(name, r) = value(sprintf('%s_%d', name, r))
# the value label goes above the dot when getrusage's CPU is the higher (NaN > x is false)
top(sampled, rusage) = rusage > sampled ? rusage : sampled
do for [fmt in formats] {
	load scripts.'/term.gp'
	set multiplot layout nroles, 1 title title
	do for [r=1:nroles] {
		set title role_value('role_title', r)
		if (r == key_role) {
			set key outside right top vertical Left reverse font ',9'
		} else {
			set key off
		}
		if (role_value('role_have', r)) {
			plot for [g=ngroups:1:-1] datafile index (r-1) using 1:(sum [k=1:g] column(2+k)) \
				with boxes lc rgb group_color(g) title group_title(g), \
			     '' index (r-1) using 1:(column(ngroups+4)) with points pt 7 ps 1.1 lc rgb '#000000' \
				title 'getrusage: user + system', \
			     '' index (r-1) using 1:(top(column(ngroups+3), column(ngroups+4))):(sprintf('%.3f', column(ngroups+3))) \
				with labels offset 0,0.7 font ',8' notitle
		} else {
			set label 99 sprintf("not measured in these records:\n%s", role_value('role_note', r)) \
				at graph 0.5, graph 0.5 center font ',10' tc rgb '#a00000'
			plot -1 notitle
			unset label 99
		}
	}
	unset multiplot
	unset output
}
