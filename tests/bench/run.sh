#!/usr/bin/env bash
# Builds the benchmarks in Release (build-release/) and prints the pod-path table.
#   tests/bench/run.sh                     the full run: 10,000 pods, 60 s steady and churn
#   tests/bench/run.sh --pods 500 --duration 5 --standing 200    a quick one
#   tests/bench/run.sh --virtual-kubeconfig v.yaml --host-kubeconfig h.yaml   real clusters
# Every argument goes to vkubelet-bench (see its --help). The machine's load is printed before and
# after, since the figures are only comparable on a quiet machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "${VK_JOBS:-$(nproc)}" --target vkubelet vkubelet-bench >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
build-release/tests/bench/vkubelet-bench --vkubelet build-release/kubelet/vkubelet "$@" \
  2> >(grep -v '\[info\] kubesim listening' >&2)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
