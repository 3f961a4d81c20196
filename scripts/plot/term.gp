# SPDX-License-Identifier: MIT
# The output of one chart in one format, loaded by every chart script inside
# its `do for [fmt in formats]` loop.  Needs fmt, width, height, outbase.
# noenhanced: strategy names have underscores, which enhanced text would
# turn into subscripts.
if (fmt eq 'svg') {
	set terminal svg size width,height dynamic font 'DejaVu Sans,11' background rgb 'white'
} else {
	set terminal pngcairo size width,height font 'DejaVu Sans,10' background rgb 'white'
}
set termoption noenhanced
set output outbase.'.'.fmt
