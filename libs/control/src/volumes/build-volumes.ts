import { setVolumeStatus, volumeRow } from '@berth/data';
import { BerthError, type VolumeRequest } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { defaultSerial } from './attachments';

/** Where an instance built with volumes must land: their host. */
export interface BuildVolumes {
  hostId: string;
  ids: string[];
}

/**
 * Reserves the volumes a new instance is built with (`POST /v1/instances {volumes}`), in the create's transaction:
 * each of the project's, available and on a host, all on the same one, becomes `attaching` to the instance with its
 * mount point or serial. Its host mounts or plugs them as it builds it (the instance's spec lists them), and the
 * build's end makes them `in-use` or available again. Returns the host the scheduler must choose, or null.
 */
export async function reserveBuildVolumes(
  m: EntityManager,
  projectId: string,
  instanceId: string,
  requests: readonly VolumeRequest[],
): Promise<BuildVolumes | null> {
  const hosts = new Set<string>();
  for (const [i, r] of requests.entries()) {
    const field = `volumes[${i}].volume`;
    const volume = await volumeRow(m, r.volume, projectId, true);
    if (!volume) throw BerthError.notFound('volume', r.volume, field);
    if (volume.status !== 'available' || !volume.hostId) {
      throw BerthError.conflict(
        `volume ${volume.id} is ${volume.status}: only an available volume is attached`,
        field,
        'state',
      );
    }
    hosts.add(volume.hostId);
    await setVolumeStatus(m, volume.id, ['available'], 'attaching', {
      attachment: {
        instanceId,
        path: r.path ?? null,
        serial: r.serial ?? defaultSerial(volume.id),
        deleteOnTermination: r.deleteOnTermination ?? false,
      },
    });
  }
  const [hostId, ...others] = [...hosts];
  if (others.length > 0) {
    throw BerthError.conflict('the volumes live on different hosts: an instance is built on one', 'volumes', 'host');
  }
  return hostId ? { hostId, ids: requests.map((r) => r.volume) } : null;
}
