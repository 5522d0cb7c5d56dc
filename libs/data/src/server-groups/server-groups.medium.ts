import type { DataSource, EntityManager } from 'typeorm';
import { instanceCounts } from '../metrics/counts';
import { aHost, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { deleteServerGroup, insertServerGroup, serverGroupRow, serverGroupRows } from './server-groups';

/** Server groups against real PostgreSQL, and the instance counts the gauges read. */
describe('server groups (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;
  let otherProject: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('server_groups');
    ds = db.dataSource;
    projectId = await aProject(ds, 'server_groups-tenant');
    otherProject = await aProject(ds, 'server_groups-other');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lists a server group with its live members and their hosts; a deleted group leaves its members be', async () => {
    const hostId = await aHost(ds, 'group-host');
    const id = await tx((m) => insertServerGroup(m, { name: 'web', policy: 'anti-affinity', projectId }));
    const { instanceId } = await anInstance(ds, { projectId, hostId, name: 'web-1' });
    await ds.query('UPDATE instances SET server_group_id = $2 WHERE id = $1', [instanceId, id]);
    expect(await serverGroupRow(ds.manager, id, projectId)).toMatchObject({
      policy: 'anti-affinity',
      members: [{ id: instanceId, name: 'web-1', host: 'group-host' }],
    });
    expect(await serverGroupRow(ds.manager, id, otherProject)).toBeNull();
    expect((await serverGroupRows(ds.manager, otherProject)).map((g) => g.id)).not.toContain(id);
    expect(await tx((m) => deleteServerGroup(m, id))).toBe(true);
    const counts = await instanceCounts(ds.manager);
    expect(counts.find((c) => c.status === 'ACTIVE' && c.kind === 'container')?.n).toBeGreaterThanOrEqual(1);
  });
});
