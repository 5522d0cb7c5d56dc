import type { Logger } from '@berth/platform';
import type { LoggerService } from '@nestjs/common';

/** Injection token for the process's pino logger. */
export const LOG = Symbol('LOG');

/** Nest's own messages go to the same structured log. */
export class NestLogAdapter implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.pino.trace({ context }, String(message));
  }
}
