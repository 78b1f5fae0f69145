#!/usr/bin/env bash
# Makes a git repository out of a copy of the kube-tree fixture (test/fixtures/kube-tree), with
# one commit (fixed author and dates, so the commit hash is the same on every run) and a tag.
#
# Usage: scripts/fixture-tree.sh DEST [TAG]
#   DEST must not exist or be an empty directory. TAG defaults to v1.31.0 (annotated).
# Prints DEST (as an absolute path) on success.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SRC="${ROOT}/test/fixtures/kube-tree"

die() { echo "fixture-tree: error: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 && -n $1 ]] || die "usage: $0 DEST [TAG]"
DEST=$1
TAG=${2:-v1.31.0}
[[ -d ${SRC} ]] || die "fixture not found at ${SRC}"
command -v git >/dev/null || die "git not found"

if [[ -e ${DEST} ]]; then
  [[ -d ${DEST} ]] || die "${DEST} exists and is not a directory"
  [[ -z $(ls -A "${DEST}") ]] || die "${DEST} is not empty"
else
  mkdir -p "${DEST}"
fi
DEST=$(cd "${DEST}" && pwd -P)

# Copy the fixture as it is in the work tree (including files the outer repo has not committed
# yet), but never build outputs that a run inside the fixture directory may have left behind.
tar -C "${SRC}" --exclude='./_output*' --exclude='./.dockerized-kube-version-defs' -cf - . | tar -C "${DEST}" -xf -

export GIT_AUTHOR_NAME=Fixture GIT_AUTHOR_EMAIL=fixture@example.com
export GIT_COMMITTER_NAME=Fixture GIT_COMMITTER_EMAIL=fixture@example.com
export GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z
# Keep the user's and the system's git configuration (hooks, signing, templates) out of it.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git_() { git -C "${DEST}" -c safe.directory="${DEST}" -c init.defaultBranch=master -c commit.gpgSign=false -c tag.gpgSign=false "$@"; }

git_ init -q
git_ add -A
git_ commit -q -m "kube-tree fixture"
git_ tag -a -m "Kubernetes ${TAG} (fixture)" "${TAG}"

echo "${DEST}"
