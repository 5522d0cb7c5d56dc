import { readdir, readFile, readlink } from 'node:fs/promises';
import WebSocket from 'ws';

/** An open interactive console, as a non-browser client holds it (the token in the Authorization header). */
export interface OpenTerminal {
  type(text: string): void;
  /** Waits until what the terminal printed matches. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
  closed: Promise<{ code: number; reason: string }>;
}

export function openTerminal(url: string, token: string, instanceId: string): Promise<OpenTerminal> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/instances/${instanceId}/terminal`, 'berth.terminal.v1', {
    headers: { authorization: `Bearer ${token}` },
  });
  let output = '';
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) output += data.toString();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        type: (text) => ws.send(Buffer.from(text), { binary: true }),
        printed: async (pattern, timeoutMs = 20_000) => {
          const end = Date.now() + timeoutMs;
          while (!pattern.test(output)) {
            if (Date.now() > end)
              throw new Error(`the terminal did not print ${pattern}; it printed ${JSON.stringify(output)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          return output;
        },
        close: () => ws.close(),
        closed,
      }),
    );
  });
}

/** The host pids of the processes in the pid namespace of `pid` whose command line is `argv`. */
export async function processesLike(pid: number, argv: string[]): Promise<number[]> {
  const namespace = await readlink(`/proc/${pid}/ns/pid`);
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/pid`)) !== namespace) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      if (cmdline.join('\0') === argv.join('\0')) found.push(Number(entry));
    } catch {
      // It ended while being read.
    }
  }
  return found;
}
