import {
  CONTRACT_VERSION,
  computeQueue,
  IMAGE_PULL,
  jobId,
  type ImagePullCommand,
  type InstanceKind,
} from '@berth/contracts';
import type { DataSource } from 'typeorm';
import { addPendingSteps, enqueue, insertOperation, type Actor } from '@berth/data';

/**
 * Pre-warm: one operation with a pending step per host, and a pull command for each host, in one
 * transaction. Each host's step shows its pull's progress; the operation ends when all have answered.
 */
export function requestImagePulls(
  dataSource: DataSource,
  actor: Actor,
  image: { id: string; ref: string; kind: InstanceKind },
  hosts: readonly string[],
): Promise<string> {
  return dataSource.transaction(async (m) => {
    const operationId = await insertOperation(m, actor, {
      action: 'image.prewarm',
      targetType: 'image',
      targetId: image.id,
    });
    const at = new Date().toISOString();
    await addPendingSteps(
      m,
      operationId,
      hosts.map((host) => `pull ${host}`),
      at,
    );
    for (const host of hosts) {
      const command: ImagePullCommand = {
        v: CONTRACT_VERSION,
        type: 'image.pull',
        operationId,
        imageRef: image.ref,
        kind: image.kind,
      };
      await enqueue(m, {
        queue: computeQueue(host),
        name: IMAGE_PULL,
        jobId: jobId(operationId, `pull-${host}`),
        payload: command,
      });
    }
    return operationId;
  });
}
