#!/usr/bin/env bash
# Build KenLM's command-line tools (lmplz, build_binary, query) from the kenlm PyPI sdist.
#
# lmplz (the modified Kneser-Ney estimator CCNet trained its models with) is not packaged
# for Debian, but the kenlm sdist on PyPI carries the whole C++ source tree and its cmake
# build. This script downloads that sdist with pip, builds the three tools and copies them
# into a tools folder that gristmill looks in (default .tools/kenlm/bin).
#
# Needs cmake, a C++ compiler and the Debian packages
#   libboost-program-options-dev libboost-system-dev libboost-thread-dev
#   libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev
#
# Usage: scripts/build_kenlm_tools.sh [DEST_BIN_DIR]   (env: PYTHON, KENLM_VERSION, JOBS)
set -euo pipefail

DEST="${1:-.tools/kenlm/bin}"
PYTHON="${PYTHON:-.venv/bin/python}"
KENLM_VERSION="${KENLM_VERSION:-0.3.0}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
TOOLS=(lmplz build_binary query)

if [ -x "$DEST/lmplz" ] && [ -x "$DEST/build_binary" ] && [ -x "$DEST/query" ]; then
    echo "kenlm tools already in $DEST"
    exit 0
fi
command -v cmake >/dev/null || { echo "error: cmake is required" >&2; exit 1; }
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --no-binary kenlm: the sdist, not a wheel; build isolation stays on so that pip can
# prepare the metadata with its own build requirements.
"$PYTHON" -m pip download -q --no-deps --no-binary kenlm "kenlm==${KENLM_VERSION}" -d "$WORK"
tar -xzf "$WORK"/kenlm-*.tar.gz -C "$WORK"
SRC="$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'kenlm-*' | head -n 1)"

cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DCOMPILE_TESTS=OFF \
    -DENABLE_PYTHON=OFF -DENABLE_INTERPOLATE=OFF >"$WORK/cmake.log" 2>&1 \
    || { cat "$WORK/cmake.log" >&2; exit 1; }
cmake --build "$WORK/build" --target "${TOOLS[@]}" -j "$JOBS" >"$WORK/build.log" 2>&1 \
    || { tail -n 50 "$WORK/build.log" >&2; exit 1; }

mkdir -p "$DEST"
for tool in "${TOOLS[@]}"; do
    install -m 0755 "$WORK/build/bin/$tool" "$DEST/$tool"
done
echo "built ${TOOLS[*]} (kenlm ${KENLM_VERSION}) into $DEST"
