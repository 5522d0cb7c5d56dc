/**
 * Quotas per project. Usage is always counted from the rows that hold the resources (instances and
 * their ports), inside the transaction that adds more, so there is no counter that could drift.
 */
export const QUOTA_RESOURCES = ['instances', 'vcpus', 'ramMb', 'diskGb', 'ips'] as const;
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
