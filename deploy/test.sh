#!/usr/bin/env bash
# Does up.sh's set-up (packages, npm ci, daemons, build, base image), then runs the checks and every
# test tier against the real daemons. The last line is jest's own count: "N passed, N failed[, N skipped]".
source "$(dirname "$0")/lib.sh"

install_packages
npm_install
start_daemons
build
build_base_image
build_vm_image

export BERTH_TEST_DATABASE_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:5432/postgres"
export BERTH_TEST_REDIS_URL="$REDIS_URL"
export BERTH_TEST_IMAGE="$REGISTRY_ADDR/busybox:latest"
export BERTH_TEST_VM_IMAGE_DIR="$VM_IMAGE_DIR"

status=0
log "typecheck, lint, format"
(cd "$BERTH_ROOT" && npm run -s check) || status=1

rm -f "$STATE"/jest-*.json
run_tier() { # name [jest args...]
  local tier=$1; shift
  log "tests: $tier"
  (cd "$BERTH_ROOT" && npx jest --selectProjects "$tier" --json --outputFile="$STATE/jest-$tier.json" "$@") || status=1
}
run_tier unit
run_tier medium
# The set-up scripts from a second checkout beside this one's stack (tests/deploy), before the testbed exists.
run_tier deploy --runInBand
# Multi-host tests run on three testbed hosts (namespaces with their own dockerd, OVS and sshd); each
# test stack starts its own agents in them. They are removed again when the tier ends.
bash "$BERTH_ROOT/deploy/testbed.sh" up 3 --no-agents || status=1
# The libvirt driver loads @unraid/libvirt, an ES module, with import(): jest needs the VM modules API.
NODE_OPTIONS=--experimental-vm-modules run_tier system --runInBand
# The web console in Debian's Chromium against a built stack (tests/e2e).
run_tier e2e --runInBand
# Fault injection (tests/faults): kill -9 of each process mid-task, daemon restarts, load and bad input.
NODE_OPTIONS=--experimental-vm-modules run_tier faults --runInBand
bash "$BERTH_ROOT/deploy/testbed.sh" down || status=1

node "$BERTH_ROOT/tools/jest-summary.mjs" "$STATE"/jest-{unit,medium,deploy,system,e2e,faults}.json || status=1
exit $status
