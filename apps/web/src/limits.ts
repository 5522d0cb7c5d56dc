import type { FlavorView } from './generated/api-types';

/** The throttles an instance may ask for beyond its flavor's size, in the API's words and units. */
export const THROTTLES = [
  { key: 'cpuQuota', label: 'CPU quota', unit: '%' },
  { key: 'pidsLimit', label: 'Processes', unit: '' },
  { key: 'diskReadIops', label: 'Disk read', unit: 'IO/s' },
  { key: 'diskWriteIops', label: 'Disk write', unit: 'IO/s' },
  { key: 'diskReadBps', label: 'Disk read rate', unit: 'B/s' },
  { key: 'diskWriteBps', label: 'Disk write rate', unit: 'B/s' },
  { key: 'diskWeight', label: 'Disk weight', unit: '' },
  { key: 'netIngressMbps', label: 'Network in', unit: 'Mbit/s' },
  { key: 'netEgressMbps', label: 'Network out', unit: 'Mbit/s' },
] as const;

export type ThrottleKey = (typeof THROTTLES)[number]['key'];

/** What a form holds per throttle: the text typed, '' for the flavor's own value. */
export type LimitInputs = Partial<Record<ThrottleKey, string>>;

/** A value with its unit, or a dash for none. */
export const withUnit = (value: number | string | null | undefined, unit: string) =>
  value === null || value === undefined ? '–' : unit ? `${value} ${unit}` : String(value);

/**
 * The throttles a caller may set for an instance of `flavor`: a project member only those the flavor gives bounds
 * for (the others are the flavor's), the cloud admin every one (the API holds them to the cloud-wide rules).
 */
export function settableThrottles(flavor: FlavorView, admin: boolean) {
  return THROTTLES.filter((t) => admin || flavor.limitBounds[t.key] !== undefined);
}

/** The flavor's own value of a throttle, as the instance gets it when nothing is asked. */
export function flavorValue(flavor: FlavorView, key: ThrottleKey): string {
  const value = flavor[key];
  if (value !== null) return String(value);
  if (key === 'cpuQuota') return '100';
  return key === 'pidsLimit' ? "the cloud's default" : 'unlimited';
}

/** The range a member may choose, in words ('' when the flavor sets none). */
export function boundsText(flavor: FlavorView, key: ThrottleKey): string {
  const bound = flavor.limitBounds[key];
  if (!bound) return '';
  if (bound.min !== undefined && bound.max !== undefined) return `from ${bound.min} to ${bound.max}`;
  if (bound.min !== undefined) return `at least ${bound.min}`;
  return bound.max === undefined ? 'any value' : `at most ${bound.max}`;
}

/**
 * What is wrong with the typed limits before the API is asked, per field as the API names it (`limits.<key>`): not a
 * whole number, or, for a member, outside the flavor's bounds. The API checks again, and its word is final.
 */
export function limitProblems(flavor: FlavorView, inputs: LimitInputs, admin: boolean): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const { key } of THROTTLES) {
    const text = inputs[key]?.trim() ?? '';
    if (text === '') continue;
    const field = `limits.${key}`;
    const value = Number(text);
    const bound = flavor.limitBounds[key];
    if (!/^\d+$/.test(text)) problems[field] = `${field} must be a whole number`;
    else if (admin) continue;
    else if (!bound) problems[field] = `${field} is set by the flavor and cannot be changed per instance`;
    else if (bound.min !== undefined && value < bound.min)
      problems[field] = `${field} must not be less than ${bound.min}, the flavor's bound`;
    else if (bound.max !== undefined && value > bound.max)
      problems[field] = `${field} must not be greater than ${bound.max}, the flavor's bound`;
  }
  return problems;
}

/** The limits to send: each throttle typed, as a number; none when nothing was typed. */
export function limitChanges(inputs: LimitInputs): Record<string, number> | undefined {
  const entries = Object.entries(inputs)
    .filter(([, text]) => text !== undefined && text.trim() !== '')
    .map(([key, text]) => [key, Number(text)] as const);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
