#!/usr/bin/env bash
# SIP over TLS end to end, with certificates of a test CA made here:
#   - 200 calls: SIPp caller (TCP) -> socat TLS tunnel -> sipline:5061 ->
#     TLS (route next hop "192.0.2.11:5081;transport=tls") -> socat TLS
#     server -> SIPp callee (TCP), whose Contact names the tunnel
#     (;transport=tls), so ACK and BYE go over TLS too; every call
#     succeeds, one Record-Route ;transport=tls, connections reused;
#   - verify_client = true: a client certificate of another CA, or none, is
#     refused (tls_failed); the trusted one gets its OPTIONS answered;
#   - 200 connections to 5061 sending garbage or a cut ClientHello and
#     never finishing, while 100 UDP calls run: every UDP call succeeds,
#     sipline ends every such connection (handshake_timeout_ms = 1000;
#     counted as tls_failed/closed_tls), and a real TLS client is still
#     served meanwhile;
#   - verify_server: a callee tunnel with a certificate for another
#     address, or of the untrusted CA, is not called (no INVITE reaches
#     it); the caller gets sipline's 500 at once: the failed handshake is a
#     transport error, treated as a 503 (RFC 3261 §16.9), and a lone 503 is
#     sent upstream as a 500 (§16.7 step 6).
# Prints calls/s over TLS.
#
# Why socat: Debian's SIPp is built without OpenSSL (-t l1 says "To use a
# TLS transport you must compile SIPp with OpenSSL") and its source cannot
# be fetched here to rebuild it. So both SIPp ends speak TCP, and socat
# (package socat) turns that into TLS: the caller's connection goes into
# a local TCP listener (SIPp -rsa) and leaves as TLS to sipline; sipline's
# TLS connection to the callee ends in an OPENSSL-LISTEN that forwards it
# as TCP to the SIPp callee. sipline sees TLS on both sides, with the
# certificates checked as for any peer. SIPp's Via still says TCP, which
# does not matter: responses follow the connection (RFC 3261 §18.2.2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_stream.sh"
command -v socat >/dev/null || skip "socat not installed (apt-get install socat)"
command -v openssl >/dev/null || skip "openssl not installed"
CALLS=${IT_CALLS:-200}
RATE=${IT_RATE:-40}
TRACE=$SPL_SRC/tests/integration/sipptrace.py
PKI=$WORK/pki
pki_make "$PKI" || { cat "$PKI/openssl.log"; fail "could not make the test certificates"; finish; }

spl_config "routes = ( { domain = \"example.test\"; next_hops = [ \"192.0.2.11:5081;transport=tls\" ]; } );
timers = { t1_ms = 100; };
tcp = { enabled = true; port = 5060; max_per_ip = 512; };
tls = { enabled = true; port = 5061; certificate = \"$PKI/spl.crt\"; private_key = \"$PKI/spl.key\";
        ca_file = \"$PKI/ca.crt\"; verify_client = true; verify_server = true; handshake_timeout_ms = 1000; };"
spl_start || finish
spl_stats_save start

# Tunnels: the caller's (5091 -> sipline:5061, client certificate "client"),
# the callee's (5081, certificate for 192.0.2.11) and two bad callee
# tunnels (5082: certificate for 192.0.2.99; 5083: of the rogue CA), all
# to the SIPp callee at 192.0.2.11:5080.
tls_client_tunnel cli 5091
tls_server_tunnel srv 5081 5080 uas
tls_server_tunnel wrongip 5082 5080 uas-wrongip
tls_server_tunnel rogue 5083 5080 uas-rogue
UAS_CONTACT="sip:callee@$UAS_IP:5081;transport=tls"
# tls_uac NAME PORT SCENARIO ARGS: a SIPp caller over TCP from local port
# PORT into the caller's tunnel (its own port per run: see the TCP test).
tls_uac() {
	local name=$1 port=$2 scen=$3; shift 3
	UAC_PORT=$port sipp_uac "$name" "$scen" -t t1 -rsa "$UAC_IP:5091" \
		-key contact "sip:caller@$UAC_IP:$port;transport=tcp" "$@"
}

# ---- one traced call
uas_bg_tcp uas1 "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "$UAS_CONTACT" \
	-m 1 -trace_msg -message_file "$WORK/uas1.msg"
tls_uac uac1 5071 "$SCEN/uac_stream.xml" -key ruri sip:bob@example.test -m 1 -trace_msg -message_file "$WORK/uac1.msg"
uas_wait uas1 || fail "TLS traced call: UAS"
check_sipp uac1 1
if python3 "$TRACE" "$WORK/uac1.msg" "$WORK/uas1.msg" tls:5061 "$UAS_CONTACT" >"$WORK/trace1.txt"; then
	pass "TLS call: one Record-Route ;transport=tls, Via TLS, ACK and BYE along the route set"
else
	fail "TLS call: $(cat "$WORK/trace1.txt")"
fi

# ---- CALLS calls
spl_stats_save before
uas_bg_tcp uas "$UAS_IP" 5080 "$SCEN/uas_stream.xml" -key contact "$UAS_CONTACT" -m "$CALLS"
t0=$(date +%s.%N)
tls_uac uac 5072 "$SCEN/uac_stream.xml" -key ruri sip:bob@example.test -m "$CALLS" -r "$RATE" -l 200 &
UAC=$!
sleep 2
conn_json "$WORK/conns_mid.json" || fail "conn list failed"
wait "$UAC"
t1=$(date +%s.%N)
uas_wait uas || fail "UAS: SIPp reported failed calls"
check_sipp uac "$CALLS"
check_sipp uas "$CALLS"
note "TLS: $CALLS calls in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1") s:" \
	"$(python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):.0f}')" "$CALLS" "$t0" "$t1") calls/s (offered $RATE/s)"
spl_stats_save after
id_in=$(conn_find "$WORK/conns_mid.json" tls in "$UAC_IP:")
id_out=$(conn_find "$WORK/conns_mid.json" tls out "$UAS_IP:5081")
[ -n "$id_in" ] && pass "conn list: inbound tls from $UAC_IP (id $id_in)" ||
	fail "conn list: no inbound tls from $UAC_IP: $(cat "$WORK/conns_mid.json")"
[ -n "$id_out" ] && pass "conn list: outbound tls to $UAS_IP:5081 (id $id_out)" ||
	fail "conn list: no outbound tls to $UAS_IP:5081: $(cat "$WORK/conns_mid.json")"
check_eq "TLS handshakes for $CALLS calls (one per side)" "$(stream_d before after tls_handshakes)" 2
check_eq "streams msgs_in" "$(stream_d before after msgs_in)" $((6 * CALLS))
check_eq "tls_failed so far" "$(stream_stat after tls_failed)" 0

# ---- verify_client: a client of the rogue CA, or without a certificate, is refused
spl_stats_save pre_verify
sip_tcp --dst "$SPL_IP:5061" --tls --ca "$PKI/ca.crt" --name sipline.test --cert "$PKI/client.pem" \
	opt trusted expect 1 >"$WORK/trusted.out" 2>&1
check_eq "trusted client: OPTIONS over TLS" "$(grep '^rsp ' "$WORK/trusted.out")" "rsp 200 trusted"
sip_tcp --dst "$SPL_IP:5061" --tls --ca "$PKI/ca.crt" --name sipline.test --cert "$PKI/client-rogue.pem" \
	opt rogue expect 1 >"$WORK/rogue.out" 2>&1
sip_tcp --dst "$SPL_IP:5061" --tls --ca "$PKI/ca.crt" --name sipline.test \
	opt nocert expect 1 >"$WORK/nocert.out" 2>&1
for c in rogue nocert; do
	if grep -q '^rsp ' "$WORK/$c.out"; then
		fail "client $c: answered over TLS: $(tr '\n' ' ' <"$WORK/$c.out")"
	elif grep -Eq '^(tls-fail|tls-error|eof|send-error)' "$WORK/$c.out"; then
		pass "client $c refused: $(grep -E '^(tls-fail|tls-error|eof|send-error)' "$WORK/$c.out")"
	else
		fail "client $c: neither answered nor refused: $(tr '\n' ' ' <"$WORK/$c.out")"
	fi
done
stream_wait tls_failed $(( $(stream_stat pre_verify tls_failed) + 2 )) 3
spl_stats_save post_verify
check_eq "tls_failed (rogue and no certificate)" "$(stream_d pre_verify post_verify tls_failed)" 2

# ---- handshake garbage on 5061 while UDP calls run
spl_stats_save pre_flood
uas_bg fuas "$UAS2_IP" 5080 "$SCEN/uas_stream.xml" -key contact "sip:callee@$UAS2_IP:5080" -m 100
sipp_uac fuac "$SCEN/uac_stream.xml" -key contact "sip:caller@$UAC_IP:5070" -key ruri "sip:bob@$UAS2_IP:5080" \
	-m 100 -r 20 &
FUAC=$!
sleep 0.5
sip_tcp --flood 200 --hold 8 --dst "$SPL_IP:5061" >"$WORK/flood.out" 2>&1 &
FLOOD=$!
sleep 1.5
sip_tcp --dst "$SPL_IP:5061" --tls --ca "$PKI/ca.crt" --name sipline.test --cert "$PKI/client.pem" \
	opt during-flood expect 1 >"$WORK/during.out" 2>&1
check_eq "trusted client during the flood" "$(grep '^rsp ' "$WORK/during.out")" "rsp 200 during-flood"
wait "$FUAC"
uas_wait fuas || fail "UDP UAS during the flood: SIPp reported failed calls"
check_sipp fuac 100
check_sipp fuas 100
wait "$FLOOD"
read -r _ _ opened _ _ _ closed _ _ <<<"$(cat "$WORK/flood.out")"
note "flood: $(cat "$WORK/flood.out")"
check_eq "flood connections opened" "${opened:-0}" 200
check_eq "flood connections sipline ended (within 8 s)" "${closed:-0}" 200
spl_stats_save post_flood
fl=$(( $(stream_d pre_flood post_flood tls_failed) + $(stream_d pre_flood post_flood closed_tls) ))
check_ge "tls_failed + closed_tls for the flood" "$fl" 200
note "streams during the flood: $(python3 - "$WORK/pre_flood.json" "$WORK/post_flood.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["streams"]; b = json.load(open(sys.argv[2]))["streams"]
print(" ".join(f"{k}+{b[k] - a.get(k, 0)}" for k in sorted(b) if b[k] != a.get(k, 0)) or "none")
PY
)"
stream_wait_le live 0 3
check_eq "streams live after the flood" "$(stream_now live)" 0

# ---- verify_server: callee tunnels with a wrong certificate are not called
# (socat logs "starting data transfer loop" only once the handshake is done
# and it has connected to the callee: no byte reaches the callee without).
spl_stats_save pre_out
for t in wrongip:5082:5075 rogue:5083:5076; do
	IFS=: read -r n port lport <<<"$t"
	b0=${EPOCHREALTIME/./}
	SIPP_TIMEOUT=15 tls_uac "bad_$n" "$lport" "$SCEN/uac_stream_fail.xml" \
		-key ruri "sip:bob@$UAS_IP:$port;transport=tls" -m 2 -r 2
	b1=${EPOCHREALTIME/./}
	check_sipp "bad_$n" 2
	code=$(sed -n 's/^.*final: \([0-9]*\).*$/\1/p' "$WORK/bad_$n.logs" | sort -u | tr '\n' ' ' | sed 's/ $//')
	check_eq "callee tunnel with the $n certificate: the caller's final" "$code" 500
	# At once, not after Timer B (64*T1 = 6.4 s): the failed handshake is
	# a transport error for the client transaction.
	check_le "callee tunnel with the $n certificate: 2 calls took (ms)" $(( (b1 - b0) / 1000 )) 3000
	check_ge "$n tunnel: connections from sipline" "$(grep -c 'accepting connection' "$WORK/$n.socat")" 1
	check_eq "$n tunnel: connections passed to the callee" "$(grep -c 'starting data transfer loop' "$WORK/$n.socat")" 0
done
spl_stats_save post_out
check_ge "tls_failed (outgoing, 2 bad callees)" "$(stream_d pre_out post_out tls_failed)" 2
check_eq "connections to the good callee tunnel all reached the callee" \
	"$(grep -c 'accepting connection' "$WORK/srv.socat")" "$(grep -c 'starting data transfer loop' "$WORK/srv.socat")"
note "streams: $(streams_report post_out)"
finish
