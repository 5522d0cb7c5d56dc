import { BerthError, type FieldError } from '@berth/domain';
import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';

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
    return super.transform(value, metadata);
  }
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
