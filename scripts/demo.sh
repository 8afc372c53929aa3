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

step version
step info -o yaml | sed -n '1,12p'
step pull localhost:5000/busybox:latest
step pull localhost:5000/httpd:latest
step images
step inspecti -o table localhost:5000/busybox:latest -q
step imagefsinfo -o table
echo
echo "demo finished: the golden path so far (serve, pull, images) works"
