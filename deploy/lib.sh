# Shared by up.sh, test.sh and down.sh. Every step checks before it acts, so running twice is safe,
# and a daemon that already runs is reused. Daemons are started without systemd (docs/platform.md).
set -euo pipefail

BERTH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# This checkout's own files: logs, the npm ci stamp, test output, .berth/env.
STATE="$BERTH_ROOT/.berth"
# The machine's, shared by every checkout: the daemons and the stack are one per machine, so whichever
# checkout started one, any other finds its settings, pid and starter here. /run goes with a reboot, as
# the daemons do; /var/lib/berth keeps what must outlive them (Redis's queue file, the stack's secrets).
BERTH_RUN=/run/berth
BERTH_VAR=/var/lib/berth
mkdir -p "$STATE" "$BERTH_RUN/started" "$BERTH_RUN/stack" "$BERTH_VAR/stack"
chmod 700 "$STATE" "$BERTH_VAR/stack"
export NX_DAEMON=false NX_NO_CLOUD=true

# Debian's 20.10 client speaks the daemon's API; /usr/local/bin may hold a newer client that does not.
DOCKER=/usr/bin/docker
REGISTRY_ADDR=${BERTH_REGISTRY_ADDR:-127.0.0.1:5000}
DB_USER=berth
DB_PASSWORD=${BERTH_DB_PASSWORD:-berth}
DB_NAME=${BERTH_DB_NAME:-berth}
DB_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:5432/$DB_NAME"
REDIS_URL=redis://127.0.0.1:6379

APT_PACKAGES=(
  postgresql redis-server docker.io docker-registry openvswitch-switch iproute2 ethtool busybox-static
  iperf3 openssh-server util-linux procps curl ca-certificates lxcfs
  # Docker's data root is btrfs, whose quota groups hold each container's writable layer to its flavor's disk.
  btrfs-progs
  # Volumes: ext4 on raw files (e2fsprogs), and Python's ctypes for the one step that binds a volume inside a running
  # container's namespaces (libs/drivers/src/docker/container-volumes.ts).
  e2fsprogs python3
  # promtool (Prometheus's own parser and linter) checks every /metrics scrape in the tests.
  prometheus
  # The port security tests build a static raw-frame sender (tests/system/support/rawsend).
  gcc libc6-dev
  # The OpenStack face is tested with the real, unmodified `openstack` client.
  python3-openstackclient
  # The web console is tested in Debian's Chromium, driven by playwright-core (tests/e2e).
  chromium
  # VMs: libvirt with QEMU, libvirt-dev for the @unraid/libvirt addon (built by npm ci), a guest kernel for
  # the test image, and xorriso for config drives.
  libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils libvirt-clients libvirt-dev
  linux-image-amd64 xorriso cpio
)

log() { printf '[berth %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Records which checkout started a daemon (and how to find it again: `mark_started postgres 15 main`),
# so that down.sh stops only what its own checkout started and status.sh can say whose each one is.
mark_started() { # daemon [details...]
  local daemon=$1; shift
  printf '%s\n%s\n' "$BERTH_ROOT" "$*" >"$BERTH_RUN/started/$daemon"
}
started_by() { sed -n 1p "$BERTH_RUN/started/$1" 2>/dev/null; }
started_details() { sed -n 2p "$BERTH_RUN/started/$1" 2>/dev/null; }
DAEMONS=(postgres redis ovs dockerd registry lxcfs libvirt)

# Runs a daemon in a session of its own: a signal to the process group that ran the script (a test
# runner's time-out, a Ctrl-C) must not take the daemon with it. In the background, setsid does not fork:
# $! is the daemon.
detached() { exec setsid "$@"; }

wait_for() { # seconds description command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within ${seconds}s"
}

install_packages() {
  [ "$(id -u)" = 0 ] || die "run as root: Berth drives Docker, OVS and network namespaces"
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

npm_install() {
  local want have
  want=$(sha256sum "$BERTH_ROOT/package-lock.json" | cut -d' ' -f1)
  have=$(cat "$STATE/npm-ci.sha" 2>/dev/null || true)
  if [ "$want" != "$have" ] || [ ! -d "$BERTH_ROOT/node_modules" ]; then
    log "npm ci"
    if ! (cd "$BERTH_ROOT" && npm ci --no-audit --no-fund --loglevel=silent); then
      # The lockfile lists every platform's optional binaries (@swc/core-darwin-arm64 and the like)
      # so that npm ci accepts it; a mirror that once served only linux-x64 left them out. Should
      # npm ci refuse it again, npm install from the same lockfile installs exactly the locked
      # versions; it must not change the lockfile.
      log "npm ci refused the lockfile; installing the locked versions with npm install"
      cp "$BERTH_ROOT/package-lock.json" "$STATE/package-lock.json.orig"
      (cd "$BERTH_ROOT" && npm install --no-audit --no-fund --loglevel=error)
      cmp -s "$BERTH_ROOT/package-lock.json" "$STATE/package-lock.json.orig" || die "npm install changed package-lock.json"
    fi
    echo "$want" >"$STATE/npm-ci.sha"
  fi
}

build() {
  log "building"
  (cd "$BERTH_ROOT" && node tools/build.mjs >/dev/null && npm run -s build:web)
}

start_postgres() {
  local cluster
  cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2" "$4}')
  [ -n "$cluster" ] || die "no PostgreSQL cluster found (pg_lsclusters)"
  set -- $cluster
  if [ "$3" != online ]; then
    log "starting PostgreSQL $1/$2"
    pg_ctlcluster "$1" "$2" start
    mark_started postgres "$1" "$2"
  fi
  wait_for 30 PostgreSQL pg_isready -q -h 127.0.0.1
  runuser -u postgres -- psql -qtAX -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT 'CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD ''$DB_PASSWORD'''
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE $DB_USER WITH LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
}

start_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    # The queues live here: the append-only file keeps every job through a restart (at most the
    # last second's on a crash), as BullMQ asks of production Redis.
    mkdir -p "$BERTH_VAR/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly yes --appendfsync everysec \
      --dir "$BERTH_VAR/redis" --maxmemory-policy noeviction --pidfile "$BERTH_RUN/redis.pid" --logfile "$STATE/redis.log"
    mark_started redis
    wait_for 10 Redis redis-cli -h 127.0.0.1 -p 6379 ping
  fi
  # BullMQ must never lose a job to eviction.
  redis-cli -h 127.0.0.1 -p 6379 config set maxmemory-policy noeviction >/dev/null
}

# The testbed's underlay (deploy/testbed.sh): its hosts reach Redis and the registry at its gateway.
TESTBED_UNDERLAY=btb0
TESTBED_GATEWAY=10.250.0.1

# Redis answers on the underlay too while the testbed is up. Protected mode refuses every address but
# loopback; the bind list keeps Redis off every other network.
redis_on_underlay() {
  redis-cli -h 127.0.0.1 -p 6379 config set bind "127.0.0.1 $TESTBED_GATEWAY" >/dev/null
  redis-cli -h 127.0.0.1 -p 6379 config set protected-mode no >/dev/null
}

start_ovs() {
  if ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
    log "starting Open vSwitch"
    # Without the kernel module, ovs-ctl warns and runs userspace bridges (datapath netdev).
    /usr/share/openvswitch/scripts/ovs-ctl --system-id=random start >"$STATE/ovs.log" 2>&1 || true
    mark_started ovs
    wait_for 20 "Open vSwitch" ovs-vsctl --timeout=2 show
  fi
}

# Every dockerd of Berth's remaps users: root in a container is uid 100000 (dockremap's range) on the host.
DOCKERD_USERNS=(--userns-remap=default)

# Every dockerd of Berth's keeps its data on btrfs (storage driver btrfs): a container's writable layer is a
# subvolume whose quota group holds it to its flavor's disk (`--storage-opt size`, grown live by the agent).
# overlay2 could only do that on XFS with project quotas, which this kernel lacks (CONFIG_XFS_QUOTA is off).
# Where the machine's disk is not btrfs, the data root is a sparse file mounted as one (BERTH_DOCKER_DATA_GB:
# its most; it takes on disk only what is written, and gives back what is deleted, discard=async).
DOCKER_DATA_ROOT=$BERTH_VAR/docker
DOCKER_DATA_IMAGE=$BERTH_VAR/docker.btrfs
DOCKERD_STORAGE=(--storage-driver btrfs --data-root "$DOCKER_DATA_ROOT")

btrfs_data_root() { # mountpoint image size_gb
  local mnt=$1 image=$2 size=$3
  [ "$(stat -f -c %T "$mnt" 2>/dev/null)" = btrfs ] && return 0
  mkdir -p "$mnt"
  if [ ! -f "$image" ]; then
    truncate -s "${size}G" "$image"
    mkfs.btrfs -q "$image" >/dev/null
  fi
  mount -o loop,discard=async "$image" "$mnt"
}

start_dockerd() {
  if ! $DOCKER -H unix:///var/run/docker.sock info >/dev/null 2>&1; then
    btrfs_data_root "$DOCKER_DATA_ROOT" "$DOCKER_DATA_IMAGE" "${BERTH_DOCKER_DATA_GB:-64}"
    log "starting dockerd"
    # No Docker networking: instances get NetworkMode none and Berth plugs them into OVS. Docker's
    # iptables rules would set FORWARD to DROP and cut traffic between namespaces (docs/platform.md).
    # live-restore: containers keep running while dockerd restarts (an upgrade, a crash).
    detached dockerd --host unix:///var/run/docker.sock --iptables=false --bridge=none --live-restore \
      "${DOCKERD_USERNS[@]}" "${DOCKERD_STORAGE[@]}" --pidfile /var/run/docker.pid >>"$STATE/dockerd.log" 2>&1 &
    mark_started dockerd
    wait_for 60 dockerd $DOCKER -H unix:///var/run/docker.sock info
  elif ! $DOCKER -H unix:///var/run/docker.sock info -f '{{json .SecurityOptions}}' | grep -q 'name=userns'; then
    log "warning: the running dockerd does not remap users: root in a container is root on the host." \
      "Restart it with deploy/restart.sh dockerd (Berth starts it with ${DOCKERD_USERNS[*]})."
  fi
  if [ "$($DOCKER -H unix:///var/run/docker.sock info -f '{{.Driver}}' 2>/dev/null)" != btrfs ]; then
    log "warning: the running dockerd's storage driver is not btrfs: containers' writable layers are not held to" \
      "their disk size. Restart it with deploy/restart.sh dockerd (Berth starts it with ${DOCKERD_STORAGE[*]})."
  fi
}

# The registry's settings, the same whichever checkout starts it (deploy/testbed.sh runs a second
# listener on the same storage with its own address).
REGISTRY_STORAGE=/var/lib/docker-registry
registry_config() { # address
  cat <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  delete:
    enabled: true
http:
  addr: $1
YAML
}

start_registry() {
  if ! curl -sf "http://$REGISTRY_ADDR/v2/" >/dev/null; then
    log "starting the image registry on $REGISTRY_ADDR"
    mkdir -p "$REGISTRY_STORAGE"
    registry_config "$REGISTRY_ADDR" >"$BERTH_RUN/registry.yml"
    detached docker-registry serve "$BERTH_RUN/registry.yml" >"$STATE/registry.log" 2>&1 &
    echo $! >"$BERTH_RUN/registry.pid"
    mark_started registry
    wait_for 20 registry curl -sf "http://$REGISTRY_ADDR/v2/"
  fi
}

# libvirtd (with virtlogd for consoles) on qemu:///system, started without systemd.
start_libvirt() {
  virsh -c qemu:///system version >/dev/null 2>&1 && return 0
  log "starting libvirtd"
  pgrep -x virtlogd >/dev/null || virtlogd -d
  libvirtd -d
  mark_started libvirt
  wait_for 30 libvirtd virsh -c qemu:///system version
}

# lxcfs serves each container its own /proc/meminfo, cpuinfo, stat, uptime and loadavg. Berth
# degrades without it (instances see the host's), so a host where FUSE is missing still works.
LXCFS_PATH=/var/lib/lxcfs
lxcfs_serves() { grep -q " $LXCFS_PATH fuse.lxcfs " /proc/self/mounts && [ -r "$LXCFS_PATH/proc/meminfo" ]; }
start_lxcfs() {
  lxcfs_serves && return 0
  if [ ! -e /dev/fuse ]; then
    log "no /dev/fuse: instances will see the host's /proc"
    return 0
  fi
  # A mount left by an lxcfs that died answers "Transport endpoint is not connected".
  if grep -q " $LXCFS_PATH fuse.lxcfs " /proc/self/mounts; then umount -l "$LXCFS_PATH"; fi
  log "starting lxcfs on $LXCFS_PATH"
  mkdir -p "$LXCFS_PATH"
  detached lxcfs --enable-loadavg --enable-cfs -p "$BERTH_RUN/lxcfs.pid" "$LXCFS_PATH" >"$STATE/lxcfs.log" 2>&1 &
  mark_started lxcfs
  wait_for 10 lxcfs lxcfs_serves
}

# The busybox base image, built FROM scratch (no public registry is reachable) and pushed.
build_base_image() {
  local ctx
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  cp "$BERTH_ROOT/deploy/images/busybox/Dockerfile" "$ctx/Dockerfile"
  $DOCKER build -q -t "$REGISTRY_ADDR/busybox:latest" "$ctx" >/dev/null
  $DOCKER push -q "$REGISTRY_ADDR/busybox:latest" >/dev/null
  rm -rf "$ctx"
  log "image $REGISTRY_ADDR/busybox:latest is in the registry"
}

# Berth's test VM: Debian's kernel, a busybox initramfs and a small data disk (deploy/images/vm).
VM_IMAGE_DIR=/var/lib/berth/images/test-vm
build_vm_image() {
  bash "$BERTH_ROOT/deploy/images/vm/build.sh" "$VM_IMAGE_DIR"
}

migrate_schema() {
  BERTH_DATABASE_URL="$DB_URL" node "$BERTH_ROOT/dist/apps/api/src/migrate-schema.js" >>"$STATE/migrate.log"
}

start_daemons() {
  start_postgres
  start_redis
  start_ovs
  start_dockerd
  start_registry
  start_lxcfs
  start_libvirt
}

# Stops a daemon Berth started, by what its record and the machine say, whichever checkout started it.
stop_daemon() { # daemon
  local details
  details=$(started_details "$1")
  case "$1" in
    libvirt)
      for d in libvirtd virtlogd; do [ -s "/run/$d.pid" ] && kill "$(cat "/run/$d.pid")" 2>/dev/null || true; done
      ;;
    lxcfs)
      [ -s "$BERTH_RUN/lxcfs.pid" ] && kill "$(cat "$BERTH_RUN/lxcfs.pid")" 2>/dev/null || true
      for _ in $(seq 50); do grep -q " $LXCFS_PATH fuse.lxcfs " /proc/self/mounts || break; sleep 0.1; done
      umount -l "$LXCFS_PATH" 2>/dev/null || true
      ;;
    registry) [ -s "$BERTH_RUN/registry.pid" ] && kill "$(cat "$BERTH_RUN/registry.pid")" 2>/dev/null || true ;;
    dockerd)
      # While it still answers, so that it can say which shims are its containers' (those stay: live-restore).
      reap_orphan_shims
      [ -s /var/run/docker.pid ] && kill "$(cat /var/run/docker.pid)" 2>/dev/null || true
      ;;
    ovs) /usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 || true ;;
    redis) redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true ;;
    # shellcheck disable=SC2086 # the cluster's version and name, as recorded
    postgres) [ -z "$details" ] || pg_ctlcluster $details stop || true ;;
  esac
  rm -f "$BERTH_RUN/started/$1"
  log "stopped $1"
}

# Whether a daemon answers now (status.sh, down.sh's report).
daemon_answers() { # daemon
  case "$1" in
    postgres) pg_isready -q -h 127.0.0.1 ;;
    redis) redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ;;
    ovs) ovs-vsctl --timeout=2 show >/dev/null 2>&1 ;;
    dockerd) $DOCKER -H unix:///var/run/docker.sock info >/dev/null 2>&1 ;;
    registry) curl -sf "http://$REGISTRY_ADDR/v2/" >/dev/null ;;
    lxcfs) lxcfs_serves ;;
    libvirt) virsh -c qemu:///system version >/dev/null 2>&1 ;;
  esac
}

ROOT_CONTAINERD_SOCK=/var/run/docker/containerd/containerd.sock
# containerd shims of the root dockerd with no container under them. A shim outlives its dockerd and
# containerd by design (live-restore adopts its container), but one whose container's start was cut short by
# a dockerd stop is adopted by nobody: dockerd forgets or removes the container, and the shim runs on under
# init, alone or over a `runc init` that will never start. Such a shim's container is unknown to dockerd, or
# known but not running while the shim has no process under it. Prints "pid id" per shim; nothing while
# dockerd does not answer (then no shim can be judged).
orphan_shims() {
  local shims known running pid cmd id
  # Shims first, then containers: a shim starts after its container is created, so it is known by then.
  shims=$(pgrep -f '^/usr/bin/containerd-shim-runc-v2 -namespace moby ' || true)
  known=$($DOCKER -H unix:///var/run/docker.sock ps -aq --no-trunc 2>/dev/null) || return 0
  running=$($DOCKER -H unix:///var/run/docker.sock ps -q --no-trunc 2>/dev/null) || return 0
  for pid in $shims; do
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    # Only the root dockerd's: a testbed host's dockerd has its containerd under its own exec root.
    [[ "$cmd" == *" -address $ROOT_CONTAINERD_SOCK"* ]] || continue
    id=$(sed -n 's/.* -id \([0-9a-f]\{64\}\) .*/\1/p' <<<"$cmd")
    [ -n "$id" ] || continue
    if ! grep -qx "$id" <<<"$known"; then
      echo "$pid $id"
    elif ! grep -qx "$id" <<<"$running" && [ -z "$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)" ] &&
      # A shim just started has no child for a moment, while runc makes the container's first process.
      [ "$(ps -o etimes= -p "$pid" 2>/dev/null || echo 0)" -ge 5 ]; then
      echo "$pid $id"
    fi
  done
}
reap_orphan_shims() {
  local pid id children
  while read -r pid id; do
    [ -n "$pid" ] || continue
    # Through containerd where it still has the task (that ends the shim too), then whatever is left.
    ctr -a "$ROOT_CONTAINERD_SOCK" -n moby tasks delete --force "$id" >/dev/null 2>&1 || true
    children=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
    # shellcheck disable=SC2086 # a list of pids
    [ -z "$children" ] || kill -9 $children 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    # containerd's record of it, unless dockerd still has the container (stopped): dockerd removes it then.
    $DOCKER -H unix:///var/run/docker.sock inspect "$id" >/dev/null 2>&1 ||
      ctr -a "$ROOT_CONTAINERD_SOCK" -n moby containers delete "$id" >/dev/null 2>&1 || true
    log "reaped the containerd shim of container ${id:0:12} (pid $pid): it had no container under it"
  done < <(orphan_shims)
  # containerd's records of containers dockerd no longer has and no shim serves (a shim already gone).
  local known records
  known=$($DOCKER -H unix:///var/run/docker.sock ps -aq --no-trunc 2>/dev/null) || return 0
  records=$(ctr -a "$ROOT_CONTAINERD_SOCK" -n moby containers list -q 2>/dev/null) || return 0
  for id in $records; do
    grep -qx "$id" <<<"$known" && continue
    pgrep -f "^/usr/bin/containerd-shim-runc-v2 -namespace moby -id $id " >/dev/null && continue
    ctr -a "$ROOT_CONTAINERD_SOCK" -n moby containers delete "$id" >/dev/null 2>&1 &&
      log "removed containerd's record of container ${id:0:12}, which dockerd no longer has"
  done
}

# The stack (api, scheduler, this machine's compute agent) is one per machine too: its pid files live
# in $BERTH_RUN/stack, with the checkout it runs from, so that up.sh from another checkout replaces it.
STACK_PROCESSES=(compute-agent scheduler api)
stack_checkout() { cat "$BERTH_RUN/stack/checkout" 2>/dev/null || true; }
process_alive() { [ -s "$BERTH_RUN/stack/$1.pid" ] && kill -0 "$(cat "$BERTH_RUN/stack/$1.pid")" 2>/dev/null; }
stop_process() { # name
  local pidfile="$BERTH_RUN/stack/$1.pid"
  if process_alive "$1"; then
    log "stopping $1"
    kill "$(cat "$pidfile")"
    for _ in $(seq 100); do process_alive "$1" || break; sleep 0.1; done
    process_alive "$1" && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
stop_stack() {
  for name in "${STACK_PROCESSES[@]}"; do stop_process "$name"; done
  rm -f "$BERTH_RUN/stack/checkout"
}
