#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [LIBFUZZER ARGS...]
#
# Builds the lib/sipmsg and lib/stream libFuzzer harnesses with ASan+UBSan into a temporary
# directory, seeds a corpus from the RFC 4475/5118 torture messages
# ($SHARED/corpus/*/*.dat; SHARED defaults to ../shared beside the repo),
# tests/fuzz/regressions/ and tests/fuzz/seeds/, and fuzzes for SECONDS
# (default 60; lib/stream a third of that after). Exits non-zero on any finding and prints where the crash
# input is; the temporary directory is kept in that case (and with KEEP=1).
# CC (default clang) must support -fsanitize=fuzzer.
set -euo pipefail

secs=${1:-60}
[[ $# -gt 0 ]] && shift
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [libFuzzer args...]" >&2; exit 2;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${SHARED:-$repo/../shared}
cc=${CC:-clang}

work=$(mktemp -d "${TMPDIR:-/tmp}/sipmsg-fuzz.XXXXXX")
keep=${KEEP:-0}
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

echo "fuzz: building in $work"
"$cc" -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -I"$repo/lib/sipmsg" \
	"$repo"/lib/sipmsg/*.c "$here/fuzz_sipmsg.c" -o "$work/fuzz_sipmsg"
"$cc" -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -I"$repo/lib/sipmsg" -I"$repo/lib/stream" \
	"$repo"/lib/sipmsg/*.c "$repo/lib/stream/stream.c" "$here/fuzz_stream.c" -o "$work/fuzz_stream"

mkdir -p "$work/corpus" "$work/artifacts"
nseed=0
for f in "$shared"/corpus/*/*.dat "$here"/regressions/* "$here"/seeds/*; do
	[[ -f $f ]] || continue
	cp "$f" "$work/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
	nseed=$((nseed + 1))
done
if [[ $nseed -eq 0 ]]; then
	echo "fuzz: warning: no seeds found (SHARED=$shared)" >&2
fi
echo "fuzz: $nseed seeds, ${secs}s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
"$work/fuzz_sipmsg" "$work/corpus" \
	-dict="$here/sip.dict" \
	-max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
	-artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" \
	|| rc=$?
# lib/stream (TCP/TLS framing) for a third of the time, from the same
# seeds in a corpus of its own: whole vs segmented framing must agree.
stream_secs=$(( secs / 3 > 0 ? secs / 3 : 1 ))
mkdir -p "$work/corpus-stream"
cp "$work/corpus"/* "$work/corpus-stream"/ 2>/dev/null || true
if [[ $rc -eq 0 ]]; then
	echo "fuzz: lib/stream, ${stream_secs}s"
	"$work/fuzz_stream" "$work/corpus-stream" \
		-dict="$here/sip.dict" \
		-max_total_time="$stream_secs" -max_len=8192 -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" \
		|| rc=$?
fi

shopt -s nullglob
found=("$work"/artifacts/*)
if [[ $rc -ne 0 || ${#found[@]} -gt 0 ]]; then
	keep=1
	echo "fuzz: FAILED (exit $rc); findings:" >&2
	for f in "${found[@]}"; do
		echo "  $f" >&2
		echo "    reproduce: $work/fuzz_sipmsg $f (or fuzz_stream)" >&2
		echo "    keep as a regression seed: cp $f $here/regressions/<name>.sip" >&2
	done
	[[ $rc -ne 0 ]] || rc=1
	exit "$rc"
fi
echo "fuzz: no findings in ${secs}s ($(ls "$work/corpus" | wc -l) corpus entries)"
