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

/** A network as operators see it, with how many of its addresses ports hold. */
export interface NetworkRow {
  id: string;
  name: string;
  vlan: number;
  cidr: string;
  gateway: string;
  allocationStart: string;
  allocationEnd: string;
  ipsUsed: number;
  createdAt: Date;
}

const NETWORK_COLUMNS = `
  n.id, n.name, n.vlan, n.cidr::text AS cidr, host(n.gateway) AS gateway,
  host(n.allocation_start) AS "allocationStart", host(n.allocation_end) AS "allocationEnd",
  (SELECT count(*)::int FROM ports p WHERE p.network_id = n.id) AS "ipsUsed", n.created_at AS "createdAt"`;

export interface NewNetwork {
  name: string;
  vlan: number;
  cidr: string;
  gateway: string;
  allocationStart: string;
  allocationEnd: string;
}

export async function insertNetwork(m: EntityManager, n: NewNetwork): Promise<NetworkRow> {
  const [row] = await rows<NetworkRow>(
    m,
    `WITH n AS (
       INSERT INTO networks (name, vlan, cidr, gateway, allocation_start, allocation_end)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
     SELECT ${NETWORK_COLUMNS} FROM n`,
    [n.name, n.vlan, n.cidr, n.gateway, n.allocationStart, n.allocationEnd],
  );
  if (!row) throw new Error('insert into networks returned no row');
  return row;
}

export function networkRows(m: EntityManager): Promise<NetworkRow[]> {
  return rows<NetworkRow>(m, `SELECT ${NETWORK_COLUMNS} FROM networks n ORDER BY n.name`);
}

export function networkRow(m: EntityManager, id: string): Promise<NetworkRow | null> {
  return one<NetworkRow>(m, `SELECT ${NETWORK_COLUMNS} FROM networks n WHERE n.id = $1`, [id]);
}

/** The network's port count, its row locked; null when it does not exist. */
export async function lockNetworkPorts(m: EntityManager, id: string): Promise<number | null> {
  const row = await one<{ ports: number }>(
    m,
    `SELECT (SELECT count(*)::int FROM ports WHERE network_id = $1) AS ports FROM networks WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return row?.ports ?? null;
}

export async function deleteNetwork(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM networks WHERE id = $1', [id]);
}
