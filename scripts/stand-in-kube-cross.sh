#!/usr/bin/env bash
# Creates a local stand-in for the kube-cross build image when the Docker engine does not have it.
#
# No registry is reachable here, so the image is assembled from Debian bookworm packages with
# debootstrap (golang-go = Go 1.19) and imported with `docker import`. It only has to look like
# kube-cross for the fixture tree (test/fixtures/kube-tree): Go at /usr/local/go, GOPATH=/go,
# rsync, make, git, iproute2, no entrypoint; and etcd at /usr/local/bin/etcd, where kube-cross put it
# for the integration tests (Debian's etcd-server, checked against the ETCD_VERSION the fixture's
# hack/lib/etcd.sh asks for), with curl for its health check.
#
# Usage: scripts/stand-in-kube-cross.sh [IMAGE_REF]
#   IMAGE_REF defaults to ${KUBE_CROSS_IMAGE:-registry.k8s.io/build-image/kube-cross}:<tag> where
#   <tag> is the content of test/fixtures/kube-tree/build/build-image/cross/VERSION.
# Idempotent: when the engine already has IMAGE_REF made by this version of the script (its label
# io.kube-release-action.stand-in.recipe holds the script's hash) it returns at once; an image made
# by another version is replaced.
# Building needs root (debootstrap); about a minute with a warm apt mirror.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LABEL=io.kube-release-action.stand-in=true
RECIPE_LABEL=io.kube-release-action.stand-in.recipe
# Any change to this script makes a new image: an engine keeps the old one only while it is current.
RECIPE=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
ETCD_SH="${ROOT}/test/fixtures/kube-tree/hack/lib/etcd.sh"

log() { echo "stand-in-kube-cross: $*"; }
die() { echo "stand-in-kube-cross: error: $*" >&2; exit 1; }

if [[ $# -gt 1 ]]; then
  die "usage: $0 [IMAGE_REF]"
fi
if [[ $# -eq 1 && -n $1 ]]; then
  REF=$1
else
  version_file="${ROOT}/test/fixtures/kube-tree/build/build-image/cross/VERSION"
  [[ -r ${version_file} ]] || die "cannot read ${version_file}"
  tag=$(tr -d ' \t\r\n' <"${version_file}")
  [[ -n ${tag} ]] || die "${version_file} is empty"
  REF="${KUBE_CROSS_IMAGE:-registry.k8s.io/build-image/kube-cross}:${tag}"
fi

command -v docker >/dev/null || die "docker CLI not found"
label_of() { docker image inspect --format "{{index .Config.Labels \"$1\"}}" "${REF}" 2>/dev/null || true; }
old_id=
if old_id=$(docker image inspect --format '{{.Id}}' "${REF}" 2>/dev/null); then
  have=$(label_of "${RECIPE_LABEL}")
  # Anything but a stand-in (a real kube-cross) is kept as it is.
  if [[ ${have} == "${RECIPE}" || $(label_of "${LABEL%=*}") != true ]]; then
    log "${REF} already present"
    exit 0
  fi
  log "${REF} was made by another version of this script (recipe '${have}', now ${RECIPE}): replacing it"
fi

etcd_wanted=$(sed -n 's/^ETCD_VERSION=\${ETCD_VERSION:-\([0-9.]*\)}$/\1/p' "${ETCD_SH}")
[[ -n ${etcd_wanted} ]] || die "no ETCD_VERSION default in ${ETCD_SH}"

[[ $(id -u) -eq 0 ]] || die "building ${REF} needs root (debootstrap)"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stand-in-kube-cross.XXXXXX")
cleanup() {
  # debootstrap may leave /proc or /sys of the chroot mounted when it fails.
  local m
  for m in proc sys dev/pts dev; do
    if mountpoint -q "${WORK}/rootfs/${m}" 2>/dev/null; then umount -l "${WORK}/rootfs/${m}" || true; fi
  done
  rm -rf "${WORK}"
}
trap cleanup EXIT
RFS="${WORK}/rootfs"

log "building ${REF}"
log "debootstrap ${SUITE} (minbase + golang-go, rsync, make, git, ...) into ${RFS}"
start=${SECONDS}
if ! debootstrap --variant=minbase \
  --include=golang-go,rsync,make,git,ca-certificates,iproute2,file,etcd-server,curl \
  "${SUITE}" "${RFS}" "${MIRROR}" >"${WORK}/debootstrap.log" 2>&1; then
  tail -30 "${WORK}/debootstrap.log" >&2 || true
  die "debootstrap failed"
fi
log "debootstrap done in $((SECONDS - start)) s"

goroot=$(printf '%s\n' "${RFS}"/usr/lib/go-1.* | sort -V | tail -1)
[[ -x ${goroot}/bin/go ]] || die "no Go toolchain under ${RFS}/usr/lib/go-1.*"
goroot=${goroot#"${RFS}"}
log "shaping the tree like kube-cross (GOROOT ${goroot} as /usr/local/go)"
mkdir -p "${RFS}/usr/local"
ln -sfn "${goroot}" "${RFS}/usr/local/go"
mkdir -p "${RFS}/go"
chmod 1777 "${RFS}/go"
# kube-cross linked etcd into /usr/local/bin for hack/lib/etcd.sh, which wants it first on PATH.
[[ -x ${RFS}/usr/bin/etcd ]] || die "etcd-server installed no /usr/bin/etcd"
ln -sfn /usr/bin/etcd "${RFS}/usr/local/bin/etcd"
# The kube-build Dockerfile makes these a+rwx; done here, that step copies nothing into a new layer.
chmod -R a+rwx "${RFS}${goroot}/pkg"
# Keep the image small: no package archives, no apt lists, no docs beyond copyright files.
rm -f "${RFS}"/var/cache/apt/archives/*.deb "${RFS}"/var/cache/apt/*.bin
rm -rf "${RFS}"/var/lib/apt/lists/* "${RFS}"/var/log/apt/* "${RFS}/var/log/bootstrap.log"
find "${RFS}/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "${RFS}"/usr/share/man/* "${RFS}"/usr/share/info/* "${RFS}"/tmp/* "${RFS}"/var/tmp/*
: >"${RFS}/etc/machine-id"

log "importing into the Docker engine"
tar --numeric-owner -C "${RFS}" -c . | docker import \
  --change 'ENV GOPATH=/go' \
  --change 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /' \
  --change "LABEL ${LABEL} ${RECIPE_LABEL}=${RECIPE}" \
  --change 'CMD ["/bin/bash"]' \
  --message "stand-in for kube-cross (debootstrap ${SUITE} + golang-go)" \
  - "${REF}" >/dev/null

docker run --rm "${REF}" go version | sed 's/^/stand-in-kube-cross: /'
etcd_version=$(docker run --rm "${REF}" etcd --version | sed -n 's/^etcd Version: //p')
log "etcd ${etcd_version} (the fixture's hack/lib/etcd.sh asks for ${etcd_wanted} or newer)"
[[ $(printf '%s\n%s\n' "${etcd_wanted}" "${etcd_version}" | sort -V | head -n1) == "${etcd_wanted}" ]] ||
  die "etcd ${etcd_version} is older than the ${etcd_wanted} of ${ETCD_SH}"
if [[ -n ${old_id} && ${old_id} != $(docker image inspect --format '{{.Id}}' "${REF}") ]]; then
  # The replaced stand-in, unless a container still uses it.
  docker rmi "${old_id}" >/dev/null 2>&1 && log "removed the replaced image ${old_id}" || true
fi
log "created ${REF} ($(docker image inspect --format '{{.Size}}' "${REF}" | awk '{printf "%.0f MB", $1/1e6}')) in $((SECONDS - start)) s"
