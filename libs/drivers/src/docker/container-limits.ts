import type { AppliedLimits, InstanceSpec } from '@berth/contracts';
import {
  cgroupsOfProcess,
  readCgroupLimits,
  writeIoThrottle,
  writeIoWeight,
  type BlockDevice,
  type ProcessCgroups,
} from '@berth/cgroups';
import { hostVethName, linkExists, readPortRates, setPortRates, type DatapathType, type HostNet } from '@berth/network';
import type Docker from 'dockerode';
import { expectedApplied, mismatches, portRatesOf } from '../limits';
import { appliedFrom, ioThrottleOf, throttlesDisk } from './limits';

/** What setting and reading a container's limits needs of its host. */
export interface LimitsContext {
  net: HostNet;
  datapath: DatapathType;
  /** The block device under Docker's data root, for IO throttles; null when there is none to throttle. */
  blockDevice: BlockDevice | null;
  sharedCpus: string;
}

/** The port as OVS's QoS knows it. */
export function qosTarget(ctx: LimitsContext, spec: InstanceSpec) {
  return { name: hostVethName(spec.port.id), portId: spec.port.id, datapath: ctx.datapath };
}

/**
 * Writes the limits Docker cannot keep for a running container (block IO on the data disk, OVS
 * rates on the port), then reads every limit back from the kernel and OVS: a difference from
 * what was asked is an error, so "applied" always means applied.
 */
export async function applyContainerLimits(
  ctx: LimitsContext,
  spec: InstanceSpec,
  info: Docker.ContainerInspectInfo,
): Promise<AppliedLimits> {
  const device = ctx.blockDevice;
  if (!device && throttlesDisk(spec.limits)) throw new Error('this host has no block device under Docker to throttle');
  const cg = await cgroupsOfProcess(info.State.Pid);
  // The kernel's and OVS's parts are independent: written, then read back, side by side.
  await Promise.all([
    device ? writeIoThrottle(cg, device.id, ioThrottleOf(spec.limits)) : undefined,
    writeIoWeight(cg, spec.limits.diskWeight),
    setPortRates(ctx.net, qosTarget(ctx, spec), portRatesOf(spec.limits)),
  ]);
  await ctx.net.failpoints.check('docker.limits');
  // A container that stopped meanwhile has no cgroup left to read: the read-back fails.
  const applied = await readContainerLimits(ctx, spec, info, cg, true);
  const host = {
    sharedCpus: ctx.sharedCpus,
    diskThrottles: device !== null,
    pidsLimits: true,
    diskWeight: applied.diskWeight !== null,
  };
  const wrong = mismatches(expectedApplied(spec.limits, host, true), applied);
  if (wrong.length > 0) throw new Error(`limits not in effect: ${wrong.join('; ')}`);
  return applied;
}

export async function readContainerLimits(
  ctx: LimitsContext,
  spec: InstanceSpec,
  info: Docker.ContainerInspectInfo,
  known?: ProcessCgroups,
  plugged?: boolean,
): Promise<AppliedLimits> {
  const cgroups = known ?? (await cgroupsOfProcess(info.State.Pid));
  const [cg, rates] = await Promise.all([
    readCgroupLimits(cgroups, ctx.blockDevice?.id ?? ''),
    (plugged ?? (await linkExists(ctx.net, hostVethName(spec.port.id))))
      ? readPortRates(ctx.net, qosTarget(ctx, spec))
      : null,
  ]);
  const procView = info.Mounts.some((m) => m.Destination === '/proc/meminfo') ? 'lxcfs' : 'host';
  return appliedFrom(cg, rates, procView);
}
