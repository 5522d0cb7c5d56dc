import type { Fault } from '@berth/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { insertOperation } from '../operations/operations';
import { claimOnHost, handClaimToMigration, migrationClaimPins, takeClaimBack } from '../placement/allocations';
import { one } from '../sql';
import { aHost, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  awaitingConfirmSince,
  insertMigration,
  lockActiveMigrationsOn,
  lockEvacuatedFrom,
  lockMigration,
  lockOpenMigration,
  migrationsOf,
  setMigrationFault,
  setMigrationStatus,
  setMigrationTarget,
  setPendingStep,
} from './moves';

/** The moves repository against real PostgreSQL: what each statement writes, read back from the table itself. */
describe('moves (instance_migrations rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let source: string;
  let target: string;
  let projectId: string;

  const fault = (step: string): Fault => ({ step, message: `${step} broke`, at: new Date().toISOString() });
  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  /** An instance on the source host, with its create operation; returns both ids. */
  async function instance(): Promise<{ instanceId: string; operationId: string }> {
    const { instanceId } = await anInstance(ds, { projectId, name: 'mover', hostId: source });
    const operationId = await tx((m) =>
      insertOperation(
        m,
        { projectId, userId: null, requestId: null },
        { action: 'instance.migrate', targetType: 'instance', targetId: instanceId },
      ),
    );
    return { instanceId, operationId };
  }

  async function migration(instanceId: string, operationId: string): Promise<string> {
    return tx((m) =>
      insertMigration(m, {
        instanceId,
        operationId,
        sourceHostId: source,
        requestedHost: null,
        wasRunning: true,
        parentOperationId: null,
        autoConfirm: false,
        kind: 'migration',
        lost: null,
        resize: null,
      }),
    );
  }

  beforeAll(async () => {
    db = await freshDatabase('moves');
    ds = db.dataSource;
    source = await aHost(ds, 'mv-source');
    target = await aHost(ds, 'mv-target');
    projectId = await aProject(ds, 'movers');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('records a queued move and reads it back with both hosts named, newest first per instance', async () => {
    const { instanceId, operationId } = await instance();
    const first = await migration(instanceId, operationId);
    await tx((m) => setMigrationStatus(m, first, 'reverted'));
    const second = await migration(instanceId, operationId);
    await tx((m) =>
      setMigrationTarget(m, second, {
        hostId: target,
        pinnedCpus: [7],
        snapshotRef: 'reg/snap:1',
        status: 'pre-migrating',
      }),
    );
    const listed = await migrationsOf(ds.manager, instanceId);
    expect(listed.map((r) => r.id)).toEqual([second, first]);
    expect(listed[0]).toMatchObject({
      status: 'pre-migrating',
      sourceHost: 'mv-source',
      targetHost: 'mv-target',
      targetPinnedCpus: [7],
      snapshotRef: 'reg/snap:1',
      wasRunning: true,
    });
    // Only the move that has not ended is the instance's open one; a lock by status misses any other.
    expect((await tx((m) => lockOpenMigration(m, instanceId)))?.id).toBe(second);
    expect(await tx((m) => lockMigration(m, second, 'queued'))).toBeNull();
    expect((await tx((m) => lockMigration(m, second, 'pre-migrating')))?.id).toBe(second);
  });

  it('keeps the first fault of a move when asked to, and replaces it otherwise; no fault leaves it', async () => {
    const { instanceId, operationId } = await instance();
    const id = await migration(instanceId, operationId);
    await tx((m) => setMigrationFault(m, id, 'reverting', fault('migration.fetch')));
    await tx((m) => setMigrationFault(m, id, 'error', fault('migration.restore'), 'keep-first'));
    expect((await tx((m) => lockMigration(m, id)))?.fault?.step).toBe('migration.fetch');
    expect((await tx((m) => lockMigration(m, id)))?.failedStep).toBe('migration.fetch');
    await tx((m) => setMigrationFault(m, id, 'reverting', null));
    expect(await tx((m) => lockMigration(m, id))).toMatchObject({ status: 'reverting', failedStep: 'migration.fetch' });
    await tx((m) => setMigrationFault(m, id, 'error', fault('migration.drop')));
    expect(await tx((m) => lockMigration(m, id))).toMatchObject({ status: 'error', failedStep: 'migration.drop' });
  });

  it('records the step sent and to which side, and finds moves awaiting confirmation only once due', async () => {
    const { instanceId, operationId } = await instance();
    const id = await migration(instanceId, operationId);
    await tx((m) => setPendingStep(m, id, { command: 'migration.drop', on: 'source', operationId }));
    expect(await tx((m) => lockMigration(m, id))).toMatchObject({
      pendingCommand: 'migration.drop',
      pendingOn: 'source',
      pendingOperationId: operationId,
    });
    await tx((m) => setMigrationStatus(m, id, 'finished'));
    expect(await awaitingConfirmSince(ds.manager, 3600)).not.toContain(instanceId);
    expect(await awaitingConfirmSince(ds.manager, 0)).toContain(instanceId);
  });

  it('finds the evacuations a host still holds copies of, and the running moves a host takes part in, with its side', async () => {
    const { instanceId, operationId } = await instance();
    const id = await migration(instanceId, operationId);
    await tx((m) =>
      setMigrationTarget(m, id, { hostId: target, pinnedCpus: [], snapshotRef: null, status: 'migrating' }),
    );
    const onSource = await tx((m) => lockActiveMigrationsOn(m, 'mv-source', [id]));
    const onTarget = await tx((m) => lockActiveMigrationsOn(m, 'mv-target', [id]));
    expect(onSource.map((r) => [r.id, r.role])).toEqual([[id, 'source']]);
    expect(onTarget.map((r) => [r.id, r.role])).toEqual([[id, 'target']]);
    expect(await tx((m) => lockActiveMigrationsOn(m, 'mv-source', []))).toEqual([]);
    await tx((m) =>
      m.query(`UPDATE instance_migrations SET kind = 'evacuation', status = 'evacuated' WHERE id = $1`, [id]),
    );
    const evacuated = await tx((m) => lockEvacuatedFrom(m, 'mv-source'));
    expect(evacuated.map((r) => [r.id, r.instanceKind])).toEqual([[id, 'container']]);
    expect(await tx((m) => lockEvacuatedFrom(m, 'mv-target'))).toEqual([]);
  });

  it("hands the source's claim to the move and back, pinned CPUs and the host's counters with it", async () => {
    const { instanceId, operationId } = await instance();
    const id = await migration(instanceId, operationId);
    const size = { vcpus: 0, pcpus: 1, ramMb: 64, diskGb: 1, pids: 0 };
    const pinned = await tx((m) =>
      claimOnHost(m, { instanceId }, source, size, { maxInstancesPerHost: 100, downAfterSec: 60 }),
    );
    expect(pinned).toHaveLength(1);
    const used = async () =>
      (await one<{ pcpus: number }>(ds.manager, 'SELECT used_pcpus AS pcpus FROM hosts WHERE id = $1', [source]))!
        .pcpus;
    const before = await used();
    await tx((m) => handClaimToMigration(m, instanceId, source, id));
    expect(await migrationClaimPins(ds.manager, id)).toEqual(pinned);
    expect(await used()).toBe(before);
    expect(await tx((m) => takeClaimBack(m, id, instanceId))).toEqual(pinned);
    expect(await migrationClaimPins(ds.manager, id)).toBeNull();
    expect(await used()).toBe(before);
  });
});
