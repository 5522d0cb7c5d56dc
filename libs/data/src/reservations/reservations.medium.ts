import type { DataSource, EntityManager } from 'typeorm';
import { claimOnHost } from '../placement/allocations';
import { aHost, aProject, TINY_FLAVOR } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import {
  expiredReservations,
  insertReservation,
  lockActiveReservation,
  reservation,
  reservations,
  setReservationReleased,
} from './reservations';

/** Capacity reservations against real PostgreSQL: who sees them, their free slots, release and expiry. */
describe('reservations (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;
  let otherProject: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('reservations');
    ds = db.dataSource;
    projectId = await aProject(ds, 'reservations-tenant');
    otherProject = await aProject(ds, 'reservations-other');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('shows a reservation to its project and, made for any, to all, with its free slots; releases it and finds expired ones', async () => {
    const flavor = TINY_FLAVOR;
    const window = { startsAt: new Date(Date.now() - 3_600_000), endsAt: new Date(Date.now() - 1000) };
    const own = await tx((m) =>
      insertReservation(m, { projectId, flavor, kind: 'container', count: 2, zone: null, ...window }),
    );
    const any = await tx((m) =>
      insertReservation(m, {
        projectId: null,
        flavor,
        kind: 'container',
        count: 1,
        zone: null,
        startsAt: window.startsAt,
        endsAt: new Date(Date.now() + 3_600_000),
      }),
    );
    expect(await reservation(ds.manager, own, projectId)).toMatchObject({ count: 2, status: 'active', free: [] });
    expect(await reservation(ds.manager, own, otherProject)).toBeNull();
    expect((await reservations(ds.manager, otherProject)).map((r) => r.id)).toEqual([any]);
    expect(await expiredReservations(ds.manager)).toEqual([own]);
    expect(await tx((m) => lockActiveReservation(m, own))).toEqual({ projectId });
    await tx((m) => setReservationReleased(m, own));
    expect(await tx((m) => lockActiveReservation(m, own))).toBeNull();
    expect(await expiredReservations(ds.manager)).toEqual([]);
    // A slot claimed for the reservation shows as free room on its host until an instance draws it.
    const hostId = await aHost(ds, 'slot-host');
    const size = { vcpus: 1, pcpus: 0, ramMb: 64, diskGb: 1, pids: 0 };
    expect(
      await tx((m) =>
        claimOnHost(m, { reservationId: any }, hostId, size, { maxInstancesPerHost: 10, downAfterSec: 60 }),
      ),
    ).toEqual([]);
    expect((await reservation(ds.manager, any, projectId))?.free).toEqual([{ host: 'slot-host', slots: 1 }]);
  });
});
