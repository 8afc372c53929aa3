#!/usr/bin/env bash
# Starts a Kubernetes node on this machine: `mascri serve` on a private socket and an upstream
# kubelet of the pinned release (scripts/kube-release.env, built by scripts/kube-build.sh) in
# standalone mode (no API server: it runs the static pods in its manifest directory), with a
# generated KubeletConfiguration. Stop it with scripts/kubelet-down.sh.
#
# Settings (environment, all optional):
#   MASCRI_NODE_NAME    node name                      (default: mascri-node)
#   MASCRI_KUBELET_DIR  the node's directory           (default: /var/lib/mascri-kubelet)
#   KUBELET_PORT / KUBELET_READONLY_PORT / KUBELET_HEALTHZ_PORT   (default: 10250 / 10255 / 10248)
#   KUBELET_LOG_MAX_SIZE, KUBELET_LOG_MAX_FILES, KUBELET_LOG_MONITOR_INTERVAL  log rotation (10Mi, 5, 10s)
#   KUBELET_STATS_FROM_CRI  true: pod and container stats only from the CRI (feature gate
#                           PodAndContainerStatsFromCRI); default false (cgroups via cadvisor + CRI)
#   KUBELET_EXTRA_CONFIG    extra YAML lines appended to the KubeletConfiguration
#   KUBELET_KUBECONFIG      a kubeconfig: the kubelet registers with that API server (cluster mode)
#   KUBELET_RUNTIME_ENDPOINT  another CRI endpoint for the kubelet (default: this node's mascri)
#   KUBELET_CLIENT_CA, KUBELET_NODE_IP, KUBELET_ADDRESS, KUBELET_CGROUP_ROOT   cluster mode (scripts/kube-up.sh)
#   MASCRI_EXTRA_ARGS       more flags for mascri serve
# On success the last line is: KUBELET_DIR=... MASCRI_ENDPOINT=... KUBELET_URL=... KUBELET_READONLY_URL=...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=kubelet-env.sh
. "$here/kubelet-env.sh"
log() { printf '[kubelet-up] %s\n' "$*" >&2; }
die() { printf '[kubelet-up] error: %s\n' "$*" >&2; exit 1; }

running "$mascri_pid_file" && running "$kubelet_pid_file" && healthy && {
  log "already running ($node_dir)"; summary; exit 0; }

# The engine first: without it nothing below can work.
timeout 15 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "no Docker engine answers (docker version failed): start it with 'bash scripts/setup.sh'"
bin=$("$here/kube-build.sh") || die "the Kubernetes components could not be built (see the line above)"
[ -f "$root/dist/src/mascri.js" ] || (cd "$root" && npm run --silent build) || die "mascri could not be built: run 'npm run build'"

mkdir -p "$node_dir" "$manifests" "$run_dir" "$log_dir" "$pod_logs_dir"
chmod 0700 "$run_dir"

# Host settings the kubelet changes itself (protectKernelDefaults: false), kept for kubelet-down.
if [ ! -f "$node_dir/sysctl.saved" ]; then
  for key in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
    [ -r "/proc/sys/$key" ] && echo "$key=$(cat "/proc/sys/$key")"
  done >"$node_dir/sysctl.saved"
fi

# 1. mascri serve, as an instance named after the node: it sees only this node's pods, so other
# servers on the same engine (another node, a test's) keep theirs.
if ! running "$mascri_pid_file"; then
  log "starting mascri serve on $mascri_endpoint"
  nohup "$root/bin/mascri" serve --listen "$mascri_endpoint" --pod-infra-image "$pause_image" \
    --state-dir "$node_dir/mascri" --log-level "${MASCRI_LOG_LEVEL:-info}" --instance "$node_name" ${MASCRI_EXTRA_ARGS:-} \
    >>"$log_dir/mascri.log" 2>&1 </dev/null &
  echo $! >"$mascri_pid_file"
fi
for _ in $(seq 1 150); do
  mascri_cli version >/dev/null 2>&1 && break
  running "$mascri_pid_file" || { tail -20 "$log_dir/mascri.log" >&2; die "mascri serve exited at start (log: $log_dir/mascri.log)"; }
  sleep 0.2
done
mascri_cli version >/dev/null 2>&1 || die "mascri serve does not answer on $mascri_endpoint (log: $log_dir/mascri.log)"

# The cgroup driver the kubelet must use is the runtime's (RuntimeConfig), which is Docker's.
cgroup_driver=$(mascri_cli runtimeconfig -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);process.stdout.write(String(j.linux?.cgroupDriver??j.linux?.cgroup_driver??"").toLowerCase())})')
case "$cgroup_driver" in systemd|cgroupfs) ;; *) die "mascri reported no cgroup driver (runtimeconfig said '$cgroup_driver')";; esac

# A cgroup root of its own (a second node on the machine) must exist before the kubelet starts.
cgroup_root="${KUBELET_CGROUP_ROOT:-/}"
if [ "$cgroup_root" != / ] && [ "$cgroup_driver" = cgroupfs ]; then
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p "/sys/fs/cgroup$cgroup_root"
  else
    for controller in /sys/fs/cgroup/*/; do
      [ -f "$controller/cgroup.procs" ] || continue
      path="$controller"
      for part in ${cgroup_root//\// }; do
        path="$path/$part"
        if [ ! -d "$path" ]; then
          mkdir "$path"
          # cpuset starts empty in cgroup v1: take the parent's CPUs and memory nodes.
          [ -f "$path/cpuset.cpus" ] && cat "$(dirname "$path")/cpuset.cpus" >"$path/cpuset.cpus" && cat "$(dirname "$path")/cpuset.mems" >"$path/cpuset.mems"
        fi
      done
    done
  fi
fi

# The kubelet may not lower its own oom_score_adj below what this host allows (no CAP_SYS_RESOURCE
# here: not below the current value), so it keeps the current one instead of -999.
own_oom=$(cat /proc/self/oom_score_adj)
oom_adj=-999
[ "$own_oom" -gt -999 ] && ! (echo -999 >/proc/self/oom_score_adj) 2>/dev/null && oom_adj=$own_oom

stats_from_cri="${KUBELET_STATS_FROM_CRI:-false}"
# Standalone: anyone on 127.0.0.1 may use the kubelet's API. In a cluster: client certificates signed
# by the cluster CA (the API server's), and the API server decides (webhook).
auth_config="authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow"
if [ -n "${KUBELET_KUBECONFIG:-}" ]; then
  [ -f "${KUBELET_CLIENT_CA:-}" ] || die "KUBELET_KUBECONFIG is set but KUBELET_CLIENT_CA ('${KUBELET_CLIENT_CA:-}') is not a CA file"
  auth_config="authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $KUBELET_CLIENT_CA
authorization:
  mode: Webhook
clusterDomain: cluster.local"
fi
register_node=false
[ -n "${KUBELET_KUBECONFIG:-}" ] && register_node=true
cat >"$kubelet_config" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Generated by scripts/kubelet-up.sh: a kubelet whose container runtime is mascri.
containerRuntimeEndpoint: ${KUBELET_RUNTIME_ENDPOINT:-$mascri_endpoint}
imageServiceEndpoint: ${KUBELET_RUNTIME_ENDPOINT:-$mascri_endpoint}
cgroupDriver: $cgroup_driver
cgroupRoot: $cgroup_root
cgroupsPerQOS: true
staticPodPath: $manifests
fileCheckFrequency: 2s
podLogsDir: $pod_logs_dir
address: ${KUBELET_ADDRESS:-127.0.0.1}
port: $kubelet_port
readOnlyPort: $kubelet_ro_port
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
$auth_config
# This host (cgroup v1, no swap partition) is refused by the defaults.
failCgroupV1: false
failSwapOn: false
memorySwap:
  swapBehavior: NoSwap
oomScoreAdj: $oom_adj
protectKernelDefaults: false
containerLogMaxSize: ${KUBELET_LOG_MAX_SIZE:-10Mi}
containerLogMaxFiles: ${KUBELET_LOG_MAX_FILES:-5}
containerLogMonitorInterval: ${KUBELET_LOG_MONITOR_INTERVAL:-10s}
# A test machine's disk and memory are shared: evict only when nearly nothing is left.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
registerNode: $register_node
featureGates:
  PodAndContainerStatsFromCRI: $stats_from_cri
${KUBELET_EXTRA_CONFIG:-}
YAML

stop_kubelet() { running "$kubelet_pid_file" && kill "$(cat "$kubelet_pid_file")" 2>/dev/null; rm -f "$kubelet_pid_file"; }

# 2. The kubelet.
if ! running "$kubelet_pid_file"; then
  log "starting kubelet $("$bin/kubelet" --version | awk '{print $2}') ($cgroup_driver cgroups, stats from CRI: $stats_from_cri)"
  args=(--config "$kubelet_config" --root-dir "$node_dir/root" --cert-dir "$node_dir/pki" --hostname-override "$node_name" --v="${KUBELET_VERBOSITY:-2}")
  [ -n "${KUBELET_KUBECONFIG:-}" ] && args+=(--kubeconfig "$KUBELET_KUBECONFIG")
  [ -n "${KUBELET_NODE_IP:-}" ] && args+=(--node-ip "$KUBELET_NODE_IP")
  # The kubelet removes "<log path>*" for each container it deletes: from an empty working
  # directory, a runtime that ever answered an empty log path costs nothing.
  mkdir -p "$node_dir/cwd"
  (cd "$node_dir/cwd" && exec nohup "$bin/kubelet" "${args[@]}" >>"$log_dir/kubelet.log" 2>&1 </dev/null) &
  echo $! >"$kubelet_pid_file"
fi
for _ in $(seq 1 300); do
  healthy && break
  running "$kubelet_pid_file" || break
  sleep 0.2
done
if ! healthy; then
  if grep -q 'connect: connection refused\|no such file or directory' "$log_dir/kubelet.log" && grep -q 'runtime\|CRI' "$log_dir/kubelet.log"; then
    endpoint="${KUBELET_RUNTIME_ENDPOINT:-$mascri_endpoint}"
    stop_kubelet
    die "the kubelet cannot reach its container runtime at $endpoint: check 'mascri -r $endpoint info' and $log_dir/mascri.log"
  fi
  stop_kubelet
  die "the kubelet did not become healthy on 127.0.0.1:$kubelet_healthz_port (log: $log_dir/kubelet.log); run scripts/kubelet-down.sh to clean up"
fi
log "node $node_name is up: static pods go in $manifests"
summary
