#!/usr/bin/env bash
# The sandbox: two in-memory API servers (kubesim), one playing the virtual cluster and one the
# host cluster, with vkubelet between them. Installs what is missing and builds first.
# Idempotent; Ctrl-C stops everything.
#   deploy/sandbox.sh [--virtual-port 6443] [--host-port 7443] [--dir /tmp/vkubelet-sandbox]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

virtual_port=6443
host_port=7443
dir="${TMPDIR:-/tmp}/vkubelet-sandbox"
while [ $# -gt 0 ]; do
  case "$1" in
    --virtual-port) virtual_port="$2"; shift 2 ;;
    --host-port) host_port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

scripts/install_deps.sh
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
# The same build directory and settings as tests/run.sh, so the two commands share one build.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVK_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" --target vkubelet kubesim

mkdir -p "$dir/virtual" "$dir/host"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "sandbox stopped"
}
trap cleanup INT TERM EXIT

wait_for_file() {
  local file="$1" deadline=$((SECONDS + 30))
  until [ -s "$file" ]; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $file" >&2; exit 1; fi
    sleep 0.1
  done
}

rm -f "$dir/virtual.kubeconfig" "$dir/host.kubeconfig"
build/tests/kubesim/kubesim --port "$virtual_port" --tls --cert-dir "$dir/virtual" \
  --write-kubeconfig "$dir/virtual.kubeconfig" >"$dir/virtual.log" 2>&1 &
pids+=($!)
build/tests/kubesim/kubesim --port "$host_port" --tls --cert-dir "$dir/host" --nodes 3 --schedule \
  --write-kubeconfig "$dir/host.kubeconfig" >"$dir/host.log" 2>&1 &
pids+=($!)
wait_for_file "$dir/virtual.kubeconfig"
wait_for_file "$dir/host.kubeconfig"

build/kubelet/vkubelet --cluster-name sandbox --cluster-namespace default \
  --host-kubeconfig "$dir/host.kubeconfig" --virtual-kubeconfig "$dir/virtual.kubeconfig" \
  --virtual-pod-ip 127.0.0.1 --http-addr 127.0.0.1:10255 &
pids+=($!)

cat <<MSG

vkubelet sandbox is running.
  virtual cluster: kubectl --kubeconfig $dir/virtual.kubeconfig get nodes,pods -A
  host cluster:    kubectl --kubeconfig $dir/host.kubeconfig get pods -A
  vkubelet:        curl -s 127.0.0.1:10255/readyz?verbose ; curl -s 127.0.0.1:10255/metrics
  logs:            $dir/{virtual,host}.log
Press Ctrl-C to stop.
MSG
wait "${pids[@]}"
