#!/usr/bin/env bash
# The README's main job, until the DPDK appliance lands: install the build
# dependencies (Debian 12, as root), build a release tree, and show what
# sipline's message layer makes of a few datagrams — an INVITE with SDP,
# a request whose CSeq method does not match, an overlarge status code —
# then the parsed structure of the INVITE as JSON.
#
#   bash app/demo.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tools/install-deps.sh
if [ ! -f build-release/build.ninja ]; then
	meson setup build-release --buildtype=release >/dev/null
fi
ninja -C build-release app/sipline-msg >/dev/null
msg=build-release/app/sipline-msg
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(app/samples/invite.sip app/samples/cseq-mismatch.sip app/samples/bigcode-response.sip)
echo "== sipline-msg: one verdict per datagram"
rc=0
"$msg" "${files[@]}" || rc=$?
echo "(exit $rc: 0 all ok, 1 some rejected or dropped, 2 usage or I/O error)"
echo
echo "== sipline-msg --json ${files[0]}"
"$msg" --json "${files[0]}" || true
