import type { EntityManager } from 'typeorm';
import { AggregateEntity, HostEntity } from '../entities/host.entity';
import { deleteEntity, insertEntity } from '../entities/rows';
import { rows } from '../sql';

/** A host aggregate: its metadata and its member hosts' names. */
export interface AggregateRow {
  id: string;
  name: string;
  metadata: Record<string, string>;
  hosts: string[];
  createdAt: Date;
}

const AGGREGATE_SQL = `
  SELECT a.id, a.name, a.metadata, a.created_at AS "createdAt",
         coalesce((SELECT array_agg(h.name ORDER BY h.name) FROM aggregate_hosts ah JOIN hosts h ON h.id = ah.host_id
                    WHERE ah.aggregate_id = a.id), '{}') AS hosts
    FROM aggregates a`;

export function aggregateRows(m: EntityManager): Promise<AggregateRow[]> {
  return rows<AggregateRow>(m, `${AGGREGATE_SQL} ORDER BY a.name`);
}

export async function aggregateRow(m: EntityManager, id: string): Promise<AggregateRow | null> {
  const [found] = await rows<AggregateRow>(m, `${AGGREGATE_SQL} WHERE a.id = $1`, [id]);
  return found ?? null;
}

/** The aggregate's members are exactly these hosts. */
export async function setAggregateHosts(
  m: EntityManager,
  aggregateId: string,
  hostIds: readonly string[],
): Promise<void> {
  await m.query('DELETE FROM aggregate_hosts WHERE aggregate_id = $1', [aggregateId]);
  if (hostIds.length > 0) {
    await m.query(
      'INSERT INTO aggregate_hosts (aggregate_id, host_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING',
      [aggregateId, [...new Set(hostIds)]],
    );
  }
}

/** A new aggregate without hosts; returns its id. */
export async function insertAggregate(
  m: EntityManager,
  aggregate: { name: string; metadata: Record<string, string> },
): Promise<string> {
  return (await insertEntity(m, AggregateEntity, aggregate)).id;
}

/** Replaces the aggregate's metadata whole. */
export async function setAggregateMetadata(
  m: EntityManager,
  id: string,
  metadata: Record<string, string>,
): Promise<void> {
  await m.getRepository(AggregateEntity).update({ id }, { metadata });
}

/** Deletes the aggregate; its hosts stay. False when there was none. */
export function deleteAggregate(m: EntityManager, id: string): Promise<boolean> {
  return deleteEntity(m, AggregateEntity, id);
}

/** Every host's id and name, to resolve references to them. */
export function hostNames(m: EntityManager): Promise<Array<{ id: string; name: string }>> {
  return m.getRepository(HostEntity).find({ select: { id: true, name: true } });
}
