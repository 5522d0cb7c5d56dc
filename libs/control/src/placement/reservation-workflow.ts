import type { InstanceKind } from '@berth/contracts';
import {
  BerthError,
  resourcesOf,
  selectHosts,
  type HostCandidate,
  type PlacementRequest,
  type SchedulerPolicy,
} from '@berth/domain';
import type { DataSource } from 'typeorm';
import {
  type FlavorSpec,
  claimOnHost,
  releaseAllocations,
  type HostLimits,
  loadHostState,
  loadHostStates,
  insertOperation,
  type Actor,
  expiredReservations,
  insertReservation,
  lockActiveReservation,
  reservation,
  reservations,
  setReservationReleased,
  type ReservationRecord,
} from '@berth/data';

export interface NewReservation {
  actor: Actor;
  projectId: string | null;
  flavor: FlavorSpec;
  kind: InstanceKind;
  /** Each slot's pids limit: the flavor's, or the cloud's default. */
  pidsLimit: number;
  count: number;
  zone: string | null;
  startsAt: Date;
  endsAt: Date;
}

/**
 * Reservations hold capacity for a peak: their slots are allocations claimed now, exactly like a
 * build's, so no other request can take them; creates that name the reservation draw from them.
 */
export class ReservationWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: HostLimits,
  ) {}

  /** Claims `count` slots across the hosts the policy prefers, all or none (409 with how many fit). */
  async create(input: NewReservation, policy: SchedulerPolicy): Promise<ReservationRecord> {
    const id = await this.dataSource.transaction(async (m) => {
      const reservationId = await insertReservation(m, input);
      const request: PlacementRequest = {
        kind: input.kind,
        resources: resourcesOf({ ...input.flavor, kind: input.kind, pidsLimit: input.pidsLimit }),
        zone: input.zone,
        extraSpecs: input.flavor.extraSpecs,
        vlan: null,
        imageRef: null,
        group: null,
      };
      let hosts: HostCandidate[] = await loadHostStates(m, this.limits.downAfterSec);
      let claimed = 0;
      let misses = 0;
      while (claimed < input.count && misses < 3 * input.count + 10) {
        const { chosen } = selectHosts(request, hosts, { ...policy, subsetSize: 1, alternates: 0 });
        if (!chosen) break;
        const ok = (await claimOnHost(m, { reservationId }, chosen.id, request.resources, this.limits)) !== null;
        const fresh = await loadHostState(m, this.limits.downAfterSec, chosen.id);
        hosts = hosts.map((h) => (h.id === chosen.id && fresh ? fresh : h));
        if (ok) claimed += 1;
        else misses += 1;
      }
      if (claimed < input.count) {
        throw BerthError.conflict(
          `only ${claimed} of ${input.count} ${input.flavor.name} fit in the capacity left`,
          'count',
          'capacity',
        );
      }
      await insertOperation(
        m,
        { ...input.actor, projectId: input.projectId ?? input.actor.projectId },
        {
          action: 'reservation.create',
          targetType: 'reservation',
          targetId: reservationId,
          finished: true,
        },
      );
      return reservationId;
    });
    const created = await this.get(id, null);
    if (!created) throw new Error(`reservation ${id} vanished`);
    return created;
  }

  /**
   * Null when it does not exist or `projectId` may not see it. A project sees the reservations for it
   * and those for any project; null sees every one.
   */
  get(id: string, projectId: string | null): Promise<ReservationRecord | null> {
    return reservation(this.dataSource.manager, id, projectId);
  }

  /** The reservations `projectId` may see (as `get`), newest first. */
  list(projectId: string | null): Promise<ReservationRecord[]> {
    return reservations(this.dataSource.manager, projectId);
  }

  /** Gives the slots not drawn back to the common pool. Instances already drawn keep running. */
  async release(id: string, actor: Actor | null): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const found = await lockActiveReservation(m, id);
      if (!found) return false;
      await releaseAllocations(m, { reservationId: id });
      await setReservationReleased(m, id);
      if (actor) {
        await insertOperation(
          m,
          { ...actor, projectId: found.projectId ?? actor.projectId },
          {
            action: 'reservation.release',
            targetType: 'reservation',
            targetId: id,
            finished: true,
          },
        );
      }
      return true;
    });
  }

  /** Releases every reservation whose window has ended. Returns their ids. */
  async releaseExpired(): Promise<string[]> {
    const released: string[] = [];
    for (const id of await expiredReservations(this.dataSource.manager))
      if (await this.release(id, null)) released.push(id);
    return released;
  }
}
