#!/usr/bin/env bash
# Stops the cluster started by scripts/kube-up.sh: every node (scripts/kubelet-down.sh: its pods,
# kubelet and mascri), then kube-proxy (and its iptables rules), the control plane and etcd.
# Leaves nothing in Docker. MASCRI_CLUSTER_DIR as for kube-up.sh; --purge also removes the
# cluster's directory (certificates, etcd data).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster_dir="${MASCRI_CLUSTER_DIR:-/var/lib/mascri-cluster}"
run="$cluster_dir/run"
log() { printf '[kube-down] %s\n' "$*" >&2; }
[ -d "$cluster_dir" ] || { log "no cluster at $cluster_dir"; exit 0; }

stop() { # name grace-seconds
  local file="$run/$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 $(( $2 * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$file"
}

rc=0
# The scheduler first, so nothing new lands on the nodes while they go.
stop kube-scheduler 10
for dir in "$cluster_dir"/nodes/*/; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  MASCRI_NODE_NAME=$name MASCRI_KUBELET_DIR="${dir%/}" "$here/kubelet-down.sh" || rc=1
  # The kubelet's cgroup root for this node.
  for controller in /sys/fs/cgroup/*/; do
    [ -d "$controller/mascri-cluster/$name" ] && find "$controller/mascri-cluster/$name" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
stop kube-proxy 10
stop kube-controller-manager 10
stop kube-apiserver 20
stop etcd 10
# kube-proxy's rules: its own chains in the nat and filter tables.
if command -v iptables >/dev/null; then
  for table in nat filter mangle; do
    iptables -t "$table" -S 2>/dev/null | grep -E -- '-j KUBE-' | sed 's/^-A/-D/' | while read -r rule; do eval "iptables -t $table $rule" 2>/dev/null; done
    iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\)/\1/p' | while read -r chain; do iptables -t "$table" -F "$chain" 2>/dev/null; done
    iptables -t "$table" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\)/\1/p' | while read -r chain; do iptables -t "$table" -X "$chain" 2>/dev/null; done
  done
fi
if [ "${1:-}" = "--purge" ]; then rm -rf "$cluster_dir"; else rm -rf "$cluster_dir/etcd"; fi
[ "$rc" = 0 ] && log "cluster down" || log "error: a node did not come down cleanly (see above)"
exit "$rc"
