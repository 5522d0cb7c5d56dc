import type { FieldError } from './field-error';

/** An instance's metadata: at most this many pairs, keys of 1-255 characters, values of at most 255 (as Nova). */
export const METADATA_MAX_ITEMS = 128;
export const METADATA_MAX_LENGTH = 255;

export type Metadata = Record<string, string>;

/** Checks key-value pairs given as `field` (a whole map); the errors name the field, or the field's key. */
export function checkMetadata(
  value: unknown,
  field: string,
): { ok: true; value: Metadata } | { ok: false; errors: FieldError[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ field, rule: 'isObject', message: `${field} must be an object of string values` }] };
  }
  const entries = Object.entries(value);
  const errors: FieldError[] = [];
  if (entries.length > METADATA_MAX_ITEMS) {
    errors.push({ field, rule: 'maxItems', message: `${field} may hold at most ${METADATA_MAX_ITEMS} pairs` });
  }
  for (const [key, v] of entries) {
    if (key.length < 1 || key.length > METADATA_MAX_LENGTH) {
      errors.push({
        field,
        rule: 'keyLength',
        message: `${field} keys must be 1 to ${METADATA_MAX_LENGTH} characters`,
      });
    }
    if (typeof v !== 'string' || v.length > METADATA_MAX_LENGTH) {
      errors.push({
        field: `${field}.${key}`,
        rule: 'isString',
        message: `${field}.${key} must be a string of at most ${METADATA_MAX_LENGTH} characters`,
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: Object.fromEntries(entries) };
}
