import type { PlaceInstancesJob, RequestSpec } from '@berth/contracts';
import { RollbackPlacement, type PlacementWorkflow } from '@berth/control';
import { isDeadlock, type BuildClaim, type ClaimResult } from '@berth/data';
import {
  explainNoValidHost,
  mainRefusal,
  selectHosts,
  withReservationSlots,
  type GroupState,
  type HostCandidate,
  type PlacementRequest,
  type Rejection,
  type Resources,
  type SchedulerPolicy,
  resourcesOf,
} from '@berth/domain';
import { Failpoints, type Logger } from '@berth/platform';
import type { HostStateCache } from './host-cache';

type Member = PlaceInstancesJob['members'][number];
type Placed = { hostId: string; resources: Resources; fromSlot: boolean };

/** How many times a decision re-selects after losing races for every host it tried. */
const SELECTION_ROUNDS = 3;
const DEADLOCK_RETRIES = 5;

/**
 * Places the instances of one create request: filter and weigh every host (from the cache), then
 * claim on the chosen one in PostgreSQL, falling back to the next best when another scheduler took
 * the room first. All claims of a request commit together, so fewer than minCount placed means none.
 */
export class PlacementService {
  constructor(
    private readonly store: PlacementWorkflow,
    private readonly cache: HostStateCache,
    private readonly policy: SchedulerPolicy,
    private readonly log: Logger,
    /** placement.claim: hosts chosen, nothing claimed; placement.claimed: claims committed, the job not yet done. */
    private readonly failpoints = new Failpoints(),
    /** Told of each instance placed (reason '') or not (the first filter that turned a host down). */
    private readonly decided: (outcome: 'placed' | 'no_valid_host', reason: string) => void = () => undefined,
  ) {}

  async place(job: PlaceInstancesJob): Promise<void> {
    await this.placeWithRetries(job);
    await this.failpoints.check('placement.claimed');
  }

  private async placeWithRetries(job: PlaceInstancesJob): Promise<void> {
    // Two requests of several instances can lock the same hosts in opposite orders; PostgreSQL
    // then aborts one of them, which is decided again from the start.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.placeOnce(job);
      } catch (error) {
        if (attempt >= DEADLOCK_RETRIES || !isDeadlock(error)) throw error;
        this.log.info({ attempt }, 'placement deadlocked with another; deciding again');
      }
    }
  }

  private async placeOnce(job: PlaceInstancesJob): Promise<void> {
    await this.cache.hosts();
    await this.failpoints.check('placement.claim');
    const [only] = job.members;
    if (only && job.members.length === 1 && !job.request.serverGroupId && !job.request.reservationId) {
      await this.placeAlone(only, placementRequest(job.request, null));
      return;
    }
    const applied: Placed[] = [];
    try {
      await this.store.decide(async (tx) => {
        const group = job.request.serverGroupId ? await tx.group(job.request.serverGroupId) : null;
        const members = new Map(group?.members ?? []);
        const slots = job.request.reservationId ? await tx.slots(job.request.reservationId) : null;
        const misses: Array<{ member: Member } & Miss> = [];
        for (const member of job.members) {
          const request = placementRequest(job.request, group ? { ...group, members } : null);
          const reservationId = job.request.reservationId;
          const outcome = await this.placeOne(
            member,
            request,
            reservationId,
            async () => {
              const all = await this.cache.hosts(tx.manager);
              return slots ? withReservationSlots(all, slots, request.resources) : all;
            },
            (c) => tx.claim(c, member.spec),
            (hostId) => this.cache.reload(hostId, tx.manager),
          );
          if (outcome.placed) {
            applied.push(outcome.placed);
            members.set(outcome.placed.hostId, (members.get(outcome.placed.hostId) ?? 0) + 1);
            if (slots) slots.set(outcome.placed.hostId, (slots.get(outcome.placed.hostId) ?? 1) - 1);
          } else if (outcome.miss) {
            misses.push({ member, ...outcome.miss });
          }
        }
        if (applied.length < job.minCount) {
          const first = misses[0] ?? { message: 'No valid host', filter: 'NoHosts' };
          throw new NotEnough(job.minCount, applied.length, first.message, first.filter);
        }
        // Beyond minCount a request is a best effort: what did not fit is not created.
        for (const miss of misses) {
          if (job.minCount < job.members.length)
            await tx.dropUnplaced(
              miss.member.instanceId,
              miss.member.operationId,
              `not placed (best effort beyond minCount): ${miss.message}`,
            );
          else await tx.noValidHost(miss.member.instanceId, miss.member.operationId, miss.message, miss.filter);
        }
      });
      this.log.info({ placed: applied.length, asked: job.members.length }, 'placed');
      for (let i = 0; i < applied.length; i += 1) this.decided('placed', '');
      for (let i = applied.length; i < job.members.length; i += 1) this.decided('no_valid_host', 'best-effort');
    } catch (error) {
      for (const p of applied) if (!p.fromSlot) this.cache.applyClaim(p.hostId, p.resources, -1);
      if (!(error instanceof NotEnough)) throw error;
      this.log.warn({ asked: job.members.length, minCount: job.minCount, placed: error.placed }, 'no valid host');
      const message =
        job.members.length > 1 ? `${error.message} (needed ${error.needed}, ${error.placed} fitted)` : error.message;
      await this.store.decide(async (tx) => {
        for (const m of job.members) await tx.noValidHost(m.instanceId, m.operationId, message, error.filter);
      });
      for (let i = 0; i < job.members.length; i += 1) this.decided('no_valid_host', error.filter);
    }
  }

  /**
   * A build failed on its host: record why, release the claim there and rebuild on the next
   * alternate that still takes it. False when none does (the caller then reports ERROR).
   */
  async rescheduleFailedBuild(
    instanceId: string,
    operationId: string,
    fault: { step: string; message: string; at: string },
  ): Promise<boolean> {
    try {
      return await this.store.decide(async (tx) => {
        const failed = await tx.beginReschedule(instanceId, operationId, fault);
        if (!failed) return false;
        // The failed host's allocation is released, slot or not: its room is back in the common pool.
        this.cache.applyClaim(failed.hostId, failed.resources, -1);
        const group = failed.serverGroupId ? await tx.group(failed.serverGroupId) : null;
        const request = placementRequest(failed.request, group);
        for (const [i, id] of failed.alternates.entries()) {
          const host = await this.cache.host(id, tx.manager);
          if (!host || selectHosts(request, [host], { ...this.policy, subsetSize: 1, alternates: 0 }).chosen === null)
            continue;
          const result = await tx.claim(
            {
              instanceId,
              operationId,
              host,
              alternates: failed.alternates.slice(i + 1),
              resources: failed.resources,
              reservationId: null,
            },
            failed.spec,
          );
          if (result === 'claimed') {
            this.cache.applyClaim(host.id, failed.resources);
            this.log.info({ instanceId, from: failed.hostName, to: host.name }, 'rescheduled');
            return true;
          }
        }
        throw new RollbackPlacement('no alternate took the build');
      });
    } catch (error) {
      if (error instanceof RollbackPlacement) return false;
      throw error;
    }
  }

  /** The common case, one instance with no group or reservation: each claim is one statement, no transaction. */
  private async placeAlone(member: Member, request: PlacementRequest): Promise<void> {
    const outcome = await this.placeOne(
      member,
      request,
      null,
      () => this.cache.hosts(),
      (c) => this.store.claimAlone(c, member.spec),
      (hostId) => this.cache.reload(hostId),
    );
    if (outcome.placed) {
      this.log.info({ instanceId: member.instanceId }, 'placed');
      this.decided('placed', '');
      return;
    }
    if (!outcome.miss) return;
    const { message, filter } = outcome.miss;
    this.decided('no_valid_host', filter);
    this.log.warn({ instanceId: member.instanceId, reason: message }, 'no valid host');
    await this.store.decide((tx) => tx.noValidHost(member.instanceId, member.operationId, message, filter));
  }

  /**
   * Selects hosts and claims on the best, then on the next best when another request took the room
   * first, re-selecting (with the lost hosts re-read) up to SELECTION_ROUNDS times.
   */
  private async placeOne(
    member: Member,
    request: PlacementRequest,
    reservationId: string | null,
    hosts: () => Promise<readonly HostCandidate[]>,
    claim: (c: BuildClaim) => Promise<ClaimResult>,
    reread: (hostId: string) => Promise<void>,
  ): Promise<{ placed?: Placed; miss?: Miss }> {
    const lost: Rejection[] = [];
    let last: Rejection[] = [];
    for (let round = 0; round < SELECTION_ROUNDS; round += 1) {
      const selection = selectHosts(request, await hosts(), this.policy);
      last = selection.rejected;
      if (!selection.chosen) break;
      const tries = [selection.chosen, ...selection.alternates];
      for (const [i, host] of tries.entries()) {
        const alternates = tries.filter((_, j) => j !== i).map((h) => h.id);
        const result = await claim({
          instanceId: member.instanceId,
          operationId: member.operationId,
          host,
          alternates,
          resources: request.resources,
          reservationId,
        });
        if (result === 'gone') return {};
        if (result === 'claimed') {
          if (!reservationId) this.cache.applyClaim(host.id, request.resources);
          return { placed: { hostId: host.id, resources: request.resources, fromSlot: reservationId !== null } };
        }
        lost.push({ host: host.name, filter: 'Claim', code: 'race', reason: 'another request took the room first' });
        await reread(host.id);
      }
    }
    const rejected = [...last, ...lost];
    return { miss: { message: explainNoValidHost(rejected), filter: mainRefusal(rejected) } };
  }
}

/** Why an instance found no host: the explanation, and its main reason (mainRefusal: the fault's and the metric's). */
interface Miss {
  message: string;
  filter: string;
}

class NotEnough extends Error {
  constructor(
    readonly needed: number,
    readonly placed: number,
    message: string,
    readonly filter: string,
  ) {
    super(message);
  }
}

export function placementRequest(spec: RequestSpec, group: GroupState | null): PlacementRequest {
  return {
    kind: spec.kind,
    resources: resourcesOf(spec),
    zone: spec.zone,
    extraSpecs: spec.extraSpecs,
    vlan: spec.vlan,
    imageRef: spec.imageRef,
    group,
    volumeHost: spec.volumes ? { hostId: spec.volumes.hostId, volumes: spec.volumes.ids } : null,
    volumeBackends: spec.volumeBackends ?? [],
  };
}
