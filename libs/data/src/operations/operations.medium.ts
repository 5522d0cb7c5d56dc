import type { Fault } from '@berth/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { EventStore } from '../events/event-store';
import { aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  addPendingSteps,
  failRunningStep,
  finishOperation,
  finishPullStep,
  insertOperation,
  operationRow,
  operationRows,
  recordStep,
  runningOperationOf,
  staleOperations,
  type Actor,
} from './operations';
import { enqueue, takeOutboxBatch } from './outbox';

/**
 * Operations, the outbox and the event log against real PostgreSQL: steps as hosts report them, finishing once,
 * messages in the order written, and the events the triggers log for each change.
 */
describe('operations, outbox and events (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let actor: Actor;
  let other: Actor;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const target = '33333333-3333-4333-8333-333333333333';
  const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 3, 0, s)).toISOString();
  const start = (action: string, who = actor, targetId: string | null = target) =>
    tx((m) => insertOperation(m, who, { action, targetType: 'instance', targetId }));

  beforeAll(async () => {
    db = await freshDatabase('operations');
    ds = db.dataSource;
    actor = { projectId: await aProject(ds, 'ops-tenant'), userId: null, requestId: 'req-1' };
    other = { projectId: await aProject(ds, 'ops-other'), userId: null, requestId: null };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('records steps as they start, finishes once, and keeps a late step after the end', async () => {
    const id = await start('instance.reboot');
    expect(await runningOperationOf(ds.manager, target)).toBe(id);
    await tx((m) => recordStep(m, id, 'reboot.stop', at(1)));
    await tx((m) => recordStep(m, id, 'reboot.start', at(2), 'on host-a'));
    await tx((m) => finishOperation(m, id, null));
    const done = await operationRow(ds.manager, id, actor.projectId);
    expect(done).toMatchObject({ status: 'succeeded', requestId: 'req-1', fault: null });
    expect(done?.steps.map((s) => [s.name, s.status])).toEqual([
      ['reboot.stop', 'succeeded'],
      ['reboot.start', 'succeeded'],
    ]);
    // A redelivered failure changes nothing; a step reported late is kept, already ended.
    const fault: Fault = { step: 'reboot.start', message: 'late', at: at(9) };
    await tx((m) => finishOperation(m, id, fault));
    await tx((m) => recordStep(m, id, 'reboot.late', at(3)));
    const after = await operationRow(ds.manager, id, null);
    expect(after).toMatchObject({ status: 'succeeded', fault: null });
    expect(after?.steps.at(-1)).toMatchObject({ name: 'reboot.late', status: 'succeeded' });
    expect(await runningOperationOf(ds.manager, target)).toBeNull();
    expect(await operationRow(ds.manager, id, other.projectId)).toBeNull();
  });

  it('finishes a pre-warm when every host answered, failed naming each pull that failed', async () => {
    const id = await start('image.prewarm', actor, null);
    await tx((m) => addPendingSteps(m, id, ['pull h1', 'pull h2'], at(0)));
    await tx((m) => finishPullStep(m, id, 'h1', undefined, at(1)));
    expect((await operationRow(ds.manager, id, null))?.status).toBe('running');
    await tx((m) => finishPullStep(m, id, 'h2', 'manifest unknown', at(2)));
    expect(await operationRow(ds.manager, id, null)).toMatchObject({
      status: 'failed',
      fault: { step: 'pull', message: 'pull h2: manifest unknown' },
    });
  });

  it("fails a running step with the host's fault and goes on; finds what has been idle too long", async () => {
    const id = await start('instance.create');
    await tx((m) => recordStep(m, id, 'build.spawn', at(1)));
    await tx((m) => failRunningStep(m, id, { step: 'build.spawn', message: 'no space', at: at(2) }, 'h1'));
    const row = await operationRow(ds.manager, id, null);
    expect(row?.status).toBe('running');
    expect(row?.steps[0]).toMatchObject({ status: 'failed', detail: 'h1: no space' });
    expect((await staleOperations(ds.manager, 3600)).map((s) => s.id)).not.toContain(id);
    await ds.query(`UPDATE operations SET updated_at = now() - interval '2 hours' WHERE id = $1`, [id]);
    expect((await staleOperations(ds.manager, 3600)).find((s) => s.id === id)).toMatchObject({
      action: 'instance.create',
    });
  });

  it('lists operations newest first within the project, filtered and paged', async () => {
    const first = await start('instance.stop', other);
    const second = await start('instance.start', other);
    const third = await start('instance.stop', other);
    const page = await operationRows(ds.manager, { projectId: other.projectId }, { limit: 2, afterId: null });
    expect(page.map((r) => r.id)).toEqual([third, second]);
    const next = await operationRows(ds.manager, { projectId: other.projectId }, { limit: 2, afterId: second });
    expect(next.map((r) => r.id)).toEqual([first]);
    const stops = await operationRows(
      ds.manager,
      { projectId: other.projectId, action: 'instance.stop' },
      { limit: 10, afterId: null },
    );
    expect(stops.map((r) => r.id)).toEqual([third, first]);
  });

  it('hands outbox messages over in the order written, each once', async () => {
    await tx((m) =>
      enqueue(
        m,
        { queue: 'q1', name: 'a', jobId: 'j1', payload: { n: 1 } },
        { queue: 'q2', name: 'b', jobId: 'j2', payload: { n: 2 } },
      ),
    );
    await tx((m) => enqueue(m, { queue: 'q1', name: 'c', jobId: 'j3', payload: { n: 3 } }));
    const batch = await tx((m) => takeOutboxBatch(m, 2));
    expect(batch.map((r) => r.jobId)).toEqual(['j1', 'j2']);
    expect(batch[0]?.payload).toMatchObject({ n: 1 });
    expect((await tx((m) => takeOutboxBatch(m, 10))).map((r) => r.jobId)).toEqual(['j3']);
    expect(await tx((m) => takeOutboxBatch(m, 10))).toEqual([]);
  });

  it("logs each operation's changes as events in commit order, scoped to its project, and prunes a prefix", async () => {
    const events = new EventStore(ds);
    const head = await events.head();
    const id = await start('instance.pause', actor);
    await tx((m) => finishOperation(m, id, null));
    const mine = await events.after(head, null, { projectId: actor.projectId, resourceId: id, resourceTypes: [] }, 10);
    expect(mine.map((e) => e.type)).toEqual(['operation.created', 'operation.finished']);
    expect(mine[0]!.seq).toBeLessThan(mine[1]!.seq);
    const theirs = await events.after(
      head,
      null,
      { projectId: other.projectId, resourceId: null, resourceTypes: [] },
      10,
    );
    expect(theirs).toEqual([]);
    expect(await events.prune(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(2);
    expect(await events.horizon()).toBe(mine[1]!.seq);
    expect(await events.after(0, null, null, 10)).toEqual([]);
  });
});
