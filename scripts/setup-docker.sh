#!/usr/bin/env bash
# Makes a Docker engine available on a Debian machine: installs docker.io (and the host tools the
# pipeline and tests use) when missing, and starts dockerd when nothing answers on the socket.
# Idempotent; needs root only when something has to be installed or started.
set -euo pipefail

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v rsync >/dev/null || need+=(rsync)
command -v git >/dev/null || need+=(git)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v file >/dev/null || need+=(file)
command -v curl >/dev/null || need+=(curl ca-certificates)
if ((${#need[@]})); then
  echo "setup-docker: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

engine_answers() {
  # The Engine API's ping needs no docker CLI.
  curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1
}

if [[ -n "${DOCKER_HOST:-}" ]] || engine_answers; then
  exit 0
fi

echo "setup-docker: starting dockerd (log: /var/log/dockerd.log)"
nohup dockerd >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  engine_answers && exit 0
  sleep 0.5
done
echo "setup-docker: dockerd did not answer within 30 s; last lines of its log:" >&2
tail -20 /var/log/dockerd.log >&2
exit 1
