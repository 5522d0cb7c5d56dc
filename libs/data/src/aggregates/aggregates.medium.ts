import type { DataSource, EntityManager } from 'typeorm';
import { hostCapacityRows } from '../metrics/counts';
import { aHost } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  aggregateRow,
  aggregateRows,
  deleteAggregate,
  insertAggregate,
  setAggregateHosts,
  setAggregateMetadata,
} from './aggregates';

/** Host aggregates against real PostgreSQL, and the host capacity rows the gauges read. */
describe('aggregates (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('aggregates');
    ds = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("keeps an aggregate's hosts exactly as set, its metadata replaced whole, and its hosts when it goes", async () => {
    const a = await aHost(ds, 'agg-a');
    const b = await aHost(ds, 'agg-b');
    const id = await tx((m) => insertAggregate(m, { name: 'ssd', metadata: { disk: 'ssd' } }));
    await tx((m) => setAggregateHosts(m, id, [b, a, a]));
    expect(await aggregateRow(ds.manager, id)).toMatchObject({
      name: 'ssd',
      metadata: { disk: 'ssd' },
      hosts: ['agg-a', 'agg-b'],
    });
    await tx((m) => setAggregateHosts(m, id, [b]));
    await tx((m) => setAggregateMetadata(m, id, { tier: 'gold' }));
    expect(await aggregateRow(ds.manager, id)).toMatchObject({ metadata: { tier: 'gold' }, hosts: ['agg-b'] });
    expect((await aggregateRows(ds.manager)).map((r) => r.name)).toEqual(['ssd']);
    expect(await tx((m) => deleteAggregate(m, id))).toBe(true);
    expect(await aggregateRow(ds.manager, id)).toBeNull();
    expect((await hostCapacityRows(ds.manager)).map((h) => h.name)).toEqual(expect.arrayContaining(['agg-a', 'agg-b']));
  });
});
