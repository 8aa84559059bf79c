#!/usr/bin/env bash
# Sequential forking by q: alice registers a contact with q=1.0 that never
# answers and one with q=0.5 that answers. With fork_timeout_s = 2 the
# first group is given up after 2 s (no provisional: no CANCEL), the
# second contact gets the INVITE and the caller gets its 200.
. "$(dirname "$0")/lib.sh"
FORK_S=2

spl_config "timers = { t1_ms = 100; fork_timeout_s = $FORK_S; };"
spl_start || finish

sipp_uac regA "$SCEN/register_q.xml" -i "$UAS_IP" -p 5080 -s alice -key q 1.0 -m 1
sipp_uac regB "$SCEN/register_q.xml" -i "$UAS2_IP" -p 5080 -s alice -key q 0.5 -m 1
check_sipp regA 1
check_sipp regB 1
spl_ctl location show sip:alice@example.test >"$WORK/loc.txt"
check_grep "q=1 contact" 'contact=<?sip:alice@192\.0\.2\.11:5080.* q=1000' "$WORK/loc.txt"
check_grep "q=0.5 contact" 'contact=<?sip:alice@192\.0\.2\.12:5080.* q=500' "$WORK/loc.txt"

uas_bg first "$UAS_IP" 5080 "$SCEN/uas_noanswer.xml" -m 1 -d 6000 -trace_msg -message_file "$WORK/first.msg"
uas_bg second "$UAS2_IP" 5080 "$SCEN/uas_rr.xml" -m 1 -trace_msg -message_file "$WORK/second.msg"
t0=$(date +%s%N)
sipp_uac call "$SCEN/uac_rr.xml" -s alice -m 1
t1=$(date +%s%N)
check_sipp call 1
uas_wait first || fail "first contact's UAS failed"
uas_wait second || fail "second contact's UAS failed"
check_sipp second 1
check_eq "INVITEs to the q=1.0 contact (first and retransmissions)" \
	"$(grep -c '^INVITE sip:alice@192.0.2.11:5080' "$WORK/first.msg" | awk '{print ($1 >= 1)}')" 1
check_eq "CANCELs to the unanswering contact (none: it sent no provisional)" \
	"$(grep -c '^CANCEL ' "$WORK/first.msg")" 0
ms=$(( (t1 - t0) / 1000000 ))
check_ge "call set-up took (ms)" "$ms" $((FORK_S * 1000))
check_le "call set-up took (ms)" "$ms" $((FORK_S * 1000 + 2500))
# The second contact was tried only after the group timer.
python3 - "$WORK/first.msg" "$WORK/second.msg" "$FORK_S" <<'PY' && pass "second contact tried ${FORK_S}s after the first" || fail "second contact tried too early"
import re, sys, datetime
def first_invite(path):
    txt = open(path).read()
    for m in re.finditer(r"-{20,} (\S+ \S+)\n\S+ message received \[\d+\] bytes :\n\nINVITE ", txt):
        return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
    raise SystemExit(1)
a, b = first_invite(sys.argv[1]), first_invite(sys.argv[2])
d = (b - a).total_seconds()
print(f"# INVITE to the q=0.5 contact {d:.2f} s after the q=1.0 one")
sys.exit(0 if float(sys.argv[3]) - 0.2 <= d <= float(sys.argv[3]) + 1.5 else 1)
PY
check_eq "fork group timeouts" "$(spl_stat fork_group_timeouts)" 1
finish
