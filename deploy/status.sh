#!/usr/bin/env bash
# What of Berth runs on this machine, and whose it is: each daemon, whether it answers and which checkout
# started it; the stack's processes and the checkout they run from; the testbed's hosts.
#
#   deploy/status.sh
source "$(dirname "$0")/lib.sh"

row() { printf '%-14s %-10s %s\n' "$@"; }
row WHAT STATE "STARTED BY"
for daemon in "${DAEMONS[@]}"; do
  starter=$(started_by "$daemon")
  if daemon_answers "$daemon"; then state=answers; else state=down; fi
  if [ -z "$starter" ]; then
    [ "$state" = answers ] && starter="not Berth (it was running already)" || starter=-
  elif [ "$state" = down ]; then
    starter="$starter (no longer running)"
  elif [ ! -d "$starter" ]; then
    starter="$starter (that checkout is gone: deploy/down.sh --all stops it)"
  fi
  row "$daemon" "$state" "$starter"
done
stack=$(stack_checkout)
for name in api scheduler compute-agent; do
  if process_alive "$name"; then
    row "$name" "pid $(cat "$BERTH_RUN/stack/$name.pid")" "$stack"
  else
    row "$name" down -
  fi
done
testbed=$(sed -n 1p "$BERTH_RUN/testbed" 2>/dev/null || true)
if [ -n "$testbed" ]; then
  bash "$BERTH_ROOT/deploy/testbed.sh" status | while read -r host address daemons; do
    row "testbed $host" "$address" "$testbed ($daemons)"
  done
fi
