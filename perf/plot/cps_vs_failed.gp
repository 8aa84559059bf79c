# Offered calls/s against failed calls (%), one line per system, from the
# steps of every ramp. Called by perf/plot/report.py:
#   gnuplot -e "dir='DIR'; systems='a b'" cps_vs_failed.gp
# reads DIR/cps_fail_<system>.dat ("offered_cps failed_pct"), writes
# DIR/cps_vs_failed.png and .svg.
set title "Offered load vs failed calls (one core each)"
set xlabel "offered calls/s"
set ylabel "failed calls (%)"
set logscale x
set logscale y
set yrange [0.001:100]
set grid
set key top left
set style data points
# failed 0 % cannot sit on a log axis: it is drawn at 0.001 %.
f(y) = y < 0.001 ? 0.001 : y
set terminal pngcairo size 900,560 noenhanced
set output dir.'/cps_vs_failed.png'
plot for [i=1:words(systems)] dir.'/cps_fail_'.word(systems,i).'.dat' using 1:(f($2)) \
     title word(systems,i) pointtype 7, 0.1 title "0.1 % threshold" with lines dashtype 2 lc rgb "red"
set terminal svg size 900,560 noenhanced
set output dir.'/cps_vs_failed.svg'
replot
