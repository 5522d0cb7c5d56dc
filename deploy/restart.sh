#!/usr/bin/env bash
# Restarts one daemon the way an operator would (a clean stop, then a start), for the fault tests
# and for the runbook: deploy/restart.sh redis|postgres|dockerd (ensure: start any that is down; reap: end the
# containerd shims a dockerd stop left with no container under them). Berth's processes keep running and
# must reconnect on their own.
source "$(dirname "$0")/lib.sh"

gone() { ! kill -0 "$1" 2>/dev/null; }

case "${1:-}" in
  redis)
    log "restarting Redis"
    pid=$(cat "$BERTH_RUN/redis.pid" 2>/dev/null || pgrep -x redis-server | head -1)
    redis-cli -h 127.0.0.1 -p 6379 shutdown >/dev/null 2>&1 || true
    [ -z "$pid" ] || for _ in $(seq 100); do gone "$pid" && break; sleep 0.1; done
    start_redis
    # The testbed's hosts reach Redis on the underlay (deploy/testbed.sh): give it that address again.
    if ip link show "$TESTBED_UNDERLAY" >/dev/null 2>&1; then redis_on_underlay; fi
    ;;
  postgres)
    log "restarting PostgreSQL"
    set -- $(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
    pg_ctlcluster "$1" "$2" restart -m fast
    wait_for 30 PostgreSQL pg_isready -q -h 127.0.0.1
    ;;
  dockerd)
    log "restarting dockerd"
    pid=$(cat /var/run/docker.pid)
    kill "$pid"
    for _ in $(seq 300); do gone "$pid" && break; sleep 0.1; done
    gone "$pid" || die "dockerd did not stop"
    start_dockerd
    reap_orphan_shims
    ;;
  reap)
    # containerd shims a dockerd stop left with no container under them (lib.sh, orphan_shims).
    reap_orphan_shims
    ;;
  ensure)
    # Starts whichever of them is not running (after a test that stopped one failed midway).
    start_postgres
    start_redis
    if ip link show "$TESTBED_UNDERLAY" >/dev/null 2>&1; then redis_on_underlay; fi
    start_dockerd
    ;;
  *) die "usage: deploy/restart.sh redis|postgres|dockerd|ensure|reap" ;;
esac
