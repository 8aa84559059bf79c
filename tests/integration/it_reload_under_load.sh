#!/usr/bin/env bash
# Config reload while calls run: good reloads (log level, a new domain, a
# new route) are applied on every shard with no call lost; bad reloads
# (syntax error, unknown key, a change that needs a restart) are refused
# with a message naming the problem, and "config show" stays the same.
. "$(dirname "$0")/lib.sh"
CALLS=400
RATE=40

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };'
spl_start || finish
CONF=$WORK/sipline.conf
cp "$CONF" "$WORK/good0.conf"

# reload OUTFILE: "config reload"; 0 when accepted.
reload() { spl_ctl config reload >"$WORK/$1" 2>&1; }

uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m "$CALLS"
sipp_uac uac "$SCEN/uac_rr.xml" -s bob -m "$CALLS" -r "$RATE" &
UAC=$!
sleep 1.5

# 1: log level and a second domain.
sed -e 's/level = "info"/level = "notice"/' \
	-e 's/domains = \[ "example.test" \]/domains = [ "example.test", "other.test" ]/' "$WORK/good0.conf" >"$CONF"
if reload r1.txt; then pass "reload 1 accepted: $(tr '\n' ' ' <"$WORK/r1.txt")"; else fail "reload 1: $(cat "$WORK/r1.txt")"; fi
cp "$CONF" "$WORK/good1.conf"
sleep 1.5

# 2: a route for the new domain.
sed -e 's/^routes = ( { domain = "example.test"; next_hops = \[ "192.0.2.11:5080" \]; } );/routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; }, { domain = "other.test"; next_hops = [ "192.0.2.12:5080" ]; } );/' \
	"$WORK/good1.conf" >"$CONF"
grep -q other.test "$CONF" || fail "test bug: route not added"
if reload r2.txt; then pass "reload 2 accepted: $(tr '\n' ' ' <"$WORK/r2.txt")"; else fail "reload 2: $(cat "$WORK/r2.txt")"; fi
cp "$CONF" "$WORK/good2.conf"
spl_ctl config show >"$WORK/show_good.txt"
sleep 1

# Bad ones, each refused with its reason; the running config stays.
bad() {  # NAME EXPECTED-MESSAGE-REGEXP
	if reload "$1.txt"; then
		fail "$1: reload accepted"
	elif grep -Eq -- "$2" "$WORK/$1.txt"; then
		pass "$1 refused: $(tr '\n' ' ' <"$WORK/$1.txt")"
	else
		fail "$1: refused, but the message does not say /$2/: $(cat "$WORK/$1.txt")"
	fi
	spl_ctl config show >"$WORK/show_$1.txt"
	if cmp -s "$WORK/show_good.txt" "$WORK/show_$1.txt"; then
		pass "$1: config show unchanged"
	else
		fail "$1: config show changed: $(diff "$WORK/show_good.txt" "$WORK/show_$1.txt" | head -5)"
	fi
	cp "$WORK/good2.conf" "$CONF"
}
sed 's/record_route = true;/recrod_route = true;/' "$WORK/good2.conf" >"$CONF"
bad unknown_key "sipline.conf:[0-9]+: unknown key 'sip.recrod_route'"
sed 's/t1_ms = 100;/t1_ms = = 100;/' "$WORK/good2.conf" >"$CONF"
bad syntax "sipline.conf:[0-9]+: .*syntax error"
sed 's/cores = "0-1"/cores = "0"/' "$WORK/good2.conf" >"$CONF"
bad restart_eal "eal settings changed: restart sipline to apply it"
sed 's/t1_ms = 100;/t1_ms = 200;/' "$WORK/good2.conf" >"$CONF"
bad restart_t1 "timers.t1_ms.*restart sipline"
sed 's/udp_ports = \[ 5060 \]/udp_ports = [ 5062 ]/' "$WORK/good2.conf" >"$CONF"
bad restart_port "sip.udp_ports changed: restart sipline"
sed 's/t1_ms = 100;/t1_ms = 100; timer_c_s = 10;/' "$WORK/good2.conf" >"$CONF"
bad out_of_range "timer_c_s"

wait "$UAC"
uas_wait uas || fail "UAS reported failures"
check_sipp uac "$CALLS"
check_sipp uas "$CALLS"
check_eq "INVITEs forwarded" "$(spl_stat req_out_invite)" "$CALLS"
check_grep "running config has the new domain" '^sip.domains:example.test,other.test$' "$WORK/show_good.txt"
check_grep "running config has the new log level" '^log.level:notice$' "$WORK/show_good.txt"
spl_ctl routes >"$WORK/routes.txt"
check_grep "the new route is live" 'other.test.*192.0.2.12:5080' "$WORK/routes.txt"
spl_stats_save end
check_eq "config generation applied on the shard" "$(spl_statf end config_generation shard0)" 2
finish
