import type {
  AppliedLimits,
  DriverCapability,
  InstanceLimits,
  InstanceSpec,
  InstanceUsage,
  PowerState,
} from '@berth/contracts';
import {
  blockDeviceOf,
  cgroupsOfProcess,
  lxcfsBinds,
  readCgroupLimits,
  readCgroupUsage,
  writeIoThrottle,
  writeIoWeight,
  type BlockDevice,
  type ProcessCgroups,
} from '@berth/cgroups';
import {
  applyPortSecurity,
  containerPortSecurity,
  ensureBridge,
  ensurePipeline,
  hostVethName,
  INSTANCE_IFNAME,
  linkCounters,
  linkExists,
  listPorts,
  plugContainerPort,
  probeDatapath,
  readInstanceInterface,
  readPortRates,
  setPortRates,
  unplugContainerPort,
  type DatapathType,
  type HostNet,
} from '@berth/network';
import type { Reverter } from '@berth/platform';
import type Docker from 'dockerode';
import { DriverError, type ComputeDriver, type StepListener } from '../compute-driver';
import { demuxDockerLog, lastLines } from '../console-tail';
import { diskQuotaOf, type DiskQuota } from './disk-quota';
import { expectedApplied, mismatches, portRatesOf } from '../limits';
import { runSteps } from '../run-steps';
import {
  containerConfig,
  containerName,
  DROPPED_CAPABILITIES,
  LABEL_HOST,
  LABEL_INSTANCE,
  LABEL_PORT,
} from './container-config';
import { isNotFound, isNotModified } from './docker-errors';
import { LayerProgress, type LayerEvent } from './layer-progress';
import { appliedFrom, dockerResources, ioThrottleOf, throttlesDisk, type HostLimitContext } from './limits';
import { deleteFromRegistry, splitRef } from './registry-client';

export interface DockerDriverOptions {
  docker: Docker;
  net: HostNet;
  /** Labels every container, so hosts that share one dockerd (tests) never touch each other's. */
  hostName: string;
  stopTimeoutSec: number;
  /** Kernel CPU list that shared instances float over (dedicated ones are pinned to their own CPUs). */
  sharedCpus: string;
  /** Where lxcfs is mounted; null leaves instances with the host's /proc. */
  lxcfsRoot: string | null;
}

/** Containers treated as VMs, as nova-docker did: Docker runs them, Berth plumbs their network. */
export class DockerDriver implements ComputeDriver {
  readonly name = 'docker';
  readonly kind = 'container' as const;
  readonly capabilities: readonly DriverCapability[] = ['live-resize', 'cold-migrate'];
  private datapath: DatapathType = 'netdev';
  /** The disk under Docker's data root; block IO throttles apply to it. Null when there is none (tmpfs). */
  private blockDevice: BlockDevice | null = null;
  /** What holds writable layers to their disk size; null where dockerd's storage driver cannot. */
  private diskQuota: DiskQuota | null = null;
  dataRoot: string | null = null;

  constructor(private readonly options: DockerDriverOptions) {}

  private get docker() {
    return this.options.docker;
  }

  private get net() {
    return this.options.net;
  }

  async init(): Promise<void> {
    await this.docker.ping();
    this.datapath = await ensureBridge(this.net, await probeDatapath());
    await ensurePipeline(this.net);
    const info = (await this.docker.info()) as { DockerRootDir: string; Driver: string };
    this.blockDevice = await blockDeviceOf(info.DockerRootDir).catch(() => null);
    this.diskQuota = diskQuotaOf(info.Driver, info.DockerRootDir, this.net.run);
    this.dataRoot = info.DockerRootDir;
  }

  /** What an instance's limits depend on, besides the instance. */
  get hostLimits(): HostLimitContext {
    return { sharedCpus: this.options.sharedCpus, blockDevice: this.blockDevice };
  }

  async spawn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    const existing = await this.inspect(spec.id);
    if (existing && (await this.isWhole(spec, existing))) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        // A port already plugged (an agent restarted, a command repeated) gets its admission flows again: an
        // ovs-vswitchd restart takes every flow with it.
        await applyPortSecurity(this.net, containerPortSecurity(spec.port));
        return this.applyLimits(spec, existing);
      });
    }
    if (existing) await this.remove(spec);

    return runSteps(onStep, async (step, reverter) => {
      await step('image');
      await this.ensureImage(spec.imageRef, (detail) => onStep('image', detail));
      await step('create');
      await this.options.net.failpoints.check('docker.create');
      const lxcfs = this.options.lxcfsRoot ? await lxcfsBinds(this.options.lxcfsRoot) : null;
      const container = await this.docker.createContainer(
        containerConfig(spec, {
          ...this.hostLimits,
          hostName: this.options.hostName,
          stopTimeoutSec: this.options.stopTimeoutSec,
          lxcfs,
          storageOpt: this.diskQuota?.storageOpt(spec.diskGb) ?? null,
        }),
      );
      reverter.add(`remove container ${container.id}`, () => this.remove(spec));
      await step('start');
      await container.start();
      await step('network');
      const info = await this.plug(spec, reverter);
      await step('limits');
      return this.applyLimits(spec, info);
    });
  }

  async powerOff(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('stop');
      const container = this.docker.getContainer(containerName(spec.id));
      try {
        await container.stop({ t: this.options.stopTimeoutSec });
      } catch (error) {
        if (isNotFound(error)) throw new DriverError('stop', `instance ${spec.id} does not exist on this host`);
        if (!isNotModified(error)) throw error;
      }
      await step('unplug');
      await this.options.net.failpoints.check('docker.unplug');
      await unplugContainerPort(this.net, spec.port.id);
    });
  }

  async powerOn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    const existing = await this.inspect(spec.id);
    if (!existing) throw new DriverError('start', `instance ${spec.id} does not exist on this host`);
    if (await this.isWhole(spec, existing)) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        // A port already plugged (an agent restarted, a command repeated) gets its admission flows again: an
        // ovs-vswitchd restart takes every flow with it.
        await applyPortSecurity(this.net, containerPortSecurity(spec.port));
        return this.applyLimits(spec, existing);
      });
    }

    return runSteps(onStep, async (step, reverter) => {
      await unplugContainerPort(this.net, spec.port.id);
      await step('start');
      const container = this.docker.getContainer(containerName(spec.id));
      try {
        await container.start();
      } catch (error) {
        if (!isNotModified(error)) throw error;
      }
      reverter.add('stop container', () => this.stopQuietly(spec));
      await step('network');
      const info = await this.plug(spec, reverter);
      await step('limits');
      return this.applyLimits(spec, info);
    });
  }

  async reboot(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    await this.powerOff(spec, onStep);
    return this.powerOn(spec, onStep);
  }

  async setLimits(spec: InstanceSpec, previous: InstanceLimits, onStep: StepListener): Promise<AppliedLimits | null> {
    return runSteps(onStep, async (step, reverter) => {
      await step('limits');
      const before = await this.inspect(spec.id);
      if (!before) throw new DriverError('limits', `instance ${spec.id} does not exist on this host`);
      reverter.add('restore the previous limits', () => this.changeLimits({ ...spec, limits: previous }));
      const applied = await this.changeLimits(spec);
      await this.options.net.failpoints.check('docker.set-limits');
      // Last, since it is not undone: a disk only grows (the API refuses a shrink).
      await this.diskQuota?.grow(before.Id, spec.diskGb);
      return applied;
    });
  }

  async readLimits(spec: InstanceSpec): Promise<AppliedLimits | null> {
    const info = await this.inspect(spec.id);
    if (!info?.State.Running) return null;
    return this.readApplied(spec, info);
  }

  async destroy(spec: InstanceSpec, onStep: StepListener): Promise<void> {
    await runSteps(onStep, async (step) => {
      await step('delete');
      await this.remove(spec);
    });
  }

  async purge(instanceId: string): Promise<void> {
    const info = await this.inspect(instanceId);
    if (!info) return;
    await this.docker.getContainer(info.Id).remove({ force: true, v: true });
    const portId = info.Config.Labels[LABEL_PORT];
    if (portId) await unplugContainerPort(this.net, portId);
  }

  async powerState(instanceId: string): Promise<PowerState> {
    const info = await this.inspect(instanceId);
    return info ? powerStateOf(info.State) : 'NOSTATE';
  }

  async listInstances(): Promise<Array<{ instanceId: string; powerState: PowerState }>> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_HOST}=${this.options.hostName}`] },
    });
    return containers.flatMap((c) => {
      const instanceId = c.Labels[LABEL_INSTANCE];
      return instanceId ? [{ instanceId, powerState: powerStateOfListed(c.State) }] : [];
    });
  }

  /**
   * CPU, memory and block IO from the container's cgroups; traffic from the host end of its veth,
   * turned round to the container's direction (what the host end receives, the container sent).
   */
  async usage(instanceId: string): Promise<InstanceUsage | null> {
    const info = await this.inspect(instanceId);
    if (!info?.State.Running) return null;
    const monotonicMs = performance.now();
    const portId = info.Config.Labels[LABEL_PORT];
    const [cg, link] = await Promise.all([
      cgroupsOfProcess(info.State.Pid),
      portId ? linkCounters(this.net, hostVethName(portId)) : null,
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

  async readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    const info = await this.inspect(spec.id);
    if (!info?.State.Running) return null;
    return readInstanceInterface(this.net, info.State.Pid, INSTANCE_IFNAME);
  }

  /** What the container wrote to stdout and stderr (its json-file log), last lines first trimmed. */
  async consoleTail(spec: InstanceSpec, lines: number): Promise<string[]> {
    try {
      const log = await this.docker
        .getContainer(containerName(spec.id))
        .logs({ stdout: true, stderr: true, follow: false, tail: lines });
      return lastLines(demuxDockerLog(log), lines);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.pull(ref, onProgress);
  }

  /** Every tag the daemon holds; an implicit ":latest" is also listed without it, as users write it. */
  async cachedImages(): Promise<string[]> {
    const images = await this.docker.listImages();
    return images
      .flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'))
      .flatMap((t) => (t.endsWith(':latest') ? [t, t.slice(0, -7)] : [t]));
  }

  /** dockerd's security options ("name=seccomp,profile=default" -> seccomp), then what Berth adds itself. */
  async confinement(): Promise<string[]> {
    const info = (await this.docker.info()) as { SecurityOptions?: string[] };
    const runtime = (info.SecurityOptions ?? []).flatMap((o) => /(?:^|,)name=([a-z0-9-]+)/.exec(o)?.[1] ?? []);
    return [
      ...runtime,
      'no-new-privileges',
      `cap-drop:${DROPPED_CAPABILITIES.join(',')}`,
      'port-security',
      ...(this.diskQuota ? ['disk-quota'] : []),
    ];
  }

  /** Plugs the running container's port; returns the container as it then runs. */
  private async plug(spec: InstanceSpec, reverter: Reverter): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect(spec.id);
    if (!info?.State.Running) throw new Error('the container exited right after it started');
    await plugContainerPort(
      this.net,
      {
        instanceId: spec.id,
        hostName: this.options.hostName,
        pid: info.State.Pid,
        port: spec.port,
        datapath: this.datapath,
      },
      reverter,
    );
    return info;
  }

  /**
   * Changes what `docker update` holds (kept across restarts), then, if the container runs, what
   * Docker cannot change live: block IO throttles and the port's rates. Returns what was read back.
   */
  private async changeLimits(spec: InstanceSpec): Promise<AppliedLimits | null> {
    const container = this.docker.getContainer(containerName(spec.id));
    await container.update(dockerResources(spec.limits, this.hostLimits));
    const info = await container.inspect();
    return info.State.Running ? this.applyLimits(spec, info) : null;
  }

  /**
   * Writes the limits Docker cannot keep for a running container (block IO on the data disk, OVS
   * rates on the port), then reads every limit back from the kernel and OVS: a difference from
   * what was asked is an error, so "applied" always means applied.
   */
  private async applyLimits(spec: InstanceSpec, info: Docker.ContainerInspectInfo): Promise<AppliedLimits> {
    const device = this.blockDevice;
    if (!device && throttlesDisk(spec.limits))
      throw new Error('this host has no block device under Docker to throttle');
    const cg = await cgroupsOfProcess(info.State.Pid);
    // The kernel's and OVS's parts are independent: written, then read back, side by side.
    await Promise.all([
      device ? writeIoThrottle(cg, device.id, ioThrottleOf(spec.limits)) : undefined,
      writeIoWeight(cg, spec.limits.diskWeight),
      setPortRates(this.net, this.qosTarget(spec), portRatesOf(spec.limits)),
    ]);
    await this.options.net.failpoints.check('docker.limits');
    // A container that stopped meanwhile has no cgroup left to read: the read-back fails.
    const applied = await this.readApplied(spec, info, cg, true);
    const host = {
      sharedCpus: this.options.sharedCpus,
      diskThrottles: device !== null,
      pidsLimits: true,
      diskWeight: applied.diskWeight !== null,
    };
    const wrong = mismatches(expectedApplied(spec.limits, host, true), applied);
    if (wrong.length > 0) throw new Error(`limits not in effect: ${wrong.join('; ')}`);
    return applied;
  }

  private async readApplied(
    spec: InstanceSpec,
    info: Docker.ContainerInspectInfo,
    known?: ProcessCgroups,
    plugged?: boolean,
  ): Promise<AppliedLimits> {
    const cgroups = known ?? (await cgroupsOfProcess(info.State.Pid));
    const [cg, rates] = await Promise.all([
      readCgroupLimits(cgroups, this.blockDevice?.id ?? ''),
      (plugged ?? (await this.isPlugged(spec))) ? readPortRates(this.net, this.qosTarget(spec)) : null,
    ]);
    const procView = info.Mounts.some((m) => m.Destination === '/proc/meminfo') ? 'lxcfs' : 'host';
    return appliedFrom(cg, rates, procView);
  }

  private qosTarget(spec: InstanceSpec) {
    return { name: hostVethName(spec.port.id), portId: spec.port.id, datapath: this.datapath };
  }

  private async isPlugged(spec: InstanceSpec): Promise<boolean> {
    return linkExists(this.net, hostVethName(spec.port.id));
  }

  async applyFirewall(spec: InstanceSpec): Promise<boolean> {
    if (!(await listPorts(this.net)).includes(hostVethName(spec.port.id))) return false;
    await applyPortSecurity(this.net, containerPortSecurity(spec.port));
    return true;
  }

  async runsAsSpecified(spec: InstanceSpec): Promise<boolean> {
    const info = await this.inspect(spec.id);
    return info !== null && (await this.isWhole(spec, info));
  }

  /**
   * Running, and plugged all the way: the veth is an OVS port and eth0 inside has the port's MAC
   * and address. A plug cut short (a veth outside OVS, an eth0 without its address) is not whole.
   */
  private async isWhole(spec: InstanceSpec, info: Docker.ContainerInspectInfo): Promise<boolean> {
    if (!info.State.Running) return false;
    const hostEnd = hostVethName(spec.port.id);
    if (!(await listPorts(this.net)).includes(hostEnd)) return false;
    const seen = await readInstanceInterface(this.net, info.State.Pid, INSTANCE_IFNAME).catch(() => null);
    return seen?.mac === spec.port.mac.toLowerCase() && seen.addresses.some((a) => a.split('/')[0] === spec.port.ip);
  }

  private async ensureImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    try {
      await this.docker.getImage(ref).inspect();
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.pull(ref, onProgress);
  }

  /** docker pull, reporting bytes and layers done at most once a second. */
  private async pull(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.options.net.failpoints.check('docker.pull');
    await this.follow(await this.docker.pull(ref), new LayerProgress('pulled'), onProgress);
  }

  /** Follows a pull or push stream to its end, reporting progress at most once a second. */
  private async follow(
    stream: NodeJS.ReadableStream,
    progress: LayerProgress,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    let last = 0;
    let failed: string | null = null;
    let reporting: Promise<void> = Promise.resolve();
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: LayerEvent) => {
          if (event.error) failed = event.error;
          progress.add(event);
          if (Date.now() - last >= 1000) {
            last = Date.now();
            reporting = reporting.then(() => onProgress(progress.describe())).catch(() => undefined);
          }
        },
      );
    });
    await reporting;
    // A push that fails midway may end the stream normally, with the error as its last event.
    if (failed !== null) throw new Error(failed);
    await onProgress(progress.describe(true));
  }

  /**
   * Cold migration, source side: stops the instance (unplugging its port), commits its filesystem
   * to `ref` and pushes it. After failure: the instance is stopped and unchanged, the local snapshot
   * image is gone, and the error names step stop, commit or push.
   */
  async snapshot(
    spec: InstanceSpec,
    ref: string,
    onStep: StepListener,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<null> {
    await runSteps(onStep, async (step, reverter) => {
      await step('stop');
      if (!(await this.inspect(spec.id))) throw new Error(`instance ${spec.id} does not exist on this host`);
      await this.stopQuietly(spec);
      await step('commit');
      await this.options.net.failpoints.check('docker.commit');
      const { repo, tag } = splitRef(ref);
      await this.docker
        .getContainer(containerName(spec.id))
        .commit({ repo, tag, comment: `berth snapshot of ${spec.id}` });
      reverter.add(`remove image ${ref}`, () => this.removeImage(ref));
      await step('push');
      await this.options.net.failpoints.check('docker.push');
      // The daemon wants an X-Registry-Auth header even for a registry without auth: an empty one.
      const stream = await this.docker.getImage(ref).push({ authconfig: { serveraddress: splitRef(ref).registry } });
      await this.follow(stream, new LayerProgress('pushed'), onProgress);
    });
    return null;
  }

  /** A container's snapshot is an image in the registry: pulled as any image is. */
  async fetchSnapshot(
    _spec: InstanceSpec,
    ref: string,
    _peer: unknown,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    await this.pull(ref, onProgress);
  }

  /** Removes a snapshot's local image and, with `registry`, its manifest in the registry. Missing is fine. */
  async forgetSnapshot(ref: string, registry: boolean): Promise<void> {
    await this.removeImage(ref);
    if (registry) await deleteFromRegistry(ref);
  }

  private async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ noprune: false });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Removes the container (if any) and its port; safe to repeat. */
  private async remove(spec: InstanceSpec): Promise<void> {
    try {
      await this.docker.getContainer(containerName(spec.id)).remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.options.net.failpoints.check('docker.unplug');
    await unplugContainerPort(this.net, spec.port.id);
  }

  private async stopQuietly(spec: InstanceSpec): Promise<void> {
    try {
      await this.docker.getContainer(containerName(spec.id)).stop({ t: this.options.stopTimeoutSec });
    } catch (error) {
      if (!isNotFound(error) && !isNotModified(error)) throw error;
    }
    await unplugContainerPort(this.net, spec.port.id);
  }

  private async inspect(instanceId: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(containerName(instanceId)).inspect();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }
}

function powerStateOf(state: Docker.ContainerInspectInfo['State']): PowerState {
  if (state.Paused) return 'PAUSED';
  if (state.Running) return 'RUNNING';
  if (state.Dead || state.OOMKilled) return 'CRASHED';
  return 'SHUTDOWN';
}

function powerStateOfListed(state: string): PowerState {
  switch (state) {
    case 'running':
      return 'RUNNING';
    case 'paused':
      return 'PAUSED';
    case 'dead':
      return 'CRASHED';
    default:
      return 'SHUTDOWN';
  }
}
