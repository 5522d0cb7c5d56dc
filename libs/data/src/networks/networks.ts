import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** A network's address plan, as its row keeps it. */
export interface NetworkPlanRow {
  cidr: string;
  gateway: string;
  allocationStart: string;
  allocationEnd: string;
}

/**
 * The network's plan, its row locked until the transaction ends: every transaction that picks addresses on it
 * takes this lock first, so two never pick the same one.
 */
export function lockNetworkPlan(m: EntityManager, networkId: string): Promise<NetworkPlanRow | null> {
  return one<NetworkPlanRow>(
    m,
    `SELECT cidr::text AS cidr, host(gateway) AS gateway, host(allocation_start) AS "allocationStart",
            host(allocation_end) AS "allocationEnd"
       FROM networks WHERE id = $1 FOR UPDATE`,
    [networkId],
  );
}

/** The addresses the network's ports hold. */
export async function usedAddresses(m: EntityManager, networkId: string): Promise<string[]> {
  const used = await rows<{ ip: string }>(m, 'SELECT host(ip) AS ip FROM ports WHERE network_id = $1', [networkId]);
  return used.map((u) => u.ip);
}
