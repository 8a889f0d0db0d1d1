# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Plots of scripts/bench.sh: gnuplot -e "dir='build/bench'" -e "title_env='...'"
# scripts/bench.gnuplot. Reads the .dat files bench.sh extracts from
# results.csv; writes classify.png and drop.png into dir.
if (!exists("dir")) dir = "build/bench"
if (!exists("title_env")) title_env = ""

set terminal pngcairo size 960,600 noenhanced font ",10"
set grid
set key top left

if (!exists("has_classify")) has_classify = 1
if (!exists("has_drop")) has_drop = 1
if (!exists("drop_paced")) drop_paced = ""

if (has_classify) {
set output dir."/classify.png"
set title "xfrmbpf XDP classification cost vs SPD size (BPF_PROG_TEST_RUN)\n".title_env
set logscale x
set xlabel "policies in the SPD"
set ylabel "ns per packet (median)"
set yrange [0:*]
set xrange [0.7:150000]
plot dir."/classify-miss-v4.dat"         using 1:2 with linespoints lw 2 title "flow-cache miss, IPv4", \
     dir."/classify-miss-v6.dat"         using 1:2 with linespoints lw 2 title "flow-cache miss, IPv6", \
     dir."/classify-hit-v4.dat"          using 1:2 with linespoints title "flow-cache hit, IPv4", \
     dir."/classify-hit-v6.dat"          using 1:2 with linespoints title "flow-cache hit, IPv6", \
     dir."/classify-floor_fib-v4.dat"    using 1:2 with linespoints dt 2 title "parse + FIB lookup, IPv4", \
     dir."/classify-floor_lookup-v4.dat" using 1:2 with linespoints dt 2 title "parse + one hash lookup, IPv4", \
     dir."/classify-floor-v4.dat"        using 1:2 with linespoints dt 3 title "parse only (floor), IPv4"
}

if (has_drop) {
# drop.dat: "case@N saturated paced" ns of receive CPU per packet.
set output dir."/drop.png"
set title "Early drop on veth: receive-side CPU per packet (threaded NAPI; lower is better)\n".title_env
unset logscale x
set xrange [*:*]
set yrange [0:*]
set xlabel ""
set ylabel "ns of CPU per packet"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6 border -1
set boxwidth 0.9
set xtics rotate by -30
set key top right
plot dir."/drop.dat" using 2:xtic(1) title "saturated (receiver's capacity)", \
     ''              using 3 title (drop_paced eq "" ? "paced" : "paced at ".drop_paced." Mpps")
}
