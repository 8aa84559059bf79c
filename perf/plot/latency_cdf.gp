# INVITE->200 latency CDF per system at the same offered rate.
#   gnuplot -e "dir='DIR'; systems='a b'; rate='N'" latency_cdf.gp
# reads DIR/cdf_<system>.dat ("latency_us percentile").
set title "INVITE -> 200 latency at ".rate." calls/s offered"
set xlabel "latency (us)"
set ylabel "percentile"
set logscale x
set yrange [0:100]
set grid
set key bottom right
set style data lines
set terminal pngcairo size 900,560 noenhanced
set output dir.'/latency_cdf.png'
plot for [i=1:words(systems)] dir.'/cdf_'.word(systems,i).'.dat' using 1:2 title word(systems,i) lw 2
set terminal svg size 900,560 noenhanced
set output dir.'/latency_cdf.svg'
replot
