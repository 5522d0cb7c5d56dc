import type { InstanceSpec, InstanceUsage, PowerState, TerminalSize } from '@berth/contracts';
import { INSTANCE_IFNAME, readInstanceInterface } from '@berth/network';
import type Docker from 'dockerode';
import type { Terminal, TerminalListener } from '../terminal';
import { containerName, LABEL_HOST, LABEL_INSTANCE } from './container-config';
import type { DockerDriverOptions } from './docker-driver';
import { isNotFound } from './docker-errors';
import { DockerImages } from './images';
import { containerLog, containerUsage } from './observe';
import { powerStateOf, powerStateOfListed } from './power-states';
import { openShell } from './shell-terminal';

/** What the docker driver reads of its host without changing it: containers' states, usage, logs, images, shells. */
export class DockerReaders {
  protected readonly images: DockerImages;

  constructor(protected readonly options: DockerDriverOptions) {
    this.images = new DockerImages(options.docker, options.net.failpoints);
  }

  protected get docker() {
    return this.options.docker;
  }

  protected get net() {
    return this.options.net;
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

  usage(instanceId: string): Promise<InstanceUsage | null> {
    return containerUsage(this.net, this.inspect(instanceId));
  }

  consoleTail(spec: InstanceSpec, lines: number): Promise<string[]> {
    return containerLog(this.docker, spec.id, lines);
  }

  openTerminal(spec: InstanceSpec, size: TerminalSize, listener: TerminalListener): Promise<Terminal> {
    return openShell(this.docker, spec.id, size, listener);
  }

  async readInterface(spec: InstanceSpec): Promise<{ mac: string; addresses: string[] } | null> {
    const info = await this.inspect(spec.id);
    if (!info?.State.Running) return null;
    return readInstanceInterface(this.net, info.State.Pid, INSTANCE_IFNAME);
  }

  async cacheImage(ref: string, onProgress: (detail: string) => Promise<void>): Promise<void> {
    await this.images.pull(ref, onProgress);
  }

  cachedImages(): Promise<string[]> {
    return this.images.tags();
  }

  protected async inspect(instanceId: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(containerName(instanceId)).inspect();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }
}
