import { registerDecorator, type ValidationArguments } from 'class-validator';

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;
const MAX_VALUE = 255;
const MAX_ENTRIES = 64;

/**
 * A flat map of short keys to short strings (flavor extra specs, aggregate metadata). Keys are
 * letters, digits and "_.:-"; values are strings of at most 255 characters; at most 64 entries.
 */
export function IsStringMap(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= MAX_ENTRIES &&
            entries.every(([k, v]) => KEY.test(k) && typeof v === 'string' && v.length <= MAX_VALUE)
          );
        },
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'value'} must map at most ${MAX_ENTRIES} keys (letters, digits, "_.:-") to strings of at most ${MAX_VALUE} characters`,
      },
    });
}
