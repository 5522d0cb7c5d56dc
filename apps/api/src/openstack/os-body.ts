import { BerthError } from '@berth/domain';

/**
 * Reading OpenStack's nested request bodies field by field. Each refusal is a 400 naming the field by its path in the
 * body (auth.identity.password.user.name) and the rule it broke, as everywhere in Berth.
 */
type Json = unknown;

function refuse(field: string, rule: string, message: string): never {
  throw BerthError.invalid([{ field, rule, message: `${field} ${message}` }]);
}

/** The value at a dotted path; undefined where any part is missing. */
export function at(body: Json, path: string): Json {
  let here: Json = body;
  for (const key of path.split('.')) {
    if (Array.isArray(here) && /^\d+$/.test(key)) here = here[Number(key)];
    else if (typeof here !== 'object' || here === null || Array.isArray(here)) return undefined;
    else here = (here as Record<string, Json>)[key];
  }
  return here;
}

/** An object at `path`; required unless `optional` (then undefined when absent). */
export function objectAt(body: Json, path: string): Record<string, Json>;
export function objectAt(body: Json, path: string, optional: true): Record<string, Json> | undefined;
export function objectAt(body: Json, path: string, optional = false): Record<string, Json> | undefined {
  const value = at(body, path);
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refuse(path, 'isObject', value === undefined ? 'is required' : 'must be an object');
  }
  return value as Record<string, Json>;
}

/** A non-empty string of at most `max` characters at `path`. */
export function stringAt(body: Json, path: string, max?: number): string;
export function stringAt(body: Json, path: string, max: number | undefined, optional: true): string | undefined;
export function stringAt(body: Json, path: string, max = 255, optional = false): string | undefined {
  const value = at(body, path);
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string')
    return refuse(path, 'isString', value === undefined ? 'is required' : 'must be a string');
  if (value.length === 0 || value.length > max) return refuse(path, 'length', `must be 1 to ${max} characters`);
  return value;
}

/** A whole number from `min` to `max` at `path` (a string of digits too, as Nova accepts). */
export function intAt(body: Json, path: string, min: number, max: number): number | undefined {
  const value = at(body, path);
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) return refuse(path, 'isInt', 'must be a whole number');
  if (n < min || n > max) return refuse(path, 'range', `must be from ${min} to ${max}`);
  return n;
}

/** An array at `path`; undefined when absent. */
export function arrayAt(body: Json, path: string): Json[] | undefined {
  const value = at(body, path);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return refuse(path, 'isArray', 'must be an array');
  return value as Json[];
}

/** The one key of an action body ({"os-stop": null}); refused unless exactly one. */
export function soleKey(body: Json): [string, Json] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return refuse('body', 'isObject', 'must be an object with exactly one action');
  }
  const entries = Object.entries(body);
  if (entries.length !== 1) return refuse('body', 'oneAction', `must name exactly one action, not ${entries.length}`);
  return entries[0]!;
}

export { refuse as refuseField };

type Query = Record<string, string | string[] | undefined>;

/** A query parameter given at most once; refused (400) when repeated. */
export function queryValue(query: Query, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) return refuse(key, 'single', 'must be given once');
  return value;
}

/** A query parameter that may repeat (?status=ACTIVE&status=SHUTOFF). */
export function queryValues(query: Query, key: string): string[] | undefined {
  const value = query[key];
  return value === undefined ? undefined : [value].flat();
}
