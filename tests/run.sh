#!/usr/bin/env bash
# The test command (README "Quick start", and what .ci/run runs):
# installs the build and test dependencies (Debian 12, as root), builds
# a release tree and an ASan+UBSan tree, runs every meson suite in both,
# fuzzes the SIP parser for a bounded time, and ends with one line
# "N passed, N failed" counting individual test cases.
#
#   bash tests/run.sh [--no-deps] [--fuzz-seconds N] [--no-deploy]
#
# --no-deploy skips the container image and systemd unit checks
# (docker/test.sh, deploy/test.sh: a few minutes, podman as root).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

deps=1
fuzz_seconds=60
deploy=1
while [ $# -gt 0 ]; do
	case "$1" in
	--no-deps) deps=0 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift ;;
	--no-deploy) deploy=0 ;;
	*) echo "usage: bash tests/run.sh [--no-deps] [--fuzz-seconds N] [--no-deploy]" >&2; exit 2 ;;
	esac
	shift
done

if [ "$deps" = 1 ]; then
	bash "$ROOT/tests/tools/install-deps.sh" || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
fi

status=0
results=()

run_tree() {  # name, meson options...
	local dir=$1; shift
	echo "=== build $dir ($*)"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" || return 1
	echo "=== test $dir"
	# The integration suite (DPDK + SIPp end to end) runs in the release
	# tree only: under ASan it is too slow for its timers.
	local skip=()
	[ "$dir" = build-asan ] && skip=(--no-suite integration)
	meson test -C "$dir" --print-errorlogs --num-processes 2 "${skip[@]}" || return 1
}

count_tree() {  # dir → prints "passed failed"
	python3 "$ROOT/tests/tools/count_results.py" "$1/meson-logs/testlog.json"
}

for tree in "build-release" "build-asan"; do
	if [ "$tree" = build-release ]; then
		run_tree "$tree" --buildtype=release || status=1
	else
		run_tree "$tree" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false || status=1
	fi
	if [ -f "$tree/meson-logs/testlog.json" ]; then
		results+=("$(count_tree "$tree")")
	else
		results+=("0 1")
	fi
done

echo "=== fuzz sipmsg for ${fuzz_seconds}s"
if bash "$ROOT/tests/fuzz/run.sh" "$fuzz_seconds"; then
	results+=("1 0")
else
	results+=("0 1")
	status=1
fi

# The container image (podman, TAP demo call inside) and the systemd unit.
if [ "$deploy" = 1 ]; then
	echo "=== docker/test.sh"
	if bash "$ROOT/docker/test.sh"; then results+=("1 0"); else results+=("0 1"); status=1; fi
	echo "=== deploy/test.sh"
	if bash "$ROOT/deploy/test.sh" --no-deps; then results+=("1 0"); else results+=("0 1"); status=1; fi
fi

passed=0
failed=0
for r in "${results[@]}"; do
	set -- $r
	passed=$((passed + $1))
	failed=$((failed + $2))
done
[ "$failed" -gt 0 ] && status=1
echo "${passed} passed, ${failed} failed"
exit $status
