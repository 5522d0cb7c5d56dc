#!/usr/bin/env bash
# Stops what deploy/up.sh and deploy/test.sh started: Berth's processes, then the daemons they
# started themselves (a daemon that was already running when they came is left running).
source "$(dirname "$0")/lib.sh"

for name in compute-agent scheduler api; do
  pidfile="$STATE/$name.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "stopping $name"
    kill "$(cat "$pidfile")"
    for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
done

# The testbed's hosts (deploy/testbed.sh) go before the daemons they lean on.
if [ -f "$STATE/testbed" ]; then bash "$BERTH_ROOT/deploy/testbed.sh" down; fi

[ -f "$STATE/started" ] || exit 0
tac "$STATE/started" | while read -r what a b; do
  case "$what" in
    libvirt)
      for d in libvirtd virtlogd; do [ -s "/run/$d.pid" ] && kill "$(cat "/run/$d.pid")" 2>/dev/null || true; done
      ;;
    lxcfs)
      [ -s "$STATE/lxcfs.pid" ] && kill "$(cat "$STATE/lxcfs.pid")" 2>/dev/null || true
      for _ in $(seq 50); do grep -q " $LXCFS_PATH fuse.lxcfs " /proc/self/mounts || break; sleep 0.1; done
      umount -l "$LXCFS_PATH" 2>/dev/null || true
      ;;
    registry) [ -s "$STATE/registry.pid" ] && kill "$(cat "$STATE/registry.pid")" 2>/dev/null || true ;;
    dockerd) [ -s /var/run/docker.pid ] && kill "$(cat /var/run/docker.pid)" 2>/dev/null || true ;;
    ovs) /usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 || true ;;
    redis) redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true ;;
    postgres) pg_ctlcluster "$a" "$b" stop || true ;;
  esac
  log "stopped $what"
done
rm -f "$STATE/started"
