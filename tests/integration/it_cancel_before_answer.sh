#!/usr/bin/env bash
# CANCEL before the answer: the callee rings, the caller cancels; the
# caller's CANCEL gets 200 at once and the INVITE a 487 (the callee's,
# relayed), the callee got the CANCEL and answered 487, everyone got
# their ACK. Five calls.
. "$(dirname "$0")/lib.sh"
CALLS=5

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };'
spl_start || finish

uas_bg callee "$UAS_IP" 5080 "$SCEN/uas_cancelled.xml" -m "$CALLS"
sipp_uac caller "$SCEN/uac_cancel.xml" -s bob -m "$CALLS" -r 5
uas_wait callee || fail "callee: CANCEL not received or 487 not ACKed"
check_sipp caller "$CALLS"
check_sipp callee "$CALLS"
spl_stats_save end
check_eq "CANCELs received" "$(spl_statf end cancels_in)" "$CALLS"
check_eq "CANCELs sent to the callee" "$(spl_statf end cancels_out)" "$CALLS"
check_eq "487s relayed (the callee's)" "$(spl_statf end rsp_in_4xx)" "$CALLS"
check_eq "4xx to the caller" "$(spl_statf end rsp_out_4xx)" "$CALLS"
check_eq "local 487 (none: the callee's own 487 went up)" \
	"$(spl_statf end "local_487_terminated")" 0
check_eq "200 to CANCEL answered by sipline" "$(spl_statf end "local_200_cancel_ok")" "$CALLS"
spl_txn_all >"$WORK/txn.txt"
if grep -E 'state=(calling|proceeding|trying)' "$WORK/txn.txt"; then
	fail "a transaction is still pending"
else
	pass "no transaction pending (the rest linger in Completed/Confirmed until their timers)"
fi
finish
