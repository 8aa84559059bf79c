#!/usr/bin/env bash
# RFC 3261 §18.3 framing on sipline's TCP port, driven byte by byte with
# siptcp.py (OPTIONS addressed to sipline, answered 200 by sipline itself):
#   - a message cut into many small segments (7-byte and 1-byte writes,
#     TCP_NODELAY, a few ms apart) is answered once;
#   - five messages in one write are answered, each once, in order;
#   - a CRLFCRLF keep-alive gets exactly one CRLF back (RFC 5626 §3.5.1),
#     and the connection keeps working;
#   - a bad Content-Length ("abc"), none at all, or one beyond max_message
#     (4096 here) closes the connection without an answer, counted as
#     closed_bad_cl / closed_no_cl / closed_oversize; so does a partial
#     message left for longer than stall_timeout_s (2 s: closed_stall) and
#     one cut by our close (closed_eof_partial); an idle connection closes
#     after idle_timeout_s (closed_idle); sipline keeps serving TCP and UDP;
#   - max_per_ip: connections beyond it are refused (refused_per_ip);
#   - "conn count" / "conn list" show a client's connection (tcp, in, its
#     address and port, its message counts); "conn close ID" closes it (the
#     client sees EOF, closed_admin), an unknown id is an error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_stream.sh"

spl_config 'timers = { t1_ms = 100; };
tcp = { enabled = true; port = 5060; max_message = 4096; stall_timeout_s = 2; idle_timeout_s = 8; max_per_ip = 16;
        write_queue_kb = 16; };'
spl_start || finish
spl_stats_save start

# opts OUT IDS...: the "rsp" lines of OUT as "STATUS CALL-ID ...".
rsps() { grep '^rsp ' "$WORK/$1" | cut -d' ' -f2- | tr '\n' ' ' | sed 's/ $//'; }

# An idle client, in the background: one OPTIONS, then silence until
# sipline closes it (idle_timeout_s = 8).
sip_tcp opt idle1 expect 1 eof 20 >"$WORK/idle.out" 2>&1 &
IDLE=$!

# ---- segmented, batched, keep-alive
sip_tcp opt-split seg7 7 5 expect 1 opt-split seg1 1 2 expect 1 >"$WORK/split.out" 2>&1
check_eq "OPTIONS in 7-byte and 1-byte segments" "$(rsps split.out)" "200 seg7 200 seg1"
sip_tcp opt-batch b1,b2,b3,b4,b5 expect 5 >"$WORK/batch.out" 2>&1
check_eq "five OPTIONS in one write, answered in order" "$(rsps batch.out)" "200 b1 200 b2 200 b3 200 b4 200 b5"
sip_tcp raw '\r\n\r\n' read 1 opt after-ping expect 1 >"$WORK/ping.out" 2>&1
check_eq "CRLFCRLF ping answered" "$(grep '^bytes ' "$WORK/ping.out")" "bytes b'\r\n'"
check_eq "OPTIONS after the ping" "$(rsps ping.out)" "200 after-ping"
spl_stats_save framed
check_eq "streams pings" "$(stream_d start framed pings)" 1
check_eq "streams pongs" "$(stream_d start framed pongs)" 1
check_ge "streams msgs_in (9 OPTIONS and idle1)" "$(stream_d start framed msgs_in)" 9

# ---- framing errors close the connection, without an answer
bad() {  # NAME COUNTER STEPS...
	local name=$1 counter=$2; shift 2
	spl_stats_save "pre_$name"
	sip_tcp "$@" eof 6 >"$WORK/$name.out" 2>&1
	local e; e=$(grep -E '^(eof|open)' "$WORK/$name.out")
	case $e in
	eof*) pass "$name: sipline closed the connection (after ${e#eof }s)" ;;
	*) fail "$name: connection not closed: $(tr '\n' ' ' <"$WORK/$name.out")" ;;
	esac
	grep -q '^rsp ' "$WORK/$name.out" && note "$name: answered before the close: $(rsps "$name.out")"
	spl_stats_save "post_$name"
	check_eq "$name: $counter" "$(stream_d "pre_$name" "post_$name" "$counter")" 1
}
bad bad_cl closed_bad_cl opt-cl cl-abc abc
bad no_cl closed_no_cl opt-cl cl-none none
bad oversize closed_oversize opt-cl cl-big 5000
spl_stats_save pre_stall
sip_tcp partial stall1 eof 8 >"$WORK/stall.out" 2>&1
s=$(grep -E '^(eof|open)' "$WORK/stall.out")
case $s in
eof*) t=${s#eof }; t=${t%.*}
	if [ "$t" -ge 1 ] && [ "$t" -le 5 ]; then pass "stalled partial message closed after ${s#eof }s (stall_timeout_s 2)"
	else fail "stalled partial message closed after ${s#eof }s, expected about 2"; fi ;;
*) fail "stalled partial message: connection not closed: $(tr '\n' ' ' <"$WORK/stall.out")" ;;
esac
spl_stats_save post_stall
check_eq "closed_stall" "$(stream_d pre_stall post_stall closed_stall)" 1
sip_tcp partial cut1 sleep 0.2 close >/dev/null 2>&1
stream_wait closed_eof_partial $(( $(stream_stat post_stall closed_eof_partial) + 1 )) 3
spl_stats_save post_cut
check_eq "closed_eof_partial (we closed mid-message)" "$(stream_d post_stall post_cut closed_eof_partial)" 1

# ---- still serving, on TCP and UDP
sip_tcp opt still-tcp expect 1 >"$WORK/still.out" 2>&1
check_eq "OPTIONS on a new TCP connection" "$(rsps still.out)" "200 still-tcp"
printf '%s\r\n' "OPTIONS sip:$SPL_IP:5060 SIP/2.0" "Via: SIP/2.0/UDP $UAC_IP:5071;branch=z9hG4bK-still-udp" \
	"Max-Forwards: 70" "From: <sip:probe@$UAC_IP>;tag=su" "To: <sip:$SPL_IP:5060>" \
	"Call-ID: still-udp@$UAC_IP" "CSeq: 1 OPTIONS" "Content-Length: 0" "" >"$WORK/opt_udp.sip"
check_eq "OPTIONS over UDP" "$(sip_udp "$WORK/opt_udp.sip" | cut -d' ' -f2)" 200
kill -0 "$SPL_PID" 2>/dev/null && pass "sipline still running" || fail "sipline died"

# ---- conn count / list / close
sip_tcp opt held expect 1 eof 30 >"$WORK/held.out" 2>&1 &
HELD=$!
for _ in $(seq 1 50); do grep -q '^rsp 200 held' "$WORK/held.out" && break; sleep 0.1; done
check_eq "held connection answered" "$(rsps held.out)" "200 held"
held_addr=$(sed -n 's/^local //p' "$WORK/held.out")
spl_ctl --json conn count >"$WORK/count.json" 2>&1 || fail "conn count: $(cat "$WORK/count.json")"
conn_json "$WORK/conns.json" || fail "conn list failed"
id=$(conn_find "$WORK/conns.json" tcp in "$held_addr")
if [ -n "$id" ]; then pass "conn list: tcp in from $held_addr, id $id"
else fail "conn list: no tcp in from $held_addr: $(cat "$WORK/conns.json")"; fi
python3 - "$WORK/conns.json" "$id" "$WORK/count.json" <<'PY' && pass "conn list/count values" || fail "conn list/count values"
import json, sys
conns, cid, count = json.load(open(sys.argv[1])), sys.argv[2], json.load(open(sys.argv[3]))
c = [c for c in conns if str(c.get("id")) == cid]
ok = True
def need(cond, what):
    global ok
    if not cond:
        print(what); ok = False
if c:
    c = c[0]
    # "192.0.2.1:5060" or ":5060": the port is what matters
    need(str(c.get("local")).endswith(":5060"), f"local {c.get('local')}")
    need(c.get("rx_msgs") == 1 and c.get("tx_msgs") == 1, f"rx_msgs {c.get('rx_msgs')} tx_msgs {c.get('tx_msgs')}")
    need(c.get("rx_bytes", 0) > 100 and c.get("tx_bytes", 0) > 100, f"rx_bytes {c.get('rx_bytes')} tx_bytes {c.get('tx_bytes')}")
    need(c.get("queued_bytes") == 0, f"queued_bytes {c.get('queued_bytes')}")
    need(isinstance(c.get("age_s"), (int, float)) and isinstance(c.get("idle_s"), (int, float)), "age_s/idle_s")
need(count.get("tcp", 0) >= 1 and count.get("inbound", 0) >= 1 and count.get("tls") == 0 and
     count.get("total") == count.get("tcp", 0) + count.get("tls", 0) ==
     count.get("inbound", 0) + count.get("outbound", 0) and count.get("total") == len(conns),
     f"conn count {count}, conn list has {len(conns)}")
sys.exit(0 if ok else 1)
PY
spl_stats_save pre_admin
if [ -n "$id" ] && spl_ctl conn close "$id" >"$WORK/close.txt" 2>&1; then
	pass "conn close $id: $(tr '\n' ' ' <"$WORK/close.txt")"
else
	fail "conn close $id: $(cat "$WORK/close.txt" 2>/dev/null)"
fi
wait "$HELD"
check_eq "client saw EOF after conn close" "$(grep -Ec '^eof [0-9]' "$WORK/held.out")" 1
spl_stats_save post_admin
check_eq "closed_admin" "$(stream_d pre_admin post_admin closed_admin)" 1
if spl_ctl conn close "$id" >"$WORK/close2.txt" 2>&1; then fail "conn close of a closed id succeeded: $(cat "$WORK/close2.txt")"
else pass "conn close of a closed id refused: $(tr '\n' ' ' <"$WORK/close2.txt")"; fi
if spl_ctl conn close 987654321 >"$WORK/close3.txt" 2>&1; then fail "conn close of an unknown id succeeded"
else pass "conn close of an unknown id refused: $(tr '\n' ' ' <"$WORK/close3.txt")"; fi

# ---- max_per_ip 16: 20 silent connections, the ones beyond are refused
spl_stats_save pre_flood
sip_tcp --flood 20 --hold 2 --silent >"$WORK/perip.out" 2>&1
read -r _ _ _ _ refused _ closed _ _ <<<"$(cat "$WORK/perip.out")"
spl_stats_save post_flood
r=$(stream_d pre_flood post_flood refused_per_ip)
live=$(( $(stream_stat pre_flood live) ))
# The idle client may still hold a slot of 192.0.2.10's.
check_ge "refused_per_ip (20 connections, limit 16)" "$r" $((20 - 16 - live))
check_le "refused_per_ip (20 connections, limit 16)" "$r" 5
check_ge "connections the client saw refused or closed" "$(( ${refused:-0} + ${closed:-0} ))" "$r"
sip_tcp opt after-limit expect 1 >"$WORK/after_limit.out" 2>&1
check_eq "OPTIONS once the flood ended" "$(rsps after_limit.out)" "200 after-limit"

# ---- back-pressure: a client that sends but never reads is closed
# (its answers fill the kernel's buffers, then sipline's bounded write
# queue), not buffered without bound.
spl_stats_save pre_bp
ip netns exec "$NS" timeout 30 python3 - "$UAC_IP" "$SPL_IP" >"$WORK/bp.out" 2>&1 <<'PY'
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a small window: answers pile up at sipline
s.bind((src, 0))
s.connect((dst, 5060))
lp = s.getsockname()[1]
s.settimeout(10)
sent = 0
try:
    for i in range(4000):
        s.sendall((f"OPTIONS sip:{dst} SIP/2.0\r\nVia: SIP/2.0/TCP {src}:{lp};branch=z9hG4bK-bp{i}\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:bp@{src}>;tag=bp\r\nTo: <sip:{dst}>\r\n"
                   f"Call-ID: bp-{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
        sent += 1
except OSError as e:
    print("send stopped:", e)
time.sleep(2)
# Now read what was queued for us: a closed connection ends in EOF or a reset.
got, end = 0, "open"
deadline = time.time() + 10
try:
    while time.time() < deadline:
        b = s.recv(65536)
        if not b:
            end = "eof"; break
        got += len(b)
except ConnectionResetError:
    end = "reset"
except socket.timeout:
    end = "open"
print(f"sent {sent} requests, read {got} bytes, then {end}")
PY
note "back-pressure client: $(tail -1 "$WORK/bp.out")"
stream_wait closed_backpressure $(( $(stream_stat pre_bp closed_backpressure) + 1 )) 5
spl_stats_save post_bp
check_eq "closed_backpressure (client never reads)" "$(stream_d pre_bp post_bp closed_backpressure)" 1
check_grep "the client saw the connection end" 'then (eof|reset)$' "$WORK/bp.out"
sip_tcp opt after-bp expect 1 >"$WORK/after_bp.out" 2>&1
check_eq "OPTIONS after the slow reader was closed" "$(rsps after_bp.out)" "200 after-bp"

# ---- the idle client (idle_timeout_s 8)
wait "$IDLE"
check_eq "idle client answered" "$(rsps idle.out)" "200 idle1"
s=$(grep -E '^(eof|open)' "$WORK/idle.out")
case $s in
eof*) pass "idle connection closed by sipline (${s#eof }s after its answer)" ;;
*) fail "idle connection not closed: $(tr '\n' ' ' <"$WORK/idle.out")" ;;
esac
spl_stats_save end
check_eq "closed_idle" "$(stream_d start end closed_idle)" 1
note "streams: $(streams_report end)"
stream_wait_le live 0 3
check_eq "streams live at the end" "$(stream_now live)" 0
finish
