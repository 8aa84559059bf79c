# shellcheck shell=bash
# Integration-test harness: sipline on a TAP port inside a network
# namespace of the test's own, SIPp on the kernel side of that TAP.
#
#   sipline 192.0.2.1 (DPDK TAP PMD) <== spl0 ==> kernel: 192.0.2.10 (UAC),
#                                                  192.0.2.11 (UAS), 192.0.2.12 (UAS 2)
#
# Traffic never leaves the namespace. Every SIPp run is bounded by call
# count and a timeout. Tests exit 0 pass, 1 fail, 77 skip (meson).
set -uo pipefail

: "${SPL_BIN:?SPL_BIN: path of the sipline executable}"
: "${SPL_CTL:?SPL_CTL: path of siplinectl}"
SPL_SRC=${SPL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SCEN=$SPL_SRC/tests/integration/scenarios
SPL_IP=192.0.2.1
UAC_IP=192.0.2.10
UAS_IP=192.0.2.11
UAS2_IP=192.0.2.12
NS=spl-it-$$
WORK=$(mktemp -d /tmp/spl-it.XXXXXX)
SOCK=$WORK/control.sock
SPL_PID=
FAILED=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILED=1; }
pass() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, DPDK)"
command -v sipp >/dev/null || skip "sipp not installed (apt-get install sip-tester)"
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$NS" link set lo up

cleanup() {
	if [ -n "$SPL_PID" ] && kill -0 "$SPL_PID" 2>/dev/null; then
		"$SPL_CTL" --socket "$SOCK" shutdown >/dev/null 2>&1
		for _ in $(seq 1 100); do kill -0 "$SPL_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SPL_PID" 2>/dev/null
	fi
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [ "$FAILED" != 0 ] && [ -f "$WORK/sipline.log" ]; then
		echo "--- sipline log (last 40 lines)"; tail -40 "$WORK/sipline.log"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# spl_config [EXTRA...]: the test config; extra text is appended verbatim.
spl_config() {
	cat >"$WORK/sipline.conf" <<CONF
eal = { cores = "${SPL_CORES:-0-1}"; memory_mb = 512; no_huge = true; profile = "tap";
        profile_dir = "$SPL_SRC/drivers-cfg"; file_prefix = "spl-it-$$"; };
ports = ( { name = "spl0"; addresses = [ "$SPL_IP/24" ]; } );
sip = { udp_ports = [ 5060 ]; domains = [ "example.test" ]; record_route = true; };
registrar = { enabled = true; journal = "$WORK/journal/registrar.journal"; ${SPL_REGISTRAR_EXTRA:-} };
worker = { idle = "adaptive"; };
control = { socket = "$SOCK"; };
log = { level = "info"; };
$*
CONF
}

# spl_start: run sipline in the namespace and bring the TAP's kernel side up.
spl_start() {
	[ -f "$WORK/sipline.conf" ] || spl_config
	ip netns exec "$NS" "$SPL_BIN" --config "$WORK/sipline.conf" >>"$WORK/sipline.log" 2>&1 &
	SPL_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && ip -n "$NS" link show spl0 >/dev/null 2>&1 && break
		kill -0 "$SPL_PID" 2>/dev/null || { FAILED=1; echo "sipline exited at start"; return 1; }
		sleep 0.1
	done
	[ -S "$SOCK" ] || { FAILED=1; echo "sipline did not open its control socket"; return 1; }
	ip -n "$NS" addr add "$UAC_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" addr add "$UAS_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" addr add "$UAS2_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" link set spl0 up
	# The exception TAP stays down in this namespace: with sipline's
	# address on it the kernel would answer for sipline itself.
	for _ in $(seq 1 50); do
		ip netns exec "$NS" ping -c1 -W1 "$SPL_IP" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	FAILED=1
	echo "sipline does not answer ping on $SPL_IP"
	return 1
}

# spl_kill9: crash sipline (journal tests).
spl_kill9() { kill -9 "$SPL_PID" 2>/dev/null; wait "$SPL_PID" 2>/dev/null; SPL_PID=; }

spl_ctl() { "$SPL_CTL" --socket "$SOCK" "$@"; }

# spl_stat KEY: a totals counter from "stats --json".
spl_stat() { spl_ctl --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['totals'].get('$1', 0))"; }

# sipp_ns ARGS...: SIPp in the namespace, bounded by a timeout.
sipp_ns() {
	local t=${SIPP_TIMEOUT:-60}
	ip netns exec "$NS" timeout "$t" sipp -nostdin -timeout "${t}s" -timeout_error "$@" >>"$WORK/sipp.log" 2>&1
}

# uas_bg NAME IP PORT SCENARIO [ARGS]: a background SIPp UAS; waits until it listens.
uas_bg() {
	local name=$1 ip=$2 port=$3 scen=$4; shift 4
	ip netns exec "$NS" timeout "${SIPP_TIMEOUT:-60}" sipp -nostdin -sf "$scen" -i "$ip" -p "$port" \
		-trace_stat -stf "$WORK/$name.csv" "$@" >>"$WORK/$name.log" 2>&1 &
	eval "UAS_PID_$name=$!"
	for _ in $(seq 1 50); do
		ip netns exec "$NS" ss -lun | grep -q "$ip:$port" && return 0
		sleep 0.1
	done
	echo "UAS $name did not start"; FAILED=1
}

# sipp_stat FILE FIELD: last value of a column in a SIPp -trace_stat CSV.
sipp_stat() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
head, last = rows[0], rows[-1]
print(last[head.index(sys.argv[2])])
PY
}

finish() {
	[ "$FAILED" = 0 ] && { echo "PASS"; exit 0; }
	echo "--- sipp logs"; tail -20 "$WORK"/*.log 2>/dev/null | head -80
	exit 1
}
