import type { InstanceSpec } from '@berth/contracts';
import type Docker from 'dockerode';

export const LABEL_INSTANCE = 'berth.instance';
export const LABEL_HOST = 'berth.host';
export const LABEL_PORT = 'berth.port';

/** Containers are named after the instance id, never the user's name. */
export function containerName(instanceId: string): string {
  return `berth-${instanceId}`;
}

/**
 * The container for an instance: no Docker network (Berth plugs it into OVS itself), tini as PID 1
 * so a stop is a signal and not a 10 s timeout, memory without swap, CPU quota, a pids limit and
 * nothing privileged: no added capabilities, no-new-privileges.
 */
export function containerConfig(
  spec: InstanceSpec,
  hostName: string,
  stopTimeoutSec: number,
): Docker.ContainerCreateOptions {
  const memory = spec.ramMb * 1024 * 1024;
  return {
    name: containerName(spec.id),
    Image: spec.imageRef,
    Hostname: spec.name,
    Labels: { [LABEL_INSTANCE]: spec.id, [LABEL_HOST]: hostName, [LABEL_PORT]: spec.port.id },
    StopTimeout: stopTimeoutSec,
    HostConfig: {
      NetworkMode: 'none',
      Init: true,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: spec.vcpus * 1e9,
      PidsLimit: spec.pidsLimit,
      Privileged: false,
      CapAdd: [],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}
