#!/usr/bin/env bash
# Stops the node started by scripts/kubelet-up.sh: removes its static pod manifests so the kubelet
# stops their pods, stops the kubelet, stops and removes every pod left in mascri, stops
# `mascri serve`, unmounts what the kubelet mounted under its directory, restores the kernel settings
# the kubelet changed, and checks that Docker holds no container of this node any more.
# Same settings as kubelet-up.sh (MASCRI_NODE_NAME, MASCRI_KUBELET_DIR, ports).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=kubelet-env.sh
. "$here/kubelet-env.sh"
log() { printf '[kubelet-down] %s\n' "$*" >&2; }

[ -d "$node_dir" ] || { log "no node at $node_dir"; exit 0; }

stop_pid() { # pid-file name grace-seconds
  running "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 $(( $3 * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$2 did not stop in $3 s; killing it"; kill -KILL "$pid" 2>/dev/null; fi
  rm -f "$1"
}

# 1. Let the kubelet stop its pods as it would (grace periods, pre-stop hooks).
if running "$kubelet_pid_file" && running "$mascri_pid_file" && [ -n "$(ls -A "$manifests" 2>/dev/null)" ]; then
  log "removing the static pod manifests"
  rm -f "$manifests"/*
  for _ in $(seq 1 600); do
    [ -z "$(mascri_cli pods -q --state ready 2>/dev/null)" ] && break
    sleep 0.1
  done
fi
rm -rf "$manifests"
stop_pid "$kubelet_pid_file" kubelet 30

# 2. Whatever the kubelet left: stop and remove every pod through mascri.
made=""
if running "$mascri_pid_file"; then
  made=$( (mascri_cli pods -q --no-trunc; mascri_cli ps -a -q --no-trunc) 2>/dev/null)
  pods=$(mascri_cli pods -q 2>/dev/null)
  if [ -n "$pods" ]; then
    log "removing $(echo "$pods" | wc -l) pods left in mascri"
    # shellcheck disable=SC2086
    mascri_cli -t 60s stopp $pods >/dev/null 2>&1
    # shellcheck disable=SC2086
    mascri_cli -t 60s rmp -f $pods >/dev/null 2>&1
  fi
fi
stop_pid "$mascri_pid_file" "mascri serve" 15

# 3. The kubelet's mounts (secrets, tmpfs emptyDirs, its own root) and files.
if [ -d "$node_dir/root" ]; then
  grep -o " $node_dir/root[^ ]*" /proc/self/mounts | sort -r | while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null; done
fi
rm -rf "$node_dir/root" "$node_dir/pki" "$run_dir" "$pod_logs_dir" "$node_dir/mascri"

# 4. The kernel settings the kubelet changed.
if [ -f "$node_dir/sysctl.saved" ]; then
  while IFS='=' read -r key value; do echo "$value" >"/proc/sys/$key" 2>/dev/null; done <"$node_dir/sysctl.saved"
  rm -f "$node_dir/sysctl.saved"
fi

# 5. Nothing of the node left in Docker.
left=""
for id in $made; do docker container inspect "$id" >/dev/null 2>&1 && left+=" ${id:0:12}"; done
if [ -n "$left" ]; then
  log "error: Docker still holds containers of this node:$left"
  exit 1
fi
log "node $node_name is down (logs kept in $log_dir)"
