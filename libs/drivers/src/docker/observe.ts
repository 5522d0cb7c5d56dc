import type { InstanceUsage } from '@berth/contracts';
import { cgroupsOfProcess, readCgroupUsage } from '@berth/cgroups';
import { hostVethName, linkCounters, type HostNet } from '@berth/network';
import type Docker from 'dockerode';
import { demuxDockerLog, lastLines } from '../console-tail';
import { containerName, DROPPED_CAPABILITIES, LABEL_PORT } from './container-config';
import { isNotFound } from './docker-errors';

/* What a container shows of itself: its counters, its output, and how dockerd confines it. */

/**
 * CPU, memory and block IO from the container's cgroups; traffic from the host end of its veth,
 * turned round to the container's direction (what the host end receives, the container sent).
 */
export async function containerUsage(
  net: HostNet,
  inspected: Promise<Docker.ContainerInspectInfo | null>,
): Promise<InstanceUsage | null> {
  const info = await inspected;
  if (!info?.State.Running) return null;
  const monotonicMs = performance.now();
  const portId = info.Config.Labels[LABEL_PORT];
  const [cg, link] = await Promise.all([
    cgroupsOfProcess(info.State.Pid),
    portId ? linkCounters(net, hostVethName(portId)) : null,
  ]);
  return {
    monotonicMs,
    ...(await readCgroupUsage(cg)),
    netRxBytes: link?.txBytes ?? 0,
    netTxBytes: link?.rxBytes ?? 0,
    netRxPackets: link?.txPackets ?? 0,
    netTxPackets: link?.rxPackets ?? 0,
  };
}

/** What the container wrote to stdout and stderr (its json-file log), last lines first trimmed. */
export async function containerLog(docker: Docker, instanceId: string, lines: number): Promise<string[]> {
  try {
    const log = await docker
      .getContainer(containerName(instanceId))
      .logs({ stdout: true, stderr: true, follow: false, tail: lines });
    return lastLines(demuxDockerLog(log), lines);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** dockerd's security options ("name=seccomp,profile=default" -> seccomp), then what Berth adds itself. */
export async function dockerConfinement(docker: Docker, diskQuota: boolean): Promise<string[]> {
  const info = (await docker.info()) as { SecurityOptions?: string[] };
  const runtime = (info.SecurityOptions ?? []).flatMap((o) => /(?:^|,)name=([a-z0-9-]+)/.exec(o)?.[1] ?? []);
  return [
    ...runtime,
    'no-new-privileges',
    `cap-drop:${DROPPED_CAPABILITIES.join(',')}`,
    'port-security',
    ...(diskQuota ? ['disk-quota'] : []),
  ];
}
