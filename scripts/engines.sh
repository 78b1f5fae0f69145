#!/usr/bin/env bash
# The container engines of the e2e matrix, each beside the machine's dockerd on a unix socket of its
# own under /run/kre-NAME/, never touching the machine's engine: no iptables changes by the Docker
# engines, bridges and data roots of their own.
#
#   scripts/engines.sh start [NAME…]           starts them (default: all); idempotent. Each gets the
#                                              stand-in kube-cross image (reused when it has it).
#   scripts/engines.sh stop [--purge] [NAME…]  stops them (default: all) and removes all they kept
#                                              (containers, volumes, images); --purge: the trixie root too
#   scripts/engines.sh env NAME                what the e2e suite needs to use NAME: eval "$(… env NAME)"
#   scripts/engines.sh names                   the engines, in matrix order
#
#   podman4              Podman 4.3, the host's (Debian bookworm) package
#   docker26             Docker 26.1 from a Debian trixie root, classic image store
#   docker26-containerd  the same dockerd with the containerd image store
#   podman5              Podman 5.4 from the trixie root
#   docker26-isolated    Docker 26.1, classic store, WITHOUT the host's /tmp in view: an engine that
#                        shares no files with the client (a remote engine, a Docker-in-Docker sidecar)
#
# Every engine runs in a mount namespace of its own (unshare); those of the trixie root have it as
# their namespace's root (pivot_root). Their /proc, /sys, /dev and /tmp, and their layer mounts,
# never appear in the machine's mount table and go away with the engine's last process. The trixie
# root is made once (debootstrap, then apt in the root: a few minutes) in /var/lib/kre-engines/trixie
# and reused; logs are in /var/lib/kre-engines/logs. Needs root, debootstrap, curl and the docker CLI.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ENGINES=(podman4 docker26 docker26-containerd podman5 docker26-isolated)
STATE=/var/lib/kre-engines
TRIXIE=${STATE}/trixie
LOGS=${STATE}/logs
ROOT_PACKAGES=(docker.io docker-cli containerd runc tini iptables iproute2 procps ca-certificates
  podman netavark aardvark-dns crun catatonit conmon)
# The e2e test registry (test/helpers/registry.ts) listens on the first free port of this range;
# Podman must know each of them as a plain-HTTP registry before its service starts. REGISTRY_PORTS
# is the same number as in test/helpers/registry.ts.
REGISTRY_PORT=${KRA_TEST_REGISTRY_PORT:-41730}
REGISTRY_PORTS=8
MACHINE_SOCKET=/var/run/docker.sock

log() { printf 'engines: %s\n' "$*" >&2; }
die() {
  printf 'engines: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

known() {
  local name
  for name in "${ENGINES[@]}"; do [[ $name == "$1" ]] && return 0; done
  return 1
}

# Sets KIND (docker|podman), IN_ROOT (1: runs in the trixie root), SHARES_TMP, CONTAINERD_STORE,
# BRIDGE, SUBNET (first three octets of its /24), RUN (its directory), SOCKET, DATA (host path).
describe() {
  local name=$1
  known "$name" || die "unknown engine '${name}'; engines: ${ENGINES[*]}"
  RUN=/run/kre-${name}
  SHARES_TMP=1
  CONTAINERD_STORE=false
  case $name in
    podman4) KIND=podman IN_ROOT=0 BRIDGE=kre-p4 SUBNET=10.232.0 ;;
    podman5) KIND=podman IN_ROOT=1 BRIDGE=kre-p5 SUBNET=10.233.0 ;;
    docker26) KIND=docker IN_ROOT=1 BRIDGE=kre-d26 SUBNET=10.231.0 ;;
    docker26-containerd) KIND=docker IN_ROOT=1 BRIDGE=kre-d26c SUBNET=10.231.1 CONTAINERD_STORE=true ;;
    docker26-isolated) KIND=docker IN_ROOT=1 BRIDGE=kre-d26i SUBNET=10.231.2 SHARES_TMP=0 ;;
  esac
  SOCKET=${RUN}/${KIND}.sock
  # Inside the trixie root, /var/lib/kre-NAME; podman4 keeps its data beside the root.
  if ((IN_ROOT)); then DATA=${TRIXIE}/var/lib/kre-${name}; else DATA=${STATE}/${name}; fi
}

answers() {
  curl -fsS --max-time 2 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1
}

# The reference the fixture tree asks for, as scripts/stand-in-kube-cross.sh makes it.
stand_in_ref() {
  local tag
  tag=$(tr -d ' \t\r\n' <"${REPO}/test/fixtures/kube-tree/build/build-image/cross/VERSION")
  echo "${KUBE_CROSS_IMAGE:-registry.k8s.io/build-image/kube-cross}:${tag}"
}

# The Debian mirror the machine's apt uses: the first URIs of debian.sources (or sources.list).
debian_mirror() {
  local uri=''
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri && -r /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

apt_install_on_host() {
  log "installing on the host: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# Runs a command with the trixie root's /proc and /dev mounted, in a mount namespace of its own.
in_root_namespace() {
  unshare --mount --propagation slave bash -euc '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    exec chroot "$root" "$@"' _ "$TRIXIE" "$@"
}

# Makes the trixie root once (debootstrap minbase, then the engines' packages with apt in the root),
# or adds the packages a root made earlier lacks.
ensure_trixie_root() {
  local marker=${TRIXIE}/.kre-packages started=$SECONDS
  if [[ -f $marker && $(<"$marker") == "${ROOT_PACKAGES[*]}" ]]; then return 0; fi
  command -v debootstrap >/dev/null || apt_install_on_host debootstrap
  if [[ ! -x ${TRIXIE}/usr/bin/apt-get ]]; then
    local partial=${TRIXIE}.partial mirror
    mirror=$(debian_mirror)
    rm -rf "$partial"
    mkdir -p "$LOGS"
    log "making the trixie root: debootstrap --variant=minbase trixie ${TRIXIE} ${mirror} (log: ${LOGS}/debootstrap.log)"
    # In a namespace of its own: a failing debootstrap leaves no /proc or /sys mounted on the host.
    if ! unshare --mount --propagation slave \
      debootstrap --variant=minbase trixie "$partial" "$mirror" >"${LOGS}/debootstrap.log" 2>&1; then
      tail -20 "${LOGS}/debootstrap.log" >&2
      die "debootstrap of trixie failed (mirror ${mirror}); log: ${LOGS}/debootstrap.log"
    fi
    # Package scripts must not start the services they install.
    printf '#!/bin/sh\nexit 101\n' >"${partial}/usr/sbin/policy-rc.d"
    chmod 755 "${partial}/usr/sbin/policy-rc.d"
    mv "$partial" "$TRIXIE"
    log "debootstrap done in $((SECONDS - started)) s"
  fi
  cp /etc/resolv.conf "${TRIXIE}/etc/resolv.conf"
  log "installing in the trixie root: ${ROOT_PACKAGES[*]} (log: ${LOGS}/apt.log)"
  if ! in_root_namespace env DEBIAN_FRONTEND=noninteractive sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
    _ "${ROOT_PACKAGES[@]}" >"${LOGS}/apt.log" 2>&1; then
    tail -20 "${LOGS}/apt.log" >&2
    die "apt-get install in the trixie root failed; log: ${LOGS}/apt.log"
  fi
  echo "${ROOT_PACKAGES[*]}" >"$marker"
  log "trixie root ready in $((SECONDS - started)) s:" \
    "$(chroot "$TRIXIE" dpkg-query -W -f '${Package} ${Version}, ' docker.io podman containerd)"
}

ensure_host_podman() {
  command -v podman >/dev/null && [[ -x /usr/lib/podman/netavark ]] && return 0
  local need=(podman)
  # Podman 4.3 on bookworm runs with CNI unless netavark is there; the matrix uses netavark on both.
  [[ -x /usr/lib/podman/netavark ]] || need+=(netavark aardvark-dns)
  apt_install_on_host "${need[@]}"
}

# The highest limit a container may get: without CAP_SYS_RESOURCE, the service's hard one. Podman
# asks for more by default (1048576 files and processes), and every container start fails.
hard_limit() {
  local hard
  hard=$(ulimit -H "$1")
  [[ $hard == unlimited || $hard -gt $2 ]] && hard=$2
  echo "$hard"
}

write_podman_config() {
  local name=$1 nofile nproc registry_entries='' port
  nofile=$(hard_limit -n 1048576)
  # Podman 4.3 lowers its own hard process limit to 32768, whatever it was started with.
  nproc=$(hard_limit -u 32768)
  for ((port = REGISTRY_PORT; port < REGISTRY_PORT + REGISTRY_PORTS; port++)); do
    registry_entries+=$'\n'"[[registry]]"$'\n'"location = \"127.0.0.1:${port}\""$'\n'"insecure = true"$'\n'
  done
  local data_in_engine=/var/lib/kre-${name}
  ((IN_ROOT)) || data_in_engine=$DATA
  # Podman reads these through CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF,
  # so the host's /etc/containers stays as the package left it.
  cat >"${RUN}/containers.conf" <<EOF
# Written by scripts/engines.sh for ${name}.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
log_driver = "k8s-file"

[network]
network_backend = "netavark"
network_config_dir = "${data_in_engine}/networks"
default_network = "${BRIDGE}"
$([[ $name == podman5 ]] && echo 'firewall_driver = "iptables"')

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${RUN}/events.log"
tmp_dir = "${RUN}/libpod"
$([[ $name == podman5 ]] && echo '# crun 1.21 refuses cgroup v1 hybrid mode.' && echo 'runtime = "runc"')
EOF
  cat >"${RUN}/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "${data_in_engine}/storage"
runroot = "${RUN}/storage"
EOF
  cat >"${RUN}/registries.conf" <<EOF
# The e2e test registry speaks plain HTTP on 127.0.0.1 (KRA_TEST_REGISTRY_PORT and the next $((REGISTRY_PORTS - 1))).
${registry_entries}
EOF
}

podman_env() {
  echo "CONTAINERS_CONF=${RUN}/containers.conf CONTAINERS_STORAGE_CONF=${RUN}/storage.conf" \
    "CONTAINERS_REGISTRIES_CONF=${RUN}/registries.conf PODMAN_IGNORE_CGROUPSV1_WARNING=1"
}

# The command that runs in the engine's mount namespace: its mounts, then exec of the daemon, so the
# daemon keeps the pid that `start` records. An engine of the trixie root gets the root as its
# namespace's root (pivot_root), not only as its root directory (chroot): runc resolves a
# container's mount targets against the namespace's root, and under a plain chroot a volume landed
# beside the container's file system (a `docker exec` then found no working directory).
daemon_script() {
  local name=$1 root=$TRIXIE prepare='' daemon
  case $KIND in
    docker)
      daemon="dockerd --config-file ${RUN}/daemon.json --data-root /var/lib/kre-${name}"
      daemon+=" --exec-root ${RUN}/exec --pidfile ${RUN}/docker.pid -H unix://${SOCKET} -b ${BRIDGE}"
      daemon+=" --iptables=false --ip-forward=false --ip-masq=false --cgroup-parent /kre-${name}"
      ;;
    podman)
      # Its own network, so that it never meets another Podman's default podman0.
      prepare="env $(podman_env) podman network exists ${BRIDGE} ||"
      prepare+=" env $(podman_env) podman network create --interface-name ${BRIDGE}"
      prepare+=" --subnet ${SUBNET}.0/24 ${BRIDGE} >/dev/null"
      daemon="env $(podman_env) podman system service --time=0 unix://${SOCKET}"
      ;;
  esac
  echo 'set -eu'
  if ((IN_ROOT == 0)); then
    [[ -n $prepare ]] && echo "$prepare"
    echo "exec ${daemon}"
    return 0
  fi
  # pivot_root wants the new root to be a mount point.
  echo "mount --bind ${root} ${root}"
  echo "mount -t proc proc ${root}/proc"
  echo "mount --rbind /sys ${root}/sys && mount --make-rslave ${root}/sys"
  echo "mount --rbind /dev ${root}/dev && mount --make-rslave ${root}/dev"
  echo "mount -t tmpfs -o mode=755 tmpfs ${root}/run"
  echo "mkdir -p ${root}${RUN} ${root}/run/kre-old-root && mount --bind ${RUN} ${root}${RUN}"
  if ((SHARES_TMP)); then
    echo "mount --rbind /tmp ${root}/tmp && mount --make-rslave ${root}/tmp"
  else
    echo "mount -t tmpfs -o mode=1777 tmpfs ${root}/tmp"
  fi
  echo "cd ${root} && pivot_root . run/kre-old-root"
  # The machine's file system goes from the namespace once the root's own shell runs.
  local inner="umount -l /run/kre-old-root && rmdir /run/kre-old-root"
  [[ -n $prepare ]] && inner+=" && { ${prepare}; }"
  echo "exec chroot . /bin/sh -c '${inner} && exec ${daemon}'"
}

make_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 && return 0
  ip link add "$BRIDGE" type bridge
  ip addr add "${SUBNET}.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

subnet_in_use() {
  ip -4 route show | grep -v "dev ${BRIDGE} " | grep -q "^${SUBNET}\."
}

# Whether the engine at socket $1 has the stand-in image as the current scripts/stand-in-kube-cross.sh
# makes it: that script labels it with the first 16 hex of its own sha256.
has_current_stand_in() {
  local recipe label
  recipe=$(sha256sum "${REPO}/scripts/stand-in-kube-cross.sh" | cut -c1-16)
  label=$(docker -H "unix://$1" image inspect \
    --format '{{index .Config.Labels "io.kube-release-action.stand-in.recipe"}}' "$2" 2>/dev/null) || return 1
  [[ $label == "$recipe" ]]
}

# Gives the engine the stand-in kube-cross image unless it has the current one: made (or brought up to
# date) on the machine's engine when that answers, then `docker save` into the engine's load
# endpoint; else built straight into the engine.
ensure_stand_in() {
  local name=$1 ref started=$SECONDS
  ref=$(stand_in_ref)
  if has_current_stand_in "$SOCKET" "$ref"; then
    log "${name}: has ${ref}"
    return 0
  fi
  if answers "$MACHINE_SOCKET"; then
    DOCKER_HOST=unix://${MACHINE_SOCKET} bash "${REPO}/scripts/stand-in-kube-cross.sh" "$ref" >&2
    log "${name}: loading ${ref} from the machine's engine"
    local replaced
    replaced=$(docker -H "unix://${SOCKET}" image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
    docker -H "unix://${MACHINE_SOCKET}" save "$ref" | docker -H "unix://${SOCKET}" load -q >/dev/null ||
      die "${name}: loading ${ref} failed"
    # The stand-in of an older script, now untagged.
    [[ -n $replaced ]] && docker -H "unix://${SOCKET}" rmi "$replaced" >/dev/null 2>&1 || true
  else
    log "${name}: the machine's engine does not answer: building ${ref} in ${name}"
    DOCKER_HOST=unix://${SOCKET} bash "${REPO}/scripts/stand-in-kube-cross.sh" "$ref" >&2
  fi
  has_current_stand_in "$SOCKET" "$ref" || die "${name}: ${ref} is still not the current stand-in"
  log "${name}: ${ref} in $((SECONDS - started)) s"
}

start_one() {
  local name=$1 started=$SECONDS
  describe "$name"
  if answers "$SOCKET"; then
    log "${name}: already running at unix://${SOCKET}"
    ensure_stand_in "$name"
    return 0
  fi
  # A daemon that died leaves its pid file, namespace processes and bridge: clear them first.
  [[ -e ${RUN}/engine.pid ]] && stop_one "$name" keep-data
  if ((IN_ROOT)); then ensure_trixie_root; else ensure_host_podman; fi
  subnet_in_use && die "${name}: ${SUBNET}.0/24 is routed already; another network uses it"
  mkdir -p "$RUN" "$DATA" "$LOGS"
  chmod 711 "$RUN"
  case $KIND in
    docker)
      printf '{"features": {"containerd-snapshotter": %s}}\n' "$CONTAINERD_STORE" >"${RUN}/daemon.json"
      make_bridge
      ;;
    podman) write_podman_config "$name" ;;
  esac
  local log_file=${LOGS}/${name}.log
  log "${name}: starting (log: ${log_file})"
  : >"$log_file"
  setsid unshare --mount --propagation slave bash -c "$(daemon_script "$name")" >>"$log_file" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"${RUN}/engine.pid"
  local i
  for ((i = 0; i < 120; i++)); do
    answers "$SOCKET" && break
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$log_file" >&2
      die "${name}: the daemon exited; log: ${log_file}"
    fi
    sleep 0.25
  done
  if ! answers "$SOCKET"; then
    tail -30 "$log_file" >&2
    die "${name}: no answer at unix://${SOCKET} within 30 s; log: ${log_file}"
  fi
  readlink "/proc/${pid}/ns/mnt" >"${RUN}/engine.mntns"
  log "${name}: answering at unix://${SOCKET} after $((SECONDS - started)) s ($(docker -H "unix://${SOCKET}" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  ensure_stand_in "$name"
}

# Processes in the engine's mount namespace (its daemon, containerd, shims, conmon).
namespace_pids() {
  local ns=$1 proc
  for proc in /proc/[0-9]*; do
    [[ $(readlink "${proc}/ns/mnt" 2>/dev/null) == "$ns" ]] && echo "${proc#/proc/}"
  done
  return 0
}

# `-D` forms of the rules of a table that match an extended regex.
rules_matching() {
  { iptables -t "$1" -S 2>/dev/null || true; } | { grep -E -- "^-A .*($2)" || true; } | sed 's/^-A /-D /'
}

# Removes the rules netavark added for the engine's network, and its base chains when no other
# Podman of the matrix runs.
remove_netavark_rules() {
  local name=$1 table rule chain others=0 other
  for other in podman4 podman5; do
    [[ $other != "$name" && -e /run/kre-${other}/engine.pid ]] && others=1
  done
  for table in nat filter; do
    while read -r rule; do
      [[ -n $rule ]] && eval "iptables -t ${table} ${rule}" || true
    done < <(rules_matching "$table" "${SUBNET//./\\.}\\.0/24|[ !] ${BRIDGE}( |\$)")
    ((others)) && continue
    while read -r rule; do
      [[ -n $rule ]] && eval "iptables -t ${table} ${rule}" || true
    done < <(rules_matching "$table" '-j NETAVARK')
    for chain in $({ iptables -t "$table" -S 2>/dev/null || true; } | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do
      iptables -t "$table" -F "$chain" || true
    done
    for chain in $({ iptables -t "$table" -S 2>/dev/null || true; } | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do
      iptables -t "$table" -X "$chain" || true
    done
  done
}

# Empty cgroup directories left under the Docker engine's cgroup parent.
remove_cgroups() {
  local name=$1 dir
  for dir in /sys/fs/cgroup/*/kre-"${name}" /sys/fs/cgroup/kre-"${name}"; do
    [[ -d $dir ]] || continue
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# Stops the engine: its containers first (Podman's outlive its service), then the daemon, then every
# process left in its namespace; then its bridge, rules and, unless `keep-data`, all it kept.
stop_one() {
  local name=$1 keep=${2:-} started=$SECONDS pid='' ns='' i
  describe "$name"
  [[ -r ${RUN}/engine.pid ]] && pid=$(<"${RUN}/engine.pid")
  [[ -r ${RUN}/engine.mntns ]] && ns=$(<"${RUN}/engine.mntns")
  if [[ -z $pid && ! -d $RUN && ! -d $DATA ]]; then
    log "${name}: not running"
    return 0
  fi
  if answers "$SOCKET"; then
    local containers
    containers=$(docker -H "unix://${SOCKET}" ps -aq 2>/dev/null || true)
    if [[ -n $containers ]]; then
      log "${name}: removing $(wc -w <<<"$containers") container(s)"
      # shellcheck disable=SC2086 # one id a word
      docker -H "unix://${SOCKET}" rm -f $containers >/dev/null 2>&1 || true
    fi
  fi
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    [[ -z $ns ]] && ns=$(readlink "/proc/${pid}/ns/mnt" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 120 && $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -n $ns && $ns != "$(readlink /proc/self/ns/mnt)" ]]; then
    local left
    left=$(namespace_pids "$ns")
    if [[ -n $left ]]; then
      log "${name}: killing what is left in its namespace: $(tr '\n' ' ' <<<"$left")"
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
      sleep 0.5
    fi
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  [[ $KIND == podman ]] && remove_netavark_rules "$name"
  remove_cgroups "$name"
  if [[ $keep != keep-data ]]; then
    # Its mounts lived in its namespace only: here these are plain directories.
    if findmnt -rn -o TARGET | grep -q -e "^${DATA}" -e "^${RUN}"; then
      die "${name}: mounts remain under ${DATA} or ${RUN}; not removing them"
    fi
    rm -rf "$DATA"
  fi
  rm -rf "$RUN"
  log "${name}: stopped$([[ $keep == keep-data ]] || echo ', its data removed') in $((SECONDS - started)) s"
}

purge_root() {
  local name
  for name in "${ENGINES[@]}"; do
    describe "$name"
    ((IN_ROOT)) && [[ -e ${RUN}/engine.pid ]] && die "${name} still runs in the trixie root"
  done
  if findmnt -rn -o TARGET | grep -q "^${TRIXIE}"; then die "mounts remain under ${TRIXIE}"; fi
  log "removing ${TRIXIE}"
  rm -rf "$TRIXIE" "${TRIXIE}.partial"
}

print_env() {
  local name=$1
  describe "$name"
  echo "export DOCKER_HOST=unix://${SOCKET}"
  echo "export KRA_ENGINE=${name}"
  echo "export KRA_ENGINE_SHARES_FILES=${SHARES_TMP}"
  echo "export KRA_TEST_REGISTRY_PORT=${REGISTRY_PORT}"
}

main() {
  local command=${1:-}
  shift || true
  case $command in
    names)
      printf '%s\n' "${ENGINES[@]}"
      return 0
      ;;
    env)
      [[ $# -eq 1 ]] || usage
      print_env "$1"
      return 0
      ;;
    start | stop) ;;
    *) usage ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "${command} needs root"
  local purge=0
  if [[ $command == stop && ${1:-} == --purge ]]; then
    purge=1
    shift
  fi
  local names=("$@") name
  ((${#names[@]})) || names=("${ENGINES[@]}")
  for name in "${names[@]}"; do known "$name" || die "unknown engine '${name}'; engines: ${ENGINES[*]}"; done
  command -v docker >/dev/null || die "the docker CLI is needed (it talks to every engine's API)"
  mkdir -p "$STATE"
  # One start or stop at a time: they share the trixie root and the iptables rules.
  exec 9>"${STATE}/lock"
  flock 9
  for name in "${names[@]}"; do "${command}_one" "$name"; done
  ((purge)) && purge_root
  return 0
}

main "$@"
