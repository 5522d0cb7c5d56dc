import {
  computeQueue,
  CONTRACT_VERSION,
  jobId,
  type VolumeAttachment,
  type VolumeCommand,
  type VolumeCommandType,
} from '@berth/contracts';
import {
  enqueue,
  insertOperation,
  instanceVolumes,
  liveInstance,
  lockInstance,
  setVolumeStatus,
  volumeRow,
  type Actor,
  type InstanceRecord,
  type VolumeRow,
} from '@berth/data';
import { BerthError, mountPathProblem } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { requireCapability } from '../instances/capabilities';
import { specOf } from '../specs/instance-spec';

/** What an attach asks: the volume, and where a container mounts it or the serial a VM's guest reads. */
export interface AttachRequest {
  volume: string;
  path?: string;
  serial?: string;
}

/** The serial a VM's guest reads: virtio keeps 20 bytes, so the volume's id without its dashes, cut there. */
export const defaultSerial = (volumeId: string) => volumeId.replace(/-/g, '').slice(0, 20);

/**
 * Attaching and detaching volumes (POST /v1/instances/:id/actions attach|detach). Both lock the instance, then the
 * volume, check what the host and the states allow, and queue the host's command with the operation: the volume is
 * `attaching` or `detaching` until its host answers (VolumeHostWorkflow.result).
 */
export class AttachmentWorkflow {
  constructor(private readonly dataSource: DataSource) {}

  attach(actor: Actor, instanceId: string, projectId: string | null, r: AttachRequest): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      const instance = await this.lockedInstance(m, instanceId, projectId);
      const volume = await volumeRow(m, r.volume, instance.projectId, true);
      if (!volume) throw BerthError.notFound('volume', r.volume, 'volume');
      if (volume.status !== 'available') {
        throw BerthError.conflict(`volume ${volume.id} is ${volume.status}, not available`, 'volume', 'state');
      }
      if (volume.hostId !== instance.hostId) {
        throw BerthError.conflict(
          'the volume lives on another host than the instance: make it with localTo to have it on the same',
          'volume',
          'host',
        );
      }
      requireCapability(instance, 'volumes');
      const path = await checkWhere(m, instance, r);
      const serial = r.serial ?? defaultSerial(volume.id);
      await setVolumeStatus(m, volume.id, ['available'], 'attaching', {
        attachment: { instanceId: instance.id, path, serial },
      });
      const attachment = attachmentOf(volume, path, serial);
      return this.command(m, actor, instance, volume, 'volume.attach', attachment);
    });
  }

  detach(actor: Actor, instanceId: string, projectId: string | null, volumeId: string): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      const instance = await this.lockedInstance(m, instanceId, projectId);
      const volume = await volumeRow(m, volumeId, instance.projectId, true);
      if (!volume) throw BerthError.notFound('volume', volumeId, 'volume');
      if (volume.instanceId !== instance.id || volume.status !== 'in-use') {
        throw BerthError.conflict(`volume ${volume.id} is not in use by this instance`, 'volume', 'state');
      }
      await setVolumeStatus(m, volume.id, ['in-use'], 'detaching');
      const attachment = attachmentOf(volume, volume.attachPath, volume.serial ?? defaultSerial(volume.id));
      return this.command(m, actor, instance, volume, 'volume.detach', attachment);
    });
  }

  /** The instance, locked: placed, and with no task in flight (it is running or stopped). */
  private async lockedInstance(m: EntityManager, instanceId: string, projectId: string | null) {
    await lockInstance(m, instanceId);
    const instance = await liveInstance(m, instanceId, projectId);
    if (!instance) throw BerthError.notFound('instance', instanceId);
    if (!instance.hostId || instance.taskState !== null || !['ACTIVE', 'SHUTOFF'].includes(instance.status)) {
      throw BerthError.conflict(
        `instance ${instance.id} is ${instance.status}${instance.taskState ? ` (${instance.taskState})` : ''}: ` +
          'volumes are attached and detached while it is ACTIVE or SHUTOFF with no task',
        'action',
        'state',
      );
    }
    return instance;
  }

  private async command(
    m: EntityManager,
    actor: Actor,
    instance: InstanceRecord,
    volume: VolumeRow,
    type: VolumeCommandType,
    attachment: VolumeAttachment,
  ): Promise<string> {
    if (!instance.hostName) throw new Error(`instance ${instance.id} has no host`);
    const operationId = await insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: type, targetType: 'volume', targetId: volume.id },
    );
    const spec = specOf(instance);
    // A detach's instance is as it will be: without the volume.
    const volumes = (spec.volumes ?? []).filter((a) => a.volume.id !== volume.id);
    const command: VolumeCommand = {
      v: CONTRACT_VERSION,
      type,
      operationId,
      volume: attachment.volume,
      instance: { ...spec, ...(volumes.length > 0 ? { volumes } : { volumes: [] }) },
      attachment,
    };
    await enqueue(m, {
      queue: computeQueue(instance.hostName),
      name: type,
      jobId: jobId(operationId, type),
      payload: command,
    });
    return operationId;
  }
}

/** A container's mount point (checked, and free on the instance), or a VM's none. */
async function checkWhere(m: EntityManager, instance: InstanceRecord, r: AttachRequest): Promise<string | null> {
  if (instance.kind === 'vm') {
    if (r.path !== undefined) {
      throw BerthError.invalid([
        { field: 'path', rule: 'kind', message: 'path is for containers: a VM sees the volume as a disk' },
      ]);
    }
    return null;
  }
  if (r.serial !== undefined) {
    throw BerthError.invalid([
      { field: 'serial', rule: 'kind', message: 'serial is for VMs: a container mounts at path' },
    ]);
  }
  if (r.path === undefined) {
    throw BerthError.invalid([{ field: 'path', rule: 'required', message: 'path is required for a container' }]);
  }
  const problem = mountPathProblem(r.path);
  if (problem) throw BerthError.invalid([problem]);
  const taken = (await instanceVolumes(m, instance.id)).find((v) => v.attachPath === r.path);
  if (taken) throw BerthError.conflict(`path ${r.path} already holds volume ${taken.id}`, 'path', 'unique');
  return r.path;
}

function attachmentOf(volume: VolumeRow, path: string | null, serial: string): VolumeAttachment {
  return {
    volume: { id: volume.id, sizeGb: volume.sizeGb, backend: volume.backend },
    path,
    serial,
    throttle: {
      readIops: volume.readIops,
      writeIops: volume.writeIops,
      readBps: volume.readBps,
      writeBps: volume.writeBps,
    },
  };
}
