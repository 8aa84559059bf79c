#!/bin/sh
# sipline container entrypoint (installed as /usr/lib/sipline/entrypoint).
#
# Docker does not give a non-root container user the capabilities added
# with --cap-add (they stay in the bounding set only), so the image starts
# as root and this script drops to $SIPLINE_USER (default "sipline"),
# passing along as ambient capabilities those of the DPDK-relevant ones the
# container actually has:
#   NET_ADMIN  TAP/AF_XDP/mlx5 interface setup (the one TAP + --no-huge needs)
#   NET_RAW    af_packet, af_xdp and mlx5 raw queues
#   IPC_LOCK   pinning DMA memory (vfio, mlx5); or raise the memlock ulimit
#   SYS_RAWIO  vfio no-IOMMU mode, port I/O; mlx5 transfer flows
#   SYS_ADMIN  /proc/self/pagemap for physical addresses (IOVA=PA drivers)
#   BPF        af_xdp's XDP program (kernels with CAP_BPF)
# SIPLINE_USER=root keeps root (and every capability the container has).
#
# "sipline ARGS", "siplinectl ...", "sipline-gen ..." or any command run as
# given; arguments that start with "-" are arguments of sipline.
set -eu

if [ "$#" -eq 0 ]; then
	set -- sipline --config /etc/sipline/sipline.conf
elif [ "${1#-}" != "$1" ]; then
	set -- sipline "$@"
fi

user=${SIPLINE_USER:-sipline}
if [ "$(id -u)" != 0 ] || [ "$user" = root ]; then
	exec "$@"
fi

# State directories (named volumes start out with the image's ownership;
# bind mounts may not): make them the service user's when we can.
for d in /run/sipline /var/lib/sipline; do
	if [ -d "$d" ] && [ "$(stat -c %U "$d")" != "$user" ]; then
		chown "$user:" "$d" 2>/dev/null ||
			echo "entrypoint: cannot chown $d to $user (no CAP_CHOWN?)" >&2
	fi
done
# A journal written by an earlier root run must stay writable.
find /var/lib/sipline -maxdepth 1 -type f ! -user "$user" -exec chown "$user:" {} + 2>/dev/null || true

# The wanted capabilities that are in our bounding set.
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
caps=""
for c in net_admin:12 net_raw:13 ipc_lock:14 sys_rawio:17 sys_admin:21 bpf:39; do
	name=${c%:*} bit=${c#*:}
	if [ $(( (0x$bnd >> bit) & 1 )) -eq 1 ]; then
		caps="$caps${caps:+,}+$name"
	fi
done

# DPDK's runtime directory of a non-root process: $XDG_RUNTIME_DIR/dpdk.
export XDG_RUNTIME_DIR=/run/sipline HOME=/var/lib/sipline
if [ -n "$caps" ]; then
	exec setpriv --reuid="$user" --regid="$user" --init-groups \
		--inh-caps="-all,$caps" --ambient-caps="-all,$caps" -- "$@"
fi
exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
