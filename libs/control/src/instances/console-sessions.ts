import type { Fault, TerminalKind } from '@berth/contracts';
import { insertOperation, recordStep, type Actor } from '@berth/data';
import type { DataSource } from 'typeorm';

/**
 * The audit trail of interactive consoles: each session an `instance.console` operation of its instance, recorded
 * once its host answered (finished then, so that no task of the instance ever waits on it), its `open` step saying
 * what was opened or why not, and a `close` step added when it ends, saying why and how much went each way.
 */
export async function recordConsoleOpened(
  dataSource: DataSource,
  actor: Actor,
  instanceId: string,
  startedAt: Date,
  outcome: { kind: TerminalKind } | { fault: Fault },
): Promise<string> {
  const at = startedAt.toISOString();
  const now = new Date().toISOString();
  const opened = 'kind' in outcome;
  return dataSource.transaction((m) =>
    insertOperation(m, actor, {
      action: 'instance.console',
      targetType: 'instance',
      targetId: instanceId,
      finished: true,
      steps: [
        {
          name: 'open',
          status: opened ? 'succeeded' : 'failed',
          startedAt: at,
          finishedAt: now,
          detail: opened ? (outcome.kind === 'shell' ? 'a shell in the container' : 'the serial console') : undefined,
        },
      ],
      fault: opened ? null : outcome.fault,
    }),
  );
}

/** The session ended: why, and the bytes typed and shown. */
export async function recordConsoleClosed(
  dataSource: DataSource,
  operationId: string,
  reason: string,
  bytes: { input: number; output: number },
): Promise<void> {
  const detail = `${reason}; ${bytes.input} bytes typed, ${bytes.output} bytes shown`;
  await dataSource.transaction((m) => recordStep(m, operationId, 'close', new Date().toISOString(), detail));
}
