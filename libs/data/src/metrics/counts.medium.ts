import type { DataSource } from 'typeorm';
import { finishOperation, insertOperation } from '../operations/operations';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { refusedPlacements } from './counts';

/** The overview's count of refused placements, by the reason each fault recorded, against real PostgreSQL. */
describe('refused placements (real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await freshDatabase('refusals');
    ds = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const failed = (step: string, reason?: string, at = new Date()) =>
    ds.transaction(async (m) => {
      const id = await insertOperation(
        m,
        { projectId: null, userId: null, requestId: null },
        { action: 'instance.create', targetType: 'instance', targetId: null },
      );
      await finishOperation(m, id, {
        step,
        message: 'No valid host: …',
        at: at.toISOString(),
        ...(reason ? { reason } : {}),
      });
    });

  it('counts schedule faults since a time by their reason, most first, and nothing else', async () => {
    const since = new Date(Date.now() - 60_000);
    for (const reason of ['Capacity', 'Capacity', 'ComputeEnabled', 'Capacity']) await failed('schedule', reason);
    await failed('schedule');
    // Not a refused placement: a build that failed on its host, and a refusal older than the window.
    await failed('build', 'Capacity');
    await failed('schedule', 'Capacity', new Date(Date.now() - 3_600_000));
    expect(await refusedPlacements(ds.manager, since)).toEqual({
      total: 5,
      byReason: [
        { reason: 'Capacity', count: 3 },
        { reason: 'ComputeEnabled', count: 1 },
        { reason: 'Other', count: 1 },
      ],
    });
  });
});
