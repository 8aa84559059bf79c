#!/usr/bin/env bash
# An unresponsive UAS (takes the INVITE, never answers, not even 100):
# with T1 = 100 ms sipline retransmits the INVITE (Timer A) and gives up
# at Timer B = 64*T1 = 6.4 s; the caller gets a 408 of sipline's, which
# it ACKs. Timer C (>= 180 s) is not involved: no provisional arrived.
. "$(dirname "$0")/lib.sh"

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };'
spl_start || finish

uas_bg deaf "$UAS_IP" 5080 "$SCEN/uas_noanswer.xml" -m 1 -d 9000 -trace_msg -message_file "$WORK/deaf.msg"
t0=$(date +%s%N)
sipp_uac caller "$SCEN/uac_expect.xml" -s bob -key mf 70 -set expected 408 -m 1
t1=$(date +%s%N)
check_sipp caller 1
check_grep "caller got 408" "final: 408" "$WORK/caller.logs"
ms=$(( (t1 - t0) / 1000000 ))
check_ge "408 after (ms)" "$ms" 6300
check_le "408 after (ms)" "$ms" 8000
n=$(grep -c '^INVITE sip:bob@example.test' "$WORK/deaf.msg")
# Timer A: sent at 0, then 0.1, 0.3, 0.7, 1.5, 3.1, (6.3) s.
check_ge "INVITE transmissions seen by the UAS" "$n" 6
check_le "INVITE transmissions seen by the UAS" "$n" 7
check_eq "CANCELs (none: no provisional)" "$(grep -c '^CANCEL ' "$WORK/deaf.msg")" 0
check_eq "408 of sipline's" "$(spl_stat best_408_no_response)" 1
check_eq "Timer C (not involved)" "$(spl_stat timer_c)" 0
uas_wait deaf
finish
