# SPDX-License-Identifier: MIT
# Two charts from a run's summary: throughput by cell (median bars, min..max
# error bars) and the tested role's CPU seconds per GiB.  Called by
# scripts/plot.sh with: datafile, outdir, title (machine and run).
set datafile separator ','
set key off
set style data histograms
set style fill solid 0.7 border -1
set boxwidth 0.8
set grid ytics
set xtics rotate by -40 left font ',9'
set bmargin 9
set yrange [0:*]
set termoption noenhanced

set terminal pngcairo size 1400,650 font 'DejaVu Sans,10' noenhanced
set output outdir.'/throughput.png'
set title 'Throughput by scenario and strategy (median of counted reps; bars: min..max)'."\n".title
set ylabel 'throughput (MB/s, 1 MB = 1,000,000 bytes)'
set style histogram errorbars gap 1 lw 1
plot datafile skip 1 using ($8/1e6):($9/1e6):($10/1e6):xtic(stringcolumn(1).' '.stringcolumn(2).' '.stringcolumn(5)) lc rgb '#3a78b5'

set output outdir.'/cpu_per_gib.png'
set title 'CPU of the role under test per GiB moved (user + system, median)'."\n".title
set ylabel 'CPU seconds per GiB'
set style histogram clustered gap 1
plot datafile skip 1 using 13:xtic(stringcolumn(1).' '.stringcolumn(12).' '.stringcolumn(5)) lc rgb '#c0504d'
