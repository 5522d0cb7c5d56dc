#!/usr/bin/env bash
# A multi-host testbed on this one machine: N compute hosts, each a network namespace with its own
# dockerd, libvirtd, Open vSwitch (ovsdb-server + ovs-vswitchd), sshd and compute agent. An underlay bridge in
# the root namespace joins them: it carries the hosts' management addresses, the registry and Redis
# (at the underlay's gateway address), and a VLAN trunk between the hosts' br-int, so one VLAN spans
# hosts. Only addresses inside these namespaces and the underlay are used.
#
#   deploy/testbed.sh up N [--no-agents]   make hosts tb1..tbN (idempotent; agents join the deployed stack)
#   deploy/testbed.sh down                 remove everything it made
#   deploy/testbed.sh status               one line per host
#
# Host i: namespace berth-tbI, management address 10.250.0.(10+I) on its eth0, trunk0 in its br-int,
# runtime files in /run/berth-testbed/tbI (sockets, pids), data in /var/lib/berth-testbed/tbI.
source "$(dirname "$0")/lib.sh"

UNDERLAY=$TESTBED_UNDERLAY
UNDERLAY_NET=10.250.0
GATEWAY=$TESTBED_GATEWAY
TB_RUN=/run/berth-testbed
TB_DATA=/var/lib/berth-testbed
TB_REGISTRY=$GATEWAY:5000
MAX_HOSTS=9

host_name() { echo "tb$1"; }
netns_of() { echo "berth-tb$1"; }
address_of() { echo "$UNDERLAY_NET.$((10 + $1))"; }
in_ns() { # i command... : runs a command in host i's network namespace
  local i=$1; shift
  nsenter --net="/run/netns/$(netns_of "$i")" "$@"
}
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() { # pidfile
  if pid_alive "$1"; then
    kill "$(cat "$1")" 2>/dev/null || true
    for _ in $(seq 100); do pid_alive "$1" || break; sleep 0.1; done
    pid_alive "$1" && kill -9 "$(cat "$1")" 2>/dev/null || true
  fi
  rm -f "$1"
}

underlay_up() {
  if ! ip link show "$UNDERLAY" >/dev/null 2>&1; then
    # A fixed MAC: a bridge otherwise takes its lowest port's, which changes as hosts join and leaves
    # the hosts' ARP entries for the gateway stale.
    ip link add "$UNDERLAY" address 02:be:27:00:00:01 type bridge
    ip addr add "$GATEWAY/24" dev "$UNDERLAY"
  fi
  ip link set "$UNDERLAY" up
  # Redis and the registry answer on the underlay too, so agents inside the hosts reach them.
  redis_on_underlay
  if ! curl -sf "http://$TB_REGISTRY/v2/" >/dev/null; then
    mkdir -p "$TB_RUN"
    # A second listener on the same storage: what is pushed through 127.0.0.1:5000 is served here.
    registry_config "$TB_REGISTRY" >"$TB_RUN/registry.yml"
    detached docker-registry serve "$TB_RUN/registry.yml" >"$TB_RUN/registry.log" 2>&1 &
    echo $! >"$TB_RUN/registry.pid"
    wait_for 20 "the testbed registry" curl -sf "http://$TB_REGISTRY/v2/"
  fi
}

# The namespace, its management link and its trunk link, both ends' offloads off (docs/platform.md).
host_links() { # i
  local i=$1 ns
  ns=$(netns_of "$i")
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  if ! ip link show "tbm$i" >/dev/null 2>&1; then
    ip link add "tbm$i" type veth peer name eth0 netns "$ns"
    ip link add "tbt$i" type veth peer name trunk0 netns "$ns"
  fi
  for l in "tbm$i" "tbt$i"; do
    ip link set "$l" master "$UNDERLAY" up
    ethtool -K "$l" tx off >/dev/null 2>&1 || true
  done
  in_ns "$i" ip link set lo up
  in_ns "$i" ip link set eth0 up
  in_ns "$i" ip link set trunk0 up
  in_ns "$i" ethtool -K eth0 tx off >/dev/null 2>&1 || true
  in_ns "$i" ethtool -K trunk0 tx off >/dev/null 2>&1 || true
  in_ns "$i" ip addr replace "$(address_of "$i")/24" dev eth0
  in_ns "$i" ip route replace default via "$GATEWAY"
}

host_ovs() { # i
  local i=$1 run=$TB_RUN/$(host_name "$1") data=$TB_DATA/$(host_name "$1")
  mkdir -p "$run" "$data"
  [ -f "$data/conf.db" ] || ovsdb-tool create "$data/conf.db" /usr/share/openvswitch/vswitch.ovsschema 2>/dev/null
  if ! pid_alive "$run/ovsdb-server.pid"; then
    in_ns "$i" ovsdb-server "$data/conf.db" --remote="punix:$run/db.sock" --pidfile="$run/ovsdb-server.pid" \
      --unixctl="$run/ovsdb-server.ctl" --log-file="$data/ovsdb-server.log" -vconsole:off --detach --no-chdir 2>/dev/null
    OVS_RUNDIR=$run ovs-vsctl --db="unix:$run/db.sock" --no-wait init
  fi
  if ! pid_alive "$run/ovs-vswitchd.pid"; then
    in_ns "$i" env OVS_RUNDIR="$run" ovs-vswitchd "unix:$run/db.sock" --pidfile="$run/ovs-vswitchd.pid" \
      --unixctl="$run/ovs-vswitchd.ctl" --log-file="$data/ovs-vswitchd.log" -vconsole:off --detach --no-chdir 2>/dev/null
  fi
  # br-int in userspace (no OVS kernel module here), with the trunk carrying every VLAN to the underlay.
  OVS_RUNDIR=$run ovs-vsctl --db="unix:$run/db.sock" --timeout=10 \
    -- --may-exist add-br br-int -- set Bridge br-int datapath_type=netdev \
    -- --may-exist add-port br-int trunk0
}

host_dockerd() { # i
  local i=$1 run=$TB_RUN/$(host_name "$1") data=$TB_DATA/$(host_name "$1")
  pid_alive "$run/docker.pid" && return 0
  mkdir -p "$data/docker" "$run/docker-exec"
  # Its own btrfs (lib.sh, btrfs_data_root), as every Berth host's: writable layers held to their disk size.
  btrfs_data_root "$data/docker" "$data/docker.btrfs" 16
  # nsenter, not ip netns exec, which remounts /sys and hides the cgroups from dockerd (docs/platform.md).
  in_ns "$i" setsid dockerd --host "unix://$run/docker.sock" --data-root "$data/docker" --storage-driver btrfs \
    --exec-root "$run/docker-exec" --pidfile "$run/docker.pid" --iptables=false --bridge=none "${DOCKERD_USERNS[@]}" \
    --insecure-registry "$TB_REGISTRY" >"$data/dockerd.log" 2>&1 &
  wait_for 60 "dockerd of $(host_name "$i")" $DOCKER -H "unix://$run/docker.sock" info
}

# libvirtd (with its virtlogd) of host i: in the host's network namespace and a mount namespace of its own, in
# which libvirt's fixed directories (/run/libvirt, /var/lib/libvirt, /etc/libvirt, ...) are the host's. Agents reach
# it at qemu+unix:///system?socket=$data/libvirt/run/libvirt-sock; its taps join the host's OVS (OVS_RUNDIR).
host_libvirt() { # i
  local i=$1 run=$TB_RUN/$(host_name "$1") lv=$TB_DATA/$(host_name "$1")/libvirt
  pid_alive "$lv/run/libvirtd.pid" && return 0
  mkdir -p "$lv"/{run,lib,cache,log,etc}
  [ -f "$lv/etc/libvirtd.conf" ] || cp -a /etc/libvirt/. "$lv/etc/"
  in_ns "$i" unshare --mount --propagation private sh -ec '
    mount --bind "$1/run" /run/libvirt
    mount --bind "$1/lib" /var/lib/libvirt
    mount --bind "$1/cache" /var/cache/libvirt
    mount --bind "$1/log" /var/log/libvirt
    mount --bind "$1/etc" /etc/libvirt
    export OVS_RUNDIR="$2"
    virtlogd -d --pid-file "$1/run/virtlogd.pid"
    libvirtd -d --pid-file "$1/run/libvirtd.pid"
  ' libvirt "$lv" "$run"
  wait_for 30 "libvirtd of $(host_name "$i")" virsh -c "qemu+unix:///system?socket=$lv/run/libvirt-sock" version
}

host_sshd() { # i
  local i=$1 run=$TB_RUN/$(host_name "$1") data=$TB_DATA/$(host_name "$1")
  pid_alive "$run/sshd.pid" && return 0
  mkdir -p /run/sshd "$data/ssh"
  [ -f "$data/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$data/ssh/host_ed25519"
  touch "$data/ssh/authorized_keys"
  chmod 600 "$data/ssh/authorized_keys"
  cat >"$data/ssh/sshd_config" <<CONF
ListenAddress $(address_of "$i")
HostKey $data/ssh/host_ed25519
PidFile $run/sshd.pid
AuthorizedKeysFile $data/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
# What sets a testbed host apart from its neighbours on this one machine, as a real host's defaults
# would: its dockerd, its OVS, and where its agent and its authorized keys live.
SetEnv DOCKER_HOST=unix://$run/docker.sock OVS_RUNDIR=$run BERTH_AGENT_DIR=$data/agent BERTH_AUTHORIZED_KEYS=$data/ssh/authorized_keys
CONF
  in_ns "$i" /usr/sbin/sshd -f "$data/ssh/sshd_config" -E "$data/sshd.log"
  wait_for 10 "sshd of $(host_name "$i")" test -s "$run/sshd.pid"
}

host_agent() { # i
  local i=$1 name run data
  name=$(host_name "$i")
  run=$TB_RUN/$name
  data=$TB_DATA/$name
  pid_alive "$run/agent.pid" && return 0
  # nsenter itself in the background (not in_ns, a function, which would fork a subshell): $! is the agent.
  nsenter --net="/run/netns/$(netns_of "$i")" env BERTH_HOST_NAME="$name" BERTH_HOST_ADDRESS="$(address_of "$i")" \
    BERTH_REDIS_URL="redis://$GATEWAY:6379" BERTH_DOCKER_SOCKET="$run/docker.sock" \
    BERTH_DISK_PATH="$data/docker" OVS_RUNDIR="$run" BERTH_OVS_DB="unix:$run/db.sock" \
    BERTH_DRIVERS=docker,libvirt BERTH_LIBVIRT_URI="qemu+unix:///system?socket=$data/libvirt/run/libvirt-sock" \
    BERTH_INSTANCES_DIR="$data/instances" BERTH_IMAGE_CACHE_DIR="$data/image-cache" BERTH_VIRT_TYPE=qemu \
    BERTH_VOLUMES_DIR="$data/volumes" BERTH_VOLUME_MOUNTS_DIR="$data/volume-mounts" \
    nohup node --enable-source-maps "$BERTH_ROOT/dist/apps/compute-agent/src/main.js" >>"$data/agent.log" 2>&1 &
  echo $! >"$run/agent.pid"
}

host_up() { # i agents?
  local i=$1
  host_links "$i"
  host_ovs "$i"
  host_dockerd "$i"
  host_libvirt "$i"
  host_sshd "$i"
  if [ "$2" = yes ]; then host_agent "$i"; fi
  log "host $(host_name "$i") is up at $(address_of "$i")"
}

host_down() { # i
  local i=$1 name run data
  name=$(host_name "$i")
  run=$TB_RUN/$name
  data=$TB_DATA/$name
  stop_pidfile "$run/agent.pid"
  # An agent started over SSH (enrollment) keeps its pid beside its config.
  stop_pidfile "$data/agent/agent.pid"
  stop_pidfile "$run/sshd.pid"
  if pid_alive "$run/docker.pid"; then
    local ids
    ids=$($DOCKER -H "unix://$run/docker.sock" ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || $DOCKER -H "unix://$run/docker.sock" rm -f $ids >/dev/null 2>&1 || true
  fi
  stop_pidfile "$run/docker.pid"
  local lv=$data/libvirt uri="qemu+unix:///system?socket=$data/libvirt/run/libvirt-sock"
  if pid_alive "$lv/run/libvirtd.pid"; then
    for d in $(virsh -c "$uri" list --all --name 2>/dev/null); do
      virsh -c "$uri" destroy "$d" >/dev/null 2>&1 || true
      virsh -c "$uri" undefine "$d" >/dev/null 2>&1 || true
    done
  fi
  stop_pidfile "$lv/run/libvirtd.pid"
  stop_pidfile "$lv/run/virtlogd.pid"
  stop_pidfile "$run/ovs-vswitchd.pid"
  stop_pidfile "$run/ovsdb-server.pid"
  ip link del "tbm$i" 2>/dev/null || true
  ip link del "tbt$i" 2>/dev/null || true
  ip netns del "$(netns_of "$i")" 2>/dev/null || true
  # dockerd leaves its overlay mounts behind only when killed; lazily unmount any before removing.
  { grep -o " $data/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$run" "$data"
  log "host $name removed"
}

up() {
  local n=${1:-} agents=yes
  [ "${2:-}" = --no-agents ] && agents=no
  [[ "$n" =~ ^[1-9]$ ]] || die "usage: testbed.sh up N [--no-agents], N from 1 to $MAX_HOSTS"
  install_packages
  start_daemons
  [ "$agents" = no ] || [ -f "$BERTH_ROOT/dist/apps/compute-agent/src/main.js" ] || build
  underlay_up
  # Which checkout made it (its agents run that checkout's build), for down.sh and status.sh.
  printf '%s\n%s\n' "$BERTH_ROOT" "$n" >"$BERTH_RUN/testbed"
  for i in $(seq "$n"); do host_up "$i" "$agents"; done
}

down() {
  for ns in $(ip netns list | awk '{print $1}' | grep '^berth-tb[0-9]$' || true); do host_down "${ns#berth-tb}"; done
  stop_pidfile "$TB_RUN/registry.pid"
  ip link del "$UNDERLAY" 2>/dev/null || true
  redis-cli -h 127.0.0.1 -p 6379 config set bind 127.0.0.1 >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 config set protected-mode yes >/dev/null 2>&1 || true
  rm -rf "$TB_RUN" "$TB_DATA" "$BERTH_RUN/testbed"
}

status() {
  for ns in $(ip netns list | awk '{print $1}' | grep '^berth-tb[0-9]$' || true); do
    local i=${ns#berth-tb} run=$TB_RUN/tb${ns#berth-tb} parts=()
    for d in ovsdb-server ovs-vswitchd docker sshd agent; do
      pid_alive "$run/$d.pid" && parts+=("$d") || parts+=("$d:down")
    done
    pid_alive "$TB_DATA/tb$i/libvirt/run/libvirtd.pid" && parts+=(libvirtd) || parts+=(libvirtd:down)
    echo "tb$i $(address_of "$i") ${parts[*]}"
  done
}

case "${1:-}" in
  up) up "${2:-}" "${3:-}" ;;
  down) down ;;
  status) status ;;
  *) die "usage: testbed.sh up N [--no-agents] | down | status" ;;
esac
