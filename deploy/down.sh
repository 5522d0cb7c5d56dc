#!/usr/bin/env bash
# Stops what this checkout's deploy/up.sh, test.sh and testbed.sh started: the stack's processes if they
# run from this checkout, the testbed if this checkout made it, then the daemons this checkout started.
# A daemon that was already running, or that another checkout started, is left running and named, with
# its starter. `deploy/down.sh --all` stops everything Berth started on this machine, whoever started it.
#
#   deploy/down.sh [--all]
source "$(dirname "$0")/lib.sh"

all=no
case "${1:-}" in
  --all) all=yes ;;
  "") ;;
  *) die "usage: deploy/down.sh [--all]" ;;
esac
mine() { [ "$all" = yes ] || [ "$1" = "$BERTH_ROOT" ]; }

stack=$(stack_checkout)
if [ -n "$stack" ] && ! mine "$stack"; then
  log "left running: the Berth stack of $stack (its deploy/down.sh stops it, or deploy/down.sh --all)"
else
  stop_stack
fi

# The testbed's hosts (deploy/testbed.sh) go before the daemons they lean on.
testbed=$(sed -n 1p "$BERTH_RUN/testbed" 2>/dev/null || true)
if [ -n "$testbed" ]; then
  if mine "$testbed"; then
    bash "$BERTH_ROOT/deploy/testbed.sh" down
  else
    log "left running: the testbed of $testbed (its deploy/down.sh removes it, or deploy/down.sh --all)"
  fi
fi

# Shims a dockerd stop left with no container under them are nobody's (lib.sh, orphan_shims).
reap_orphan_shims

# In reverse order of start: libvirt and lxcfs first, PostgreSQL last.
for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
  daemon=${DAEMONS[i]}
  starter=$(started_by "$daemon")
  if [ -n "$starter" ] && mine "$starter"; then
    stop_daemon "$daemon"
  elif daemon_answers "$daemon"; then
    log "left running: $daemon ($(if [ -n "$starter" ]; then echo "started by $starter"; else echo "not started by Berth"; fi))"
  fi
done
