#!/usr/bin/env bash
# Builds mascri's test images from Debian's busybox-static (no public registry needed)
# and pushes them to the local registry on 127.0.0.1:5000:
#   localhost:5000/busybox:latest   busybox with a shell and the common applets
#   localhost:5000/busybox:nobody   the same, configured to run as user "nobody"
#   localhost:5000/busybox:uid1000  the same, configured to run as uid 1000
#   localhost:5000/pause:3.10       sleeps forever, exits 0 on SIGTERM/SIGINT
#   localhost:5000/httpd:latest     busybox httpd serving a page on port 80
# Idempotent: images already built with this script's version are not rebuilt.
set -euo pipefail
VERSION=4
REG=localhost:5000
log() { printf '[images] %s\n' "$*"; }
busybox=/bin/busybox

have() { # image in the local engine with our version label and in the registry
  local ref="$1" repo tag
  repo="${ref#"$REG"/}"; tag="${repo##*:}"; repo="${repo%:*}"
  [ "$(docker image inspect -f '{{index .Config.Labels "io.mascri.test-image"}}' "$ref" 2>/dev/null)" = "$VERSION" ] &&
    curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://127.0.0.1:5000/v2/$repo/manifests/$tag"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_rootfs() { # a minimal busybox userland in $1
  local dir="$1"
  mkdir -p "$dir"/{bin,etc,tmp,root,www,proc,sys,dev,var/log}
  chmod 1777 "$dir/tmp"
  cp "$busybox" "$dir/bin/busybox"
  # Hard links, as in the busybox image on Docker Hub: masking or replacing one applet leaves the others working.
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -f "$dir/bin/busybox" "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\nuser1000:x:1000:1000:user:/tmp:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nuser1000:x:1000:\n' >"$dir/etc/group"
}

import() { # import rootfs $1 as image $2 with extra --change options
  local dir="$1" ref="$2"; shift 2
  tar -C "$dir" -c . | docker import -c "LABEL io.mascri.test-image=$VERSION" "$@" - "$ref" >/dev/null
  docker push -q "$ref" >/dev/null
  log "built and pushed $ref"
}

if ! have $REG/busybox:latest || ! have $REG/busybox:nobody || ! have $REG/busybox:uid1000; then
  make_rootfs "$work/busybox"
  import "$work/busybox" $REG/busybox:latest -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]'
  import "$work/busybox" $REG/busybox:nobody -c 'ENV PATH=/bin' -c 'USER nobody' -c 'CMD ["/bin/sh"]'
  import "$work/busybox" $REG/busybox:uid1000 -c 'ENV PATH=/bin' -c 'USER 1000' -c 'CMD ["/bin/sh"]'
fi

if ! have $REG/pause:3.10; then
  mkdir -p "$work/pause/bin"
  cp "$busybox" "$work/pause/bin/busybox"
  ln -sf busybox "$work/pause/bin/sh"; ln -sf busybox "$work/pause/bin/sleep"
  cat >"$work/pause/pause" <<'SH'
#!/bin/sh
# The pod's placeholder process: holds the namespaces, exits cleanly when told to.
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
SH
  chmod 755 "$work/pause/pause"
  import "$work/pause" $REG/pause:3.10 -c 'ENV PATH=/bin' -c 'ENTRYPOINT ["/pause"]'
fi

if ! have $REG/httpd:latest; then
  make_rootfs "$work/httpd"
  echo '<html><body><h1>hello from mascri httpd</h1></body></html>' >"$work/httpd/www/index.html"
  import "$work/httpd" $REG/httpd:latest -c 'ENV PATH=/bin' -c 'EXPOSE 80' \
    -c 'ENTRYPOINT ["/bin/httpd","-f","-v","-p","80","-h","/www"]'
fi
log "test images ready"
