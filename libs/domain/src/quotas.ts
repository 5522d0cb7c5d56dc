import type { Resources } from './capacity';
/**
 * Quotas per project. Usage is always counted from the rows that hold the resources (instances, their ports, and
 * volumes), inside the transaction that adds more, so there is no counter that could drift.
 */
export const QUOTA_RESOURCES = ['instances', 'vcpus', 'ramMb', 'diskGb', 'ips', 'volumes', 'volumeGb'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type QuotaSet = Record<QuotaResource, number>;

/** A limit of -1 means unlimited. */
export const UNLIMITED = -1;

export interface QuotaExcess {
  resource: QuotaResource;
  limit: number;
  used: number;
  requested: number;
}

/** Every resource that `request` would take past its limit. */
export function quotaExcesses(limits: QuotaSet, usage: QuotaSet, request: Partial<QuotaSet>): QuotaExcess[] {
  return QUOTA_RESOURCES.flatMap((resource) => {
    const requested = request[resource] ?? 0;
    const limit = limits[resource];
    if (requested === 0 || limit === UNLIMITED || usage[resource] + requested <= limit) return [];
    return [{ resource, limit, used: usage[resource], requested }];
  });
}

export function describeExcess(e: QuotaExcess): string {
  return `quota exceeded for ${e.resource}: limit ${e.limit}, in use ${e.used}, requested ${e.requested}`;
}

/** What `n` instances of this size count against a quota, where vCPUs count shared and dedicated alike. */
export function quotaOf(size: Resources, n: number): Partial<QuotaSet> {
  return { instances: n, vcpus: (size.vcpus + size.pcpus) * n, ramMb: size.ramMb * n, diskGb: size.diskGb * n, ips: n };
}

/** The most instances of `size` the quota still allows (each also takes one address). */
export function instancesWithinQuota(limits: QuotaSet, usage: QuotaSet, size: Resources): number {
  const room = (limit: number, used: number, each: number) =>
    limit === UNLIMITED || each === 0 ? Number.POSITIVE_INFINITY : Math.floor(Math.max(0, limit - used) / each);
  return Math.min(
    room(limits.instances, usage.instances, 1),
    room(limits.ips, usage.ips, 1),
    room(limits.vcpus, usage.vcpus, size.vcpus + size.pcpus),
    room(limits.ramMb, usage.ramMb, size.ramMb),
    room(limits.diskGb, usage.diskGb, size.diskGb),
  );
}
