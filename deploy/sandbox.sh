#!/usr/bin/env bash
# The sandbox: two in-memory API servers (kubesim), one playing the virtual cluster (with the
# deployment/replicaset controllers and a scheduler) and one the host cluster (with simulated
# nodes), with vkubelet between them. Installs what is missing, builds, applies the example
# Deployment (deploy/examples/web.yaml) to the virtual cluster and shows its pods and their host
# twins. Idempotent; Ctrl-C stops everything.
#   deploy/sandbox.sh [--virtual-port 6443] [--host-port 7443] [--dir /tmp/vkubelet-sandbox]
#                     [--build-dir build] [--no-example]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

virtual_port=6443
host_port=7443
dir="${TMPDIR:-/tmp}/vkubelet-sandbox"
build_dir=build
example=deploy/examples/web.yaml
cluster=sandbox
while [ $# -gt 0 ]; do
  case "$1" in
    --virtual-port) virtual_port="$2"; shift 2 ;;
    --host-port) host_port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-example) example=""; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

scripts/install_deps.sh
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
# By default the same build directory and settings as tests/run.sh, so the two share one build.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVK_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target vkubelet kubesim

mkdir -p "$dir/virtual" "$dir/host"
pids=()
cleanup() {
  trap - INT TERM EXIT
  local i pid deadline=$((SECONDS + 10))
  # vkubelet first (it was started last), while the API servers may still answer it.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        echo "process $pid did not stop within 10s of SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  done
  wait 2>/dev/null || true
  echo "sandbox stopped"
}
trap cleanup EXIT
# Leaving through exit runs cleanup once, from wherever the script was waiting.
trap 'exit 130' INT TERM

wait_for_file() {
  local file="$1" deadline=$((SECONDS + 30))
  until [ -s "$file" ]; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $file" >&2; exit 1; fi
    sleep 0.1
  done
}

# Polls `condition` (a command) every half second for up to `seconds`; false when it never held.
wait_until() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep 0.5
  done
}

vkubectl() { kubectl --kubeconfig "$dir/virtual.kubeconfig" "$@"; }
hkubectl() { kubectl --kubeconfig "$dir/host.kubeconfig" "$@"; }

node_ready() {
  [ "$(vkubectl get node "vkubelet-$cluster" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# Running pods of the example / all of its pods, "r/n".
web_pods() {
  vkubectl get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' \
    2>/dev/null | awk '$1 == "Running" { r++ } NF { n++ } END { printf "%d/%d", r, n }'
}
web_running() { [ "$(web_pods)" = 3/3 ]; }

rm -f "$dir/virtual.kubeconfig" "$dir/host.kubeconfig"
"$build_dir/tests/kubesim/kubesim" --port "$virtual_port" --tls --cert-dir "$dir/virtual" \
  --controllers --scheduler \
  --write-kubeconfig "$dir/virtual.kubeconfig" >"$dir/virtual.log" 2>&1 &
pids+=($!)
"$build_dir/tests/kubesim/kubesim" --port "$host_port" --tls --cert-dir "$dir/host" \
  --nodes 3 --schedule \
  --write-kubeconfig "$dir/host.kubeconfig" >"$dir/host.log" 2>&1 &
pids+=($!)
wait_for_file "$dir/virtual.kubeconfig"
wait_for_file "$dir/host.kubeconfig"

"$build_dir/kubelet/vkubelet" --cluster-name "$cluster" --cluster-namespace default \
  --host-kubeconfig "$dir/host.kubeconfig" --virtual-kubeconfig "$dir/virtual.kubeconfig" \
  --virtual-pod-ip 127.0.0.1 --http-addr 127.0.0.1:10255 >"$dir/vkubelet.log" 2>&1 &
pids+=($!)

if [ -n "$example" ]; then
  echo "waiting for the virtual node vkubelet-$cluster to be Ready..."
  if ! wait_until 60 node_ready; then
    echo "vkubelet's node is not Ready after 60s; see $dir/vkubelet.log" >&2
    exit 1
  fi
  vkubectl apply -f "$example"
  echo "waiting for the example's pods to run..."
  if ! wait_until 120 web_running; then
    echo "warning: $(web_pods) of the example's pods are Running after 120s;" \
      "see $dir/vkubelet.log" >&2
  fi
  echo
  echo "virtual cluster: kubectl get pods -o wide"
  vkubectl get pods -o wide
  echo
  echo "host cluster: their host twins in namespace default"
  hkubectl get pods -n default -l "vkubelet.io/cluster=$cluster" \
    -o custom-columns='HOST POD:.metadata.name,VIRTUAL POD:.metadata.annotations.vkubelet\.io/origin-name,STATUS:.status.phase,IP:.status.podIP,NODE:.spec.nodeName'
fi

cat <<MSG

vkubelet sandbox is running.
  virtual cluster: kubectl --kubeconfig $dir/virtual.kubeconfig get nodes,deployments,pods -A
  host cluster:    kubectl --kubeconfig $dir/host.kubeconfig get pods -A
  try:             kubectl --kubeconfig $dir/virtual.kubeconfig scale deployment web --replicas=5
  vkubelet:        curl -s 127.0.0.1:10255/readyz?verbose ; curl -s 127.0.0.1:10255/metrics
  logs:            $dir/{virtual,host,vkubelet}.log
Press Ctrl-C to stop.
MSG
wait "${pids[@]}"
