#!/usr/bin/env bash
# Builds the pinned crictl (scripts/crictl-release.env) from the Go module proxy: a small build
# module outside the tree requires sigs.k8s.io/cri-tools at that version and builds ./cmd/crictl,
# stamped with the version as cri-tools' Makefile does. The binary lands in
#   ${MASCRI_CRICTL_CACHE:-/var/cache/mascri-kube}/crictl-<version>/crictl
# and is rebuilt only when the pin changes. Nothing of it is committed.
#   scripts/crictl-build.sh            build if needed, print the binary's path
#   scripts/crictl-build.sh --print    print the path only (exit 1 when not built)
# MASCRI_CRICTL_VERSION=v1.x.y tries another release without changing the pin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=crictl-release.env
. "$here/crictl-release.env"
CRICTL_VERSION="${MASCRI_CRICTL_VERSION:-$CRICTL_VERSION}"
cache="${MASCRI_CRICTL_CACHE:-/var/cache/mascri-kube}/crictl-$CRICTL_VERSION"
binary="$cache/crictl"
stamp="$cache/.built"
log() { printf '[crictl-build] %s\n' "$*" >&2; }
die() { printf '[crictl-build] error: %s\n' "$*" >&2; exit 1; }

built() { [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$CRICTL_VERSION" ]; }

if [ "${1:-}" = "--print" ]; then built && { echo "$binary"; exit 0; }; exit 1; fi
if built; then echo "$binary"; exit 0; fi

command -v go >/dev/null || die "go is not installed: install Go >= the version sigs.k8s.io/cri-tools $CRICTL_VERSION names in its go.mod"
[[ "$CRICTL_VERSION" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "CRICTL_VERSION '$CRICTL_VERSION' in scripts/crictl-release.env is not v1.MINOR.PATCH"

# Two builds at once (two test runs on a fresh machine) must not write the same module.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if built; then echo "$binary"; exit 0; fi

mod="$cache/module"
mkdir -p "$mod"
buildlog="$cache/build.log"
: >"$buildlog"
start=$(date +%s)
log "building crictl $CRICTL_VERSION in $mod; log: $buildlog"

export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
download=$(cd "$mod" && go mod download -json "sigs.k8s.io/cri-tools@$CRICTL_VERSION" 2>>"$buildlog") || true
echo "$download" >>"$buildlog"
gomod_file=$(echo "$download" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
if [ -z "$gomod_file" ]; then
  reason=$(echo "$download" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | sed 's/\\n.*//; s/\\t//g')
  die "could not get sigs.k8s.io/cri-tools@$CRICTL_VERSION from the Go module proxy (${reason:-$(tail -1 "$buildlog")}); check GOPROXY, or the pin in scripts/crictl-release.env"
fi
go_version=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod_file")

printf 'module mascri.local/crictl-build\n\ngo %s\n\nrequire sigs.k8s.io/cri-tools %s\n' "$go_version" "$CRICTL_VERSION" >"$mod/go.mod"
rm -f "$mod/go.sum"
if ! (cd "$mod" && go get "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >>"$buildlog" 2>&1); then
  die "could not resolve the modules for crictl $CRICTL_VERSION: $(grep -m1 -E 'not available|unknown revision|404|403|no matching versions|invalid version|requires go' "$buildlog" || tail -1 "$buildlog") (see $buildlog)"
fi
# cri-tools' Makefile stamps the version without its "v" (crictl --version: "crictl version 1.37.0").
ldflags="-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION#v}"
if ! (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$binary.tmp" sigs.k8s.io/cri-tools/cmd/crictl >>"$buildlog" 2>&1); then
  die "go build of crictl $CRICTL_VERSION failed: $(grep -m1 -E 'error|cannot|undefined|requires go' "$buildlog" || tail -1 "$buildlog") (see $buildlog)"
fi
mv -f "$binary.tmp" "$binary"
echo "$CRICTL_VERSION" >"$stamp"
log "built in $(( $(date +%s) - start )) s: $("$binary" --version)"
echo "$binary"
