# SPDX-License-Identifier: MIT
# The copy ledger of the role under test, per GiB moved, in five panels:
# above, bytes that crossed user memory vs bytes moved inside the kernel
# (the ledger, BPF or tracer) and the time the copies took, sampled in the
# copy routines beside the range memcpy's measured rates predict for the
# bytes through user memory; below, syscalls, context switches, page
# faults.  Data columns: x, strategy, colour, GiB through user memory, GiB
# in kernel, syscalls, context switches, page faults, copy s sampled,
# copy s predicted with data in cache, from memory (all per GiB of the
# cell's bytes; NaN = not measured), and 1 where the ledger's instrument
# did not see the strategy's data path (its bytes are NaN, not 0).  The vars file sets datafile,
# outbase, formats, scripts, width, height, title, have_bytes, bytes_title,
# bytes_note, unseen_label, have_copy, have_predicted, copy_note, syscall_label and the
# x tics.  A panel without figures says why (the notes) instead of bars.
# The "not seen" labels are empty strings where seen, never NaN: gnuplot
# 5.4 (Debian 12) crashes on a labels plot whose every point is NaN when
# the file has one row.
set datafile separator "\t"
set style fill solid 0.85 border rgb '#404040'
set grid ytics lc rgb '#d0d0d0'
set yrange [0:*]
set tics nomirror
set border 3
set xtics scale 0 font ',9' rotate by -25 left

# A panel that has nothing to draw: the reason, in red, on empty axes.
not_measured(why) = sprintf("not measured in these records:\n%s", why)
empty_panel = "set yrange [0:1]; set ytics format ''; plot -1 notitle; set yrange [0:*]; set ytics format '% h'; unset label 99"

do for [fmt in formats] {
	load scripts.'/term.gp'
	# no layout: two wide panels above three, under the title's three lines
	set multiplot title title
	set size 0.5, 0.46
	set origin 0, 0.45
	set key top right
	set title bytes_title
	set ylabel 'GiB per GiB moved'
	if (have_bytes) {
		set offsets 0.5, 0.5, graph 0.35, 0
		set boxwidth 0.35
		plot datafile using ($1-0.18):4 with boxes lc rgb '#d95f02' title 'through user memory (to + from user)', \
		     '' using ($1+0.18):5 with boxes lc rgb '#1b9e77' title 'inside the kernel (splice family)', \
		     '' using ($1-0.18):4:(sprintf('%.2f', $4)) with labels offset 0,0.6 font ',8' notitle, \
		     '' using ($1+0.18):5:(sprintf('%.2f', $5)) with labels offset 0,0.6 font ',8' notitle, \
		     '' using 1:(0):($12 > 0 ? unseen_label : '') with labels offset 0,1.5 font ',8' tc rgb '#a00000' notitle
	} else {
		set label 99 not_measured(bytes_note) at graph 0.5, graph 0.5 center font ',10' tc rgb '#a00000'
		eval empty_panel
	}
	set origin 0.5, 0.45
	set title 'copy time per GiB moved: sampled vs predicted'
	set ylabel 'CPU seconds per GiB moved'
	if (have_copy) {
		set offsets 0.5, 0.5, graph 0.35, 0
		set boxwidth 0.35
		if (have_predicted) {
			plot datafile using ($1-0.18):9 with boxes lc rgb '#c0392b' title 'sampled in the copy routines (cputime.copy_s)', \
			     '' using ($1+0.18):(($10+$11)/2):(0.16):(abs($11-$10)/2) with boxxyerror fs solid 0.35 \
				lc rgb '#5a4fa8' title 'predicted: memcpy at its rate in cache .. from memory', \
			     '' using ($1-0.18):9:(sprintf('%.3f', $9)) with labels offset 0,0.6 font ',8' notitle, \
			     '' using ($1+0.18):(($10 > $11) ? $10 : $11):($11 > 0 ? sprintf('%.3f..%.3f', $10, $11) : '') \
				with labels offset 0,0.6 font ',7' notitle
		} else {
			plot datafile using ($1-0.18):9 with boxes lc rgb '#c0392b' title 'sampled in the copy routines (cputime.copy_s); predicted: no memcpy calibration', \
			     '' using ($1-0.18):9:(sprintf('%.3f', $9)) with labels offset 0,0.6 font ',8' notitle
		}
	} else {
		set label 99 not_measured(copy_note) at graph 0.5, graph 0.5 center font ',10' tc rgb '#a00000'
		eval empty_panel
	}
	set key off
	set offsets 0.5, 0.5, graph 0.12, 0
	set boxwidth 0.7
	set size 0.333, 0.45
	set origin 0, 0
	set title syscall_label
	set ylabel 'per GiB moved'
	plot datafile using 1:6:3 with boxes lc rgb variable, '' using 1:6:(sprintf('%.0f', $6)) with labels offset 0,0.6 font ',8'
	set origin 0.333, 0
	set title 'context switches (voluntary + involuntary)'
	plot datafile using 1:7:3 with boxes lc rgb variable, '' using 1:7:(sprintf('%.0f', $7)) with labels offset 0,0.6 font ',8'
	set origin 0.666, 0
	set title 'page faults (minor + major)'
	plot datafile using 1:8:3 with boxes lc rgb variable, '' using 1:8:(sprintf('%.0f', $8)) with labels offset 0,0.6 font ',8'
	unset multiplot
	unset output
}
