import { BerthError, type FieldError } from '@berth/domain';
import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';

/** Where @nestjs/swagger keeps an ApiProperty's options (its DECORATORS.API_MODEL_PROPERTIES). */
const SWAGGER_PROPERTY = 'swagger/apiModelProperties';

/**
 * Request bodies and queries are validated against their DTO classes; unknown fields are refused.
 * Each broken rule becomes a detail naming the field and the rule, e.g. {field: "vlan", rule: "max"}.
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => BerthError.invalid(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw BerthError.invalid([
        { field: 'body', rule: 'isObject', message: 'the request body must be a JSON object' },
      ]);
    }
    // PostgreSQL cannot store a NUL character in text: refuse it wherever it is, naming where.
    const nul = nulAt(value, metadata.type === 'param' ? (metadata.data ?? 'path') : '');
    if (nul !== null) {
      throw BerthError.invalid([
        { field: nul || 'body', rule: 'noNul', message: `${nul || 'body'} must not contain a NUL character` },
      ]);
    }
    // class-validator's IsOptional lets null through as well as a missing field: refuse it where the
    // DTO does not declare the field nullable, rather than write NULL where a value belongs.
    // A body read field by field (metatype Object: the OpenStack face's) decides on its own nulls ({"os-stop": null}).
    if ((metadata.type === 'body' || metadata.type === 'query') && metadata.metatype !== Object) {
      const nulls = Object.entries((value ?? {}) as Record<string, unknown>).filter(
        ([field, v]) => v === null && !declaredNullable(metadata.metatype, field),
      );
      if (nulls.length > 0) {
        throw BerthError.invalid(
          nulls.map(([field]) => ({
            field,
            rule: 'notNull',
            message: `${field} must not be null (leave it out instead)`,
          })),
        );
      }
    }
    return super.transform(value, metadata);
  }
}

/** Whether the DTO's OpenAPI property says null is a value (a flavor's unset throttle). */
function declaredNullable(metatype: ArgumentMetadata['metatype'], field: string): boolean {
  if (!metatype) return false;
  const property = Reflect.getMetadata(SWAGGER_PROPERTY, metatype.prototype as object, field) as
    { nullable?: boolean } | undefined;
  return property?.nullable === true;
}

/** The path of the first string (or key) holding U+0000 in a parsed request value, or null. */
function nulAt(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null || depth > 32) return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = nulAt(child, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      field,
      rule: rule === 'whitelistValidation' ? 'unknownField' : rule,
      message: rule === 'whitelistValidation' ? `${field} is not a known field` : message,
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Validates a DTO built in code (the OpenStack face builds Berth's requests from its own bodies) by the same rules as
 * a request's, each field named as the caller wrote it (`names`: Berth's field to theirs); throws the same 400.
 */
export async function validateBuilt<T extends object>(
  cls: new () => T,
  plain: object,
  names: Record<string, string>,
): Promise<T> {
  const dto = plainToInstance(cls, plain);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) throw BerthError.invalid(flatten(errors).map((e) => namedAs(e, names)));
  return dto;
}

/** Runs `work`, naming the fields of any refusal it throws as the caller wrote them (`names`: Berth's to theirs). */
export async function underNames<T>(names: Record<string, string>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof BerthError) || error.details.length === 0) throw error;
    const details = error.details.map((e) => namedAs(e, names));
    throw new BerthError(error.code, details.map((e) => e.message).join('; '), details, error.quota, error.reason);
  }
}

function namedAs(e: FieldError, names: Record<string, string>): FieldError {
  const top = e.field.split('.')[0] ?? e.field;
  const named = names[top];
  if (!named) return e;
  // A message that starts with the field's name ("ref must be ...") names it as the caller did.
  const message = e.message.startsWith(top) ? `${named}${e.message.slice(top.length)}` : e.message;
  return { ...e, field: `${named}${e.field.slice(top.length)}`, message };
}
