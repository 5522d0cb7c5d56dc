import type { InstanceSpec } from './instance';
import type { CONTRACT_VERSION } from './jobs';

/**
 * The interactive console: a shell in a container (`docker exec` of a fixed argv with a TTY) or a VM's serial
 * console, relayed between the API's WebSocket and the instance's host over two Redis pub/sub channels of its
 * own session. The API asks the host to open it with an InstanceTerminalCommand on the host's queue (answered at
 * once); from then on bytes travel as frames on the channels, never through a queue.
 */

/** A terminal's size in character cells. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What a terminal is: a shell started in a container, or a VM's serial port (one session at a time). */
export type TerminalKind = 'shell' | 'serial';

/** API -> the instance's host, answered at once: open a terminal of the instance, relayed on the session's channels. */
export interface InstanceTerminalCommand {
  v: typeof CONTRACT_VERSION;
  type: 'instance.terminal';
  instance: InstanceSpec;
  /** Random, made by the API: names the session's channels. */
  sessionId: string;
  size: TerminalSize;
}
export const INSTANCE_TERMINAL = 'instance.terminal';

/** Why a host could not open a terminal: the rule the API's 409 names. */
export type TerminalRefusal = 'running' | 'inUse';

/** The answer to an InstanceTerminalCommand. */
export type TerminalOpened =
  { opened: true; kind: TerminalKind } | { opened: false; rule: TerminalRefusal; message: string };

/** The two channels of a session: `input` the API publishes and the host reads, `output` the other way. */
export function terminalChannels(prefix: string, hostName: string, sessionId: string) {
  const base = `${terminalChannelPrefix(prefix, hostName)}${sessionId}`;
  return { input: `${base}:in`, output: `${base}:out` };
}

/** Every channel of a host's sessions starts with this: its agent's Redis user may use those and no other. */
export function terminalChannelPrefix(prefix: string, hostName: string): string {
  return `${prefix}:terminal:${hostName}:`;
}

/** How often each side says it is still there; a side silent for three of these is gone and the session ends. */
export const TERMINAL_KEEPALIVE_MS = 10_000;

/**
 * A frame on a session's channel. Input: data (keystrokes), resize, keepalive, close. Output: data (what the
 * terminal printed), keepalive, end (the terminal ended: its reason).
 */
export type TerminalFrame =
  | { type: 'data'; data: Buffer }
  | { type: 'resize'; size: TerminalSize }
  | { type: 'keepalive' }
  | { type: 'close' }
  | { type: 'end'; reason: string };

const TAGS = { data: 0x64, resize: 0x72, keepalive: 0x6b, close: 0x63, end: 0x65 } as const;

/** One byte of type, then the payload: raw bytes for data, JSON for resize, UTF-8 text for end. */
export function encodeFrame(frame: TerminalFrame): Buffer {
  const tag = Buffer.of(TAGS[frame.type]);
  switch (frame.type) {
    case 'data':
      return Buffer.concat([tag, frame.data]);
    case 'resize':
      return Buffer.concat([tag, Buffer.from(JSON.stringify(frame.size))]);
    case 'end':
      return Buffer.concat([tag, Buffer.from(frame.reason)]);
    case 'keepalive':
    case 'close':
      return tag;
  }
}

/** The frame a message carries, or null for one that is not a frame (ignored, never trusted). */
export function decodeFrame(message: Buffer): TerminalFrame | null {
  const payload = message.subarray(1);
  switch (message[0]) {
    case TAGS.data:
      return { type: 'data', data: payload };
    case TAGS.resize: {
      const size = parseSize(payload.toString());
      return size ? { type: 'resize', size } : null;
    }
    case TAGS.keepalive:
      return { type: 'keepalive' };
    case TAGS.close:
      return { type: 'close' };
    case TAGS.end:
      return { type: 'end', reason: payload.toString() };
    default:
      return null;
  }
}

/** The largest terminal either side accepts, in each dimension. */
export const TERMINAL_MAX_CELLS = 1000;

/** A size of whole cells from 1 to TERMINAL_MAX_CELLS, or null. */
export function parseSize(text: string): TerminalSize | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const { cols, rows } = (value ?? {}) as Record<string, unknown>;
  const cell = (n: unknown): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= TERMINAL_MAX_CELLS;
  return cell(cols) && cell(rows) ? { cols, rows } : null;
}
