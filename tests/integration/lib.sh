# shellcheck shell=bash
# Integration-test harness: sipline on a TAP port inside a network
# namespace of the test's own, SIPp on the kernel side of that TAP.
#
#   sipline 192.0.2.1 (DPDK TAP PMD) <== spl0 ==> kernel: 192.0.2.10 (UAC),
#                                                  192.0.2.11 (UAS), 192.0.2.12 (UAS 2)
#
# Traffic never leaves the namespace. Every SIPp run is bounded by call
# count and a timeout. Tests exit 0 pass, 1 fail, 77 skip (meson).
#
# A test sources this file, optionally sets SPL_CORES / SPL_REGISTRAR_EXTRA /
# SPL_CONTROL_EXTRA and calls spl_config "EXTRA CONFIG TEXT", then
# spl_start, drives traffic with sipp_uac / uas_bg, checks with check_eq
# and friends, and ends with finish.
set -uo pipefail

: "${SPL_BIN:?SPL_BIN: path of the sipline executable}"
: "${SPL_CTL:?SPL_CTL: path of siplinectl}"
SPL_SRC=${SPL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SPL_SHARED=${SPL_SHARED_DIR:-$SPL_SRC/../shared}
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
T0=${EPOCHREALTIME/./}

skip() { echo "SKIP: $*"; exit 77; }
# seconds since the test started, one decimal
elapsed() { local d=$(( (${EPOCHREALTIME/./} - T0) / 100000 )); echo "$((d / 10)).$((d % 10))"; }
fail() { echo "FAIL: $* [$(elapsed)s]"; FAILED=1; }
pass() { echo "ok: $* [$(elapsed)s]"; }
note() { echo "# $*"; }

# check_eq WHAT GOT WANT / check_ge WHAT GOT MIN / check_le WHAT GOT MAX
check_eq() { if [ "$2" = "$3" ]; then pass "$1 = $2"; else fail "$1 = $2, expected $3"; fi; }
check_ge() { if [ "$2" -ge "$3" ] 2>/dev/null; then pass "$1 = $2 (>= $3)"; else fail "$1 = $2, expected >= $3"; fi; }
check_le() { if [ "$2" -le "$3" ] 2>/dev/null; then pass "$1 = $2 (<= $3)"; else fail "$1 = $2, expected <= $3"; fi; }
# check_grep WHAT PATTERN FILE: FILE has a line matching the extended regexp
check_grep() { if grep -Eq -- "$2" "$3"; then pass "$1"; else fail "$1 (no /$2/ in $(basename "$3"))"; fi; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, DPDK)"
command -v sipp >/dev/null || skip "sipp not installed (apt-get install sip-tester)"
command -v python3 >/dev/null || skip "python3 not installed"
[ -x "$SPL_BIN" ] || skip "no sipline executable at $SPL_BIN"
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
# /tmp/spl-it.* is 0700; the control-socket test makes it reachable itself.

AT_EXIT=()
# at_exit CMD: run CMD (a string, eval'd) at cleanup, e.g. to remove a
# group or user the test created.
at_exit() { AT_EXIT+=("$1"); }

cleanup() {
	if [ -n "$SPL_PID" ] && kill -0 "$SPL_PID" 2>/dev/null; then
		if [ "$FAILED" != 0 ]; then
			echo "--- sipline stats at failure (non-zero totals)"
			spl_ctl stats 2>/dev/null | sed -n '/^# totals/,/^# shard0/p' | grep -v ':0$' | head -150
		fi
		# Draining waits for live transactions (up to 32 s): give it a
		# moment, then end it. spl_stop is the clean exit, for tests
		# that check it.
		"$SPL_CTL" --socket "$SOCK" shutdown >/dev/null 2>&1
		for _ in $(seq 1 20); do kill -0 "$SPL_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$SPL_PID" 2>/dev/null
	fi
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	local c
	for c in "${AT_EXIT[@]}"; do eval "$c" >/dev/null 2>&1; done
	# DPDK's runtime directory of this run's file prefix (empty by now)
	rm -rf "/var/run/dpdk/spl-it-$$"
	if [ "$FAILED" != 0 ] && [ -f "$WORK/sipline.log" ]; then
		echo "--- sipline log (last 40 lines)"; tail -40 "$WORK/sipline.log"
	fi
	[ -n "${SPL_KEEP_WORK:-}" ] && { echo "work directory kept: $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT
# Signals end the test through the EXIT trap (meson's timeout sends TERM);
# a closed stdout (| head) must not kill the shell before it cleans up.
trap 'exit 1' INT TERM HUP
trap '' PIPE

# spl_config [EXTRA...]: the test config; extra text is appended verbatim
# (groups other than eal, ports, sip, registrar, worker, control, log:
# routes, timers, auth, pools). SPL_CORES, SPL_REGISTRAR_EXTRA,
# SPL_CONTROL_EXTRA, SPL_SIP_EXTRA and SPL_LOG_LEVEL customise the rest.
spl_config() {
	cat >"$WORK/sipline.conf" <<CONF
eal = { cores = "${SPL_CORES:-0-1}"; memory_mb = 512; no_huge = true; profile = "tap";
        profile_dir = "$SPL_SRC/drivers-cfg"; file_prefix = "spl-it-$$"; };
ports = ( { name = "spl0"; addresses = [ "$SPL_IP/24" ]; } );
sip = { udp_ports = [ 5060 ]; domains = [ "example.test" ]; record_route = true; ${SPL_SIP_EXTRA:-} };
registrar = { enabled = true; journal = "$WORK/journal/registrar.journal"; ${SPL_REGISTRAR_EXTRA:-} };
worker = { idle = "adaptive"; };
control = { socket = "$SOCK"; ${SPL_CONTROL_EXTRA:-} };
log = { level = "${SPL_LOG_LEVEL:-info}"; };
$*
CONF
}

# spl_start: run sipline in the namespace and bring the TAP's kernel side
# up. Ready when the control socket answers and sipline answers ping.
spl_start() {
	[ -f "$WORK/sipline.conf" ] || spl_config
	echo "=== sipline start $(date +%T.%N)" >>"$WORK/sipline.log"
	ip netns exec "$NS" "$SPL_BIN" --config "$WORK/sipline.conf" >>"$WORK/sipline.log" 2>&1 &
	SPL_PID=$!
	local up=0
	for _ in $(seq 1 200); do
		if ip -n "$NS" link show spl0 >/dev/null 2>&1 && [ -S "$SOCK" ] &&
			"$SPL_CTL" --socket "$SOCK" version >/dev/null 2>&1; then
			up=1; break
		fi
		kill -0 "$SPL_PID" 2>/dev/null || { FAILED=1; echo "sipline exited at start"; return 1; }
		sleep 0.1
	done
	[ "$up" = 1 ] || { FAILED=1; echo "sipline did not answer on its control socket"; return 1; }
	local t_ctl; t_ctl=$(elapsed)
	ip -n "$NS" addr add "$UAC_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" addr add "$UAS_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" addr add "$UAS2_IP/24" dev spl0 2>/dev/null
	ip -n "$NS" link set spl0 up
	# sipline's exception TAP (TCP/TLS, other non-SIP traffic) is in a
	# network namespace of sipline's own, not in this one.
	for _ in $(seq 1 50); do
		if ip netns exec "$NS" ping -c1 -W1 "$SPL_IP" >/dev/null 2>&1; then
			note "sipline up (pid $SPL_PID; control socket at ${t_ctl}s) [$(elapsed)s]"
			return 0
		fi
		sleep 0.1
	done
	FAILED=1
	echo "sipline does not answer ping on $SPL_IP"
	return 1
}

# spl_stop: clean shutdown through the control socket; 0 when it exited 0.
spl_stop() {
	spl_ctl shutdown >/dev/null 2>&1
	local rc=1
	for _ in $(seq 1 100); do kill -0 "$SPL_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SPL_PID" 2>/dev/null; then
		kill -9 "$SPL_PID" 2>/dev/null
		wait "$SPL_PID" 2>/dev/null
	else
		wait "$SPL_PID"; rc=$?
	fi
	SPL_PID=
	return "$rc"
}

# spl_kill9: crash sipline (journal tests).
spl_kill9() { kill -9 "$SPL_PID" 2>/dev/null; wait "$SPL_PID" 2>/dev/null; SPL_PID=; }

spl_ctl() { "$SPL_CTL" --socket "$SOCK" "$@"; }

# spl_stat KEY: a totals counter from "stats --json".
spl_stat() { spl_ctl --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['totals'].get('$1', 0))"; }

# spl_stats_save NAME: "stats --json" into $WORK/NAME.json
spl_stats_save() { spl_ctl --json stats >"$WORK/$1.json"; }

# spl_statf NAME KEY [SECTION]: a counter from a saved stats file
spl_statf() {
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[3]].get(sys.argv[2], 0))" \
		"$WORK/$1.json" "$2" "${3:-totals}"
}

# spl_wait_stat KEY VALUE [SECONDS]: wait until a totals counter reaches VALUE.
spl_wait_stat() {
	local n=$(( ${3:-10} * 10 ))
	for _ in $(seq 1 "$n"); do
		[ "$(spl_stat "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# spl_wait_idle [SECONDS]: wait until no transaction is live.
spl_wait_idle() {
	local n=$(( ${1:-40} * 10 ))
	for _ in $(seq 1 "$n"); do
		[ "$(spl_stat txn_live)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# spl_txn_all: every live transaction ("txn list", all pages), one a line.
spl_txn_all() {
	local page=1 out
	while [ "$page" -le 100 ]; do
		out=$(spl_ctl txn list --page "$page" | grep '^transactions\[') || break
		echo "$out"
		page=$((page + 1))
	done
}

# sipp_ns ARGS...: SIPp in the namespace, bounded by a timeout.
sipp_ns() {
	local t=${SIPP_TIMEOUT:-60}
	ip netns exec "$NS" timeout "$t" sipp -nostdin -timeout "${t}s" -timeout_error "$@" >>"$WORK/sipp.log" 2>&1
}

# sipp_uac NAME SCENARIO [ARGS...]: a SIPp client at $UAC_IP towards
# sipline; stats in $WORK/NAME.csv, log and errors in $WORK/NAME.*.
# Returns SIPp's status (0: every call succeeded).
sipp_uac() {
	local name=$1 scen=$2; shift 2
	local t=${SIPP_TIMEOUT:-50}
	(cd "$WORK" && ip netns exec "$NS" timeout "$((t + 10))" sipp -nostdin -sf "$scen" -i "$UAC_IP" \
		-p "${UAC_PORT:-5070}" -timeout "${t}s" -timeout_error -trace_stat -stf "$WORK/$name.csv" \
		-trace_err -error_file "$WORK/$name.err" -trace_logs -log_file "$WORK/$name.logs" \
		"$@" "$SPL_IP:5060" >>"$WORK/$name.log" 2>&1)
}

# uas_bg NAME IP PORT SCENARIO [ARGS]: a background SIPp UAS; waits until it listens.
uas_bg() {
	local name=$1 ip=$2 port=$3 scen=$4; shift 4
	(cd "$WORK" && exec ip netns exec "$NS" timeout "${SIPP_TIMEOUT:-60}" sipp -nostdin -sf "$scen" -i "$ip" \
		-p "$port" -timeout "${SIPP_TIMEOUT:-60}s" -trace_stat -stf "$WORK/$name.csv" \
		-trace_err -error_file "$WORK/$name.err" -trace_logs -log_file "$WORK/$name.logs" \
		"$@" >>"$WORK/$name.log" 2>&1) &
	eval "UAS_PID_$name=$!"
	for _ in $(seq 1 50); do
		[[ $(ip netns exec "$NS" ss -lun) == *"$ip:$port "* ]] && return 0
		sleep 0.1
	done
	echo "UAS $name did not start"; FAILED=1
}

# uas_wait NAME: wait for a background UAS to end; its SIPp status.
uas_wait() {
	local v="UAS_PID_$1"
	wait "${!v}"
}

# sipp_stat NAME FIELD: last value of a column of $WORK/NAME.csv (SIPp -trace_stat).
sipp_stat() {
	python3 - "$WORK/$1.csv" "$2" <<'PY'
import csv, sys
try:
    rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
    head, last = rows[0], rows[-1]
    print(last[head.index(sys.argv[2])])
except Exception:
    print(-1)
PY
}

# sipp_calls NAME: "created succeeded failed" of a SIPp run.
sipp_calls() {
	echo "$(sipp_stat "$1" 'TotalCallCreated') $(sipp_stat "$1" 'SuccessfulCall(C)') $(sipp_stat "$1" 'FailedCall(C)')"
}

# check_sipp NAME CALLS: the SIPp run NAME made CALLS calls, all succeeded.
check_sipp() {
	local c s f
	read -r c s f <<<"$(sipp_calls "$1")"
	if [ "$c" = "$2" ] && [ "$s" = "$2" ] && [ "$f" = 0 ]; then
		pass "$1: $s/$2 calls succeeded"
	else
		fail "$1: created $c, succeeded $s, failed $f (expected $2/$2/0)"
		[ -s "$WORK/$1.err" ] && { echo "--- $1 errors"; head -20 "$WORK/$1.err"; }
	fi
}

# sip_udp [ARGS]: tests/integration/sipudp.py in the namespace (a one-shot
# UDP SIP client: send a datagram, print the answers' status lines).
sip_udp() { ip netns exec "$NS" python3 "$SPL_SRC/tests/integration/sipudp.py" "$@"; }


finish() {
	if [ "$FAILED" = 0 ]; then echo "PASS ($(elapsed) s)"; exit 0; fi
	echo "--- sipp logs"
	for f in "$WORK"/*.log; do
		case $f in */sipline.log) continue ;; esac
		[ -s "$f" ] || continue
		echo "## $(basename "$f")"; grep -v '^\s*$' "$f" | tail -25
	done
	for f in "$WORK"/*.err; do [ -s "$f" ] && { echo "## $(basename "$f")"; head -30 "$f"; }; done
	echo "FAIL ($(elapsed) s)"
	exit 1
}
