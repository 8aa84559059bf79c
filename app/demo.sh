#!/usr/bin/env bash
# The README's main job: on a fresh Debian 12 machine, as root, install
# what sipline needs, build it, start the appliance on the TAP profile with
# the demo config (app/conf/demo.conf: domain example.test, auth off,
# record-route on), drive it with SIPp — one REGISTER, then calls from a
# SIPp UAC to a SIPp UAS through sipline — print what happened, and stop
# sipline cleanly.
#
# Everything runs in a network namespace of its own ("spl-demo"): the TAP
# interface spl0 is the wire between the kernel (SIPp) and sipline.
#
#   bash app/demo.sh [CALLS]      (default 100 calls at 50/s)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLS=${1:-100}

bash tests/tools/install-deps.sh
if [ ! -f build-release/build.ninja ]; then
	meson setup build-release --buildtype=release >/dev/null
fi
ninja -C build-release app/sipline/sipline app/siplinectl >/dev/null

SPL=$ROOT/build-release/app/sipline/sipline
CTL=$ROOT/build-release/app/siplinectl
NS=spl-demo
RUN=/tmp/sipline-demo
SOCK=$RUN/control.sock
SCEN=$ROOT/tests/integration/scenarios
mkdir -p "$RUN"
rm -f "$RUN"/*.log

cleanup() {
	[ -n "${SPL_PID:-}" ] && kill -9 "$SPL_PID" 2>/dev/null || true
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$NS"
ip -n "$NS" link set lo up

echo "== starting sipline (TAP profile, demo config) in namespace $NS"
ip netns exec "$NS" "$SPL" --config app/conf/demo.conf >"$RUN/sipline.log" 2>&1 &
SPL_PID=$!
for _ in $(seq 1 100); do
	[ -S "$SOCK" ] && ip -n "$NS" link show spl0 >/dev/null 2>&1 && break
	kill -0 "$SPL_PID" 2>/dev/null || { cat "$RUN/sipline.log"; echo "sipline failed to start"; exit 1; }
	sleep 0.1
done
ip -n "$NS" addr add 192.0.2.10/24 dev spl0
ip -n "$NS" addr add 192.0.2.11/24 dev spl0
ip -n "$NS" link set spl0 up
for _ in $(seq 1 50); do ip netns exec "$NS" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && break; sleep 0.1; done
"$CTL" --socket "$SOCK" version

echo "== REGISTER alice@example.test (SIPp at 192.0.2.10)"
ip netns exec "$NS" timeout 30 sipp -nostdin -sf "$SCEN/register.xml" -s alice -i 192.0.2.10 -p 5090 \
	-m 1 -timeout 20s 192.0.2.1:5060 >"$RUN/register.log" 2>&1 && echo "registered" || echo "REGISTER failed"
"$CTL" --socket "$SOCK" location show sip:alice@example.test || true

echo "== $CALLS calls: SIPp UAC 192.0.2.10 -> sipline -> SIPp UAS 192.0.2.11:5080 (record-routed)"
ip netns exec "$NS" timeout 120 sipp -nostdin -sf "$SCEN/uas_rr.xml" -i 192.0.2.11 -p 5080 -m "$CALLS" \
	-timeout 100s -trace_stat -stf "$RUN/uas.csv" >"$RUN/uas.log" 2>&1 &
UAS=$!
sleep 0.5
set +e
ip netns exec "$NS" timeout 120 sipp -nostdin -sf "$SCEN/uac_rr.xml" -s bob -i 192.0.2.10 -p 5070 \
	-m "$CALLS" -r 50 -timeout 100s -trace_stat -stf "$RUN/uac.csv" 192.0.2.1:5060 >"$RUN/uac.log" 2>&1
UAC_RC=$?
wait "$UAS"
set -e
python3 - "$RUN/uac.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
get = lambda k: last[h.index(k)]
print(f"calls attempted: {get('TotalCallCreated')}  succeeded: {get('SuccessfulCall(C)')}  failed: {get('FailedCall(C)')}")
PY
echo "(SIPp UAC exit status $UAC_RC: 0 = every call succeeded)"

echo "== sipline stats (totals)"
"$CTL" --socket "$SOCK" stats | sed -n '/^# totals/,/^# shard0/p' | grep -E '^(sip_in|req_in_(invite|ack|bye|register)|rsp_out_[12]xx|forwards|retransmissions|txn_live|busy_ns_per_sip_message|rejected|drop_sip_drop|registers_processed|bindings_live):' || true

echo "== stopping sipline"
"$CTL" --socket "$SOCK" shutdown
for _ in $(seq 1 400); do kill -0 "$SPL_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SPL_PID"; echo "sipline exited with status $?"
SPL_PID=
exit "$UAC_RC"
