import { THROTTLES, type ThrottleName, type Throttles } from '@berth/contracts';
import type { FieldError } from '../field-error';

/** The range every throttle must lie in, whoever sets it: below it an instance is unusable, above it meaningless. */
export interface ThrottleRule {
  min: number;
  max: number;
  /** null (no limit) is allowed. */
  nullable: boolean;
  unit: string;
}

export const THROTTLE_RULES: Readonly<Record<ThrottleName, ThrottleRule>> = {
  cpuQuota: { min: 1, max: 100, nullable: false, unit: 'percent of its vCPUs' },
  pidsLimit: { min: 16, max: 65_536, nullable: false, unit: 'processes' },
  diskReadIops: { min: 10, max: 1_000_000, nullable: true, unit: 'IO/s' },
  diskWriteIops: { min: 10, max: 1_000_000, nullable: true, unit: 'IO/s' },
  diskReadBps: { min: 1_048_576, max: 100_000_000_000, nullable: true, unit: 'bytes/s' },
  diskWriteBps: { min: 1_048_576, max: 100_000_000_000, nullable: true, unit: 'bytes/s' },
  diskWeight: { min: 100, max: 1000, nullable: true, unit: 'relative weight, default 100' },
  netIngressMbps: { min: 1, max: 100_000, nullable: true, unit: 'Mbit/s' },
  netEgressMbps: { min: 1, max: 100_000, nullable: true, unit: 'Mbit/s' },
};

/** Per throttle, the range a project member may choose for an instance; a throttle without one is fixed. */
export type ThrottleBounds = Partial<Record<ThrottleName, { min?: number; max?: number }>>;

/** Throttles as a flavor stores them: unset cpuQuota means 100, unset pidsLimit the cloud's default. */
export type FlavorThrottles = Omit<Throttles, 'cpuQuota' | 'pidsLimit'> & {
  cpuQuota: number | null;
  pidsLimit: number | null;
};

/** The throttles an instance of this flavor gets before overrides; unset ones are unlimited. */
export function flavorThrottles(flavor: Partial<FlavorThrottles>, defaultPidsLimit: number): Throttles {
  return {
    cpuQuota: flavor.cpuQuota ?? 100,
    pidsLimit: flavor.pidsLimit ?? defaultPidsLimit,
    diskReadIops: flavor.diskReadIops ?? null,
    diskWriteIops: flavor.diskWriteIops ?? null,
    diskReadBps: flavor.diskReadBps ?? null,
    diskWriteBps: flavor.diskWriteBps ?? null,
    diskWeight: flavor.diskWeight ?? null,
    netIngressMbps: flavor.netIngressMbps ?? null,
    netEgressMbps: flavor.netEgressMbps ?? null,
  };
}

export type ThrottleChanges = Partial<Record<ThrottleName, number | null>>;

/**
 * The throttles of an instance: `base` (its flavor's, or its current ones) with `changes` applied.
 * With `bounds` (a member's request) each change must lie within the flavor's bounds for that
 * throttle, and a throttle the flavor gives no bounds for cannot change; without (an admin's), only
 * the cloud-wide rules hold. Errors name the field as `<prefix>.<throttle>`.
 */
export function applyThrottleChanges(
  base: Throttles,
  changes: ThrottleChanges,
  bounds: ThrottleBounds | null,
  prefix = 'limits',
): { ok: true; value: Throttles } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const value: Throttles = { ...base };
  for (const key of Object.keys(changes)) {
    if (!(THROTTLES as readonly string[]).includes(key)) {
      const field = `${prefix}.${key}`;
      errors.push({ field, rule: 'known', message: `${field} is not a limit (${THROTTLES.join(', ')})` });
    }
  }
  for (const name of THROTTLES) {
    if (!(name in changes)) continue;
    const asked = changes[name];
    if (asked === undefined) continue;
    const field = `${prefix}.${name}`;
    const problem = ruleBroken(name, asked) ?? (bounds ? boundBroken(name, asked, bounds) : null);
    if (problem) {
      errors.push({ field, rule: problem.rule, message: `${field} ${problem.message}` });
      continue;
    }
    // Only nullable throttles can be null here; ruleBroken refused the others.
    (value as unknown as Record<ThrottleName, number | null>)[name] = asked;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

function ruleBroken(name: ThrottleName, asked: number | null): { rule: string; message: string } | null {
  const rule = THROTTLE_RULES[name];
  if (asked === null) return rule.nullable ? null : { rule: 'required', message: 'cannot be unlimited' };
  if (!Number.isInteger(asked)) return { rule: 'isInt', message: 'must be an integer' };
  if (asked < rule.min) return { rule: 'min', message: `must not be less than ${rule.min} (${rule.unit})` };
  if (asked > rule.max) return { rule: 'max', message: `must not be greater than ${rule.max} (${rule.unit})` };
  return null;
}

function boundBroken(
  name: ThrottleName,
  asked: number | null,
  bounds: ThrottleBounds,
): { rule: string; message: string } | null {
  const bound = bounds[name];
  if (!bound) return { rule: 'fixed', message: 'is set by the flavor and cannot be changed per instance' };
  if (asked === null) {
    return bound.max === undefined ? null : { rule: 'bounds', message: `cannot be unlimited (at most ${bound.max})` };
  }
  if (bound.min !== undefined && asked < bound.min) {
    return { rule: 'bounds', message: `must not be less than ${bound.min}, the flavor's bound` };
  }
  if (bound.max !== undefined && asked > bound.max) {
    return { rule: 'bounds', message: `must not be greater than ${bound.max}, the flavor's bound` };
  }
  return null;
}

/** A flavor's bounds must lie within the cloud-wide rules, min <= max, and contain the flavor's own value. */
export function checkBounds(bounds: ThrottleBounds, defaults: Throttles, prefix = 'limitBounds'): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, bound] of Object.entries(bounds) as Array<[string, { min?: number; max?: number }]>) {
    const field = `${prefix}.${name}`;
    if (!(THROTTLES as readonly string[]).includes(name)) {
      errors.push({ field, rule: 'known', message: `${field} is not a throttle (${THROTTLES.join(', ')})` });
      continue;
    }
    if (typeof bound !== 'object' || bound === null || Array.isArray(bound)) {
      errors.push({ field, rule: 'isObject', message: `${field} must be an object such as {"min": 1, "max": 10}` });
      continue;
    }
    const extra = Object.keys(bound).filter((k) => k !== 'min' && k !== 'max');
    if (extra.length > 0) {
      errors.push({ field, rule: 'known', message: `${field} may only hold min and max, not ${extra.join(', ')}` });
      continue;
    }
    const throttle = name as ThrottleName;
    for (const end of ['min', 'max'] as const) {
      const v = bound[end];
      const broken = v === undefined ? null : ruleBroken(throttle, v);
      if (broken)
        errors.push({ field: `${field}.${end}`, rule: broken.rule, message: `${field}.${end} ${broken.message}` });
    }
    if (bound.min !== undefined && bound.max !== undefined && bound.min > bound.max) {
      errors.push({ field, rule: 'range', message: `${field}: min must not be greater than max` });
    }
    const own = defaults[throttle];
    const outside =
      own === null
        ? bound.max !== undefined
        : (bound.min !== undefined && own < bound.min) || (bound.max !== undefined && own > bound.max);
    if (outside) {
      errors.push({
        field,
        rule: 'contains',
        message: `${field} must contain the flavor's own ${name} (${own === null ? 'unlimited' : own})`,
      });
    }
  }
  return errors;
}
