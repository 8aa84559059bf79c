#!/usr/bin/env bash
# deploy/test.sh — the systemd integration of sipline (deploy/sipline.service,
# app/sipline/notify.c, deploy/sipline-setup), as root on Debian 12.
#
# systemd is not PID 1 on every test machine (nor in CI), so:
#
#   1. on the host, without systemd: sipline (TAP demo config, in a network
#      namespace) with $NOTIFY_SOCKET pointing at a python3 listener that
#      plays systemd's side of sd_notify — READY=1 after "running" (from the
#      main pid), the unit's ExecReload command -> RELOADING=1 then READY=1,
#      a refused reload -> exit 1 and no RELOADING=1, WATCHDOG=1 every
#      WATCHDOG_USEC/2, SIGTERM -> STOPPING=1 and exit 0; with an abstract
#      socket name (@...) and with a socket path
#   2. deploy/sipline-setup: --dry-run start and status (changes nothing)
#   3. with podman and the image docker/test.sh builds (localhost/sipline:test):
#      systemd 252 as PID 1 in a container, the unit installed as
#      doc/deploy.md says; systemctl start (Type=notify, User=sipline,
#      ambient capabilities, the hardening), one SIPp call through the
#      service, systemctl reload, a refused reload, WatchdogSec=, systemctl
#      stop -> Result=success, exit status 0; systemd-analyze verify/security
#
#   bash deploy/test.sh [--no-deps] [--no-systemd] [--build DIR]
#
# Exit 0 only when every step passed. Part 3 is skipped (and says so) when
# podman or the image is missing; --no-systemd skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEPS=1 SYSTEMD=1 BUILD=build-dk
while [ $# -gt 0 ]; do
	case "$1" in
	--no-deps) DEPS=0 ;;
	--no-systemd) SYSTEMD=0 ;;
	--build) BUILD=${2:?--build DIR}; shift ;;
	*) echo "usage: deploy/test.sh [--no-deps] [--no-systemd] [--build DIR]" >&2; exit 2 ;;
	esac
	shift
done

WORK=$(mktemp -d /tmp/sipline-deploytest.XXXXXX)
NS=spl-deploytest-$$
IMG=localhost/sipline:test
SDIMG=localhost/sipline-systemd:test
SDNAME=sipline-sdtest-$$
SCEN=$ROOT/tests/integration/scenarios
export CONTAINERS_CONF=$WORK/containers.conf
PODMAN=(podman --runtime runc)
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
FAILS=0

step() { printf '== [%3ds] %s\n' "$SECONDS" "$*"; }
ok() { echo "   ok: $*"; }
bad() { echo "   FAIL: $*"; FAILS=$((FAILS + 1)); }
die() { echo "deploy/test.sh: FAIL: $*" >&2; exit 1; }

cleanup() {
	local rc=$?
	[ -n "${SPL_PID:-}" ] && kill -9 "$SPL_PID" 2>/dev/null
	[ -n "${LIS_PID:-}" ] && kill "$LIS_PID" 2>/dev/null
	[ -n "${UAS_PID:-}" ] && kill "$UAS_PID" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if command -v podman >/dev/null; then
		"${PODMAN[@]}" rm -f "$SDNAME" >/dev/null 2>&1
	fi
	rm -rf "$WORK"
	[ "$rc" = 0 ] && [ "$FAILS" = 0 ] && echo "deploy/test.sh: PASS in ${SECONDS}s" ||
		echo "deploy/test.sh: FAIL ($FAILS failed checks) in ${SECONDS}s"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "run as root (network namespaces, TAP)"
if [ "$DEPS" = 1 ]; then
	bash tests/tools/install-deps.sh >/dev/null
fi
for t in python3 ip sipp meson ninja; do command -v "$t" >/dev/null || die "$t missing"; done
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" app/sipline/sipline app/siplinectl >/dev/null
SPL=$ROOT/$BUILD/app/sipline/sipline
CTL=$ROOT/$BUILD/app/siplinectl

# ---- 1. the sd_notify protocol, systemd's side played by python3 ------------
cat >"$WORK/listen.py" <<'EOF'
# Binds NOTIFY_SOCKET (a path or @abstract) and logs each datagram with the
# sender's pid from SCM_CREDENTIALS, as systemd does: "<seconds> pid=<pid> A=1 | B=2".
import os, socket, struct, sys, time
name, out = sys.argv[1], open(sys.argv[2], "a", buffering=1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if name.startswith("@"):
    s.bind("\0" + name[1:])
else:
    if os.path.exists(name):
        os.unlink(name)
    s.bind(name)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
open(sys.argv[2] + ".ready", "w").close()
t0 = time.monotonic()
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = "?"
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    out.write("%.3f pid=%s %s\n" % (time.monotonic() - t0, pid, msg.decode().replace("\n", " | ")))
EOF

mkdir -p "$WORK/spl"
sed -e "s#/tmp/sipline-demo/#$WORK/spl/#g" -e "s#\"sipline-demo\"#\"spl-deploytest-$$\"#" \
	app/conf/demo.conf >"$WORK/spl/sipline.conf"
grep -q "$WORK/spl/control.sock" "$WORK/spl/sipline.conf" || die "cannot adapt app/conf/demo.conf"
SOCK=$WORK/spl/control.sock
# The unit's own ExecReload command, pointed at this instance.
RELOAD=$(sed -n 's/^ExecReload=//p' deploy/sipline.service)
[ -n "$RELOAD" ] || die "no ExecReload= in deploy/sipline.service"
RELOAD=${RELOAD//\/usr\/bin\/siplinectl/$CTL}
RELOAD=${RELOAD//\/run\/sipline\/control.sock/$SOCK}

ip netns add "$NS"
ip -n "$NS" link set lo up

# wait_for FILE REGEX SECONDS
wait_for() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_spl NOTIFY_SOCKET [ENV...]: sipline in the namespace, READY=1 awaited.
start_spl() {
	local sock=$1
	shift
	: >"$WORK/notify.log"
	rm -f "$SOCK"
	env NOTIFY_SOCKET="$sock" "$@" ip netns exec "$NS" "$SPL" --config "$WORK/spl/sipline.conf" \
		>"$WORK/spl/sipline.log" 2>&1 &
	SPL_PID=$!
	if wait_for "$WORK/notify.log" 'READY=1' 60; then
		ok "READY=1 $(sed -n '/READY=1/{s/^[0-9.]* //;p;q}' "$WORK/notify.log")"
	else
		tail -5 "$WORK/spl/sipline.log"
		die "no READY=1 within 60 s"
	fi
	grep -q ' running: ' "$WORK/spl/sipline.log" && ok "READY=1 came after 'running' was logged" ||
		bad "READY=1 before 'running'"
	grep -q "^[0-9.]* pid=$SPL_PID READY=1" "$WORK/notify.log" && ok "sent by the main pid $SPL_PID" ||
		bad "READY=1 not from the main pid $SPL_PID ($(grep READY "$WORK/notify.log" | head -1))"
}

# stop_spl: SIGTERM, STOPPING=1 and exit status 0 awaited.
stop_spl() {
	local t0=$SECONDS rc
	kill -TERM "$SPL_PID"
	wait_for "$WORK/notify.log" 'STOPPING=1' 40 && ok "STOPPING=1 on SIGTERM" || bad "no STOPPING=1"
	set +e
	wait "$SPL_PID"
	rc=$?
	set -e
	SPL_PID=
	[ "$rc" = 0 ] && ok "exit status 0 after SIGTERM ($((SECONDS - t0)) s)" || bad "exit status $rc after SIGTERM"
}

step "sd_notify over an abstract socket (@name), WATCHDOG_USEC=1000000"
ip netns exec "$NS" python3 "$WORK/listen.py" "@sipline-deploytest-$$" "$WORK/notify.log" &
LIS_PID=$!
for _ in $(seq 1 100); do [ -e "$WORK/notify.log.ready" ] && break; sleep 0.1; done
[ -e "$WORK/notify.log.ready" ] || die "the notify listener did not start"
start_spl "@sipline-deploytest-$$" WATCHDOG_USEC=1000000

step "ExecReload ($(sed -n 's/^ExecReload=//p' deploy/sipline.service))"
if $RELOAD >"$WORK/reload.out" 2>&1; then ok "exit 0: $(tr '\n' ' ' <"$WORK/reload.out")"; else bad "reload failed: $(cat "$WORK/reload.out")"; fi
if wait_for "$WORK/notify.log" 'RELOADING=1 \| MONOTONIC_USEC=[0-9]+' 5 &&
	wait_for "$WORK/notify.log" 'READY=1 .*generation 1' 5; then
	r=$(grep -n 'RELOADING=1' "$WORK/notify.log" | head -1 | cut -d: -f1)
	y=$(grep -n 'READY=1 .*generation 1' "$WORK/notify.log" | head -1 | cut -d: -f1)
	[ "$r" -lt "$y" ] && ok "RELOADING=1 (with MONOTONIC_USEC) then READY=1, generation 1" || bad "READY=1 before RELOADING=1"
else
	bad "no RELOADING=1/READY=1 after the reload"
fi

step "a refused reload (eal.memory_mb changed: needs a restart)"
cp "$WORK/spl/sipline.conf" "$WORK/spl/sipline.conf.orig"
sed -i 's/memory_mb = 512/memory_mb = 256/' "$WORK/spl/sipline.conf"
n0=$(grep -c 'RELOADING=1' "$WORK/notify.log")
set +e
$RELOAD >"$WORK/reload.out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && ok "exit 1: $(tr '\n' ' ' <"$WORK/reload.out")" || bad "exit $rc (want 1): $(cat "$WORK/reload.out")"
sleep 1
[ "$(grep -c 'RELOADING=1' "$WORK/notify.log")" = "$n0" ] && ok "no RELOADING=1 sent" || bad "RELOADING=1 sent for a refused reload"
cp "$WORK/spl/sipline.conf.orig" "$WORK/spl/sipline.conf"

step "watchdog"
sleep 1.5
w=$(grep -c 'WATCHDOG=1' "$WORK/notify.log" || true)
[ "$w" -ge 2 ] && ok "$w WATCHDOG=1 so far (every 0.5 s for WATCHDOG_USEC=1000000)" || bad "only $w WATCHDOG=1"

step "SIGTERM"
stop_spl
kill "$LIS_PID" 2>/dev/null; LIS_PID=

step "sd_notify over a socket path (listener outside the namespace)"
python3 "$WORK/listen.py" "$WORK/notify.sock" "$WORK/notify.log" &
LIS_PID=$!
rm -f "$WORK/notify.log.ready"
for _ in $(seq 1 100); do [ -e "$WORK/notify.log.ready" ] && break; sleep 0.1; done
start_spl "$WORK/notify.sock"
grep -q WATCHDOG "$WORK/notify.log" && bad "WATCHDOG=1 without WATCHDOG_USEC" || ok "no WATCHDOG=1 without WATCHDOG_USEC"
stop_spl
kill "$LIS_PID" 2>/dev/null; LIS_PID=

# ---- 2. sipline-setup ------------------------------------------------------
step "deploy/sipline-setup --dry-run start / status (with deploy/sipline.default)"
if bash -n deploy/sipline-setup && deploy/sipline-setup --env deploy/sipline.default --dry-run start >"$WORK/setup.out" 2>&1; then
	ok "dry-run start: $(grep -c '^+ ' "$WORK/setup.out") command(s) it would run"
	sed 's/^/      /' "$WORK/setup.out"
else
	bad "sipline-setup --dry-run start: $(cat "$WORK/setup.out")"
fi
if command -v dpdk-hugepages.py >/dev/null; then
	deploy/sipline-setup --env deploy/sipline.default status >"$WORK/setup.out" 2>&1 &&
		ok "status: $(head -2 "$WORK/setup.out" | tail -1)" || bad "sipline-setup status: $(tail -3 "$WORK/setup.out")"
else
	echo "   skipped status: Debian's dpdk package (dpdk-hugepages.py) is not installed"
fi

# ---- 3. the unit under systemd 252 as PID 1, in a container -----------------
if [ "$SYSTEMD" = 0 ]; then
	step "systemd part skipped (--no-systemd)"
elif ! command -v podman >/dev/null || ! podman --runtime runc image exists "$IMG" 2>/dev/null; then
	step "systemd part skipped: needs podman and $IMG (bash docker/test.sh builds it)"
else
	step "building $SDIMG ($IMG + systemd, the unit installed as doc/deploy.md says)"
	mkdir -p "$WORK/sd"
	cp deploy/sipline.service deploy/sipline-setup deploy/sipline.sysusers "$WORK/sd/"
	cat >"$WORK/sd/default" <<'EOF'
SIPLINE_CONFIG=/etc/sipline/demo.conf
SIPLINE_HUGEPAGES=
SIPLINE_NICS=
EOF
	cat >"$WORK/sd/Containerfile" <<EOF
FROM $IMG
RUN apt-get update && apt-get install -y --no-install-recommends systemd systemd-sysv dbus \\
 && rm -rf /var/lib/apt/lists/*
COPY sipline.service /etc/systemd/system/sipline.service
COPY sipline.sysusers /usr/lib/sysusers.d/sipline.conf
COPY sipline-setup /usr/lib/sipline/sipline-setup
COPY default /etc/default/sipline
RUN chmod 0755 /usr/lib/sipline/sipline-setup && systemd-sysusers
ENTRYPOINT ["/lib/systemd/systemd"]
CMD []
STOPSIGNAL SIGRTMIN+3
EOF
	"${PODMAN[@]}" build --network=host --format docker -t "$SDIMG" "$WORK/sd" >"$WORK/sd/build.log" 2>&1 ||
		{ tail -20 "$WORK/sd/build.log"; die "building $SDIMG"; }
	# --privileged: systemd needs it to set up the unit's sandbox (mount
	# namespaces) inside a container; the unit itself stays as written.
	"${PODMAN[@]}" run -d --name "$SDNAME" --privileged --systemd=always --network=none \
		"$SDIMG" >/dev/null 2>"$WORK/sd/run.err" || { cat "$WORK/sd/run.err"; die "podman run"; }
	SD=("${PODMAN[@]}" exec "$SDNAME")
	for i in $(seq 1 60); do
		s=$("${SD[@]}" systemctl is-system-running 2>/dev/null || true)
		case "$s" in running | degraded) break ;; esac
		[ "$i" = 60 ] && die "systemd did not boot in the container ($s)"
		sleep 0.5
	done
	ok "systemd $("${SD[@]}" systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($s)"

	step "systemd-analyze verify / security"
	if "${SD[@]}" systemd-analyze verify /etc/systemd/system/sipline.service >"$WORK/sd/verify" 2>&1 &&
		! grep -q . "$WORK/sd/verify"; then
		ok "verify: no warnings"
	else
		bad "verify: $(cat "$WORK/sd/verify")"
	fi
	"${SD[@]}" systemd-analyze security sipline.service --no-pager 2>/dev/null | tail -1 | sed 's/^/   /' || true

	step "systemctl start sipline (Type=notify: returns after READY=1)"
	t0=$SECONDS
	if "${SD[@]}" systemctl start sipline; then ok "started in $((SECONDS - t0)) s"; else
		"${SD[@]}" journalctl -u sipline --no-pager | tail -20
		die "systemctl start sipline"
	fi
	show() { "${SD[@]}" systemctl show -p "$1" --value sipline; }
	[ "$(show ActiveState)/$(show SubState)" = active/running ] && ok "active (running): $(show StatusText)" ||
		bad "state $(show ActiveState)/$(show SubState)"
	mp=$(show MainPID)
	"${SD[@]}" sh -c "grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' /proc/$mp/status" | tr -s '\t' ' ' | sed 's/^/   /'
	[ "$("${SD[@]}" awk '/^Uid:/ { print $2 }' "/proc/$mp/status")" = 999 ] && ok "runs as sipline (uid 999)" || bad "not uid 999"

	step "one call through the service (SIPp on the host, in the container's network namespace)"
	CPID=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$SDNAME")
	N=(nsenter -t "$CPID" -n)
	"${N[@]}" ip addr add 192.0.2.10/24 dev spl0
	"${N[@]}" ip addr add 192.0.2.11/24 dev spl0
	"${N[@]}" ip link set spl0 up
	for _ in $(seq 1 50); do "${N[@]}" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && break; sleep 0.1; done
	"${N[@]}" timeout 60 sipp -nostdin -sf "$SCEN/uas_rr.xml" -i 192.0.2.11 -p 5080 -m 1 -timeout 50s \
		>"$WORK/sd/uas.log" 2>&1 &
	UAS_PID=$!
	sleep 0.5
	set +e
	"${N[@]}" timeout 60 sipp -nostdin -sf "$SCEN/uac_rr.xml" -s bob -i 192.0.2.10 -p 5070 -m 1 -r 1 \
		-timeout 30s 192.0.2.1:5060 >"$WORK/sd/uac.log" 2>&1
	rc=$?
	wait "$UAS_PID"
	set -e
	UAS_PID=
	[ "$rc" = 0 ] && ok "the call succeeded" || bad "the SIPp call failed (exit $rc)"

	step "systemctl reload sipline (ExecReload)"
	"${SD[@]}" systemctl reload sipline && ok "reload: exit 0" || bad "systemctl reload failed"
	[ "$(show ActiveState)" = active ] && show StatusText | grep -q 'generation 1' &&
		ok "active, $(show StatusText)" || bad "after reload: $(show ActiveState), $(show StatusText)"
	"${SD[@]}" sed -i 's/memory_mb = 512/memory_mb = 256/' /etc/sipline/demo.conf
	if "${SD[@]}" systemctl reload sipline 2>/dev/null; then bad "a reload that needs a restart succeeded"; else
		ok "refused reload fails the job: $("${SD[@]}" journalctl -u sipline --no-pager -o cat | grep 'reload refused' | tail -1)"
	fi
	[ "$(show ActiveState)" = active ] && ok "still active on the old config" || bad "not active after a refused reload"
	"${SD[@]}" sed -i 's/memory_mb = 256/memory_mb = 512/' /etc/sipline/demo.conf

	step "systemctl stop sipline (SIGTERM: drain, exit 0)"
	t0=$SECONDS
	"${SD[@]}" systemctl stop sipline || bad "systemctl stop failed"
	[ "$(show Result)" = success ] && [ "$(show ExecMainStatus)" = 0 ] &&
		ok "Result=success, exit status 0, after $((SECONDS - t0)) s (drain)" ||
		bad "Result=$(show Result) ExecMainStatus=$(show ExecMainStatus)"
	"${SD[@]}" journalctl -u sipline --no-pager -o cat | grep -E 'sipline (notice|warning|error):|Stopp|Deactiv' |
		tail -4 | sed 's/^/   /'

	step "WatchdogSec=2s (drop-in)"
	"${SD[@]}" mkdir -p /etc/systemd/system/sipline.service.d
	"${SD[@]}" sh -c 'printf "[Service]\nWatchdogSec=2s\n" > /etc/systemd/system/sipline.service.d/watchdog.conf'
	"${SD[@]}" systemctl daemon-reload
	"${SD[@]}" systemctl start sipline || bad "start with WatchdogSec"
	sleep 6
	[ "$(show ActiveState)" = active ] && [ "$(show NRestarts)" = 0 ] && [ "$(show WatchdogTimestampMonotonic)" != 0 ] &&
		ok "alive after 6 s with a 2 s watchdog, no restarts" ||
		bad "watchdog: $(show ActiveState), NRestarts=$(show NRestarts), WatchdogTimestampMonotonic=$(show WatchdogTimestampMonotonic)"
	"${SD[@]}" systemctl stop sipline
	[ "$(show Result)" = success ] && ok "stopped: Result=success" || bad "Result=$(show Result)"
fi

[ "$FAILS" = 0 ] || exit 1
exit 0
