# SPDX-License-Identifier: MIT
# The copy ledger of the role under test, per GiB moved, in four panels:
# bytes that crossed user memory vs bytes moved inside the kernel (BPF),
# syscalls, context switches, page faults.  Data columns: x, strategy,
# colour, GiB through user memory, GiB in kernel, syscalls, context
# switches, page faults (all per GiB of the cell's bytes; NaN = not
# measured).  The vars file sets datafile, outbase, formats, scripts, width,
# height, title, have_bpf, bpf_note, syscall_label and the x tics.
set datafile separator "\t"
set style fill solid 0.85 border rgb '#404040'
set grid ytics lc rgb '#d0d0d0'
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.12, 0
set tics nomirror
set border 3
set xtics scale 0 font ',9' rotate by -25 left
do for [fmt in formats] {
	load scripts.'/term.gp'
	set multiplot layout 2,2 title title
	set key top right
	set title 'bytes copied per GiB moved'
	set ylabel 'GiB per GiB moved'
	if (have_bpf) {
		set offsets 0.5, 0.5, graph 0.35, 0
		set boxwidth 0.35
		plot datafile using ($1-0.18):4 with boxes lc rgb '#d95f02' title 'through user memory (to + from user)', \
		     '' using ($1+0.18):5 with boxes lc rgb '#1b9e77' title 'inside the kernel (splice family)', \
		     '' using ($1-0.18):4:(sprintf('%.2f', $4)) with labels offset 0,0.6 font ',8' notitle, \
		     '' using ($1+0.18):5:(sprintf('%.2f', $5)) with labels offset 0,0.6 font ',8' notitle
	} else {
		set label 99 "not measured in these records:\n".bpf_note at graph 0.5, graph 0.5 center font ',10' tc rgb '#a00000'
		set yrange [0:1]
		set ytics format ''
		plot -1 notitle
		set yrange [0:*]
		set ytics format '% h'
		unset label 99
	}
	set key off
	set offsets 0.5, 0.5, graph 0.12, 0
	set boxwidth 0.7
	set title syscall_label
	set ylabel 'per GiB moved'
	plot datafile using 1:6:3 with boxes lc rgb variable, '' using 1:6:(sprintf('%.0f', $6)) with labels offset 0,0.6 font ',8'
	set title 'context switches (voluntary + involuntary)'
	plot datafile using 1:7:3 with boxes lc rgb variable, '' using 1:7:(sprintf('%.0f', $7)) with labels offset 0,0.6 font ',8'
	set title 'page faults (minor + major)'
	plot datafile using 1:8:3 with boxes lc rgb variable, '' using 1:8:(sprintf('%.0f', $8)) with labels offset 0,0.6 font ',8'
	unset multiplot
	unset output
}
