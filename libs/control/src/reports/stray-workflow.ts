import { CONTRACT_VERSION, computeQueue, HOST_PURGE, type AgentReport, type HostPurgeCommand } from '@berth/contracts';
import { isUuid } from '@berth/domain';
import type { DataSource } from 'typeorm';
import { enqueue, lockHostByName, rememberStrays, takeStraysDue, unownedAmong } from '@berth/data';

type PowerStates = Extract<AgentReport, { type: 'host.power-states' }>;

/** What a host's power sync showed of strays: first seen now, and sent for removal now. */
export interface StrayVerdict {
  found: string[];
  purged: string[];
}

/**
 * Workloads and port leftovers on a host that no record owns: an instance deleted or never known,
 * or one whose build was given up (no host recorded). One recorded on another host is left alone,
 * and so is one in an open migration or evacuation (those end by their own steps). Each stray is
 * remembered from when it was first seen; after `graceSec` the host is told to remove it.
 */
export class StrayWorkflow {
  constructor(private readonly dataSource: DataSource) {}

  judge(report: PowerStates, graceSec: number): Promise<StrayVerdict> {
    const busy = new Set(report.busy);
    const seen = [...new Set([...report.instances, ...report.traces].map((i) => i.instanceId))].filter(
      (id) => isUuid(id) && !busy.has(id),
    );
    return this.dataSource.transaction(async (m) => {
      const hostId = await lockHostByName(m, report.host);
      if (!hostId) return { found: [], purged: [] };
      const found = await rememberStrays(m, hostId, await unownedAmong(m, seen));
      if (graceSec <= 0) return { found, purged: [] };
      const purged = await takeStraysDue(m, hostId, graceSec);
      if (purged.length > 0) {
        const command: HostPurgeCommand = { v: CONTRACT_VERSION, type: 'host.purge', instanceIds: purged };
        await enqueue(m, {
          queue: computeQueue(report.host),
          name: HOST_PURGE,
          jobId: `purge.${report.host}.${report.at}`,
          payload: command,
        });
      }
      return { found, purged };
    });
  }
}
