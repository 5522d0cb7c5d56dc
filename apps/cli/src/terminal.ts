import { ApiError, BerthClient, type ErrorBody } from '@berth/client';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { addCommon, OperationFailed, resolveRef, type Common, type Io } from './cli-common';
import { configPath, loadConfig, resolveTarget } from './config';
import { API } from './generated/api';

/** Ctrl-] leaves the terminal, as telnet's escape does (the shell sees every other key). */
const ESCAPE = 0x1d;

/** The WebSocket's close codes the API documents, as the errors whose exit codes mean the same (program.ts). */
function failureOf(code: number, reason: string): Error | null {
  if (code === 1000 || code === 1005) return null;
  if (code === 4401 || code === 4409) return new ApiError(code - 4000, null, reason);
  if (code === 4503 || code === 1001 || code === 1006)
    return new ApiError(503, null, reason || 'the connection was lost');
  return new OperationFailed(reason || `the terminal closed with code ${code}`);
}

/**
 * `berth instance terminal <instance>`: the instance's interactive console in this terminal (a shell in a container,
 * a VM's serial console), raw, until the shell exits or Ctrl-] is pressed. The token goes in the Authorization
 * header of the upgrade, never in the URL.
 */
export function addTerminal(noun: Command, io: Io): void {
  const cmd = noun
    .command('terminal')
    .description(API['Terminal_open']?.summary ?? 'An interactive console')
    .argument('<instance>', 'instance name or id');
  addCommon(cmd, false)
    .addHelpText('after', '\nLeave with Ctrl-].\n\nExample:\n  $ berth instance terminal web-1\n')
    .action(async (ref: string) => {
      const opts = cmd.opts<Common>();
      const target = resolveTarget(opts, io.env, await loadConfig(configPath(io.env)));
      const id = await resolveRef(new BerthClient({ url: target.url, token: target.token }), 'instance', ref);
      const tty = io.stdout as NodeJS.WriteStream;
      const url = new URL(`/v1/instances/${encodeURIComponent(id)}/terminal`, target.url);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      if (tty.columns && tty.rows) url.search = `cols=${tty.columns}&rows=${tty.rows}`;
      const failure = await relay(url, target.token, io);
      if (failure) throw failure;
    });
}

function relay(url: URL, token: string | null, io: Io): Promise<Error | null> {
  const ws = new WebSocket(url, 'berth.terminal.v1', token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = stdin.isTTY === true;
  return new Promise((resolve, reject) => {
    const onKeys = (data: Buffer) => {
      if (raw && data.includes(ESCAPE)) return ws.close(1000, 'the viewer left');
      ws.send(data, { binary: true });
    };
    const onResize = () => {
      const out = io.stdout as NodeJS.WriteStream;
      ws.send(JSON.stringify({ type: 'resize', cols: out.columns, rows: out.rows }));
    };
    ws.on('unexpected-response', (request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        request.destroy();
        const parsed = parseError(body);
        reject(new ApiError(response.statusCode ?? 0, parsed, parsed?.error.message ?? body));
      });
    });
    ws.on('open', () => {
      if (raw) stdin.setRawMode(true);
      stdin.on('data', onKeys);
      process.stdout.on('resize', onResize);
    });
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) io.stdout.write(data);
      else if (!raw) return;
      else if ((JSON.parse(data.toString()) as { kind?: string }).kind === 'serial') {
        io.stderr.write('(serial console: press Enter)\r\n');
      }
    });
    ws.on('error', (error) => reject(error));
    ws.on('close', (code, reason) => {
      stdin.off('data', onKeys);
      process.stdout.off('resize', onResize);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (code === 1000 && reason.length > 0) io.stderr.write(`\r\n(${reason.toString()})\n`);
      resolve(failureOf(code, reason.toString()));
    });
  });
}

function parseError(body: string): ErrorBody | null {
  try {
    return JSON.parse(body) as ErrorBody;
  } catch {
    return null;
  }
}
