#!/usr/bin/env bash
# The one test command: installs what is missing, builds (build/ and, with sanitizers,
# build-asan/) and runs every test. Idempotent; reuses the build directories and ccache.
#   tests/run.sh              everything: the -Werror build, then the ASan+UBSan build
#   VK_SANITIZE=0 tests/run.sh  skip the sanitizer build (quicker local runs)
#   VK_TEST_LABEL=unit tests/run.sh  only one ctest label (unit, integration, e2e, bench-smoke)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install_deps.sh

jobs="${VK_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"

run_suite() {
  local build_dir="$1"; shift
  cmake -S . -B "$build_dir" -G Ninja -DVK_WERROR=ON "$@" >/dev/null
  cmake --build "$build_dir" -j "$jobs"
  local label_args=()
  if [ -n "${VK_TEST_LABEL:-}" ]; then label_args=(-L "$VK_TEST_LABEL"); fi
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 300 "${label_args[@]}"
}

echo "== build/ (Debug, -Werror) =="
run_suite build -DCMAKE_BUILD_TYPE=Debug

if [ "${VK_SANITIZE:-1}" != "0" ]; then
  echo "== build-asan/ (ASan + UBSan) =="
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DVK_SANITIZE=ON
fi
