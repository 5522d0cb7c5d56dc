import { plainToInstance, Transform, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/**
 * Configuration comes from the environment, parsed into a class whose properties carry the
 * variables' own names (as Immich's EnvDto does), so every message names the variable to fix.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadEnv<T extends object>(
  envClass: ClassConstructor<T>,
  env: Record<string, string | undefined> = process.env,
): T {
  const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const config = plainToInstance(envClass, defined, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(errors.flatMap((e) => describe(e, defined)));
  return config;
}

function describe(error: ValidationError, env: Record<string, string | undefined>): string[] {
  const got = env[error.property];
  const shown = got === undefined ? 'it is not set' : `got ${JSON.stringify(got)}`;
  // class-validator's own messages start with the property name; say it once.
  return Object.values(error.constraints ?? {}).map(
    (message) => `${error.property}: ${message.replace(`${error.property} `, '')} (${shown})`,
  );
}

/** Parses "true/false/1/0/yes/no"; anything else stays a string so @IsBoolean reports it. */
export function EnvBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const v = value.toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    return value;
  });
}

/** Parses a decimal integer; anything else becomes NaN so @IsInt reports it. */
export function EnvInt(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (/^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN) : value,
  );
}

/** Parses a decimal number; anything else becomes NaN so @IsNumber reports it. */
export function EnvNumber(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN) : value,
  );
}
