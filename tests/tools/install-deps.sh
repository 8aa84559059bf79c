#!/usr/bin/env bash
# Debian 12 packages sipline needs to build, test and benchmark.
set -euo pipefail
pkgs=(
	meson ninja-build pkg-config gcc python3
	libcriterion-dev libjansson-dev libconfig-dev libedit-dev libssl-dev libc-ares-dev dnsmasq-base
	dpdk-dev libdpdk-dev
	libsofia-sip-ua-dev libosip2-dev
	clang libclang-rt-14-dev
	sip-tester iproute2 procps iputils-ping
	socat openssl
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
