import pino, { type Logger } from 'pino';
import { logContext } from './log-context';

export type { Logger };

/** Structured JSON logs on stdout; one logger per process, child loggers per component. */
export function createLogger(processName: string, level = process.env['BERTH_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    name: processName,
    level,
    base: { process: processName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The request being served (api), or the one whose job is being run (scheduler, agent).
    mixin: () => ({ ...logContext() }),
    // Never let a credential reach a log line, whatever object a caller logs.
    redact: {
      paths: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'privateKey',
        '*.privateKey',
      ],
      censor: '[redacted]',
    },
  });
}

/** Formats an unknown thrown value for a log field or a fault message. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
