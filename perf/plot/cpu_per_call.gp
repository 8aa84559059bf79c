# CPU microseconds per completed call (INVITE/100/180/200/ACK/BYE/200)
# per system, as bars.
#   gnuplot -e "dir='DIR'" cpu_per_call.gp
# reads DIR/cpu.dat ('"label" us_per_call').
set title "CPU per call (us), lower is better"
set ylabel "CPU us per call"
set style data histograms
set style fill solid 0.6 border -1
set boxwidth 0.7
set grid ytics
set yrange [0:*]
unset key
set xtics rotate by -20
set terminal pngcairo size 900,560 noenhanced
set output dir.'/cpu_per_call.png'
plot dir.'/cpu.dat' using 2:xtic(1) lc rgb "#4477aa", '' using 0:2:(sprintf("%.1f",$2)) with labels offset 0,1
set terminal svg size 900,560 noenhanced
set output dir.'/cpu_per_call.svg'
replot
