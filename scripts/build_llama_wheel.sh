#!/usr/bin/env bash
# Build (once) and install llama-cpp-python with its OpenAI-compatible server, CPU only.
#
# Why: the `server` test group starts a real llama.cpp server (`python -m llama_cpp.server`).
# PyPI ships llama-cpp-python as source only, and compiling it takes minutes on 2 cores, so
# the wheel is built once into a cache directory and reused by later runs (and by `.ci/run`).
#
# The build is CPU-only (no CUDA even where nvcc exists) and not tuned to this exact CPU
# (GGML_NATIVE=OFF): on x86_64 it targets x86-64-v3 (AVX2/FMA/F16C), which every machine of
# this kind has, so a cached wheel works on another machine of the same kind.
#
# Usage: scripts/build_llama_wheel.sh      (run inside the project's virtualenv)
# Env:   FAITHSCOPE_WHEEL_CACHE  wheel cache dir (default ~/.cache/faithscope-wheels)
#        LLAMA_CPP_VERSION       version to build (default pinned below)
set -euo pipefail

VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
CACHE="${FAITHSCOPE_WHEEL_CACHE:-$HOME/.cache/faithscope-wheels}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
mkdir -p "$CACHE"

# The wheel loads its C library through ctypes (tag py3-none-linux_ARCH): it is tied to the
# CPU architecture, not to the Python version.
ARCH="$(uname -m)"
have_wheel() { ls "$CACHE"/llama_cpp_python-"$VERSION"-*-*"$ARCH".whl >/dev/null 2>&1; }

if have_wheel; then
    echo "build_llama_wheel: using cached wheel in $CACHE"
else
    echo "build_llama_wheel: building llama-cpp-python==$VERSION into $CACHE (takes several minutes)"
    ARGS="-DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=OFF"
    if [ "$ARCH" = "x86_64" ]; then
        ARGS="$ARGS -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    fi
    start=$(date +%s)
    CMAKE_ARGS="$ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" FORCE_CMAKE=1 \
        "$PY" -m pip wheel --no-deps --no-binary llama-cpp-python -w "$CACHE" "llama-cpp-python==$VERSION"
    echo "build_llama_wheel: built in $(( $(date +%s) - start ))s"
    have_wheel || { echo "build_llama_wheel: no wheel for $ARCH appeared in $CACHE" >&2; exit 1; }
fi

# Install the cached wheel plus the server's dependencies; constraints.txt pins torch so
# that nothing can pull a CUDA build (the server needs no torch anyway).
"$PY" -m pip install -c "$ROOT/constraints.txt" --find-links "$CACHE" --only-binary llama-cpp-python \
    "llama-cpp-python[server]==$VERSION"
"$PY" -c 'import llama_cpp, llama_cpp.server; print("llama_cpp", llama_cpp.__version__, "ready")'
