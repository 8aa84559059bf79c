#!/bin/sh
# sipline container HEALTHCHECK (installed as /usr/lib/sipline/healthcheck):
# healthy when the appliance answers "stats" on its control socket.
#
# The check runs as root, but in a container started with --cap-drop=all
# root has no CAP_DAC_OVERRIDE and cannot open the socket (mode 0660, owned
# by the user sipline runs as); so it asks as the socket's owner (any uid
# sipline accepts: root, its own, or control.group).
set -u
sock=${SIPLINE_SOCKET:-/run/sipline/control.sock}
[ -S "$sock" ] || { echo "no control socket $sock"; exit 1; }
if [ "$(id -u)" = 0 ] && [ "$(stat -c %u "$sock")" != 0 ]; then
	exec setpriv --reuid="$(stat -c %u "$sock")" --regid="$(stat -c %g "$sock")" --clear-groups \
		siplinectl --socket "$sock" stats >/dev/null
fi
exec siplinectl --socket "$sock" stats >/dev/null
