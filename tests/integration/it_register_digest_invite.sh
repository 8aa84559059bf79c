#!/usr/bin/env bash
# REGISTER with digest authentication (SIPp -auth_uri: the digest uri must
# be the Request-URI, which sipline checks): the first REGISTER is challenged
# (401), the second with credentials is accepted (200), a wrong password
# is refused; then an INVITE to the AOR reaches the registered contact,
# and an INVITE to a user with no binding gets 404.
. "$(dirname "$0")/lib.sh"

REALM=example.test
ha1() { printf '%s' "$1:$REALM:$2" | md5sum | cut -d' ' -f1; }
{
	echo "alice:$REALM:$(ha1 alice s3cret-alice)"
	echo "carol:$REALM:$(ha1 carol other-pass)"
} >"$WORK/users"
spl_config "auth = { users_file = \"$WORK/users\"; realm = \"$REALM\"; register = true; };"
spl_start || finish

# alice registers from the UAS address: 401, then 200.
sipp_uac reg "$SCEN/register.xml" -i "$UAS_IP" -p 5080 -s alice -au alice -ap s3cret-alice -auth_uri example.test -m 1 \
	-trace_msg -message_file "$WORK/reg.msg"
check_sipp reg 1
check_grep "first REGISTER challenged (401 with a digest WWW-Authenticate)" \
	'WWW-Authenticate: Digest .*realm="example.test"' "$WORK/reg.msg"
check_eq "401 then 200" "$(grep -Eo '^SIP/2.0 [0-9]+' "$WORK/reg.msg" | tr '\n' ' ')" "SIP/2.0 401 SIP/2.0 200 "
spl_ctl location show sip:alice@example.test >"$WORK/loc.txt"
check_grep "binding of alice is the UAS" 'contact=<?sip:alice@192\.0\.2\.11:5080' "$WORK/loc.txt"

# carol with a wrong password never gets a 200 (a second 401 or a 403).
UAC_PORT=5072 sipp_uac badpw "$SCEN/register.xml" -s carol -au carol -ap wrong -auth_uri example.test -m 1 -trace_msg \
	-message_file "$WORK/badpw.msg" -timeout 5s
check_eq "wrong password: no 200" "$(grep -c '^SIP/2.0 200' "$WORK/badpw.msg")" 0
check_grep "wrong password: refused" '^SIP/2.0 (401|403)' "$WORK/badpw.msg"
spl_ctl location show sip:carol@example.test >"$WORK/loc2.txt"
if grep -q contact "$WORK/loc2.txt"; then fail "carol has a binding"; else pass "carol has no binding"; fi

# An INVITE to alice's AOR goes to her contact (no static route here).
uas_bg uas "$UAS_IP" 5080 "$SCEN/uas_rr.xml" -m 1 -trace_msg -message_file "$WORK/uas.msg"
sipp_uac call "$SCEN/uac_rr.xml" -s alice -m 1
check_sipp call 1
uas_wait uas || fail "UAS did not complete the call"
check_grep "UAS got INVITE with the contact as Request-URI" '^INVITE sip:alice@192\.0\.2\.11:5080 SIP/2\.0' "$WORK/uas.msg"

# Nobody registered as dave: 404 from sipline.
sipp_uac nobody "$SCEN/uac_expect.xml" -s dave -key mf 70 -set expected 404 -m 1
check_sipp nobody 1
check_eq "auth challenges (alice, carol, carol again)" "$(spl_stat auth_challenges)" 3
check_eq "auth failures (carol)" "$(spl_stat auth_failures)" 1
finish
