#!/usr/bin/env bash
# Two workers (three lcores: the control thread and two shards; on a
# 2-CPU box an --lcores map puts them on the CPUs, oversubscribed, so the
# call rate is low). Messages whose transaction (Via branch) or AOR hashes
# to the other shard are handed across the rings and complete there:
# registrations on one shard are found by calls on the other, every call
# succeeds, and "shards" shows hand-offs both ways with no ring drops.
. "$(dirname "$0")/lib.sh"
CALLS=100
RATE=20

SPL_CORES=${IT_CORES:-0@0,1@1,2@0} spl_config 'timers = { t1_ms = 100; };'
spl_start || finish
spl_ctl --json shards >"$WORK/shards0.json"
check_eq "workers (shards)" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/shards0.json")" 2

# Users bob1..bob8 registered at the UAS: their AORs spread over both
# shards; the calls' transactions too (by branch).
{ echo SEQUENTIAL; for i in $(seq 1 8); do echo "bob$i;3600"; done; } >"$WORK/users.csv"
sipp_uac reg "$SCEN/register_inf.xml" -i "$UAS_IP" -p 5080 -inf "$WORK/users.csv" -m 8
check_sipp reg 8
{ echo SEQUENTIAL; for i in $(seq 1 $CALLS); do echo "bob$(( (i - 1) % 8 + 1 ))"; done; } >"$WORK/callees.csv"

uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m "$CALLS"
sipp_uac uac "$SCEN/uac_rr_inf.xml" -inf "$WORK/callees.csv" -m "$CALLS" -r "$RATE"
uas_wait uas || fail "UAS reported failures"
check_sipp uac "$CALLS"
check_sipp uas "$CALLS"

spl_ctl --json shards >"$WORK/shards.json"
spl_stats_save end
python3 - "$WORK/shards.json" "$WORK/end.json" <<'PY' >"$WORK/handoff.txt"
import json, sys
sh = json.load(open(sys.argv[1])); st = json.load(open(sys.argv[2]))
for k in sorted(sh):
    s = sh[k]
    print(f"{k} handoff_out={s['handoff_out']} handoff_in={s['handoff_in']} "
          f"ring_full_drops={s['ring_full_drops']} sip_in={st[k]['sip_in']} "
          f"req_in_invite={st[k]['req_in_invite']} registers={st[k]['registers']}")
PY
cat "$WORK/handoff.txt"
tot() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) s += a[2] } } END { print s + 0 }' "$WORK/handoff.txt"; }
check_ge "hand-offs out (all shards)" "$(tot handoff_out)" 1
check_eq "hand-offs in = out" "$(tot handoff_in)" "$(tot handoff_out)"
check_eq "ring-full drops" "$(tot ring_full_drops)" 0
for k in shard0 shard1; do
	check_ge "$k: messages handed to it" "$(grep "^$k " "$WORK/handoff.txt" | grep -Eo 'handoff_in=[0-9]+' | cut -d= -f2)" 1
	check_ge "$k: INVITEs it processed" "$(grep "^$k " "$WORK/handoff.txt" | grep -Eo 'req_in_invite=[0-9]+' | cut -d= -f2)" 1
done
check_eq "INVITEs forwarded" "$(spl_statf end req_out_invite)" "$CALLS"
check_eq "registrations processed" "$(spl_statf end registers)" 8
finish
