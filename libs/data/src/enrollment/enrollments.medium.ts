import type { DataSource, EntityManager } from 'typeorm';
import { insertOperation } from '../operations/operations';
import { aHost } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  cloudSecret,
  endEnrollment,
  hostUpByName,
  insertCloudSecret,
  insertEnrollment,
  pendingEnrollment,
  pinHostKey,
  setHostZone,
} from './enrollments';

/** Enrollment rows against real PostgreSQL: pending until ended, the first host key and the first secret kept. */
describe('enrollments (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('enrollments');
    ds = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reads an enrollment back while pending, with the host key known at its address, and not once ended', async () => {
    const operationId = await tx((m) =>
      insertOperation(
        m,
        { projectId: null, userId: null, requestId: null },
        { action: 'host.enroll', targetType: 'host', targetId: null },
      ),
    );
    const id = await tx((m) =>
      insertEnrollment(m, {
        operationId,
        name: 'rows-host',
        address: '192.0.2.60',
        port: 2222,
        username: 'berth',
        privateKeySealed: 'v1.sealed',
        drivers: ['container', 'vm'],
        zone: null,
        hostKeyFingerprint: 'SHA256:expected',
      }),
    );
    expect(await pendingEnrollment(ds.manager, id)).toMatchObject({
      sealed: 'v1.sealed',
      known: null,
      port: 2222,
      drivers: ['container', 'vm'],
    });
    await pinHostKey(ds.manager, '192.0.2.60', 2222, 'SHA256:first');
    await pinHostKey(ds.manager, '192.0.2.60', 2222, 'SHA256:other');
    await pinHostKey(ds.manager, '192.0.2.60', 22, 'SHA256:another-port');
    expect((await pendingEnrollment(ds.manager, id))?.known).toBe('SHA256:first');
    await tx((m) => endEnrollment(m, id, 'failed', 'SHA256:first'));
    expect(await pendingEnrollment(ds.manager, id)).toBeNull();
  });

  it('keeps the first secret of a name, and zones a host that joined only when asked to', async () => {
    await insertCloudSecret(ds.manager, { name: 'k', sealed: 'v1.a', public: 'pub-a' });
    await insertCloudSecret(ds.manager, { name: 'k', sealed: 'v1.b', public: 'pub-b' });
    expect(await cloudSecret(ds.manager, 'k')).toEqual({ sealed: 'v1.a', public: 'pub-a' });
    expect(await cloudSecret(ds.manager, 'none')).toBeNull();
    const hostId = await aHost(ds, 'zoned-host');
    expect(await hostUpByName(ds.manager, 'zoned-host', 60)).toBe(true);
    expect(await hostUpByName(ds.manager, 'no-such-host', 60)).toBe(false);
    expect(await tx((m) => setHostZone(m, 'zoned-host', 'rack-1'))).toBe(hostId);
    expect(await tx((m) => setHostZone(m, 'zoned-host', null))).toBe(hostId);
    expect(await ds.query('SELECT zone FROM hosts WHERE id = $1', [hostId])).toEqual([{ zone: 'rack-1' }]);
    expect(await tx((m) => setHostZone(m, 'no-such-host', 'rack-1'))).toBeNull();
  });
});
