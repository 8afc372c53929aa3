#!/usr/bin/env bash
# A Kubernetes cluster on this machine whose nodes run their pods on mascri, every component a host
# process (as Kubernetes' own hack/local-up-cluster.sh does): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy (iptables mode) and, per node, a kubelet with
# its own `mascri serve` (scripts/kubelet-up.sh with an instance name), all from the pinned release
# (scripts/kube-build.sh). Certificates and kubeconfigs are made with the release's kubeadm phases.
#   scripts/kube-up.sh [--nodes N]      (N = 1 or 2; default 1)
# The components listen on 127.0.0.1, except the API server and the kubelets, which listen on the
# address of Docker's bridge (docker0): the API server reaches the kubelets there and pods reach the
# API server there. The last line is: KUBECONFIG=<path> KUBECTL=<path>. Stop it with scripts/kube-down.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=kube-release.env
. "$here/kube-release.env"
log() { printf '[kube-up] %s\n' "$*" >&2; }
die() { printf '[kube-up] error: %s\n' "$*" >&2; exit 1; }

nodes=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="${2:-}"; shift 2 ;;
    --nodes=*) nodes="${1#--nodes=}"; shift ;;
    *) die "unknown argument '$1' (usage: kube-up.sh [--nodes 1|2])" ;;
  esac
done
[[ "$nodes" =~ ^[12]$ ]] || die "--nodes must be 1 or 2, not '$nodes'"

cluster_dir="${MASCRI_CLUSTER_DIR:-/var/lib/mascri-cluster}"
pki="$cluster_dir/pki"
run="$cluster_dir/run"
logs="$cluster_dir/logs"
mkdir -p "$pki" "$run" "$logs"

timeout 15 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "no Docker engine answers (docker version failed): start it with 'bash scripts/setup.sh'"
bin=$("$here/kube-build.sh") || die "the Kubernetes components could not be built (see the line above)"
node_ip=$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$node_ip" ] || die "Docker's bridge docker0 has no IPv4 address: is dockerd running with its default bridge?"
api="https://$node_ip:6443"
echo "$nodes" >"$cluster_dir/node-count"

running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }
start() { # name command...
  local name=$1; shift
  running "$name" && return 0
  (cd "$run" && exec nohup "$@" >>"$logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$run/$name.pid"
}
wait_for() { # what seconds command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up in $seconds s (logs: $logs)"
}

# 1. Certificates and kubeconfigs (once per cluster directory).
if [ ! -f "$cluster_dir/admin.conf" ]; then
  log "making certificates and kubeconfigs (kubeadm init phases)"
  common=(--kubernetes-version "$KUBE_VERSION" --cert-dir "$pki")
  "$bin/kubeadm" init phase certs all "${common[@]}" --apiserver-advertise-address "$node_ip" \
    --apiserver-cert-extra-sans "127.0.0.1,localhost,$node_ip" --service-cidr 10.96.0.0/16 >>"$logs/kubeadm.log" 2>&1 \
    || die "kubeadm could not make the certificates (log: $logs/kubeadm.log)"
  "$bin/kubeadm" init phase kubeconfig all "${common[@]}" --kubeconfig-dir "$cluster_dir" --apiserver-advertise-address "$node_ip" \
    --node-name mascri-cluster-1 >>"$logs/kubeadm.log" 2>&1 || die "kubeadm could not make the kubeconfigs (log: $logs/kubeadm.log)"
fi
for n in $(seq 2 "$nodes"); do
  if [ ! -f "$cluster_dir/node-$n/kubelet.conf" ]; then
    mkdir -p "$cluster_dir/node-$n"
    "$bin/kubeadm" init phase kubeconfig kubelet --kubernetes-version "$KUBE_VERSION" --cert-dir "$pki" --kubeconfig-dir "$cluster_dir/node-$n" \
      --apiserver-advertise-address "$node_ip" --node-name "mascri-cluster-$n" >>"$logs/kubeadm.log" 2>&1 || die "kubeadm could not make node $n's kubeconfig"
  fi
done
kubectl() { "$bin/kubectl" --kubeconfig "$cluster_dir/admin.conf" "$@"; }

# 2. etcd and the control plane.
log "starting etcd $("$bin/etcd" --version | sed -n 's/^etcd Version: //p')"
start etcd "$bin/etcd" --name mascri --data-dir "$cluster_dir/etcd" --listen-client-urls http://127.0.0.1:2379 \
  --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster mascri=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381
wait_for etcd 30 curl -fsS http://127.0.0.1:2381/health

log "starting kube-apiserver on $api"
start kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port 6443 \
  --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local --api-audiences https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.96.0.0/16 --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
  --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --proxy-client-cert-file "$pki/front-proxy-client.crt" \
  --proxy-client-key-file "$pki/front-proxy-client.key" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group --requestheader-extra-headers-prefix X-Remote-Extra-
wait_for kube-apiserver 90 kubectl --kubeconfig "$cluster_dir/super-admin.conf" get --raw /readyz
# What kubeadm init does after its phases: admin.conf's group gets cluster-admin.
if ! kubectl get clusterrolebinding kubeadm:cluster-admins >/dev/null 2>&1; then
  kubectl --kubeconfig "$cluster_dir/super-admin.conf" create clusterrolebinding kubeadm:cluster-admins \
    --clusterrole cluster-admin --group kubeadm:cluster-admins >/dev/null || die "could not grant admin.conf cluster-admin"
fi
# ... and the API server's client certificate may use the kubelets' API (logs, exec, port-forward).
if ! kubectl get clusterrolebinding kubeadm:apiserver-kubelet-client >/dev/null 2>&1; then
  kubectl create clusterrolebinding kubeadm:apiserver-kubelet-client --clusterrole system:kubelet-api-admin \
    --user kube-apiserver-kubelet-client >/dev/null || die "could not let the API server use the kubelets' API"
fi

log "starting kube-controller-manager and kube-scheduler"
start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$cluster_dir/controller-manager.conf" \
  --authentication-kubeconfig "$cluster_dir/controller-manager.conf" --authorization-kubeconfig "$cluster_dir/controller-manager.conf" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false --use-service-account-credentials=true \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" --root-ca-file "$pki/ca.crt" \
  --service-account-private-key-file "$pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 --allocate-node-cidrs=false \
  --controllers '*,bootstrapsigner,tokencleaner' --node-monitor-grace-period 20s
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$cluster_dir/scheduler.conf" \
  --authentication-kubeconfig "$cluster_dir/scheduler.conf" --authorization-kubeconfig "$cluster_dir/scheduler.conf" \
  --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false
wait_for kube-controller-manager 60 curl -fsSk https://127.0.0.1:10257/healthz
wait_for kube-scheduler 60 curl -fsSk https://127.0.0.1:10259/healthz

# 3. The nodes: a kubelet and its own mascri each, registered with the API server.
for n in $(seq 1 "$nodes"); do
  name="mascri-cluster-$n"; kubeconfig="$cluster_dir/kubelet.conf"; [ "$n" = 1 ] || kubeconfig="$cluster_dir/node-$n/kubelet.conf"
  offset=$(( 200 + (n - 1) * 10 ))  # 10450.. for node 1: apart from a standalone node's 10250..
  log "starting node $name"
  MASCRI_NODE_NAME=$name MASCRI_KUBELET_DIR="$cluster_dir/nodes/$name" \
  KUBELET_PORT=$((10250 + offset)) KUBELET_READONLY_PORT=$((10255 + offset)) KUBELET_HEALTHZ_PORT=$((10248 + offset)) \
  KUBELET_KUBECONFIG="$kubeconfig" KUBELET_CLIENT_CA="$pki/ca.crt" KUBELET_NODE_IP="$node_ip" KUBELET_ADDRESS="$node_ip" \
  KUBELET_CGROUP_ROOT="/mascri-cluster/$name" \
    "$here/kubelet-up.sh" >/dev/null || die "node $name did not start (see the line above)"
done
for n in $(seq 1 "$nodes"); do
  name="mascri-cluster-$n"
  wait_for "node $name Ready" 120 sh -c "'$bin/kubectl' --kubeconfig '$cluster_dir/admin.conf' get node $name -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
done
# 4. kube-proxy, once the node it runs for exists (one for the machine: every node shares this host's network namespace and iptables).
# kube-proxy exits when its configuration file changes: write it only when its content does.
cat >"$cluster_dir/kube-proxy.yaml.new" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $cluster_dir/admin.conf
hostnameOverride: mascri-cluster-1
mode: iptables
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$node_ip/32"]
clusterCIDR: 172.16.0.0/12
conntrack:
  maxPerCore: 0
iptables:
  masqueradeAll: true
YAML
if cmp -s "$cluster_dir/kube-proxy.yaml.new" "$cluster_dir/kube-proxy.yaml"; then rm -f "$cluster_dir/kube-proxy.yaml.new"; else mv -f "$cluster_dir/kube-proxy.yaml.new" "$cluster_dir/kube-proxy.yaml"; fi
log "starting kube-proxy (iptables)"
start kube-proxy "$bin/kube-proxy" --config "$cluster_dir/kube-proxy.yaml"
wait_for kube-proxy 60 curl -fsS http://127.0.0.1:10256/livez

wait_for "the default service account" 60 kubectl get serviceaccount default
log "cluster up: $nodes node(s) on mascri; API server $api"
echo "KUBECONFIG=$cluster_dir/admin.conf KUBECTL=$bin/kubectl"
