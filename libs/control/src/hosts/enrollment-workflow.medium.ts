import { SecretBox } from '@berth/platform';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { one, operationRow, takeOutboxBatch } from '@berth/data';
import { aHost, freshDatabase, type FreshDatabase } from '@berth/data/testing';
import { EnrollmentWorkflow, type EnrollmentRequest } from './enrollment-workflow';

/** The enrollment workflow against real PostgreSQL: the key sealed at rest, the host key pinned, the cloud's key made once. */
describe('EnrollmentWorkflow (real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let store: EnrollmentWorkflow;
  const box = SecretBox.fromBase64(randomBytes(32).toString('base64'));
  const actor = { projectId: null, userId: null, requestId: null };
  const request = (name: string): EnrollmentRequest => ({
    name,
    address: '192.0.2.50',
    port: 22,
    username: 'berth',
    privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n',
    drivers: ['container'],
    zone: 'rack-9',
    hostKeyFingerprint: null,
  });

  beforeAll(async () => {
    db = await freshDatabase('enrollment');
    ds = db.dataSource;
    store = new EnrollmentWorkflow(ds, 60);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stores the private key sealed, queues the job, and opens the key for the scheduler with the pinned host key', async () => {
    const { enrollmentId, operationId } = await store.request(request('enroll-a'), actor, box);
    const stored = await one<{ sealed: string }>(
      ds.manager,
      'SELECT private_key_sealed AS sealed FROM host_enrollments WHERE id = $1',
      [enrollmentId],
    );
    expect(stored?.sealed).not.toContain('not-a-real-key');
    const jobs = await ds.transaction((m) => takeOutboxBatch(m, 10));
    expect(jobs.map((j) => [j.jobName, j.payload])).toEqual([
      ['host.enroll', expect.objectContaining({ enrollmentId, operationId })],
    ]);
    expect(JSON.stringify(jobs)).not.toContain('not-a-real-key');
    await store.pin('192.0.2.50', 22, 'SHA256:first');
    await store.pin('192.0.2.50', 22, 'SHA256:second');
    const loaded = await store.load(enrollmentId, box);
    expect(loaded).toMatchObject({ name: 'enroll-a', pinned: 'SHA256:first', privateKey: request('x').privateKey });
  });

  it('refuses to enroll a name whose host is up, and finishes an enrollment onto the host that joined', async () => {
    const hostId = await aHost(ds, 'enroll-b');
    await expect(store.request(request('enroll-b'), actor, box)).rejects.toMatchObject({ code: 'conflict' });
    await ds.query(`UPDATE hosts SET last_heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [hostId]);
    const { enrollmentId, operationId } = await store.request(request('enroll-b'), actor, box);
    const since = new Date(Date.now() - 1000);
    expect(await store.heartbeatSince('enroll-b', since)).toBe(false);
    await ds.query(`UPDATE hosts SET last_heartbeat_at = now() WHERE id = $1`, [hostId]);
    expect(await store.heartbeatSince('enroll-b', since)).toBe(true);
    await store.finish((await store.load(enrollmentId, box))!, 'SHA256:b', null);
    expect(await store.load(enrollmentId, box)).toBeNull();
    expect(await operationRow(ds.manager, operationId, null)).toMatchObject({ status: 'succeeded', targetId: hostId });
    expect(await one(ds.manager, 'SELECT zone FROM hosts WHERE id = $1', [hostId])).toEqual({ zone: 'rack-9' });
  });

  it("makes the cloud's migration key once and gives every caller the stored one", async () => {
    let made = 0;
    const generate = () => ({ privateKey: `private-${++made}`, publicKey: `public-${made}` });
    const [a, b] = await Promise.all([store.migrationKey(box, generate), store.migrationKey(box, generate)]);
    expect(a).toEqual(b);
    expect(await store.migrationKey(box, generate)).toEqual(a);
  });
});
