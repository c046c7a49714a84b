#!/usr/bin/env bash
# Builds llama.cpp's own tools (llama-server, llama-bench, llama-quantize, llama-perplexity) from the
# llama.cpp source that node-llama-cpp ships (node_modules/node-llama-cpp/llama/gitRelease.bundle), so the
# real-server suite and `npm run bench:native` compare against the same llama.cpp commit the llama-cpp
# engine runs. CPU only, Release. Cached outside the repository, keyed by that commit and this script's
# build flags; a second call with a complete cache does nothing (prints the directory).
#
#   test/real-server/build-llama-cpp.sh            # build if needed, print the bin directory
#   BENCH_TOOLS_DIR=/somewhere test/real-server/build-llama-cpp.sh
#
# Cache: ${BENCH_TOOLS_DIR:-$HOME/.cache/bench-tools}/llama.cpp-<commit>-<flags>/bin. The build takes
# ~11 min of CPU on this 2-vCPU VM (-j2); test/helpers/llama-cpp-tools.ts finds the same directory.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$BUNDLE" ] || { echo "build-llama-cpp: $BUNDLE is missing; run npm install first" >&2; exit 1; }
COMMIT=$(git bundle list-heads "$BUNDLE" | awk '$2 == "HEAD" { print $1 }' | head -n 1)
[ -n "$COMMIT" ] || { echo "build-llama-cpp: no HEAD in $BUNDLE" >&2; exit 1; }

# Some of these VMs advertise AMX and trap it (SIGILL in the Q8_0/Q4_0 kernels): never build AMX code.
# GGML_NATIVE tunes for this CPU, as a user building llama.cpp here would; node-llama-cpp picks its best
# prebuilt CPU variant at run time (bench:native prints both so the comparison says what it compares).
FLAGS_ID=native-noamx-v1
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON
  -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
  "-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_OPENMP=OFF
)
TARGETS=(llama-server llama-bench llama-quantize llama-perplexity)

ROOT=${BENCH_TOOLS_DIR:-$HOME/.cache/bench-tools}
DEST="$ROOT/llama.cpp-${COMMIT:0:12}-$FLAGS_ID"
complete() { for t in "${TARGETS[@]}"; do [ -x "$DEST/bin/$t" ] || return 1; done; }
if complete; then echo "$DEST/bin"; exit 0; fi

mkdir -p "$ROOT"
WORK=$(mktemp -d "$ROOT/build-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "build-llama-cpp: building llama.cpp ${COMMIT:0:12} (${TARGETS[*]}) in $WORK, ~11 min of CPU" >&2
git clone -q --no-checkout "$BUNDLE" "$WORK/src"
git -C "$WORK/src" -c advice.detachedHead=false checkout -q "$COMMIT"
cmake -S "$WORK/src" -B "$WORK/build" "${CMAKE_FLAGS[@]}" >"$WORK/configure.log" 2>&1 \
  || { tail -n 40 "$WORK/configure.log" >&2; exit 1; }
cmake --build "$WORK/build" --config Release -j "${BUILD_JOBS:-2}" --target "${TARGETS[@]}" >"$WORK/build.log" 2>&1 \
  || { tail -n 60 "$WORK/build.log" >&2; exit 1; }

# Assemble beside the cache and rename into place, so a killed build never leaves a half-filled cache.
mkdir -p "$WORK/out/bin"
for t in "${TARGETS[@]}"; do cp "$WORK/build/bin/$t" "$WORK/out/bin/"; done
echo "$COMMIT" >"$WORK/out/COMMIT"
printf '%s\n' "${CMAKE_FLAGS[@]}" >"$WORK/out/CMAKE_FLAGS"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
echo "$DEST/bin"
