# shellcheck shell=bash
# Helpers for the SIP over TCP/TLS integration tests (it_*tcp*, it_*tls*),
# sourced after lib.sh: SIPp over TCP, the python stream client
# (siptcp.py), a throw-away PKI, socat TLS tunnels and the "conn" commands.

# uas_bg_tcp NAME IP PORT SCENARIO [ARGS]: uas_bg for a SIPp UAS on TCP
# (-t t1 is added); waits until it listens.
uas_bg_tcp() {
	local name=$1 ip=$2 port=$3 scen=$4; shift 4
	(cd "$WORK" && exec ip netns exec "$NS" timeout "${SIPP_TIMEOUT:-60}" sipp -nostdin -sf "$scen" -i "$ip" \
		-p "$port" -t t1 -timeout "${SIPP_TIMEOUT:-60}s" -trace_stat -stf "$WORK/$name.csv" \
		-trace_err -error_file "$WORK/$name.err" -trace_logs -log_file "$WORK/$name.logs" \
		"$@" >>"$WORK/$name.log" 2>&1) &
	eval "UAS_PID_$name=$!"
	wait_listen "$ip:$port" || { echo "UAS $name did not start"; FAILED=1; }
}

# wait_listen IP:PORT: wait (5 s at most) until a TCP socket listens there.
wait_listen() {
	for _ in $(seq 1 50); do
		[[ $(ip netns exec "$NS" ss -ltn) == *"$1 "* ]] && return 0
		sleep 0.1
	done
	return 1
}

# sip_tcp ARGS: tests/integration/siptcp.py in the namespace.
sip_tcp() { ip netns exec "$NS" timeout 60 python3 "$SPL_SRC/tests/integration/siptcp.py" "$@"; }

# stream_stat NAME KEY: a counter of the "streams" section of a saved
# stats file (spl_stats_save NAME).
stream_stat() { spl_statf "$1" "$2" streams; }

# stream_d A B KEY: how much a streams counter rose from stats A to B.
stream_d() { echo $(( $(stream_stat "$2" "$3") - $(stream_stat "$1" "$3") )); }

# stream_now KEY: a streams counter now.
stream_now() { spl_ctl --json stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('streams', {}).get('$1', 0))"; }

# stream_wait KEY VALUE [SECONDS]: wait (default 5 s) until a streams
# counter reaches VALUE; 1 when it did not.
stream_wait() {
	for _ in $(seq 1 $(( ${3:-5} * 10 ))); do
		[ "$(stream_now "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stream_wait_le KEY VALUE [SECONDS]: the same, until it is at most VALUE.
stream_wait_le() {
	for _ in $(seq 1 $(( ${3:-5} * 10 ))); do
		[ "$(stream_now "$1")" -le "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# conn_json FILE: "conn list" (every page) as one JSON array into FILE.
conn_json() {
	local page=1 pages=1 out=$1
	: >"$out.pages"
	while [ "$page" -le "$pages" ] && [ "$page" -le 50 ]; do
		spl_ctl --json conn list --page "$page" >"$out.p" || return 1
		pages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pages", 1))' "$out.p")
		cat "$out.p" >>"$out.pages"; echo >>"$out.pages"
		page=$((page + 1))
	done
	python3 - "$out.pages" >"$out" <<'PY'
import json, sys
conns = []
for line in open(sys.argv[1]).read().split("\n"):
    if line.strip():
        conns += json.loads(line).get("connections", [])
print(json.dumps(conns))
PY
	rm -f "$out.p" "$out.pages"
}

# conn_find FILE TRANSPORT DIRECTION REMOTE: the id of the connection of
# a conn_json FILE with that transport ("tcp"|"tls"), direction ("in"|
# "out") and remote ("IP:PORT", or "IP:" for any port); empty when none.
conn_find() {
	python3 - "$@" <<'PY'
import json, sys
f, tr, d, rem = sys.argv[1:5]
for c in json.load(open(f)):
    r = str(c.get("remote", ""))
    if c.get("transport") == tr and c.get("direction") == d and (r == rem or rem.endswith(":") and r.startswith(rem)):
        print(c.get("id")); break
PY
}

# pki_make DIR: a test CA and certificates (EC P-256, valid 2 days):
#   ca.crt/key        the CA sipline, socat and the clients trust
#   rogue-ca.crt/key  another CA, trusted by nobody
#   spl.*             sipline: CN sipline.test, SAN DNS:sipline.test, IP:192.0.2.1
#   uas.*             the UAS tunnel: SAN IP:192.0.2.11
#   uas-wrongip.*     by ca, but for IP:192.0.2.99 / wrong.test
#   uas-rogue.*       IP:192.0.2.11, by rogue-ca
#   client.*          a trusted client (CN uac.test, IP:192.0.2.10)
#   client-rogue.*    a client by rogue-ca
# NAME.pem is certificate and key in one file (socat cert=).
pki_make() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		ca() {  # NAME CN
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
				-keyout "$1.key" -out "$1.crt" -subj "/CN=$2" \
				-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		}
		leaf() {  # NAME CA CN SAN
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout "$1.key" -out "$1.csr" -subj "/CN=$3"
			printf '%s\n' "subjectAltName=$4" "basicConstraints=CA:FALSE" \
				"keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth" >"$1.ext"
			openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
				-extfile "$1.ext" -out "$1.crt"
			cat "$1.crt" "$1.key" >"$1.pem"
		}
		ca ca "sipline test CA"
		ca rogue-ca "rogue test CA"
		leaf spl ca sipline.test "DNS:sipline.test,IP:192.0.2.1"
		leaf uas ca uas.test "DNS:uas.test,IP:192.0.2.11"
		leaf uas-wrongip ca wrong.test "DNS:wrong.test,IP:192.0.2.99"
		leaf uas-rogue rogue-ca uas.test "DNS:uas.test,IP:192.0.2.11"
		leaf client ca uac.test "DNS:uac.test,IP:192.0.2.10"
		leaf client-rogue rogue-ca uac.test "DNS:uac.test,IP:192.0.2.10"
	) >"$d/openssl.log" 2>&1
}

# socat_bg NAME ARGS...: a background socat in the namespace (bounded by
# SOCAT_TIMEOUT, default 100 s; lib.sh's cleanup kills what is left),
# its diagnostics in $WORK/NAME.socat.
socat_bg() {
	local name=$1; shift
	ip netns exec "$NS" timeout "${SOCAT_TIMEOUT:-100}" socat -d -d "$@" >>"$WORK/$name.socat" 2>&1 &
	eval "SOCAT_PID_$name=$!"
	# Not a job of ours: its end (killed by lib.sh's cleanup) is not reported.
	disown $!
}

# tls_client_tunnel NAME LISTEN_PORT [CERT]: plain TCP on 192.0.2.10:LISTEN_PORT
# -> TLS from 192.0.2.10 to sipline's 5061, verifying sipline's certificate
# (name sipline.test) against ca.crt; CERT (default client) is the client
# certificate it presents.
tls_client_tunnel() {
	local name=$1 port=$2 cert=${3:-client}
	socat_bg "$name" "TCP-LISTEN:$port,bind=$UAC_IP,fork,reuseaddr" \
		"OPENSSL:$SPL_IP:5061,bind=$UAC_IP,cert=$PKI/$cert.pem,cafile=$PKI/ca.crt,verify=1,commonname=sipline.test"
	wait_listen "$UAC_IP:$port" || { echo "socat $name did not start"; FAILED=1; }
}

# tls_server_tunnel NAME LISTEN_PORT TCP_PORT [CERT]: TLS on
# 192.0.2.11:LISTEN_PORT (certificate CERT, default uas; no client
# certificate asked for) -> plain TCP to 192.0.2.11:TCP_PORT.
tls_server_tunnel() {
	local name=$1 port=$2 to=$3 cert=${4:-uas}
	socat_bg "$name" "OPENSSL-LISTEN:$port,bind=$UAS_IP,fork,reuseaddr,cert=$PKI/$cert.pem,cafile=$PKI/ca.crt,verify=0" \
		"TCP:$UAS_IP:$to,bind=$UAS_IP"
	wait_listen "$UAS_IP:$port" || { echo "socat $name did not start"; FAILED=1; }
}

# streams_report NAME: the non-zero counters of the streams section.
streams_report() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])).get("streams", {}); print(" ".join(f"{k}={v}" for k, v in sorted(s.items()) if v) or "none")' \
		"$WORK/$1.json"
}
