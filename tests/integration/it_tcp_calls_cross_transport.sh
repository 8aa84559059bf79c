#!/usr/bin/env bash
# SIP over TCP end to end: SIPp -t t1 caller -> sipline -> SIPp -t t1
# callee (route next hop "192.0.2.11:5080;transport=tcp"), 500 calls at
# 50/s, every one succeeding, with the streams counters and "conn list"
# agreeing (one inbound connection from the caller, one outbound to the
# callee, reused for every call: no connection per call). Then calls that
# cross transports, UDP caller -> TCP callee and TCP caller -> UDP callee:
# sipline record-routes twice (RFC 5658; one value ;transport=tcp, one
# UDP), both ends see both values, and ACK and BYE follow them back across
# the transports. A traced call of each kind is checked header by header
# (sipptrace.py). Prints calls/s over TCP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_stream.sh"
CALLS=${IT_CALLS:-500}
RATE=${IT_RATE:-50}
XCALLS=50
TRACE=$SPL_SRC/tests/integration/sipptrace.py
UDP_UAC=(-key contact "sip:caller@$UAC_IP:5070")
# tcp_uac NAME PORT ARGS: sipp_uac over TCP from local port PORT. Each run
# has a port of its own: a new connection on the 4-tuple of the previous
# run, still in TIME_WAIT on our side, could be refused.
tcp_uac() {
	local name=$1 port=$2; shift 2
	UAC_PORT=$port sipp_uac "$name" "$SCEN/uac_stream.xml" -t t1 -key contact "sip:caller@$UAC_IP:$port;transport=tcp" "$@"
}

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080;transport=tcp" ]; } );
timers = { t1_ms = 100; };
tcp = { enabled = true; port = 5060; };'
spl_start || finish
spl_stats_save start

# ---- TCP -> TCP, one traced call
uas_bg_tcp uas1 "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS_IP:5080;transport=tcp" \
	-m 1 -trace_msg -message_file "$WORK/uas1.msg"
tcp_uac uac1 5071 -key ruri sip:bob@example.test -m 1 \
	-trace_msg -message_file "$WORK/uac1.msg"
uas_wait uas1 || fail "TCP traced call: UAS"
check_sipp uac1 1
if python3 "$TRACE" "$WORK/uac1.msg" "$WORK/uas1.msg" tcp:5060 "sip:callee@$UAS_IP:5080;transport=tcp" >"$WORK/trace1.txt"; then
	pass "TCP call: one Record-Route ;transport=tcp, Via TCP, ACK and BYE along the route set"
else
	fail "TCP call: $(cat "$WORK/trace1.txt")"
fi

# ---- TCP -> TCP, CALLS calls
spl_stats_save before
uas_bg_tcp uas "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS_IP:5080;transport=tcp" -m "$CALLS"
t0=$(date +%s.%N)
tcp_uac uac 5072 -key ruri sip:bob@example.test -m "$CALLS" -r "$RATE" -l 200 &
UAC=$!
sleep 3
conn_json "$WORK/conns_mid.json" || fail "conn list failed"
spl_ctl --json conn count >"$WORK/count_mid.json" 2>&1 || fail "conn count failed: $(cat "$WORK/count_mid.json")"
wait "$UAC"
t1=$(date +%s.%N)
uas_wait uas || fail "UAS: SIPp reported failed calls"
check_sipp uac "$CALLS"
check_sipp uas "$CALLS"
cps=$(python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):.0f}')" "$CALLS" "$t0" "$t1")
note "TCP: $CALLS calls in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1") s: $cps calls/s (offered $RATE/s)"
spl_stats_save after

# During the run: the caller's connection (in) and the one to the callee (out).
id_in=$(conn_find "$WORK/conns_mid.json" tcp in "$UAC_IP:")
id_out=$(conn_find "$WORK/conns_mid.json" tcp out "$UAS_IP:5080")
[ -n "$id_in" ] && pass "conn list: inbound tcp from $UAC_IP (id $id_in)" ||
	fail "conn list: no inbound tcp from $UAC_IP: $(cat "$WORK/conns_mid.json")"
[ -n "$id_out" ] && pass "conn list: outbound tcp to $UAS_IP:5080 (id $id_out)" ||
	fail "conn list: no outbound tcp to $UAS_IP:5080: $(cat "$WORK/conns_mid.json")"
read -r c_total c_tcp c_tls c_in c_out <<<"$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(*(c.get(k, -1) for k in ("total","tcp","tls","inbound","outbound")))' "$WORK/count_mid.json" 2>/dev/null)"
check_eq "conn count during the run (total tcp tls in out)" "${c_total:-?} ${c_tcp:-?} ${c_tls:-?} ${c_in:-?} ${c_out:-?}" "2 2 0 1 1"
python3 - "$WORK/conns_mid.json" <<'PY' && pass "conn list fields" || fail "conn list fields: $(cat "$WORK/conns_mid.json")"
import json, sys
need = ("id", "transport", "direction", "state", "local", "remote", "age_s", "idle_s", "rx_bytes", "tx_bytes",
        "rx_msgs", "tx_msgs", "queued_bytes")
conns = json.load(open(sys.argv[1]))
bad = [c for c in conns if any(k not in c for k in need) or ":" not in str(c["local"])
       or c["rx_msgs"] <= 0 or c["tx_msgs"] <= 0 or c["rx_bytes"] <= 0 or c["tx_bytes"] <= 0]
if bad or not conns:
    print(bad); sys.exit(1)
PY

d() { echo $(( $(spl_statf after "$1") - $(spl_statf before "$1") )); }
for m in invite ack bye; do
	check_eq "req_in_$m" "$(d req_in_$m)" "$CALLS"
	check_eq "req_out_$m" "$(d req_out_$m)" "$CALLS"
done
# Per call: INVITE, ACK, BYE from the caller; 180, 200, 200 from the
# callee. Out: INVITE, ACK, BYE to the callee; (100,) 180, 200, 200 back.
check_eq "streams msgs_in" "$(stream_d before after msgs_in)" $((6 * CALLS))
check_ge "streams msgs_out" "$(stream_d before after msgs_out)" $((6 * CALLS))
check_le "streams msgs_out" "$(stream_d before after msgs_out)" $((7 * CALLS))
check_eq "connections accepted (the caller's one, reused)" "$(stream_d before after accepted)" 1
check_eq "connections opened (to the callee, reused)" "$(stream_d before after connected)" 1
check_eq "rejected" "$(spl_statf after rejected)" 0

# ---- UDP caller -> TCP callee (route next hop ;transport=tcp)
uas_bg_tcp xuas1 "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS_IP:5080;transport=tcp" \
	-m 1 -trace_msg -message_file "$WORK/xuas1.msg"
sipp_uac xuac1 "$SCEN/uac_stream.xml" "${UDP_UAC[@]}" -key ruri sip:bob@example.test -m 1 \
	-trace_msg -message_file "$WORK/xuac1.msg"
uas_wait xuas1 || fail "UDP->TCP traced call: UAS"
check_sipp xuac1 1
if python3 "$TRACE" "$WORK/xuac1.msg" "$WORK/xuas1.msg" tcp:5060,udp:5060 "sip:callee@$UAS_IP:5080;transport=tcp" >"$WORK/trace2.txt"; then
	pass "UDP->TCP call: Record-Route doubled (tcp on top for the callee, udp for the caller), ACK and BYE cross back"
else
	fail "UDP->TCP call: $(cat "$WORK/trace2.txt")"
fi
uas_bg_tcp xuas "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS_IP:5080;transport=tcp" -m "$XCALLS"
sipp_uac xuac "$SCEN/uac_stream.xml" "${UDP_UAC[@]}" -key ruri sip:bob@example.test -m "$XCALLS" -r 25
uas_wait xuas || fail "UDP->TCP UAS: SIPp reported failed calls"
check_sipp xuac "$XCALLS"
check_sipp xuas "$XCALLS"

# ---- TCP caller -> UDP callee (Request-URI of a UDP host, not ours)
uas_bg yuas1 "$UAS2_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS2_IP:5080" \
	-m 1 -trace_msg -message_file "$WORK/yuas1.msg"
tcp_uac yuac1 5073 -key ruri "sip:bob@$UAS2_IP:5080" -m 1 \
	-trace_msg -message_file "$WORK/yuac1.msg"
uas_wait yuas1 || fail "TCP->UDP traced call: UAS"
check_sipp yuac1 1
if python3 "$TRACE" "$WORK/yuac1.msg" "$WORK/yuas1.msg" udp:5060,tcp:5060 "sip:callee@$UAS2_IP:5080" >"$WORK/trace3.txt"; then
	pass "TCP->UDP call: Record-Route doubled (udp on top for the callee, tcp for the caller), ACK and BYE cross back"
else
	fail "TCP->UDP call: $(cat "$WORK/trace3.txt")"
fi
uas_bg yuas "$UAS2_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS2_IP:5080" -m "$XCALLS"
tcp_uac yuac 5074 -key ruri "sip:bob@$UAS2_IP:5080" -m "$XCALLS" -r 25
uas_wait yuas || fail "TCP->UDP UAS: SIPp reported failed calls"
check_sipp yuac "$XCALLS"
check_sipp yuas "$XCALLS"

# Nothing closed for a fault; the SIPp connections are gone once SIPp is.
spl_stats_save end
check_eq "streams closes for faults" "$(python3 - "$WORK/end.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["streams"]
bad = {k: v for k, v in s.items() if v and (k.startswith("closed_") and k != "closed_peer" or
       k in ("connect_failed", "refused_limit", "refused_per_ip", "send_drops", "tls_failed"))}
print(" ".join(f"{k}={v}" for k, v in sorted(bad.items())) or "none")
PY
)" none
note "streams: $(streams_report end)"
stream_wait_le live 0 3
check_eq "streams live once SIPp ended" "$(stream_now live)" 0
check_eq "connections left once SIPp ended" "$(spl_ctl --json conn count | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" 0
finish
