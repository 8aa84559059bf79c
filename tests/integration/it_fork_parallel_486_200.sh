#!/usr/bin/env bash
# Parallel forking: alice has two contacts of equal q; one answers 486 at
# once, the other rings and answers 200. The caller gets the 200 (never
# the 486), the busy branch is ACKed by sipline and ends, nobody is
# cancelled, and the call completes (ACK and BYE reach only the answerer).
. "$(dirname "$0")/lib.sh"

spl_config 'timers = { t1_ms = 100; };'
spl_start || finish

sipp_uac reg1 "$SCEN/register.xml" -i "$UAS_IP" -p 5080 -s alice -m 1
sipp_uac reg2 "$SCEN/register.xml" -i "$UAS2_IP" -p 5080 -s alice -m 1
check_sipp reg1 1
check_sipp reg2 1
spl_ctl location show sip:alice@example.test >"$WORK/loc.txt"
check_eq "alice's contacts" "$(grep -c 'contact=' "$WORK/loc.txt")" 2

uas_bg busy "$UAS_IP" 5080 "$SCEN/uas_486.xml" -m 1
uas_bg answer "$UAS2_IP" 5080 "$SCEN/uas_rr.xml" -m 1 -d 500
sipp_uac call "$SCEN/uac_rr.xml" -s alice -m 1 -trace_msg -message_file "$WORK/call.msg"
check_sipp call 1
uas_wait busy || fail "busy UAS: no ACK for its 486 (or an unexpected CANCEL)"
uas_wait answer || fail "answering UAS did not complete the call"
check_sipp busy 1
check_sipp answer 1
check_eq "486s reaching the caller" "$(grep -c '^SIP/2.0 486' "$WORK/call.msg")" 0

spl_stats_save end
check_eq "INVITE branches" "$(spl_statf end req_out_invite)" 2
check_eq "4xx received (the 486)" "$(spl_statf end rsp_in_4xx)" 1
check_eq "4xx sent to the caller" "$(spl_statf end rsp_out_4xx)" 0
check_eq "CANCELs sent" "$(spl_statf end cancels_out)" 0
# The ACK of the 486 is the client transaction's own (not a forwarded
# request); the busy UAS checked it arrived. Forwarded: the caller's ACK.
check_eq "ACKs forwarded (the caller's, for the 200)" "$(spl_statf end req_out_ack)" 1
# The 486 branch is over: its client transaction is Completed (absorbing
# retransmissions until Timer D) and no branch waits any more.
spl_txn_all >"$WORK/txn.txt"
check_grep "the 486 branch is completed" 'kind=client-invite state=completed method=INVITE status=486 peer=192.0.2.11' "$WORK/txn.txt"
if grep -E 'kind=client-invite state=(calling|proceeding)' "$WORK/txn.txt"; then
	fail "a branch is still pending"
else
	pass "no INVITE branch pending"
fi
finish
