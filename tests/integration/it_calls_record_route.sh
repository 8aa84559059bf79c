#!/usr/bin/env bash
# 1,000 record-routed calls UAC -> sipline -> UAS: every call succeeds on
# both sides, ACK and BYE follow the Route set through sipline (uac_rr /
# uas_rr check it), and sipline's counters agree: every INVITE, ACK and
# BYE received was forwarded once, nothing rejected or dropped, and once
# the transactions have ended nothing is left (transactions, contexts).
# Prints calls/s and CPU per call (busy cycles of the worker).
. "$(dirname "$0")/lib.sh"
CALLS=${IT_CALLS:-1000}
RATE=${IT_RATE:-200}

spl_config 'routes = ( { domain = "example.test"; next_hops = [ "192.0.2.11:5080" ]; } );
timers = { t1_ms = 100; };'
spl_start || finish
spl_stats_save start

# One traced call first: the route set is learnt and used.
uas_bg uas1 "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m 1 -trace_msg -message_file "$WORK/uas1.msg"
sipp_uac uac1 "$SCEN/uac_rr.xml" -s bob -m 1 -trace_msg -message_file "$WORK/uac1.msg"
uas_wait uas1 || fail "traced call: UAS"
check_sipp uac1 1
python3 - "$WORK/uac1.msg" "$WORK/uas1.msg" <<'PY' && pass "ACK and BYE follow the Route set" || fail "route set not followed"
import re, sys
def msgs(path):
    return [b.split("\n\n", 1)[1] for b in open(path).read().split("-----------------------------------------------")
            if "\n\n" in b]
def req(ms, method, direction):
    return [m for m in ms if m.startswith(method + " ")]
uac, uas = msgs(sys.argv[1]), msgs(sys.argv[2])
ok = True
for method in ("ACK", "BYE"):
    sent = req(uac, method, "sent")[0]
    got = req(uas, method, "received")[0]
    # The caller addresses the callee's Contact through sipline's Record-Route ...
    if not sent.startswith(f"{method} sip:callee@192.0.2.11:5080 ") or \
            not re.search(r"^Route: <sip:192\.0\.2\.1:5060;lr>\s*$", sent, re.M):
        print(f"caller's {method}:\n{sent}"); ok = False
    # ... and sipline pops its own Route and forwards to the Request-URI.
    if not got.startswith(f"{method} sip:callee@192.0.2.11:5080 ") or re.search(r"^Route:", got, re.M) or \
            not re.search(r"^Via: SIP/2.0/UDP 192\.0\.2\.1:5060;branch=z9hG4bK", got, re.M):
        print(f"callee's {method}:\n{got}"); ok = False
sys.exit(0 if ok else 1)
PY
spl_stats_save before

uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m "$CALLS"
t0=$(date +%s.%N)
sipp_uac uac "$SCEN/uac_rr.xml" -s bob -m "$CALLS" -r "$RATE" -l 400
t1=$(date +%s.%N)
uas_wait uas || fail "UAS: SIPp reported failed calls"
check_sipp uac "$CALLS"
check_sipp uas "$CALLS"
spl_stats_save after

d() { echo $(( $(spl_statf after "$1") - $(spl_statf before "$1") )); }
for m in invite ack bye; do
	check_eq "req_in_$m" "$(d req_in_$m)" "$CALLS"
	check_eq "req_out_$m" "$(d req_out_$m)" "$CALLS"
done
check_eq "stateful forwards (INVITE and BYE)" "$(d forwards)" $((2 * CALLS))
check_eq "stateless forwards (ACK for 2xx)" "$(d stateless_requests)" "$CALLS"
check_eq "2xx forwarded (INVITE and BYE)" "$(d rsp_out_2xx)" $((2 * CALLS))
check_eq "rejected" "$(spl_statf after rejected)" 0
check_eq "overload 503" "$(spl_statf after overload_503)" 0
check_eq "loops" "$(spl_statf after loops_detected)" 0
drops=$(python3 - "$WORK/after.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
bad = {k: v for k, v in t.items() if isinstance(v, int) and v and
       (k.startswith(("drop_", "proxy_drop_", "net_drop_", "sip_drop")) or k.startswith("local_") and
        not k.startswith(("local_100_", "local_200_")) or k in ("txn_table_full", "registers_failed"))}
print(" ".join(f"{k}={v}" for k, v in sorted(bad.items())) or "none")
PY
)
check_eq "drops and local error answers" "$drops" none

python3 - "$WORK/before.json" "$WORK/after.json" "$t0" "$t1" "$CALLS" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["totals"]; a = json.load(open(sys.argv[2]))["totals"]
t0, t1, calls = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
busy = (a["busy_cycles"] - b["busy_cycles"]) / a["tsc_hz"]
msgs = a["sip_in"] - b["sip_in"]
print(f"# {calls} calls in {t1 - t0:.1f} s ({calls / (t1 - t0):.0f} calls/s offered by SIPp), "
      f"{msgs} SIP messages in; worker busy {busy * 1e3:.0f} ms: "
      f"{busy / calls * 1e6:.1f} us CPU per call, {busy / msgs * 1e6:.2f} us per message")
PY

# Once Timer M/K/J have run (64*T1 = 6.4 s here), nothing is left.
if spl_wait_idle 20; then pass "all transactions ended"; else fail "transactions still live: $(spl_stat txn_live)"; fi
spl_stats_save idle
check_eq "contexts live" "$(spl_statf idle contexts_live)" 0
check_eq "mbufs in use back to the start" "$(spl_statf idle mbufs_in_use)" "$(spl_statf start mbufs_in_use)"
finish
