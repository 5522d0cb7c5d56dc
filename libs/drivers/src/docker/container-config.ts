import type { InstanceSpec } from '@berth/contracts';
import type { LxcfsBind } from '@berth/cgroups';
import type Docker from 'dockerode';
import { dockerBlkio, dockerResources, type HostLimitContext } from './limits';

export const LABEL_INSTANCE = 'berth.instance';
export const LABEL_HOST = 'berth.host';
export const LABEL_PORT = 'berth.port';

/**
 * Capabilities Docker grants by default that an instance does not get: raw sockets (forged frames; port
 * security drops them at the port, but they are still not the tenant's to send) and device nodes. ping
 * still works where the image's ping uses ICMP datagram sockets (iputils), which Docker's default
 * net.ipv4.ping_group_range allows.
 */
export const DROPPED_CAPABILITIES = ['NET_RAW', 'MKNOD'] as const;

/** Containers are named after the instance id, never the user's name. */
export function containerName(instanceId: string): string {
  return `berth-${instanceId}`;
}

/** What a container's config takes from its host besides the instance. */
export interface ContainerContext extends HostLimitContext {
  hostName: string;
  stopTimeoutSec: number;
  /** lxcfs files to bind over /proc, or null where lxcfs is missing (the instance then sees the host's /proc). */
  lxcfs: readonly LxcfsBind[] | null;
  /** The storage options that hold its writable layer to its disk (disk-quota.ts); null where dockerd cannot. */
  storageOpt: Record<string, string> | null;
  /** The way in for its volumes (container-volumes.ts), where the host holds volumes. */
  volumeMount?: Docker.MountSettings | null;
}

/**
 * The container for an instance: no Docker network (Berth plugs it into OVS itself), tini as PID 1
 * so a stop is a signal and not a 10 s timeout, its limits (cpuset, CPU quota and shares, memory
 * without swap, pids, block IO, its writable layer's size), its own /proc through lxcfs where the host has it, and nothing
 * privileged: no added capabilities, NET_RAW and MKNOD dropped, no-new-privileges (Docker's seccomp profile
 * stays on).
 */
export function containerConfig(spec: InstanceSpec, ctx: ContainerContext): Docker.ContainerCreateOptions {
  return {
    name: containerName(spec.id),
    Image: spec.imageRef,
    Hostname: spec.name,
    Labels: { [LABEL_INSTANCE]: spec.id, [LABEL_HOST]: ctx.hostName, [LABEL_PORT]: spec.port.id },
    StopTimeout: ctx.stopTimeoutSec,
    HostConfig: {
      NetworkMode: 'none',
      Init: true,
      ...dockerResources(spec.limits, ctx),
      ...dockerBlkio(spec.limits, ctx.blockDevice),
      ...(ctx.storageOpt ? { StorageOpt: ctx.storageOpt } : {}),
      Binds: (ctx.lxcfs ?? []).map((b) => `${b.source}:${b.target}:ro`),
      ...(ctx.volumeMount ? { Mounts: [ctx.volumeMount] } : {}),
      Privileged: false,
      CapAdd: [],
      // A capability the flavor gave back (grants) is not dropped; none is ever added.
      CapDrop: DROPPED_CAPABILITIES.filter((c) => !(spec.grants ?? []).includes(c as never)),
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}
