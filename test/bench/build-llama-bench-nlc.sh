#!/usr/bin/env bash
# Builds llama-bench from node-llama-cpp's bundled llama.cpp source AGAINST node-llama-cpp's own prebuilt
# libraries (libllama, libllama-common, libggml, libggml-base and the libggml-cpu-<variant>.so it picks at
# run time), so `npm run bench:native` can tell node-llama-cpp's per-token cost apart from the difference
# between its prebuilt ggml CPU code and the -march=native build of test/real-server/build-llama-cpp.sh.
# One source file, ~10 s of CPU; cached, keyed by the llama.cpp commit and the node-llama-cpp version.
#
#   test/bench/build-llama-bench-nlc.sh      # build if needed, print the llama-bench path
set -euo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f "$BUNDLE" ] || { echo "build-llama-bench-nlc: $BUNDLE is missing; run npm install first" >&2; exit 1; }
COMMIT=$(git bundle list-heads "$BUNDLE" | awk '$2 == "HEAD" { print $1 }' | head -n 1)
VERSION=$(node -p "require('./node_modules/node-llama-cpp/package.json').version")
# The CPU build node-llama-cpp loads with gpu: false (the llama-cpp engine's default): <platform>-<arch>.
PLATFORM=$(node -p 'process.platform + "-" + process.arch')
BINS=node_modules/@node-llama-cpp/$PLATFORM/bins/$PLATFORM
LIBLLAMA=$(cd "$BINS" 2>/dev/null && ls libllama.v*.so 2>/dev/null | head -n 1 || true)
LIBGGML=$(cd "$BINS" 2>/dev/null && ls libggml.v*.so 2>/dev/null | head -n 1 || true)
[ -f "$BINS/libllama-common.so" ] && [ -n "$LIBLLAMA" ] && [ -n "$LIBGGML" ] \
  || { echo "build-llama-bench-nlc: no prebuilt node-llama-cpp CPU libraries in $BINS" >&2; exit 1; }
BINS=$(cd "$BINS" && pwd)

ROOT=${BENCH_TOOLS_DIR:-$HOME/.cache/bench-tools}
DEST="$ROOT/llama-bench-nlc-${COMMIT:0:12}-$VERSION"
if [ -x "$DEST/llama-bench" ]; then echo "$DEST/llama-bench"; exit 0; fi

mkdir -p "$ROOT"
WORK=$(mktemp -d "$ROOT/build-nlc-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "build-llama-bench-nlc: llama-bench ${COMMIT:0:12} against node-llama-cpp $VERSION's libraries ($BINS)" >&2
git -c advice.detachedHead=false clone -q "$BUNDLE" "$WORK/src"
git -C "$WORK/src" -c advice.detachedHead=false checkout -q "$COMMIT"
mkdir -p "$WORK/out"
# The libraries stay node-llama-cpp's own files; ggml finds its CPU variants beside the executable.
for f in "$BINS"/*.so; do ln -s "$f" "$WORK/out/"; done
S="$WORK/src"
g++ -O2 -std=c++17 -DNDEBUG -I "$S/include" -I "$S/ggml/include" -I "$S/common" -I "$S/vendor" \
  "$S/tools/llama-bench/llama-bench.cpp" "$S/tools/llama-bench/main.cpp" \
  -L "$WORK/out" -l:libllama-common.so "-l:$LIBLLAMA" "-l:$LIBGGML" -l:libggml-base.so \
  -Wl,-rpath,'$ORIGIN' -o "$WORK/out/llama-bench"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
echo "$DEST/llama-bench"
