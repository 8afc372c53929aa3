#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine (run as root):
#   - installs docker.io, docker-registry, busybox-static and the CNI plugins when missing,
#   - starts dockerd and a registry on 127.0.0.1:5000 when not running,
#   - builds the test images from busybox-static and pushes them to the local registry,
#   - installs the project's npm dependencies and builds it.
# Safe to run again: every step checks before it acts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
log() { printf '[setup] %s\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive
need=()
[ -x /usr/sbin/dockerd ] || need+=(docker.io)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl >/dev/null || need+=(curl)
# The streaming server runs TTY sessions under a pty made by python3, and port-forward enters the
# pod's network namespace with nsenter (util-linux); the TTY tests drive mascri through `script`.
command -v python3 >/dev/null || need+=(python3)
command -v nsenter >/dev/null || need+=(util-linux)
command -v script >/dev/null || need+=(bsdutils)
# npm run bench starts a containerd of its own beside mascri; its pods need the CNI bridge plugins.
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || need+=(containernetworking-plugins)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  # policy-rc.d stops the packages from trying to start services through init scripts.
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The docker CLI first on PATH may be newer than the engine; it negotiates the API version.
docker_ok() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! docker_ok; then
  log "starting dockerd"
  mkdir -p /var/log
  # Without an init system, start the daemon ourselves; containerd comes with docker.io.
  if ! pgrep -x containerd >/dev/null; then
    nohup containerd >/var/log/containerd.log 2>&1 &
    sleep 1
  fi
  nohup /usr/sbin/dockerd --containerd=/run/containerd/containerd.sock >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker_ok && break; sleep 1; done
  docker_ok || { log "dockerd did not come up; see /var/log/dockerd.log"; tail -30 /var/log/dockerd.log; exit 1; }
fi
log "docker engine $(docker version --format '{{.Server.Version}}')"

if ! curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  log "starting registry on 127.0.0.1:5000"
  mkdir -p /var/lib/mascri-registry
  cat >/etc/mascri-registry.yml <<'YML'
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/mascri-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YML
  nohup /usr/bin/docker-registry serve /etc/mascri-registry.yml >/var/log/mascri-registry.log 2>&1 &
  for _ in $(seq 1 30); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fsS http://127.0.0.1:5000/v2/ >/dev/null || { log "registry did not come up"; cat /var/log/mascri-registry.log; exit 1; }
fi

"$here/build-test-images.sh"

if [ -f "$root/package.json" ]; then
  cd "$root"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund >/dev/null
  fi
  log "building"
  npm run --silent build
fi
log "ready"
