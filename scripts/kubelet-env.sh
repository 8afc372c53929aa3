# Shared by kubelet-up.sh and kubelet-down.sh: where a node's files, sockets and ports are.
# shellcheck shell=bash
node_name="${MASCRI_NODE_NAME:-mascri-node}"
node_dir="${MASCRI_KUBELET_DIR:-/var/lib/mascri-kubelet}"
manifests="$node_dir/manifests"
run_dir="$node_dir/run"
log_dir="$node_dir/logs"
pod_logs_dir="$node_dir/pod-logs"
kubelet_config="$node_dir/kubelet-config.yaml"
mascri_endpoint="unix://$run_dir/mascri.sock"
mascri_pid_file="$run_dir/mascri.pid"
kubelet_pid_file="$run_dir/kubelet.pid"
kubelet_port="${KUBELET_PORT:-10250}"
kubelet_ro_port="${KUBELET_READONLY_PORT:-10255}"
kubelet_healthz_port="${KUBELET_HEALTHZ_PORT:-10248}"
pause_image="${MASCRI_PAUSE_IMAGE:-localhost:5000/pause:3.10}"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Healthy: /healthz says ok and the read-only port (which serves /pods and /stats) answers too; it
# starts listening a moment after /healthz does.
healthy() {
  [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$kubelet_healthz_port/healthz" 2>/dev/null)" = ok ] &&
    { [ "$kubelet_ro_port" = 0 ] || curl -fsS --max-time 2 -o /dev/null "http://${KUBELET_ADDRESS:-127.0.0.1}:$kubelet_ro_port/healthz" 2>/dev/null; }
}
mascri_cli() { "$root/bin/mascri" -r "$mascri_endpoint" -t 10s "$@"; }
summary() {
  echo "KUBELET_DIR=$node_dir MASCRI_ENDPOINT=$mascri_endpoint KUBELET_URL=https://${KUBELET_ADDRESS:-127.0.0.1}:$kubelet_port KUBELET_READONLY_URL=http://${KUBELET_ADDRESS:-127.0.0.1}:$kubelet_ro_port"
}
