#!/usr/bin/env bash
# docker/test.sh — build the sipline image and check it, with podman (no
# Docker engine needed), as root on Debian 12:
#
#   1. a base image localhost/debian:bookworm from debootstrap (minbase),
#      imported with podman; skipped when that image already exists
#   2. podman build of docker/Dockerfile (BASE=localhost/debian:bookworm)
#      from a clean context (the files git tracks or would track)
#   3. in the image: sipline --version, --check-config of both shipped
#      configs, every binary's libraries resolve, sipline-gen present
#   4. the TAP demo: the appliance in a container of its own (no network
#      but its own namespace; only CAP_NET_ADMIN for sipline, plus SETUID and
#      SETGID for the entrypoint to drop to the user "sipline";
#      /dev/net/tun), then from the host side, inside the container's
#      network namespace (nsenter): addresses on spl0, a SIPp UAS and one
#      SIPp call UAC -> sipline -> UAS; the HEALTHCHECK; podman stop
#      (SIGTERM: drain) and exit status 0
#
# SIPp runs on the host (Debian's sip-tester) in the container's network
# namespace, so the image stays the one that ships, with no test tools.
#
#   bash docker/test.sh [--no-deps] [--keep]
#
# Exit 0 only when every step passed and the call succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEPS=1 KEEP=0
for a in "$@"; do
	case "$a" in
	--no-deps) DEPS=0 ;;
	--keep) KEEP=1 ;;
	*) echo "usage: docker/test.sh [--no-deps] [--keep]" >&2; exit 2 ;;
	esac
done

BASE_IMG=localhost/debian:bookworm
IMG=localhost/sipline:test
NAME=sipline-dktest
MIRROR=${SPL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d /tmp/sipline-dktest.XXXXXX)
export CONTAINERS_CONF=$WORK/containers.conf
PODMAN=(podman --runtime runc)
SCEN=$ROOT/tests/integration/scenarios

step() { printf '== [%3ds] %s\n' "$SECONDS" "$*"; }
fail() { echo "docker/test.sh: FAIL: $*" >&2; exit 1; }

cleanup() {
	local rc=$?
	[ -n "${UAS_PID:-}" ] && kill "$UAS_PID" 2>/dev/null || true
	if [ "$rc" != 0 ] && "${PODMAN[@]}" container exists "$NAME" 2>/dev/null; then
		echo "--- container log (last 30 lines)"
		"${PODMAN[@]}" logs "$NAME" 2>&1 | tail -30 || true
	fi
	[ "$KEEP" = 1 ] || "${PODMAN[@]}" rm -f -v "$NAME" >/dev/null 2>&1 || true
	[ -n "${ROOTFS:-}" ] && rm -rf "$ROOTFS"
	if [ "$KEEP" = 1 ]; then echo "kept: container $NAME, logs in $WORK"; else rm -rf "$WORK"; fi
	echo "docker/test.sh: $([ "$rc" = 0 ] && echo PASS || echo FAIL) in ${SECONDS}s"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "run as root (podman as root, network namespaces)"

if [ "$DEPS" = 1 ]; then
	missing=()
	for p in podman runc debootstrap sip-tester iproute2 util-linux iputils-ping git; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		step "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
fi

# Podman's default ulimits (nofile) cannot be applied in every sandbox.
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = []
EOF

# ---- 1. the base image -----------------------------------------------------
if "${PODMAN[@]}" image exists "$BASE_IMG"; then
	step "base image $BASE_IMG cached"
else
	step "debootstrap bookworm (minbase) from $MIRROR"
	ROOTFS=$WORK/rootfs
	debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
		{ tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
	# Like debian:bookworm-slim: updates and security suites, no docs.
	rm -f "$ROOTFS/etc/apt/sources.list"
	cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
	cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
	rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb
	step "importing $BASE_IMG"
	tar -C "$ROOTFS" -c . | "${PODMAN[@]}" import --change CMD=/bin/bash - "$BASE_IMG" >/dev/null
	rm -rf "$ROOTFS"
	ROOTFS=
fi

# ---- 2. the image ------------------------------------------------------------
# A clean context: what git tracks or would track (no build trees, no results).
CTX=$WORK/context
mkdir -p "$CTX"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar -C "$ROOT" --null -T - -cf - | tar -C "$CTX" -xf -
else   # not a git checkout: what the Dockerfile copies
	tar -C "$ROOT" --exclude=perf/results -cf - \
		meson.build meson_options.txt lib app perf drivers-cfg docker tests/tools | tar -C "$CTX" -xf -
fi
step "building $IMG (context $(du -sh "$CTX" | cut -f1))"
"${PODMAN[@]}" build --network=host --format docker --layers \
	--build-arg BASE="$BASE_IMG" -t "$IMG" -f "$CTX/docker/Dockerfile" "$CTX" >"$WORK/build.log" 2>&1 ||
	{ tail -40 "$WORK/build.log"; fail "podman build"; }
grep -E '^runtime packages:' "$WORK/build.log" | tail -1 || true
step "image size $("${PODMAN[@]}" image inspect -f '{{.Size}}' "$IMG" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# Podman schedules periodic health checks with systemd timers, and says so
# on stderr when systemd is not PID 1: the one-shot containers go without
# (--no-healthcheck); the appliance's container keeps the image's
# HEALTHCHECK, which the test runs itself (`podman healthcheck run`).
RUN=("${PODMAN[@]}" run --rm --network=none --no-healthcheck "$IMG")

# ---- 3. in the image ---------------------------------------------------------
step "sipline --version"
v=$("${RUN[@]}" sipline --version) || fail "sipline --version"
echo "   $v"
[[ "$v" == sipline\ * ]] || fail "unexpected version line: $v"
for c in /etc/sipline/sipline.conf /etc/sipline/demo.conf /etc/sipline/perf.conf; do
	step "sipline --check-config $c"
	"${RUN[@]}" --check-config "$c" | sed 's/^/   /' || fail "check-config $c"
done
step "libraries of every binary resolve; sipline-gen present"
"${RUN[@]}" sh -c 'set -e; for b in sipline siplinectl sipline-msg sipline-gen; do
	p=$(command -v $b) || { echo "missing $b"; exit 1; }
	if ldd "$p" | grep "not found"; then exit 1; fi
done; ls /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/ | grep -c "^librte_.*\.so\.23$" | sed "s/^/   PMD libraries: /"' ||
	fail "binaries"

# ---- 4. the TAP demo ---------------------------------------------------------
step "starting the appliance (demo config, TAP profile)"
"${PODMAN[@]}" rm -f -v "$NAME" >/dev/null 2>&1 || true
"${PODMAN[@]}" run -d --name "$NAME" --network=none --health-interval=disable \
	--cap-drop=all --cap-add=NET_ADMIN,SETUID,SETGID --device /dev/net/tun \
	--stop-timeout 60 "$IMG" --config /etc/sipline/demo.conf >/dev/null 2>"$WORK/run.err" ||
	{ cat "$WORK/run.err"; fail "podman run"; }
PID=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$NAME")
NS=(nsenter -t "$PID" -n)
for i in $(seq 1 300); do
	"${PODMAN[@]}" logs "$NAME" >"$WORK/sipline.log" 2>&1 || true
	grep -q ' running: ' "$WORK/sipline.log" && break
	[ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$NAME")" = true ] || fail "sipline exited"
	[ "$i" = 300 ] && fail "sipline did not start in 30 s"
	sleep 0.1
done
step "sipline running (uid $(awk '/^Uid:/ { print $2 }' /proc/"$PID"/status), CapEff $(awk '/^CapEff:/ { print $2 }' /proc/"$PID"/status))"
[ "$(awk '/^Uid:/ { print $2 }' /proc/"$PID"/status)" != 0 ] || fail "sipline runs as root"
"${NS[@]}" ip addr add 192.0.2.10/24 dev spl0
"${NS[@]}" ip addr add 192.0.2.11/24 dev spl0
"${NS[@]}" ip link set spl0 up
"${NS[@]}" ip link set lo up
for i in $(seq 1 50); do
	"${NS[@]}" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && break
	[ "$i" = 50 ] && fail "sipline does not answer ping on spl0"
	sleep 0.1
done

step "HEALTHCHECK (siplinectl stats on the control socket)"
h=""
for i in $(seq 1 20); do
	if "${PODMAN[@]}" healthcheck run "$NAME" >/dev/null 2>&1; then h=healthy; break; fi
	sleep 0.5
done
[ "$h" = healthy ] || fail "healthcheck did not pass"
echo "   healthy"

step "one call: SIPp UAC 192.0.2.10 -> sipline 192.0.2.1 -> SIPp UAS 192.0.2.11:5080"
"${NS[@]}" timeout 60 sipp -nostdin -sf "$SCEN/uas_rr.xml" -i 192.0.2.11 -p 5080 -m 1 \
	-timeout 50s >"$WORK/uas.log" 2>&1 &
UAS_PID=$!
sleep 0.5
set +e
"${NS[@]}" timeout 60 sipp -nostdin -sf "$SCEN/uac_rr.xml" -s bob -i 192.0.2.10 -p 5070 -m 1 -r 1 \
	-timeout 30s 192.0.2.1:5060 >"$WORK/uac.log" 2>&1
UAC_RC=$?
wait "$UAS_PID"
UAS_RC=$?
set -e
UAS_PID=
echo "   SIPp UAC exit $UAC_RC, UAS exit $UAS_RC (0 = the call succeeded)"
"${PODMAN[@]}" exec -u sipline "$NAME" siplinectl stats 2>/dev/null |
	sed -n '/^# totals/,/^# shard0/p' |
	grep -E '^(sip_in|req_in_(invite|ack|bye)|rsp_out_[12]xx|forwards|txn_live):' | sed 's/^/   /' || true
if [ "$UAC_RC" != 0 ]; then
	tail -20 "$WORK/uac.log"
	fail "the SIPp call failed"
fi
j=$("${PODMAN[@]}" exec -u sipline "$NAME" sh -c 'ls /var/lib/sipline | tr "\n" " "')
echo "   state volume /var/lib/sipline: $j"
[[ "$j" == *demo.journal.0* ]] || fail "no registrar journal in /var/lib/sipline"

step "podman stop (SIGTERM: drain, exit)"
"${PODMAN[@]}" exec -u sipline "$NAME" siplinectl txn count 2>/dev/null | sed 's/^/   live transactions before the stop: /' | tail -1 || true
t0=$SECONDS
"${PODMAN[@]}" stop -t 60 "$NAME" >/dev/null 2>"$WORK/stop.err" || { cat "$WORK/stop.err"; fail "podman stop"; }
rc=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$NAME")
"${PODMAN[@]}" logs "$NAME" >"$WORK/sipline.log" 2>&1
grep -E 'sipline (notice|warning|error):' "$WORK/sipline.log" | sed 's/^/   /' | tail -6
echo "   exit status $rc after $((SECONDS - t0)) s"
[ "$rc" = 0 ] || fail "sipline exited with $rc after SIGTERM"
grep -q 'draining' "$WORK/sipline.log" || fail "no drain logged"
exit 0
