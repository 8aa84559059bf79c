#!/usr/bin/env bash
# OPTIONS addressed to sipline itself is answered 200 (with Allow), also
# with Max-Forwards 0; a request for a user with Max-Forwards 0 gets 483
# and is not forwarded.
. "$(dirname "$0")/lib.sh"

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );'
spl_start || finish

sipp_uac opt70 "$SCEN/options.xml" -key mf 70 -m 3 -l 1
check_sipp opt70 3
sipp_uac opt0 "$SCEN/options.xml" -key mf 0 -m 1
check_sipp opt0 1

# OPTIONS for a user (not for sipline) with Max-Forwards 0: 483.
printf '%s\r\n' "OPTIONS sip:bob@example.test SIP/2.0" \
	"Via: SIP/2.0/UDP $UAC_IP:5071;branch=z9hG4bK-opt-mf0" "Max-Forwards: 0" \
	"From: <sip:probe@example.test>;tag=mf0" "To: <sip:bob@example.test>" \
	"Call-ID: opt-mf0@$UAC_IP" "CSeq: 1 OPTIONS" "Content-Length: 0" "" >"$WORK/opt_mf0.sip"
check_eq "OPTIONS to a user with Max-Forwards 0" "$(sip_udp "$WORK/opt_mf0.sip" | cut -d' ' -f2-3)" "483 Too"

# A UAS that must never see the request: the 483 comes from sipline.
uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m 1
sipp_uac mf0 "$SCEN/uac_expect.xml" -s bob -key mf 0 -set expected 483 -m 1
check_sipp mf0 1
check_grep "caller got 483" "final: 483" "$WORK/mf0.logs"
# The same call with Max-Forwards 70 goes through: the UAS answers it.
sipp_uac mf70 "$SCEN/uac_rr.xml" -s bob -m 1
check_sipp mf70 1
uas_wait uas || fail "UAS: the call with Max-Forwards 0 reached it, or the other did not"
spl_stats_save end
check_eq "OPTIONS received" "$(spl_statf end req_in_options)" 5
check_eq "OPTIONS forwarded" "$(spl_statf end req_out_options)" 0
check_eq "INVITEs received" "$(spl_statf end req_in_invite)" 2
check_eq "INVITEs forwarded" "$(spl_statf end req_out_invite)" 1
check_eq "local 483 answers" "$(spl_statf end "local_483_too_many_hops")" 2
check_eq "local 200 OPTIONS answers" "$(spl_statf end "local_200_options_ok")" 4
finish
