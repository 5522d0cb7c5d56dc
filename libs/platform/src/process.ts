import { ConfigError } from './config';

/**
 * Runs a process's main function: a configuration error prints the variables to fix and exits 2;
 * any other start-up error exits 1. SIGTERM and SIGINT call `stop` once, then exit.
 */
export function runMain(name: string, main: () => Promise<{ stop(): Promise<void> }>): void {
  Promise.resolve()
    .then(main)
    .then(
      (running) => {
        let stopping = false;
        const shutdown = (signal: string) => {
          if (stopping) return;
          stopping = true;
          process.stderr.write(`${name}: ${signal}, stopping\n`);
          running.stop().then(
            () => process.exit(0),
            (error: unknown) => {
              process.stderr.write(`${name}: error while stopping: ${String(error)}\n`);
              process.exit(1);
            },
          );
        };
        process.on('SIGTERM', () => shutdown('SIGTERM'));
        process.on('SIGINT', () => shutdown('SIGINT'));
      },
      (error: unknown) => {
        if (error instanceof ConfigError) {
          process.stderr.write(`${name}: ${error.message}\n`);
          process.exit(2);
        }
        process.stderr.write(
          `${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
        process.exit(1);
      },
    );
}
