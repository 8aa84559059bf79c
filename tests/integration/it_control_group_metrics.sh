#!/usr/bin/env bash
# The control socket: with control.group set, a peer that is not root and
# not in the group is refused with a message naming the group (even when
# the socket file's mode lets it connect); a peer whose group is that
# group (primary or supplementary, as the kernel reports the peer's
# groups) is served; one that dropped it is refused. "metrics"
# is valid Prometheus text exposition. A clean shutdown exits 0.
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
command -v groupadd >/dev/null || skip "groupadd not installed"

GRP=split$$
groupadd "$GRP" || skip "cannot create a group"
at_exit "groupdel $GRP"
GID=$(getent group "$GRP" | cut -d: -f3)
SPL_CONTROL_EXTRA="group = \"$GRP\";" spl_config 'timers = { t1_ms = 100; };'
spl_start || finish

stat -c '%a %G' "$SOCK" >"$WORK/mode.txt"
check_eq "socket mode and group" "$(cat "$WORK/mode.txt")" "660 $GRP"
# Let anyone reach the socket, so that sipline's own check is what refuses.
chmod 755 "$WORK"
chmod 666 "$SOCK"

as_user() {  # GID CMD...: run as uid 65534 (nobody) with primary group GID
	local g=$1; shift
	setpriv --reuid=65534 --regid="$g" --clear-groups "$@"
}
out=$(as_user 65534 "$SPL_CTL" --socket "$SOCK" version 2>&1); rc=$?
check_eq "nobody refused (exit status)" "$rc" 1
if grep -q "permission denied: uid 65534 is not root and not in group '$GRP'" <<<"$out"; then
	pass "refusal names the group: $out"
else
	fail "refusal message: '$out'"
fi
out=$(as_user "$GID" "$SPL_CTL" --socket "$SOCK" version 2>&1); rc=$?
check_eq "primary group $GRP served (exit status)" "$rc" 0
grep -q '^version:' <<<"$out" && pass "served: $(head -1 <<<"$out")" || fail "group member got: $out"

# A process that holds the group as a supplementary group is served,
# whether or not /etc/group lists its user (SO_PEERGROUPS).
out=$(setpriv --reuid=65534 --regid=65534 --groups "$GID" "$SPL_CTL" --socket "$SOCK" uptime 2>&1); rc=$?
check_eq "supplementary group held by the process served (exit status)" "$rc" 0

# Membership through /etc/group (supplementary group of a user).
if command -v useradd >/dev/null; then
	USR=splitu$$
	if useradd -M -N -g 65534 -G "$GRP" -s /usr/sbin/nologin -d /nonexistent "$USR" 2>/dev/null; then
		at_exit "userdel $USR"
		out=$(setpriv --reuid="$USR" --regid=65534 --init-groups "$SPL_CTL" --socket "$SOCK" uptime 2>&1); rc=$?
		check_eq "member of $GRP by /etc/group served (exit status)" "$rc" 0
		# The peer's own groups decide (SO_PEERGROUPS), not /etc/group:
		# a member whose process dropped the group is refused.
		setpriv --reuid="$USR" --regid=65534 --clear-groups "$SPL_CTL" --socket "$SOCK" uptime >/dev/null 2>&1; rc=$?
		check_eq "member whose process dropped $GRP refused (exit status)" "$rc" 1
	else
		note "useradd failed: supplementary-group case not run"
	fi
fi

# metrics: Prometheus text format.
spl_ctl metrics >"$WORK/metrics.txt"
if python3 - "$WORK/metrics.txt" <<'PY'; then pass "metrics parse as Prometheus text ($(grep -vc '^#' "$WORK/metrics.txt") samples)"; else fail "metrics do not parse"; fi
import re, sys
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
sample = re.compile(rf"^({name_re})(\{{(?:{label_re}(?:,{label_re})*)?,?\}})? (\S+)( -?[0-9]+)?$")
typed, seen, bad = {}, set(), 0
lines = open(sys.argv[1]).read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
for n, line in enumerate(lines, 1):
    if not line:
        continue
    if line.startswith("#"):
        m = re.match(rf"^# (TYPE|HELP) ({name_re}) ?(.*)$", line)
        if not m:
            if re.match(r"^# (TYPE|HELP) ", line):
                print(f"line {n}: bad {line!r}"); bad += 1
            continue
        if m.group(1) == "TYPE":
            if m.group(3) not in ("counter", "gauge", "histogram", "summary", "untyped"):
                print(f"line {n}: bad type {line!r}"); bad += 1
            if m.group(2) in typed:
                print(f"line {n}: second TYPE for {m.group(2)}"); bad += 1
            typed[m.group(2)] = m.group(3)
        continue
    m = sample.match(line)
    if not m:
        print(f"line {n}: not a sample: {line!r}"); bad += 1; continue
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    try:
        float(value)
    except ValueError:
        print(f"line {n}: bad value {line!r}"); bad += 1
    if name not in typed:
        print(f"line {n}: {name} has no TYPE before it"); bad += 1
    if (name, labels) in seen:
        print(f"line {n}: duplicate sample {name}{labels}"); bad += 1
    seen.add((name, labels))
need = ["sipline_sip_in", "sipline_txn_live", "sipline_busy_cycles",
        "sipline_streams_accepted", "sipline_streams_live", "sipline_dns_lookups"]
for k in need:
    if not any(s[0] == k for s in seen):
        print(f"missing {k}"); bad += 1
if typed.get("sipline_txn_live") != "gauge" or typed.get("sipline_sip_in") != "counter":
    print("txn_live must be a gauge and sip_in a counter"); bad += 1
if typed.get("sipline_streams_live") != "gauge" or typed.get("sipline_streams_accepted") != "counter":
    print("streams_live must be a gauge and streams_accepted a counter"); bad += 1
sys.exit(1 if bad or not seen else 0)
PY

if spl_stop; then pass "clean shutdown, exit status 0"; else fail "shutdown exit status not 0"; fi
finish
