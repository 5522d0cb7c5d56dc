import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** A network's address plan (its subnet), as its row keeps it. */
export interface NetworkPlanRow {
  cidr: string;
  gateway: string;
  allocationStart: string;
  allocationEnd: string;
}

/**
 * The network's plan, its row locked until the transaction ends: every transaction that picks addresses on it
 * takes this lock first, so two never pick the same one. Null fields: the network has no subnet yet.
 */
export function lockNetworkPlan(m: EntityManager, networkId: string): Promise<Nullable<NetworkPlanRow> | null> {
  return one<Nullable<NetworkPlanRow>>(
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

type Nullable<T> = { [K in keyof T]: T[K] | null };

/** The row's address plan, or null before the network has its subnet. */
export function planOf(row: Nullable<NetworkPlanRow>): NetworkPlanRow | null {
  const { cidr, gateway, allocationStart, allocationEnd } = row;
  return cidr !== null && gateway !== null && allocationStart !== null && allocationEnd !== null
    ? { cidr, gateway, allocationStart, allocationEnd }
    : null;
}

/** A network as operators see it, with how many of its addresses ports hold; its plan null before its subnet. */
export interface NetworkRow extends Nullable<NetworkPlanRow> {
  id: string;
  name: string;
  vlan: number;
  /** The subnet's own name (Neutron's); null: the network's. */
  subnetName: string | null;
  ipsUsed: number;
  createdAt: Date;
}

const NETWORK_COLUMNS = `
  n.id, n.name, n.vlan, n.cidr::text AS cidr, host(n.gateway) AS gateway,
  host(n.allocation_start) AS "allocationStart", host(n.allocation_end) AS "allocationEnd",
  (SELECT count(*)::int FROM ports p WHERE p.network_id = n.id) AS "ipsUsed", n.created_at AS "createdAt",
  n.subnet_name AS "subnetName"`;

export interface NewNetwork {
  name: string;
  vlan: number;
  /** Null: a network whose subnet comes later (setNetworkPlan). */
  plan: NetworkPlanRow | null;
}

export async function insertNetwork(m: EntityManager, n: NewNetwork): Promise<NetworkRow> {
  const [row] = await rows<NetworkRow>(
    m,
    `WITH n AS (
       INSERT INTO networks (name, vlan, cidr, gateway, allocation_start, allocation_end)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
     SELECT ${NETWORK_COLUMNS} FROM n`,
    [n.name, n.vlan, n.plan?.cidr, n.plan?.gateway, n.plan?.allocationStart, n.plan?.allocationEnd],
  );
  if (!row) throw new Error('insert into networks returned no row');
  return row;
}

/**
 * Gives the network its subnet (with a name of its own, or null for the network's), or takes it away (null); the
 * caller holds the row's lock and knows it has no ports.
 */
export async function setNetworkPlan(
  m: EntityManager,
  id: string,
  plan: NetworkPlanRow | null,
  subnetName: string | null = null,
): Promise<NetworkRow> {
  const [row] = await rows<NetworkRow>(
    m,
    `WITH n AS (
       UPDATE networks SET cidr = $2, gateway = $3, allocation_start = $4, allocation_end = $5, subnet_name = $6
        WHERE id = $1
       RETURNING *)
     SELECT ${NETWORK_COLUMNS} FROM n`,
    [id, plan?.cidr, plan?.gateway, plan?.allocationStart, plan?.allocationEnd, plan ? subnetName : null],
  );
  if (!row) throw new Error(`network ${id} is gone`);
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
