import type {
  Fault,
  InstanceKind,
  SshPeer,
  VolumeArtifact,
  VolumeAttachment,
  VolumeBackendName,
  VolumeCommand,
} from '@berth/contracts';
import { fetchOverSsh, type ComputeDriver, type VolumeBackend } from '@berth/drivers';
import { errorMessage, KeyedLock, type Logger } from '@berth/platform';
import { readFile } from 'node:fs/promises';
import type { VolumeMoves } from './migration-steps';
import type { Reporter } from './reporter';

/** The step each volume command shows while it runs. */
const STEP: Readonly<Record<VolumeCommand['type'], string>> = {
  'volume.create': 'create',
  'volume.extend': 'extend',
  'volume.delete': 'delete',
  'volume.attach': 'attach',
  'volume.detach': 'detach',
};

/** Runs a task alone for an instance, in order with its other commands (CommandHandler.exclusive). */
export type InstanceLock = (instanceId: string, task: () => Promise<void>) => Promise<void>;

/**
 * This host's volume storage: runs the volume commands of its queue with the volume's backend, one at a time per
 * volume, and always reports how each ended (the volume's size read back from the host).
 */
export class HostVolumes implements VolumeMoves {
  private readonly locks = new KeyedLock();

  constructor(
    private readonly backends: ReadonlyMap<VolumeBackendName, VolumeBackend>,
    private readonly reporter: Reporter,
    private readonly log: Logger,
    /** The uid containers' root is mapped to: a new volume's root directory is theirs. */
    private readonly rootOwner: number,
    /** The cloud's key for copying a moving instance's volumes from its source host (BERTH_MIGRATION_KEY). */
    private readonly migrationKey: string | null = null,
  ) {}

  /** The drivers that attach volumes to their instances, by kind, and the lock of the instances' commands. */
  private attach: { drivers: ReadonlyMap<InstanceKind, ComputeDriver>; lock: InstanceLock } | null = null;

  /** From now on attaches and detaches volumes with these drivers, in order with each instance's commands. */
  serve(drivers: ReadonlyMap<InstanceKind, ComputeDriver>, lock: InstanceLock): void {
    this.attach = { drivers, lock };
  }

  /** The backends this host offers (their pools answered at start). */
  get names(): VolumeBackendName[] {
    return [...this.backends.keys()];
  }

  async exportVolumes(held: readonly VolumeAttachment[]): Promise<VolumeArtifact[]> {
    const out: VolumeArtifact[] = [];
    for (const a of held) out.push({ volumeId: a.volume.id, ...(await this.backendOf(a).export(a.volume.id)) });
    return out;
  }

  async fetchVolumes(
    held: readonly VolumeAttachment[],
    artifacts: readonly VolumeArtifact[],
    peer: SshPeer,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void> {
    if (!this.migrationKey) throw new Error('this host has no migration key to fetch volumes with');
    const key = await readFile(this.migrationKey, 'utf8');
    for (const a of held) {
      const artifact = artifacts.find((x) => x.volumeId === a.volume.id);
      if (!artifact) throw new Error(`the source exported no copy of volume ${a.volume.id}`);
      await this.locks.run(a.volume.id, () =>
        this.backendOf(a).receive(a.volume.id, async (path) => {
          await fetchOverSsh(peer, key, artifact, path, onProgress);
        }),
      );
    }
  }

  async dropVolumes(held: readonly VolumeAttachment[]): Promise<void> {
    for (const a of held) await this.locks.run(a.volume.id, () => this.backendOf(a).delete(a.volume.id));
  }

  private backendOf(a: VolumeAttachment): VolumeBackend {
    const backend = this.backends.get(a.volume.backend);
    if (!backend) throw new Error(`this host offers no ${a.volume.backend} volumes`);
    return backend;
  }

  /** Every volume this host's pools hold, by id (what its records are compared with as the agent starts). */
  async list(): Promise<string[]> {
    const held = await Promise.all([...this.backends.values()].map((b) => b.list()));
    return held.flat();
  }

  handle(command: VolumeCommand): Promise<void> {
    const run = () => this.locks.run(command.volume.id, () => this.execute(command));
    // An attach or detach changes the instance as well: it waits for the instance's other commands.
    return command.instance && this.attach ? this.attach.lock(command.instance.id, run) : run();
  }

  private async execute(command: VolumeCommand): Promise<void> {
    const { volume } = command;
    const step = STEP[command.type];
    let fault: Fault | undefined;
    let bytes: number | null = null;
    const backend = this.backends.get(volume.backend);
    try {
      if (!backend) throw new Error(`this host offers no ${volume.backend} volumes`);
      await this.reporter.step(command.operationId, step);
      if (command.type === 'volume.create') await backend.create(volume, this.rootOwner);
      else if (command.type === 'volume.extend') await backend.extend(volume);
      else if (command.type === 'volume.delete') await backend.delete(volume.id);
      else await this.attachment(command, backend);
      bytes = await backend.bytes(volume.id);
      this.log.info({ volumeId: volume.id, command: command.type, bytes }, 'volume command done');
    } catch (error) {
      fault = { step, message: errorMessage(error), at: new Date().toISOString() };
      bytes = backend ? await backend.bytes(volume.id).catch(() => null) : null;
      this.log.warn({ volumeId: volume.id, command: command.type, err: fault.message }, 'volume command failed');
    }
    await this.reporter.volumeResult(command, { ...(fault ? { fault } : {}), bytes });
  }

  /** An attach or detach, by the driver of the instance's kind (one that claims volumes). */
  private async attachment(command: VolumeCommand, backend: VolumeBackend): Promise<void> {
    const { instance, attachment } = command;
    if (!instance || !attachment) throw new Error(`${command.type} names no instance or attachment`);
    const driver = this.attach?.drivers.get(instance.kind);
    const { file } = backend.source(command.volume.id);
    if (command.type === 'volume.attach') {
      if (!driver?.attachVolume) throw new Error(`this host attaches no volumes to a ${instance.kind}`);
      await driver.attachVolume(instance, attachment, file);
    } else {
      if (!driver?.detachVolume) throw new Error(`this host attaches no volumes to a ${instance.kind}`);
      await driver.detachVolume(instance, attachment, file);
    }
  }
}

/**
 * The uid Docker maps containers' root to (the first of dockremap's subordinate ids, as `--userns-remap=default`
 * uses), or 0 where root is not remapped.
 */
export async function containerRootUid(subuidPath = '/etc/subuid'): Promise<number> {
  const text = await readFile(subuidPath, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith('dockremap:'));
  const first = Number(line?.split(':')[1]);
  return Number.isInteger(first) && first > 0 ? first : 0;
}
