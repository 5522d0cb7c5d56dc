import type { BerthClient } from '@berth/client';
import { SingleBar } from 'cli-progress';

export interface OperationView {
  id: string;
  action: string;
  status: 'running' | 'succeeded' | 'failed';
  steps: Array<{ name: string; status: string; detail?: string }>;
  fault: { step: string; message: string } | null;
}

/** Where progress goes: a bar on a terminal, a line per change otherwise (logs, CI). */
export interface Progress {
  update(op: OperationView): void;
  stop(): void;
}

const PERCENT = /\((\d{1,3})%\)/;

function describe(op: OperationView): { step: string; detail: string; percent: number | null } {
  const step = op.steps.at(-1);
  const percent = PERCENT.exec(step?.detail ?? '');
  return { step: step?.name ?? 'queued', detail: step?.detail ?? '', percent: percent ? Number(percent[1]) : null };
}

export function progressTo(stream: NodeJS.WriteStream, quiet: boolean): Progress {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (!stream.isTTY) {
    let last = '';
    return {
      update(op) {
        const { step, detail } = describe(op);
        const line = `${op.action} ${op.id.slice(0, 8)}: ${step}${detail ? ` (${detail})` : ''}`;
        if (line !== last) stream.write(`${line}\n`);
        last = line;
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    format: '{action} {step} |{bar}| {percentage}% {detail}',
    stream,
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  return {
    update(op) {
      const { step, detail, percent } = describe(op);
      const payload = { action: op.action, step, detail };
      if (!started) bar.start(100, 0, payload);
      started = true;
      const value = op.status === 'succeeded' ? 100 : (percent ?? bar.getProgress() * 100);
      bar.update(value, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export class WaitTimeout extends Error {}

/**
 * Follows operations to their end through GET /v1/events (no polling): each time the stream
 * (re)opens, every operation still pending is read once, so one that ended before the stream opened
 * is seen too. Returns them in the order asked.
 */
export async function waitForOperations(
  client: BerthClient,
  ids: readonly string[],
  progress: Progress,
  timeoutSec: number,
): Promise<OperationView[]> {
  const pending = new Set(ids);
  const ended = new Map<string, OperationView>();
  const stop = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort();
  }, timeoutSec * 1000);
  const see = (op: OperationView) => {
    if (!pending.has(op.id)) return;
    progress.update(op);
    if (op.status === 'running') return;
    pending.delete(op.id);
    ended.set(op.id, op);
    if (pending.size === 0) stop.abort();
  };
  const readPending = () =>
    Promise.all([...pending].map((id) => client.get<OperationView>(`/v1/operations/${id}`)))
      .then((ops) => ops.forEach(see))
      .catch(() => undefined);
  const query = { types: 'operation', ...(ids.length === 1 ? { resource: ids[0] } : {}) };
  try {
    for await (const event of client.follow(query, { signal: stop.signal, onOpen: () => void readPending() })) {
      if (event.resource.type === 'operation') see(event.data as unknown as OperationView);
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    progress.stop();
  }
  if (timedOut || pending.size > 0) {
    throw new WaitTimeout(`gave up waiting after ${timeoutSec} s; still running: ${[...pending].join(', ')}`);
  }
  return ids.map((id) => ended.get(id)!);
}
