#!/usr/bin/env bash
# Brings up the whole of Berth on this machine: installs what is missing, starts PostgreSQL, Redis,
# Open vSwitch, dockerd and the registry (reusing any already running), migrates, builds, and runs
# api, scheduler and one compute agent for this host. Idempotent: run it again after a change.
# Afterwards: `source .berth/env` gives BERTH_URL and BERTH_TOKEN. deploy/down.sh stops it.
source "$(dirname "$0")/lib.sh"

API_PORT=${BERTH_API_PORT:-8080}
HOST_NAME=${BERTH_HOST_NAME:-$(hostname | tr 'A-Z' 'a-z' | tr -c 'a-z0-9-\n' '-')}

install_packages
npm_install
start_daemons
build
migrate_schema
build_base_image
build_vm_image

# The stack's secrets are the machine's, so that a stack started from any checkout takes the tokens and
# the sealed host keys of the one before it.
SECRETS=$BERTH_VAR/stack
if [ ! -s "$SECRETS/admin-token" ]; then
  (umask 077 && node -e 'process.stdout.write("berth_" + require("crypto").randomBytes(32).toString("base64url") + "\n")' >"$SECRETS/admin-token")
fi
ADMIN_TOKEN=$(cat "$SECRETS/admin-token")
# The key hosts' SSH private keys are sealed with (enrollment); the api and the scheduler share it.
if [ ! -s "$SECRETS/secret-key" ]; then
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64") + "\n")' >"$SECRETS/secret-key")
fi
SECRET_KEY=$(cat "$SECRETS/secret-key")

# One stack a machine: a stack another checkout started is replaced by this one (as a new release would be).
previous=$(stack_checkout)
if [ -n "$previous" ] && [ "$previous" != "$BERTH_ROOT" ]; then
  log "replacing the Berth stack started from $previous"
fi
stop_stack
if listener=$(ss -Hltnp "sport = :$API_PORT" | head -1) && [ -n "$listener" ]; then
  die "port $API_PORT is taken by something that is not this machine's Berth stack ($listener): stop it or set BERTH_API_PORT"
fi
echo "$BERTH_ROOT" >"$BERTH_RUN/stack/checkout"

start_process() { # name script [VAR=value...]
  local name=$1 script=$2; shift 2
  env BERTH_DATABASE_URL="$DB_URL" BERTH_REDIS_URL="$REDIS_URL" "$@" \
    nohup node --enable-source-maps "$BERTH_ROOT/dist/apps/$script" >>"$STATE/$name.log" 2>&1 &
  echo $! >"$BERTH_RUN/stack/$name.pid"
}

start_process api api/src/main.js BERTH_API_PORT="$API_PORT" BERTH_ADMIN_TOKEN="$ADMIN_TOKEN" BERTH_SECRET_KEY="$SECRET_KEY" \
  BERTH_MEMBER_REGISTRIES="$REGISTRY_ADDR,$TESTBED_GATEWAY:5000"
# Enrolled hosts (deploy/testbed.sh's, over the underlay) reach Redis at the underlay's gateway.
# Migration snapshots go through the registry's underlay address, which testbed hosts reach (deploy/testbed.sh).
start_process scheduler scheduler/src/main.js BERTH_SECRET_KEY="$SECRET_KEY" BERTH_AGENT_REDIS_URL=redis://10.250.0.1:6379 \
  BERTH_SNAPSHOT_REGISTRY=10.250.0.1:5000
start_process compute-agent compute-agent/src/main.js BERTH_HOST_NAME="$HOST_NAME" BERTH_DRIVERS=docker,libvirt

BERTH_URL="http://127.0.0.1:$API_PORT"
wait_for 30 "the API" curl -sf "$BERTH_URL/healthz"
for name in "${STACK_PROCESSES[@]}"; do process_alive "$name" || die "$name exited: see $STATE/$name.log"; done
(umask 077 && cat >"$STATE/env" <<ENV
# Written by deploy/up.sh. Source it: . .berth/env
export BERTH_URL=$BERTH_URL
export BERTH_TOKEN=$ADMIN_TOKEN
ENV
)

api() { # method path [json]
  curl -s -o /dev/null -w '%{http_code}' -X "$1" "$BERTH_URL$2" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}
seed() { # path json
  local code
  code=$(api POST "$1" "$2")
  case "$code" in 201 | 409) ;; *) die "seeding $1 answered $code" ;; esac
}
# Tenants may cap their own instances' bandwidth and disk IO (any value; unlimited by default).
bounds='"limitBounds":{"netIngressMbps":{},"netEgressMbps":{},"diskReadBps":{},"diskWriteBps":{},"diskReadIops":{},"diskWriteIops":{}}'
seed /v1/flavors "{\"name\":\"m1.tiny\",\"vcpus\":1,\"ramMb\":256,\"diskGb\":1,$bounds}"
seed /v1/flavors "{\"name\":\"m1.small\",\"vcpus\":1,\"ramMb\":1024,\"diskGb\":10,$bounds}"
seed /v1/flavors "{\"name\":\"m1.medium\",\"vcpus\":2,\"ramMb\":2048,\"diskGb\":20,$bounds}"
seed /v1/images "{\"name\":\"busybox\",\"kind\":\"container\",\"ref\":\"$REGISTRY_ADDR/busybox:latest\"}"
seed /v1/images "{\"name\":\"test-vm\",\"kind\":\"vm\",\"ref\":\"$VM_IMAGE_DIR/disk.qcow2\",\"kernelRef\":\"$VM_IMAGE_DIR/vmlinuz\",\"initrdRef\":\"$VM_IMAGE_DIR/initrd.img\"}"

wait_for 30 "the compute agent's heartbeat" sh -c "curl -sf -H 'Authorization: Bearer $ADMIN_TOKEN' '$BERTH_URL/v1/hosts' | grep -q '\"name\":\"$HOST_NAME\",[^}]*\"state\":\"up\"'"
log "Berth is up at $BERTH_URL with compute host $HOST_NAME. Run: . .berth/env"
