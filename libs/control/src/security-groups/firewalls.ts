import { CONTRACT_VERSION, computeQueue, PORT_FIREWALL, type PortFirewallCommand } from '@berth/contracts';
import { enqueue, markFirewalls, placedInstances, placingAmong, takeFirewallMarks } from '@berth/data';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { specOf } from '../specs/instance-spec';

/**
 * Sends the firewalls of every marked instance of one project and unmarks them. The marks are taken with SKIP
 * LOCKED, so a refresh never waits on a change (a change marking the same rows meanwhile keeps its marks for the
 * next refresh, after this one commits: the later firewall always leaves later). Instances a marked group names
 * that are not placed yet are marked for later in a transaction of their own, which holds nothing else. Returns
 * how many firewalls it sent.
 */
export async function refreshFirewalls(dataSource: DataSource, projectId: string): Promise<number> {
  const { sent, waiting } = await dataSource.transaction(async (m) => {
    const all = await takeFirewallMarks(m, projectId);
    // An instance still being placed waits: its host gets the firewall after the build command.
    return { sent: await sendFirewalls(m, all), waiting: await placingAmong(m, all) };
  });
  if (waiting.length > 0) await dataSource.transaction((m) => markFirewalls(m, waiting));
  return sent;
}

/**
 * Sends each instance's host its port's firewall as the database now holds it, in this transaction's
 * outbox (so it leaves only if the change commits). Instances without a host (not placed yet, or deleted)
 * get theirs with the command that starts them.
 */
export async function sendFirewalls(m: EntityManager, instanceIds: readonly string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  const records = await placedInstances(m, instanceIds);
  await enqueue(
    m,
    ...records.map((record) => {
      const command: PortFirewallCommand = { v: CONTRACT_VERSION, type: 'port.firewall', instance: specOf(record) };
      return {
        queue: computeQueue(record.hostName ?? ''),
        name: PORT_FIREWALL,
        jobId: `firewall.${record.id}.${randomUUID()}`,
        payload: command,
      };
    }),
  );
  return records.length;
}
