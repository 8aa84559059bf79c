#!/usr/bin/env bash
# sipline-gen against its --loopback-proxy relay: every call and every
# (digest-authenticated) REGISTER completes, the JSON summary carries the
# documented keys, and a two-step ramp reports its steps; then the same
# state machines without a network (--mode null). Exit 0 pass, 1 fail.
# Bounded: each run has a call count and a timeout.
set -uo pipefail
GEN=${1:?usage: test_sipline_gen.sh SIPLINE_GEN}
WORK=$(mktemp -d /tmp/spl-gen-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LOOP=(--loopback-proxy --proxy 127.0.0.1:0 --uac-bind 127.0.0.1:0 --uas-bind 127.0.0.1:0 --max-inflight 4000 --quiet --json)

timeout 30 "$GEN" "${LOOP[@]}" --rate 400 --calls 300 --hold-ms 5 \
	--register 100 --registers 60 --auth 'u*:secret' >"$WORK/run.json" 2>"$WORK/run.err"
rc=$?
[ $rc = 0 ] || { echo "sipline-gen exited $rc"; cat "$WORK/run.err"; }

timeout 30 "$GEN" "${LOOP[@]}" --ramp --rate 100 --duration 0.5 --warmup 0.2 --ramp-steps 2 \
	--ramp-pause 0 --hold-ms 0 >"$WORK/ramp.json" 2>"$WORK/ramp.err"
rc2=$?
[ $rc2 = 0 ] || { echo "sipline-gen --ramp exited $rc2"; cat "$WORK/ramp.err"; }

timeout 30 "$GEN" --mode null --rate 20000 --calls 4000 --hold-ms 1 --register 2000 --registers 1000 \
	--quiet --json >"$WORK/null.json" 2>"$WORK/null.err"
rc3=$?
[ $rc3 = 0 ] || { echo "sipline-gen --mode null exited $rc3"; cat "$WORK/null.err"; }

python3 - "$WORK/run.json" "$WORK/ramp.json" "$WORK/null.json" <<'PY'
import json, sys
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
r = json.load(open(sys.argv[1]))
for k in ("offered_cps", "achieved_cps", "calls_attempted", "calls_ok", "calls_failed",
          "retransmissions", "latency_us", "gen_cpu_s", "gen_cpu_us_per_call",
          "registers_ok", "fail_reasons", "cdf_invite_to_200_us"):
    check(k in r, f"key {k} missing")
check(r.get("calls_attempted") == 300, f"calls_attempted {r.get('calls_attempted')} != 300")
check(r.get("calls_ok") == 300, f"calls_ok {r.get('calls_ok')} != 300")
check(r.get("calls_failed") == 0, f"calls_failed {r.get('calls_failed')} != 0")
check(r.get("registers_ok") == 60, f"registers_ok {r.get('registers_ok')} != 60 (digest auth)")
check(r.get("registers_failed") == 0, f"registers_failed {r.get('registers_failed')}")
lat = r.get("latency_us", {})
for leg in ("invite_to_180", "invite_to_200", "bye_to_200", "register_to_200"):
    h = lat.get(leg, {})
    for p in ("p50", "p90", "p99", "max"):
        check(p in h, f"latency_us.{leg}.{p} missing")
    check(h.get("count", 0) > 0, f"no samples for {leg}")
    check(h.get("p50", 0) <= h.get("p99", 0) <= h.get("max", 0), f"{leg}: percentiles out of order")
m = json.load(open(sys.argv[2]))
check("max_cps" in m and "ramp" in m, "ramp: max_cps / ramp missing")
steps = m.get("ramp", {}).get("steps", [])
check(len(steps) == 2, f"ramp: {len(steps)} steps, want 2")
check(m.get("max_cps", 0) >= 100, f"ramp: max_cps {m.get('max_cps')} < 100")
n = json.load(open(sys.argv[3]))
check(n.get("calls_ok") == 4000 and n.get("calls_failed") == 0, f"null mode: calls_ok {n.get('calls_ok')}")
check(n.get("registers_ok") == 1000, f"null mode: registers_ok {n.get('registers_ok')}")
for b in bad:
    print("FAIL:", b)
print("ok" if not bad else f"{len(bad)} failure(s)")
sys.exit(1 if bad else 0)
PY
py=$?
[ $rc = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $py = 0 ]
