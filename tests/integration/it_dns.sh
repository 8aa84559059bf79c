#!/usr/bin/env bash
# RFC 3263 through the control thread: calls to sip:user@example.net (not
# our domain, no route) are routed by DNS. dnsmasq in the test's namespace
# serves NAPTR SIP+D2U -> SRV _sip._udp: uas-a (192.0.2.11:5080, priority
# 10) and uas-b (192.0.2.12:5080, priority 20), TTL 2 s.
#
#  (a) calls go to the priority-10 target; .12 sees nothing; the first
#      request waits parked for the answer and is resumed
#  (b) .11 swallows INVITEs: Timer B (64*T1, 6.4 s) and failover to .12
#  (c) the records change (priorities swapped): once the TTL has passed,
#      calls follow the new answer and .11 sees nothing
#  (d) dns lookup (both targets, in order), dns cache, dns flush
#  (e) a name that does not exist: 604 (dns.unresolvable_status); a name
#      whose server never answers: 503 at the park deadline, and dns
#      lookup gives up on it in time; counted
. "$(dirname "$0")/lib.sh"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || skip "dnsmasq not installed (apt-get install dnsmasq-base)"
DNS_PORT=5353
SILENT_PORT=5354
DOM=example.net
TTL=2
PARK_MS=1500

# dns_start PRIO_A PRIO_B: dnsmasq on 127.0.0.1:$DNS_PORT in the namespace.
# silent.example.net is forwarded to a socket that never answers.
dns_start() {
	ip netns exec "$NS" "$DNSMASQ" --no-daemon --port=$DNS_PORT --listen-address=127.0.0.1 --bind-interfaces \
		--no-resolv --no-hosts --pid-file= --user= --conf-file=/dev/null --local-ttl=$TTL \
		--local=/$DOM/ --server=/silent.$DOM/127.0.0.1#$SILENT_PORT \
		--naptr-record=$DOM,10,50,s,SIP+D2U,,_sip._udp.$DOM \
		--srv-host=_sip._udp.$DOM,uas-a.$DOM,5080,"$1",0 \
		--srv-host=_sip._udp.$DOM,uas-b.$DOM,5080,"$2",0 \
		--host-record=uas-a.$DOM,$UAS_IP \
		--host-record=uas-b.$DOM,$UAS2_IP >>"$WORK/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	wait_udp 127.0.0.1 $DNS_PORT || { fail "dnsmasq did not start"; finish; }
}
dns_stop() { kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null; }

wait_udp() {
	for _ in $(seq 1 50); do
		[[ $(ip netns exec "$NS" ss -lun) == *"$1:$2 "* ]] && return 0
		sleep 0.1
	done
	return 1
}

# sink_bg NAME IP PORT: swallow UDP at IP:PORT, the first line of each
# datagram appended to $WORK/NAME.sink.
sink_bg() {
	: >"$WORK/$1.sink"
	ip netns exec "$NS" timeout 110 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
f = open(sys.argv[3], "a", buffering=1)
while True:
    f.write(s.recv(65535).split(b"\r\n", 1)[0].decode(errors="replace") + "\n")
' "$2" "$3" "$WORK/$1.sink" &
	eval "SINK_PID_$1=$!"
	wait_udp "$2" "$3" || fail "sink $1 did not start"
}
sink_stop() { local v="SINK_PID_$1"; kill "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null; }
sink_invites() { grep -c '^INVITE ' "$WORK/$1.sink"; }

# dns_py EXPR SUBCOMMAND...: EXPR (python, the JSON reply as r) of "dns SUBCOMMAND..."
dns_py() {
	local expr=$1; shift
	spl_ctl --json dns "$@" | python3 -c "import json,sys; r=json.load(sys.stdin); print($expr)"
}
# check_uas NAME CALLS: a background UAS got CALLS calls (uas_wait checked
# SIPp's own verdict; its CSV's success column can lag its exit).
check_uas() { check_eq "$1: calls received" "$(sipp_stat "$1" TotalCallCreated)" "$2"; }
dstat() { spl_ctl --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['dns'].get('$1', 0))"; }

sink_bg silent 127.0.0.1 $SILENT_PORT
dns_start 10 20
spl_config "timers = { t1_ms = 100; };
dns = { servers = \"127.0.0.1:$DNS_PORT\"; timeout_ms = 300; tries = 2; park_timeout_ms = $PARK_MS;
        unresolvable_status = 604; };"
spl_start || finish

# (d) lookup now (NAPTR -> SRV -> A): both targets, priority order; the
# answer is published (well within its TTL when listed); flush empties it
spl_ctl --json dns lookup $DOM >"$WORK/lookup.json"
spl_ctl dns cache >"$WORK/cache.txt"
check_eq "dns lookup $DOM: peers in order" \
	"$(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['peers']))" "$WORK/lookup.json")" \
	"udp:$UAS_IP:5080 udp:$UAS2_IP:5080"
check_le "dns lookup $DOM: TTL (s)" \
	"$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ttl_s'])" "$WORK/lookup.json")" $TTL
check_grep "dns cache lists $DOM with its peers in order" \
	"^names\[0\]:name=$DOM port=0 transport=any status=ok ttl_s=[0-9]+ peers=\[\"udp:$UAS_IP:5080\",\"udp:$UAS2_IP:5080\"\]" \
	"$WORK/cache.txt"
check_eq "dns flush: answers removed" "$(dns_py "r['flushed']" flush)" 1
check_eq "dns cache after flush" "$(dns_py "r['entries']" cache)" 0

# (a) the priority-10 target gets every call
spl_stats_save a0
sink_bg b "$UAS2_IP" 5080
uas_bg uasA "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m 20
sipp_uac a "$SCEN/uac_dns.xml" -key dom $DOM -s bob -m 20 -r 20 -l 20
uas_wait uasA || fail "UAS .11: SIPp reported failed calls"
check_sipp a 20
check_uas uasA 20
check_eq "INVITEs at .12 (priority 20)" "$(sink_invites b)" 0
sink_stop b
spl_stats_save a1
check_ge "requests parked for the first answer" "$(spl_statf a1 parked)" 1
check_ge "parked requests resumed" "$(spl_statf a1 park_resumed)" 1
check_eq "park timeouts" "$(spl_statf a1 park_timeouts)" 0
check_ge "shards' answers from the table" "$(spl_statf a1 shard_hits dns)" 19
check_ge "lookups asked by the shards" "$(spl_statf a1 shard_asked dns)" 1
check_ge "answers published" "$(spl_statf a1 answers_published dns)" 1

# (b) .11 swallows the INVITE: Timer B, then the next SRV target
sink_bg a "$UAS_IP" 5080
uas_bg uasB "$UAS2_IP" 5080 "$SCEN/uas_rr.xml" -m 3
sipp_uac b "$SCEN/uac_dns.xml" -key dom $DOM -s bob -m 3 -r 10 -l 3
uas_wait uasB || fail "UAS .12: SIPp reported failed calls"
check_sipp b 3
check_uas uasB 3
check_ge "INVITEs swallowed at .11 (first try and retransmissions)" "$(sink_invites a)" 3
spl_stats_save b1
check_ge "failovers after the timeout" $(( $(spl_statf b1 failovers) - $(spl_statf a1 failovers) )) 3

# (c) swapped priorities: after the TTL the shards ask again and follow
dns_stop
dns_start 20 10
l0=$(dstat lookups)
sleep $((TTL + 1))
n0=$(sink_invites a)
uas_bg uasC "$UAS2_IP" 5080 "$SCEN/uas_rr.xml" -m 5
sipp_uac c "$SCEN/uac_dns.xml" -key dom $DOM -s bob -m 5 -r 10 -l 5
uas_wait uasC || fail "UAS .12: SIPp reported failed calls"
check_sipp c 5
check_uas uasC 5
check_eq "INVITEs at .11 (now priority 20)" $(( $(sink_invites a) - n0 )) 0
sink_stop a
check_ge "lookups after the TTL" $(( $(dstat lookups) - l0 )) 1
check_ge "expired answers swept" "$(dstat table_expired)" 1

# (e) no such name: dns.unresolvable_status (604), cached negative
sipp_uac nx "$SCEN/uac_dns_expect.xml" -key dom nosuch.$DOM -key mf 70 -set expected 604 -s bob -m 1
check_sipp nx 1
check_ge "unresolvable answered" "$(spl_stat unresolvable)" 1
check_ge "negative answers published" "$(dstat negative_published)" 1
# a server that never answers: 503 at the park deadline
t0=$(date +%s%N)
sipp_uac slow "$SCEN/uac_dns_expect.xml" -key dom x.silent.$DOM -key mf 70 -set expected 503 -s bob -m 1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_sipp slow 1
check_ge "503 after the park timeout (ms)" "$ms" $((PARK_MS - 100))
check_ge "park timeouts" "$(spl_stat park_timeouts)" 1
for _ in $(seq 1 30); do [ "$(dstat timeouts)" -ge 1 ] && break; sleep 0.1; done
check_ge "DNS timeouts counted" "$(dstat timeouts)" 1
# dns lookup gives up after timeout_ms x tries; the lookup goes on alone
spl_ctl dns lookup y.silent.$DOM >"$WORK/silent-lookup.txt" 2>&1
check_grep "dns lookup of a silent name: no answer in time" "no answer within|no DNS server answered" \
	"$WORK/silent-lookup.txt"
for _ in $(seq 1 30); do [ "$(dstat timeouts)" -ge 2 ] && break; sleep 0.1; done
check_ge "DNS timeouts counted (the abandoned lookup too)" "$(dstat timeouts)" 2
check_eq "lookups in flight" "$(dstat lookups_in_flight)" 0
sink_stop silent
dns_stop
finish
