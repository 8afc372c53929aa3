#!/usr/bin/env bash
# Builds the Kubernetes components of the pinned release (scripts/kube-release.env) from the Go
# module proxy: a small build module outside the tree requires k8s.io/kubernetes at that version,
# with every k8s.io/* staging module replaced by its published version. Binaries land in
#   ${MASCRI_KUBE_CACHE:-/var/cache/mascri-kube}/<version>/bin
# and are rebuilt only when the pin (or the list of components) changes.
#   scripts/kube-build.sh            build if needed, print the bin directory
#   scripts/kube-build.sh --print    print the bin directory only (exit 1 when not built)
# MASCRI_KUBE_VERSION=v1.x.y tries another release without changing the pin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kube-release.env
. "$here/kube-release.env"
# MASCRI_KUBE_VERSION overrides the pin for one run (to try another release).
KUBE_VERSION="${MASCRI_KUBE_VERSION:-$KUBE_VERSION}"
cache="${MASCRI_KUBE_CACHE:-/var/cache/mascri-kube}/$KUBE_VERSION"
bin="$cache/bin"
stamp="$bin/.built"
want="$KUBE_VERSION $KUBE_COMPONENTS ${KUBE_EXTRA_COMPONENTS:-}"
log() { printf '[kube-build] %s\n' "$*" >&2; }
die() { printf '[kube-build] error: %s\n' "$*" >&2; exit 1; }

built() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && for c in $KUBE_COMPONENTS ${KUBE_EXTRA_COMPONENTS:-}; do [ -x "$bin/$c" ] || return 1; done; }

if [ "${1:-}" = "--print" ]; then built && { echo "$bin"; exit 0; }; exit 1; fi
if built; then echo "$bin"; exit 0; fi

command -v go >/dev/null || die "go is not installed: install Go >= the version k8s.io/kubernetes $KUBE_VERSION names in its go.mod"
[[ "$KUBE_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "KUBE_VERSION '$KUBE_VERSION' in scripts/kube-release.env is not v1.MINOR.PATCH"
staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

mod="$cache/module"
mkdir -p "$mod" "$bin"
buildlog="$cache/build.log"
: >"$buildlog"
start=$(date +%s)
log "building Kubernetes $KUBE_VERSION ($KUBE_COMPONENTS) in $mod; log: $buildlog"

export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# The kubernetes module's own go.mod lists its staging modules in a replace block pointing into
# ./staging; the build module replaces each by the version published for this release.
download=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" 2>>"$buildlog") || true
echo "$download" >>"$buildlog"
gomod_file=$(echo "$download" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
if [ -z "$gomod_file" ]; then
  reason=$(echo "$download" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | sed 's/\\n.*//; s/\\t//g')
  die "could not get k8s.io/kubernetes@$KUBE_VERSION from the Go module proxy (${reason:-$(tail -1 "$buildlog")}); check GOPROXY, or the pin in scripts/kube-release.env"
fi
go_version=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod_file")
staging_mods=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod_file")
[ -n "$staging_mods" ] || die "no staging modules found in the go.mod of k8s.io/kubernetes@$KUBE_VERSION"

{
  echo "module mascri.local/kube-build"
  echo
  echo "go $go_version"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for m in $staging_mods; do echo "	$m => $m $staging"; done
  echo ")"
} >"$mod/go.mod"
rm -f "$mod/go.sum"
pkgs=()
for c in $KUBE_COMPONENTS; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
# etcd's main package, at the version the kubernetes module itself requires.
etcd_pkg=go.etcd.io/etcd/server/v3
etcd_version=$(sed -n 's#^[[:space:]]*go.etcd.io/etcd/server/v3 \(v[^ ]*\).*#\1#p' "$gomod_file" | head -1)
[ -n "$etcd_version" ] || die "the go.mod of k8s.io/kubernetes@$KUBE_VERSION names no go.etcd.io/etcd/server/v3 version"
if ! (cd "$mod" && go get "${pkgs[@]}" "$etcd_pkg@$etcd_version" >>"$buildlog" 2>&1); then
  missing=$(grep -m1 -E 'not available|unknown revision|404|403|no matching versions|invalid version' "$buildlog" || tail -1 "$buildlog")
  die "could not resolve the modules for Kubernetes $KUBE_VERSION: $missing (see $buildlog)"
fi

minor="${BASH_REMATCH[1]}"
# The release's own date (from the proxy's .info), so that a rebuild reuses Go's build cache.
now=$(echo "$download" | sed -n 's/.*"Info": "\(.*\)".*/\1/p' | xargs cat 2>/dev/null | sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')
now="${now:-1970-01-01T00:00:00Z}"
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$now -X $p.gitCommit=0000000000000000000000000000000000000000"
done
tmpbin="$cache/bin.tmp"
rm -rf "$tmpbin"; mkdir -p "$tmpbin"
if ! (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmpbin/" "${pkgs[@]}" >>"$buildlog" 2>&1); then
  die "go build of Kubernetes $KUBE_VERSION failed: $(grep -m1 -E 'error|cannot|undefined|requires go' "$buildlog" || tail -1 "$buildlog") (see $buildlog)"
fi
if [[ " ${KUBE_EXTRA_COMPONENTS:-} " == *" etcd "* ]] && ! (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmpbin/etcd" "$etcd_pkg" >>"$buildlog" 2>&1); then
  die "go build of etcd ($etcd_pkg@$etcd_version) failed: $(tail -1 "$buildlog") (see $buildlog)"
fi
for c in $KUBE_COMPONENTS ${KUBE_EXTRA_COMPONENTS:-}; do mv -f "$tmpbin/$c" "$bin/$c"; done
rmdir "$tmpbin"
echo "$want" >"$stamp"
log "built in $(( $(date +%s) - start )) s: $("$bin/kubelet" --version), etcd $("$bin/etcd" --version 2>/dev/null | sed -n "s/^etcd Version: //p")"
echo "$bin"
