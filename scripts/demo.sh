#!/usr/bin/env bash
# The quick start: everything a fresh Debian machine with Node needs, then a quick-release of the
# bundled fixture tree with the bundled CLI, then the tarballs it wrote.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [[ $(id -u) -eq 0 ]]; then
  bash scripts/setup-docker.sh
elif ! docker info >/dev/null 2>&1; then
  echo "demo: no Docker engine answers; run as root once (it installs and starts one) or start dockerd" >&2
  exit 1
fi
[[ -x node_modules/.bin/node ]] || npm ci --no-audit --no-fund
bash scripts/stand-in-kube-cross.sh

tree=${DEMO_TREE:-${TMPDIR:-/tmp}/kube-release-demo/kubernetes}
rm -rf "$tree"
bash scripts/fixture-tree.sh "$tree" v1.31.0 >/dev/null
echo "demo: building $tree (a small Kubernetes-shaped tree) with mode quick-release"
# No registry is needed: server images would pull their base images, so they are left out here.
node_modules/.bin/node dist/cli.js --source "$tree" --mode quick-release --server-images false "$@"
echo
ls -l "$tree/_output/release-tars"
echo "demo: remove what the build keeps on the engine with: node dist/cli.js clean --source $tree"
