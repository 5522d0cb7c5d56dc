import {
  computeQueue,
  CONTRACT_VERSION,
  jobId,
  type Fault,
  type PlaceVolumeJob,
  type VolumeCommand,
  type VolumeResult,
} from '@berth/contracts';
import {
  claimVolumeOnHost,
  deleteVolumeRow,
  enqueue,
  finishOperation,
  recordStep,
  releaseAllocations,
  resizeVolumeAllocation,
  setVolumeStatus,
  volumeHosts,
  volumeRow,
} from '@berth/data';
import { explainNoValidHost, mainRefusal, volumeHostChoice } from '@berth/domain';
import type { DataSource } from 'typeorm';

/**
 * The scheduler's side of volumes: placing a new volume on a host (a claim on the host's disk, then the host's
 * command) and applying what hosts report of their volume commands. Reports come at least once: each is applied
 * with a compare-and-swap on the volume's status, so a repeat changes nothing.
 */
export class VolumeHostWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    private readonly downAfterSec: number,
  ) {}

  /** Claims the volume's disk on the best host that can hold it and sends that host the create; or fails it. */
  place(job: PlaceVolumeJob): Promise<{ host: string | null }> {
    return this.dataSource.transaction(async (m) => {
      const volume = await volumeRow(m, job.volumeId, null, true);
      if (volume?.status !== 'creating' || volume.hostId) return { host: volume?.hostName ?? null };
      const want = { backend: job.volume.backend, sizeGb: job.volume.sizeGb, zone: job.zone };
      const { candidates, rejected } = volumeHostChoice(await volumeHosts(m, this.downAfterSec, job.hostId), want);
      for (const host of candidates) {
        if (!(await claimVolumeOnHost(m, volume.id, host.id, job.volume, this.downAfterSec))) {
          rejected.push({
            host: host.name,
            filter: 'Claim',
            code: 'race',
            reason: 'another request took the room first',
          });
          continue;
        }
        await setVolumeStatus(m, volume.id, ['creating'], 'creating', { hostId: host.id });
        await recordStep(m, job.operationId, 'schedule', new Date().toISOString(), `on host ${host.name}`);
        const command: VolumeCommand = {
          v: CONTRACT_VERSION,
          type: 'volume.create',
          operationId: job.operationId,
          volume: job.volume,
        };
        await enqueue(m, {
          queue: computeQueue(host.name),
          name: command.type,
          jobId: jobId(job.operationId, command.type),
          payload: command,
        });
        return { host: host.name };
      }
      const fault: Fault = {
        step: 'schedule',
        message: explainNoValidHost(rejected),
        reason: mainRefusal(rejected),
        at: new Date().toISOString(),
      };
      await setVolumeStatus(m, volume.id, ['creating'], 'error', { fault });
      await finishOperation(m, job.operationId, fault);
      return { host: null };
    });
  }

  /**
   * A host's answer to a volume command. create: available, or error with its claim given back (the host left
   * nothing of it). extend: the new size, or the old one with its growth given back. delete: the record and its claim
   * go, or the volume is available again (its data untouched) with the fault.
   */
  async result(report: VolumeResult): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const volume = await volumeRow(m, report.volumeId, null, true);
      const fault = report.fault ?? null;
      if (volume) {
        switch (report.command) {
          case 'volume.create':
            if (await setVolumeStatus(m, volume.id, ['creating'], fault ? 'error' : 'available', { fault })) {
              if (fault) await releaseAllocations(m, { volumeId: volume.id });
            }
            break;
          case 'volume.extend': {
            const to = volume.pendingSizeGb ?? volume.sizeGb;
            const done = await setVolumeStatus(m, volume.id, ['extending'], 'available', {
              fault,
              pendingSizeGb: null,
              ...(fault ? {} : { sizeGb: to }),
            });
            if (done && fault && volume.hostId) {
              await resizeVolumeAllocation(m, volume.id, volume.hostId, volume.sizeGb - to, this.downAfterSec);
            }
            break;
          }
          case 'volume.attach':
            await setVolumeStatus(m, volume.id, ['attaching'], fault ? 'available' : 'in-use', {
              fault,
              ...(fault ? { attachment: null } : {}),
            });
            break;
          case 'volume.detach':
            await setVolumeStatus(m, volume.id, ['detaching'], fault ? 'in-use' : 'available', {
              fault,
              ...(fault ? {} : { attachment: null }),
            });
            break;
          case 'volume.delete':
            if (volume.status !== 'deleting') break;
            if (fault) {
              await setVolumeStatus(m, volume.id, ['deleting'], 'available', { fault });
            } else {
              await releaseAllocations(m, { volumeId: volume.id });
              await deleteVolumeRow(m, volume.id);
            }
            break;
        }
      }
      await finishOperation(m, report.operationId, fault);
    });
  }
}
