#!/usr/bin/env bash
# The RFC 4475 torture messages over UDP (sipudp.py from 192.0.2.10, each
# file as one datagram, bound to its Via's sent-by port): every message the
# RFC says to reject gets its 4xx/5xx from sipline (the statuses of
# tests/sipmsg/test_corpus.c, plus the proxy-level 416/420/483), the
# responses to drop get no answer, the valid ones are routed or answered
# (not checked: their targets are names no DNS server answers for here, so
# they wait dns.park_timeout_ms for one and get a 503), and
# sipline still answers OPTIONS and carries calls afterwards.
. "$(dirname "$0")/lib.sh"
CORPUS=$SPL_SHARED/corpus/rfc4475
[ -f "$CORPUS/INDEX.tsv" ] || skip "no RFC 4475 corpus at $CORPUS (set SPL_SHARED_DIR)"

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };
dns = { park_timeout_ms = 300; };'
spl_start || finish

declare -A want=(
	[badinv01.dat]=400 [clerr.dat]=400 [ncl.dat]=400 [scalar02.dat]=400 [quotbal.dat]=400
	[ltgtruri.dat]=400 [lwsruri.dat]=400 [lwsstart.dat]=400 [trws.dat]=400 [escruri.dat]=400
	[regbadct.dat]=400 [badaspec.dat]=400 [baddn.dat]=400 [badvers.dat]=505 [mismatch01.dat]=400
	[mismatch02.dat]=501 [insuf.dat]=400 [multi01.dat]=400 [mcl01.dat]=400
	[unkscm.dat]=416 [novelsc.dat]=416 [bext01.dat]=420 [zeromf.dat]=483
	# responses to drop (overlarge values, broadcast Via), and the
	# archive's test.dat (no Via: nobody to answer)
	[scalarlg.dat]=none [bigcode.dat]=none [bcast.dat]=none [test.dat]=none
	# invalid, tolerated by choice (test_corpus.c): Date is never used;
	# routed like any request
	[baddate.dat]=any
)
# Every file INDEX.tsv lists must have an expectation here or be "valid".
while IFS=$'\t' read -r file _ verdict _; do
	[ "$file" = file ] && continue
	if [ -z "${want[$file]:-}" ] && [[ $verdict == invalid* ]]; then
		fail "$file: INDEX says '$verdict' but the test expects nothing"
	fi
done <"$CORPUS/INDEX.tsv"

# unkscm.dat and novelsc.dat share branch, sent-by and method: by RFC 3261
# §17.2.3 the second is a retransmission of the first while its server
# transaction lives (Timer J, 64*T1), and gets the first's 416 again. So
# unkscm.dat goes last, once novelsc.dat's transaction has ended.
files=()
for f in "$CORPUS"/*.dat; do [ "$(basename "$f")" = unkscm.dat ] || files+=("$f"); done
sip_udp --wait 0.8 "${files[@]}" >"$WORK/answers.txt"
for _ in $(seq 1 100); do
	out=$(spl_txn_all)
	grep -q 'method=OPTIONS status=416' <<<"$out" || break
	sleep 0.1
done
sip_udp --wait 0.8 "$CORPUS/unkscm.dat" >>"$WORK/answers.txt"
rejects=0
while read -r file code rest; do
	w=${want[$file]:-}
	[ -n "$w" ] || continue
	if [ "$w" = any ] && [ "$code" != none ]; then
		pass "$file: tolerated, answered $code"
	elif [ "$code" = "$w" ]; then
		pass "$file: $code ${rest%% (+*}"
		[ "$w" != none ] && rejects=$((rejects + 1))
	else
		fail "$file: got '$code $rest', expected $w"
	fi
done <"$WORK/answers.txt"
check_eq "reject cases answered" "$rejects" 23
check_eq "answers for all files" "$(wc -l <"$WORK/answers.txt")" "$(ls "$CORPUS"/*.dat | wc -l)"

# Still alive and well.
kill -0 "$SPL_PID" 2>/dev/null && pass "sipline still running" || fail "sipline died"
sipp_uac opt "$SCEN/options.xml" -key mf 70 -m 1
check_sipp opt 1
uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m 20
sipp_uac calls "$SCEN/uac_rr.xml" -s bob -m 20 -r 20
check_sipp calls 20
uas_wait uas || fail "UAS failed"
finish
