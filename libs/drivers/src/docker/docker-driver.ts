import type {
  AppliedLimits,
  DriverCapability,
  InstanceLimits,
  InstanceSpec,
  SnapshotImage,
  SnapshotTarget,
  VolumeAttachment,
} from '@berth/contracts';
import { blockDeviceOf, lxcfsBinds, type BlockDevice } from '@berth/cgroups';
import {
  applyPortSecurity,
  containerPortSecurity,
  ensureBridge,
  ensurePipeline,
  plugContainerPort,
  probeDatapath,
  unplugContainerPort,
  type DatapathType,
  type HostNet,
} from '@berth/network';
import type { Reverter } from '@berth/platform';
import type Docker from 'dockerode';
import { DriverError, type ComputeDriver, type StepListener } from '../compute-driver';
import { installAuthorizedKeys } from './authorized-keys';
import { diskQuotaOf, type DiskQuota } from './disk-quota';
import { runSteps } from '../run-steps';
import { containerConfig, containerName, LABEL_PORT } from './container-config';
import { isNotFound, isNotModified } from './docker-errors';
import { applyContainerLimits, readContainerLimits, type LimitsContext } from './container-limits';
import { dockerConfinement } from './observe';
import { dockerResources, type HostLimitContext } from './limits';
import { deleteFromRegistry } from '@berth/platform';
import { DockerReaders } from './docker-readers';
import { ContainerVolumes } from './container-volumes';
import { portPlugged, runsWhole } from './port-state';

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
  /** Where volumes are mounted on the host for containers, and each volume's file; absent: no volumes. */
  volumes?: { mountRoot: string; fileOf: (a: VolumeAttachment) => string };
}

/** Containers treated as VMs, as nova-docker did: Docker runs them, Berth plumbs their network. */
export class DockerDriver extends DockerReaders implements ComputeDriver {
  readonly name = 'docker';
  readonly kind = 'container' as const;
  readonly capabilities: readonly DriverCapability[];
  private datapath: DatapathType = 'netdev';
  /** The disk under Docker's data root; block IO throttles apply to it. Null when there is none (tmpfs). */
  private blockDevice: BlockDevice | null = null;
  /** What holds writable layers to their disk size; null where dockerd's storage driver cannot. */
  private diskQuota: DiskQuota | null = null;
  dataRoot: string | null = null;

  private volumes: ContainerVolumes | null = null;
  constructor(options: DockerDriverOptions) {
    super(options);
    this.capabilities = ['live-resize', 'cold-migrate', ...(options.volumes ? (['volumes'] as const) : [])];
  }

  private volumeFile(a: VolumeAttachment): string {
    if (!this.options.volumes) throw new Error('this host holds no volumes');
    return this.options.volumes.fileOf(a);
  }

  /** What setting and reading a container's limits needs of this host (known once init has run). */
  private get limitsContext(): LimitsContext {
    return {
      net: this.options.net,
      datapath: this.datapath,
      blockDevice: this.blockDevice,
      sharedCpus: this.options.sharedCpus,
    };
  }

  async init(): Promise<void> {
    await this.docker.ping();
    this.datapath = await ensureBridge(this.net, await probeDatapath());
    await ensurePipeline(this.net);
    const info = (await this.docker.info()) as { DockerRootDir: string; Driver: string };
    this.blockDevice = await blockDeviceOf(info.DockerRootDir).catch(() => null);
    this.diskQuota = diskQuotaOf(info.Driver, info.DockerRootDir, this.net.run);
    this.dataRoot = info.DockerRootDir;
    if (this.options.volumes) {
      this.volumes = new ContainerVolumes(this.options.volumes.mountRoot, this.net.run, this.net.failpoints);
      await this.volumes.init();
    }
  }

  /** What an instance's limits depend on, besides the instance. */
  get hostLimits(): HostLimitContext {
    return { sharedCpus: this.options.sharedCpus, blockDevice: this.blockDevice };
  }

  async spawn(spec: InstanceSpec, onStep: StepListener): Promise<AppliedLimits | null> {
    const existing = await this.inspect(spec.id);
    if (existing && (await runsWhole(this.net, spec, existing))) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        // A port already plugged (an agent restarted, a command repeated) gets its admission flows again: an
        // ovs-vswitchd restart takes every flow with it.
        await applyPortSecurity(this.net, containerPortSecurity(spec.port));
        return applyContainerLimits(this.limitsContext, spec, existing);
      });
    }
    if (existing) await this.remove(spec);

    return runSteps(onStep, async (step, reverter) => {
      await step('image');
      await this.images.ensure(spec.imageRef, (detail) => onStep('image', detail));
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
          volumeMount: (await this.volumes?.mountFor(spec.id)) ?? null,
        }),
      );
      reverter.add(`remove container ${container.id}`, () => this.remove(spec));
      await this.diskQuota?.hold();
      await installAuthorizedKeys(container, spec.publicKeys ?? []);
      await step('start');
      await container.start();
      await step('network');
      const info = await this.plug(spec, reverter);
      await step('limits');
      return this.limitsAndVolumes(spec, info, step);
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
    if (await runsWhole(this.net, spec, existing)) {
      return runSteps(onStep, async (step) => {
        await step('limits');
        // A port already plugged (an agent restarted, a command repeated) gets its admission flows again: an
        // ovs-vswitchd restart takes every flow with it.
        await applyPortSecurity(this.net, containerPortSecurity(spec.port));
        return applyContainerLimits(this.limitsContext, spec, existing);
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
      return this.limitsAndVolumes(spec, info, step);
    });
  }

  /** Applies the limits and mounts the volumes again (a start lets them go), each read back. */
  private async limitsAndVolumes(spec: InstanceSpec, info: Docker.ContainerInspectInfo, step: StepListener) {
    const applied = await applyContainerLimits(this.limitsContext, spec, info);
    if (spec.volumes?.length && this.volumes) {
      await step('volumes');
      for (const a of spec.volumes) await this.volumes.attach(spec, a, this.volumeFile(a), info.State.Pid);
    }
    return applied;
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
    return readContainerLimits(this.limitsContext, spec, info);
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

  confinement(): Promise<string[]> {
    return dockerConfinement(this.docker, this.diskQuota !== null);
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
    return info.State.Running ? applyContainerLimits(this.limitsContext, spec, info) : null;
  }

  async applyFirewall(spec: InstanceSpec): Promise<boolean> {
    if (!(await portPlugged(this.net, spec))) return false;
    await applyPortSecurity(this.net, containerPortSecurity(spec.port));
    return true;
  }

  async runsAsSpecified(spec: InstanceSpec): Promise<boolean> {
    const info = await this.inspect(spec.id);
    return info !== null && (await runsWhole(this.net, spec, info));
  }

  attachVolume(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void> {
    return this.withVolumes((v) => v.attachTo(spec, attachment, file, this.inspect(spec.id)));
  }

  detachVolume(spec: InstanceSpec, attachment: VolumeAttachment, file: string): Promise<void> {
    return this.withVolumes((v) => v.detachFrom(spec, attachment, file, this.inspect(spec.id)));
  }

  async releaseVolumes(spec: InstanceSpec): Promise<void> {
    await this.volumes?.releaseMounts(spec.id);
  }

  private withVolumes(work: (volumes: ContainerVolumes) => Promise<void>): Promise<void> {
    if (!this.volumes) return Promise.reject(new DriverError('attach', 'this host attaches no volumes to containers'));
    return work(this.volumes);
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
      await this.images.commit(containerName(spec.id), ref, `berth snapshot of ${spec.id}`);
      reverter.add(`remove image ${ref}`, () => this.images.remove(ref));
      await step('push');
      await this.images.push(ref, onProgress);
    });
    return null;
  }

  /** docker commit (the container paused meanwhile, running or not) and push as `<repository>:latest`. */
  async captureImage(
    spec: InstanceSpec,
    target: SnapshotTarget,
    onStep: StepListener,
    progress: (step: string) => (detail: string) => Promise<void>,
  ): Promise<SnapshotImage> {
    return runSteps(onStep, async (step, reverter) => {
      await step('commit');
      if (!(await this.inspect(spec.id))) throw new Error(`instance ${spec.id} does not exist on this host`);
      const ref = `${target.repository}:latest`;
      await this.images.commit(containerName(spec.id), ref, `berth image ${target.imageId} of ${spec.id}`);
      reverter.add(`remove image ${ref}`, () => this.images.remove(ref));
      await step('push');
      await this.images.push(ref, progress('push'));
      const { Size } = await this.docker.getImage(ref).inspect();
      return { ref, bytes: Size };
    });
  }

  /** A container's snapshot is an image in the registry: pulled as any image is. */
  async fetchSnapshot(
    _spec: InstanceSpec,
    ref: string,
    _peer: unknown,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    await this.images.pull(ref, onProgress);
  }

  /** Removes a snapshot's local image and, with `registry`, its manifest in the registry. Missing is fine. */
  async forgetSnapshot(ref: string, registry: boolean): Promise<void> {
    await this.images.remove(ref);
    if (registry) await deleteFromRegistry(ref);
  }

  /** Removes the container (if any) and its port; safe to repeat. */
  private async remove(spec: InstanceSpec): Promise<void> {
    try {
      await this.docker.getContainer(containerName(spec.id)).remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.volumes?.releaseAll(spec.id);
    await this.diskQuota?.hold();
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
}
