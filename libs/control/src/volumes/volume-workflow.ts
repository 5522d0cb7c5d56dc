import {
  computeQueue,
  CONTRACT_VERSION,
  jobId,
  PLACE_VOLUME,
  PLACEMENT_QUEUE,
  type PlaceVolumeJob,
  type VolumeCommand,
  type VolumeCommandType,
  type VolumeSpec,
} from '@berth/contracts';
import {
  defaultVolumeType,
  deleteVolumeRow,
  enqueue,
  insertOperation,
  insertVolume,
  liveInstance,
  lockProjectQuota,
  resizeVolumeAllocation,
  setVolumeStatus,
  volumeRow,
  volumeTypeRow,
  type Actor,
  type VolumeRow,
} from '@berth/data';
import { BerthError, quotaExcesses, type QuotaSet } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';

export interface NewVolumeRequest {
  actor: Actor;
  projectId: string;
  name: string;
  description: string;
  sizeGb: number;
  /** A type by id or name; absent: the default type. */
  type?: string;
  /** Cinder's local_to_instance: an instance of the project, on whose host the volume is made. */
  localTo?: string;
  zone?: string;
}

/** What a volume request answers: the volume as it now is and the operation that carries it out. */
export interface VolumeAccepted {
  volume: VolumeRow;
  operationId: string;
}

/**
 * The API's side of volumes: create (placed by the scheduler, made by its host), extend and delete. Each records its
 * intent and its operation, and queues its work through the outbox, in one transaction: a request that answered 202
 * is never lost, and one refused changed nothing.
 */
export class VolumeWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    private readonly quotaDefaults: QuotaSet,
    private readonly downAfterSec: number,
  ) {}

  create(r: NewVolumeRequest): Promise<VolumeAccepted> {
    return this.dataSource.transaction(async (m) => {
      const type = r.type ? await volumeTypeRow(m, r.type) : await defaultVolumeType(m);
      if (!type) {
        throw r.type
          ? BerthError.notFound('volume type', r.type, 'type')
          : BerthError.invalid([
              { field: 'type', rule: 'required', message: 'type is required: no type is the default' },
            ]);
      }
      const hostId = r.localTo ? await this.hostOf(m, r.localTo, r.projectId) : null;
      await checkQuota(m, r.projectId, this.quotaDefaults, { volumes: 1, volumeGb: r.sizeGb });
      const volumeId = await insertVolume(m, {
        projectId: r.projectId,
        userId: r.actor.userId,
        name: r.name,
        description: r.description,
        sizeGb: r.sizeGb,
        type,
        zone: r.zone ?? null,
      });
      const operationId = await insertOperation(
        m,
        { ...r.actor, projectId: r.projectId },
        { action: 'volume.create', targetType: 'volume', targetId: volumeId },
      );
      const job: PlaceVolumeJob = {
        v: CONTRACT_VERSION,
        volumeId,
        operationId,
        projectId: r.projectId,
        volume: { id: volumeId, sizeGb: r.sizeGb, backend: type.backend },
        hostId,
        zone: r.zone ?? null,
      };
      await enqueue(m, {
        queue: PLACEMENT_QUEUE,
        name: PLACE_VOLUME,
        jobId: jobId(operationId, 'place'),
        payload: job,
      });
      return { volume: await mustRead(m, volumeId), operationId };
    });
  }

  /** Grows an available volume to `sizeGb` on its host (grow only): quota and the host's disk are claimed first. */
  extend(actor: Actor, volumeId: string, projectId: string | null, sizeGb: number): Promise<VolumeAccepted> {
    return this.dataSource.transaction(async (m) => {
      const volume = await lockVolume(m, volumeId, projectId);
      if (sizeGb <= volume.sizeGb) {
        throw BerthError.invalid([
          { field: 'sizeGb', rule: 'grow', message: `sizeGb must be more than the volume's ${volume.sizeGb} GiB` },
        ]);
      }
      requireStatus(volume, ['available'], 'extended');
      if (!volume.hostId) throw new Error(`available volume ${volume.id} has no host`);
      const grow = sizeGb - volume.sizeGb;
      await checkQuota(m, volume.projectId, this.quotaDefaults, { volumeGb: grow });
      if (!(await resizeVolumeAllocation(m, volume.id, volume.hostId, grow, this.downAfterSec))) {
        throw BerthError.conflict(
          `host ${volume.hostName ?? volume.hostId} has no room for ${grow} GiB more, or is down`,
          'sizeGb',
          'capacity',
        );
      }
      await setVolumeStatus(m, volume.id, ['available'], 'extending', { pendingSizeGb: sizeGb });
      const operationId = await queueVolumeCommand(m, actor, volume, 'volume.extend', sizeGb);
      return { volume: await mustRead(m, volume.id), operationId };
    });
  }

  /**
   * Deletes a volume attached nowhere: its host removes it, then its record and its claim on the host go. A volume
   * that never reached a host (its placement failed) goes at once.
   */
  delete(actor: Actor, volumeId: string, projectId: string | null): Promise<VolumeAccepted> {
    return this.dataSource.transaction(async (m) => {
      const volume = await lockVolume(m, volumeId, projectId);
      requireStatus(volume, ['available', 'error'], 'deleted');
      await setVolumeStatus(m, volume.id, ['available', 'error'], 'deleting', { fault: volume.fault });
      if (!volume.hostId) {
        const operationId = await insertOperation(
          m,
          { ...actor, projectId: volume.projectId },
          { action: 'volume.delete', targetType: 'volume', targetId: volume.id, finished: true },
        );
        await deleteVolumeRow(m, volume.id);
        return { volume: { ...volume, status: 'deleting' }, operationId };
      }
      const operationId = await queueVolumeCommand(m, actor, volume, 'volume.delete', volume.sizeGb);
      return { volume: await mustRead(m, volume.id), operationId };
    });
  }

  private async hostOf(m: EntityManager, instanceRef: string, projectId: string): Promise<string> {
    const instance = await liveInstance(m, instanceRef, projectId);
    if (!instance) throw BerthError.notFound('instance', instanceRef, 'localTo');
    if (!instance.hostId) {
      throw BerthError.conflict(`instance ${instanceRef} is on no host yet`, 'localTo', 'state');
    }
    return instance.hostId;
  }
}

/** The operation and the command to the volume's host, queued with it; returns the operation. */
export async function queueVolumeCommand(
  m: EntityManager,
  actor: Actor,
  volume: VolumeRow,
  type: VolumeCommandType,
  sizeGb: number,
): Promise<string> {
  if (!volume.hostName) throw new Error(`volume ${volume.id} has no host`);
  const operationId = await insertOperation(
    m,
    { ...actor, projectId: volume.projectId },
    { action: type, targetType: 'volume', targetId: volume.id },
  );
  const command: VolumeCommand = { v: CONTRACT_VERSION, type, operationId, volume: volumeSpecOf(volume, sizeGb) };
  await enqueue(m, {
    queue: computeQueue(volume.hostName),
    name: type,
    jobId: jobId(operationId, type),
    payload: command,
  });
  return operationId;
}

/**
 * The volumes that went with a deleted instance (`deleting`, markInstanceDeleted's answer): each one's host removes
 * it, under an operation of its own on behalf of whoever deleted the instance.
 */
export async function deleteReleasedVolumes(
  m: EntityManager,
  actor: Actor,
  volumes: readonly VolumeRow[],
): Promise<void> {
  for (const volume of volumes) {
    if (volume.hostName) await queueVolumeCommand(m, actor, volume, 'volume.delete', volume.sizeGb);
    else await deleteVolumeRow(m, volume.id);
  }
}

/** The host's view of a volume, at `sizeGb` (an extend's new size). */
export function volumeSpecOf(volume: Pick<VolumeRow, 'id' | 'backend'>, sizeGb: number): VolumeSpec {
  return { id: volume.id, sizeGb, backend: volume.backend };
}

async function lockVolume(m: EntityManager, volumeId: string, projectId: string | null): Promise<VolumeRow> {
  const volume = await volumeRow(m, volumeId, projectId, true);
  if (!volume) throw BerthError.notFound('volume', volumeId);
  return volume;
}

async function mustRead(m: EntityManager, volumeId: string): Promise<VolumeRow> {
  const volume = await volumeRow(m, volumeId, null);
  if (!volume) throw new Error(`volume ${volumeId} vanished within its own transaction`);
  return volume;
}

function requireStatus(volume: VolumeRow, allowed: readonly VolumeRow['status'][], what: string): void {
  if (allowed.includes(volume.status)) return;
  const why = volume.status === 'in-use' ? ': detach it first' : '';
  throw BerthError.conflict(
    `volume ${volume.id} is ${volume.status}; only a volume ${allowed.join(' or ')} can be ${what}${why}`,
    'status',
    'state',
  );
}

/** Takes the project's quota lock and refuses what would pass its limits. */
async function checkQuota(
  m: EntityManager,
  projectId: string,
  defaults: QuotaSet,
  request: Partial<QuotaSet>,
): Promise<void> {
  const { limits, usage } = await lockProjectQuota(m, projectId, defaults);
  const excesses = quotaExcesses(limits, usage, request);
  if (excesses.length > 0) throw BerthError.quotaExceeded(excesses);
}
