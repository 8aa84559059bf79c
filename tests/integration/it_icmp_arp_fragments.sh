#!/usr/bin/env bash
# The network stack: sipline answers ICMP echo and ARP for its address
# (the kernel's neighbour entry for it resolves again after a flush), and
# an INVITE with a 3.2 KB SDP (the kernel sends it in IP fragments, MTU
# 1500) is reassembled, forwarded (fragmented again by sipline) and
# reaches the UAS whole; the call completes.
. "$(dirname "$0")/lib.sh"

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };'
spl_start || finish

# ICMP echo. (Fragmented ICMP is not reassembled by design, doc/net.md:
# only UDP datagrams are.)
if ip netns exec "$NS" ping -c 5 -i 0.2 -W 1 "$SPL_IP" >"$WORK/ping.txt" 2>&1; then
	pass "ping: $(grep -Eo '[0-9]+ received' "$WORK/ping.txt")"
else
	fail "ping: $(tail -2 "$WORK/ping.txt" | head -1)"
fi

# ARP: forget sipline's MAC, then ping: the kernel must learn it again.
ip -n "$NS" neigh flush dev spl0
check_eq "neighbour entry after flush" "$(ip -n "$NS" neigh show "$SPL_IP" dev spl0 | grep -c lladdr)" 0
arp_in0=$(spl_stat arp_req_in)
ip netns exec "$NS" ping -c 1 -W 1 "$SPL_IP" >/dev/null 2>&1 || fail "ping after neighbour flush"
entry=$(ip -n "$NS" neigh show "$SPL_IP" dev spl0)
if echo "$entry" | grep -Eq 'lladdr ([0-9a-f]{2}:){5}[0-9a-f]{2} (REACHABLE|STALE|DELAY|PROBE)'; then
	pass "ARP answered: $entry"
else
	fail "no ARP entry for $SPL_IP: '$entry'"
fi
check_ge "ARP requests answered by sipline" "$(spl_stat arp_req_in)" $((arp_in0 + 1))
check_ge "ICMP echo answered by sipline" "$(spl_stat icmp_echo_in)" 6

# A fragmented INVITE, reassembled and forwarded.
spl_stats_save before
uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_bigsdp.xml" -m 3
sipp_uac big "$SCEN/uac_bigsdp.xml" -s bob -m 3 -r 3
check_sipp big 3
uas_wait uas || fail "UAS did not get the INVITE whole"
check_sipp uas 3
spl_stats_save after
d() { echo $(( $(spl_statf after "$1") - $(spl_statf before "$1") )); }
check_ge "IP fragments received" "$(d frag_in)" 9
check_eq "datagrams reassembled" "$(d frag_reassembled)" 3
check_eq "outgoing datagrams fragmented (the forwarded INVITEs)" "$(d frag_tx_dgrams)" 3
check_eq "INVITEs forwarded" "$(d req_out_invite)" 3
finish
