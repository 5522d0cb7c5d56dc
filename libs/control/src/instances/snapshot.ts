import { CONTRACT_VERSION, computeQueue, jobId, type ComputeCommand } from '@berth/contracts';
import {
  enqueue,
  insertOperation,
  insertSnapshotImage,
  isUniqueViolation,
  setTaskState,
  type Actor,
} from '@berth/data';
import { BerthError, beginAction } from '@berth/domain';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { specOf } from '../specs/instance-spec';
import { lockLiveInstance, taskOrConflict } from './begin';

/** Where snapshots' images go in the registry: a repository of their own each, named by the image's id. */
export const imageRepository = (registry: string, imageId: string) => `${registry}/berth-images/${imageId}`;

/**
 * A new image of the instance (Nova's createImage): a private image of its project, `saving` while its host makes
 * it (a container committed and pushed, a VM's disk flattened and uploaded, each paused meanwhile), then `active`
 * with its ref (ReportWorkflow, finishSnapshotImage); it launches like any image, and a VM's keeps its source's
 * kernel, initrd and command line. The instance runs on (or stays off) throughout. A name the project's images
 * already use is a 409, and nothing is made.
 */
export function requestSnapshot(
  dataSource: DataSource,
  registry: string,
  request: { instanceId: string; projectId: string | null; name: string; actor: Actor },
): Promise<{ operationId: string; imageId: string }> {
  return dataSource.transaction(async (m) => {
    const instance = await lockLiveInstance(m, request.instanceId, request.projectId);
    const taskState = taskOrConflict(beginAction(instance, 'snapshot'));
    if (!instance.hostName) throw new Error(`instance ${instance.id} in ${instance.status} has no host`);
    const operationId = await insertOperation(
      m,
      { ...request.actor, projectId: instance.projectId },
      { action: 'instance.snapshot', targetType: 'instance', targetId: instance.id },
    );
    const imageId = randomUUID();
    const repository = imageRepository(registry, imageId);
    try {
      await insertSnapshotImage(m, imageId, {
        name: request.name,
        kind: instance.kind,
        projectId: instance.projectId,
        repository,
        kernelRef: instance.boot?.kernelRef ?? null,
        initrdRef: instance.boot?.initrdRef ?? null,
        cmdline: instance.boot?.cmdline ?? null,
        sourceInstanceId: instance.id,
        operationId,
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw BerthError.conflict(`the project already has an image named ${request.name}`, 'name', 'unique');
    }
    await setTaskState(m, instance.id, taskState);
    const command: ComputeCommand = {
      v: CONTRACT_VERSION,
      type: 'instance.snapshot',
      operationId,
      instance: specOf(instance),
      image: { imageId, repository },
    };
    await enqueue(m, {
      queue: computeQueue(instance.hostName),
      name: command.type,
      jobId: jobId(operationId, 'snapshot'),
      payload: command,
    });
    return { operationId, imageId };
  });
}
