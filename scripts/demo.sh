#!/usr/bin/env bash
# The main job: sets the machine up (engine, registry, test images, build), starts `mascri serve`
# on a private socket against the local Docker engine, and walks the golden path with the
# built-in client. Cleans up after itself, also when a step fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

"$here/setup.sh"

run_dir="$(mktemp -d /tmp/mascri-demo.XXXXXX)"
endpoint="unix://$run_dir/mascri.sock"
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$run_dir/serve.log" ]; then
    echo "---- mascri serve log ----"; tail -40 "$run_dir/serve.log"
  fi
  rm -rf "$run_dir"
  exit "$rc"
}
trap cleanup EXIT INT TERM

mascri() { "$root/bin/mascri" -r "$endpoint" "$@"; }
step() { printf '\n\033[1m$ mascri %s\033[0m\n' "$*"; mascri "$@"; }

echo "starting mascri serve on $endpoint"
"$root/bin/mascri" serve --listen "$endpoint" --pod-infra-image localhost:5000/pause:3.10 --log-level info \
  >"$run_dir/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  mascri version >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$run_dir/serve.log"; exit 1; }
  sleep 0.1
done

pod_config="$root/fixtures/sandbox-config.json"
container_config="$root/fixtures/container-config.json"
pod_uid="$(sed -n 's/.*"uid": *"\([^"]*\)".*/\1/p' "$pod_config" | head -1)"
log_dir="$(sed -n 's/.*"log_directory": *"\([^"]*\)".*/\1/p' "$pod_config" | head -1)"

# Leave nothing behind, also when a step fails: the demo pod's containers go with the server.
remove_demo_pod() {
  local ids
  ids="$(docker ps -aq --filter "label=io.kubernetes.pod.uid=$pod_uid")"
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$log_dir"
}
trap 'rc=$?; remove_demo_pod; (exit $rc); cleanup' EXIT INT TERM
remove_demo_pod

step version
step pull localhost:5000/busybox:latest
step images
pod_id="$(mascri runp "$pod_config")"
printf '\n\033[1m$ mascri runp %s\033[0m\n%s\n' "fixtures/sandbox-config.json" "$pod_id"
step pods
container_id="$(mascri create "$pod_id" "$container_config" "$pod_config")"
printf '\n\033[1m$ mascri create %s fixtures/container-config.json fixtures/sandbox-config.json\033[0m\n%s\n' "${pod_id:0:13}" "$container_id"
step start "$container_id"
step ps
sleep 3
step logs "$container_id"
step exec -s "$container_id" sh -c 'echo "hello from $(hostname), pid 1 is $(cat /proc/1/comm)"'
step stop "$container_id"
step ps -a
step inspect -o table "$container_id"
step rm "$container_id"
step stopp "$pod_id"
step rmp "$pod_id"
left="$(docker ps -aq --filter "label=io.kubernetes.pod.uid=$pod_uid")"
[ -z "$left" ] || { echo "containers left behind: $left"; exit 1; }
echo
echo "demo finished: pull, runp, create, start, ps, logs, exec, stop, rm, stopp and rmp all worked; nothing is left in Docker"
