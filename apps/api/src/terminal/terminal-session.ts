import { decodeFrame, parseSize, TERMINAL_KEEPALIVE_MS, type TerminalFrame, type TerminalKind } from '@berth/contracts';
import type { WebSocket } from 'ws';

/**
 * How a session's WebSocket closes, besides 1000 (the terminal ended: its reason) and 1001 (the API stops).
 * The reason text says the rest.
 */
export const CLOSE_CODES = {
  /** The token was revoked or expired. */
  tokenEnded: 4401,
  /** The host refused: the instance does not run, or its serial console is in use. */
  refused: 4409,
  /** The viewer did not read what the terminal printed fast enough. */
  tooSlow: 4408,
  /** The host did not answer, or fell silent. */
  unavailable: 4503,
} as const;

/** What the viewer may have waiting to be sent before the session is closed as too slow. */
const VIEWER_BUFFER_LIMIT = 4 * 1024 * 1024;

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123
    ? reason
    : `${bytes
        .subarray(0, 120)
        .toString()
        .replace(/\uFFFD$/, '')}...`;
}

export interface SessionBus {
  publish(frame: TerminalFrame): void;
}

/**
 * One viewer's interactive console, on the API's side: relays the WebSocket's messages (binary: keystrokes; text:
 * JSON control, `{"type":"resize","cols":C,"rows":R}`) to the host's input channel, and the host's output frames to
 * the WebSocket (binary: what the terminal printed; text: `{"type":"opened","kind":...}` once the host opened it).
 * Keystrokes typed before the host answered are held and sent once it has. It ends once, for whichever reason comes
 * first, and says why in the close frame.
 */
export class TerminalSession {
  private held: Buffer[] | null = [];
  private heardAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  /** Why it ended, once it has. */
  endedWith: string | null = null;
  readonly bytes = { input: 0, output: 0 };

  constructor(
    private readonly socket: WebSocket,
    private readonly bus: SessionBus,
    /** Called once when it ends, with the reason. */
    private readonly onEnd: (reason: string) => void,
    private readonly keepaliveMs = TERMINAL_KEEPALIVE_MS,
  ) {
    socket.on('message', (data: Buffer, binary: boolean) => this.fromViewer(data, binary));
    socket.on('close', () => this.end('the viewer closed the terminal', null));
    this.timer = setInterval(() => this.keepalive(), keepaliveMs);
  }

  /** The host opened the terminal: the viewer is told, and what it typed meanwhile goes. */
  opened(kind: TerminalKind): void {
    if (this.endedWith !== null) return;
    this.socket.send(JSON.stringify({ type: 'opened', kind }));
    for (const data of this.held ?? []) this.bus.publish({ type: 'data', data });
    this.held = null;
  }

  /** A frame from the host's output channel. */
  fromHost(message: Buffer): void {
    this.heardAt = Date.now();
    const frame = decodeFrame(message);
    if (!frame || this.endedWith !== null) return;
    if (frame.type === 'data') {
      this.bytes.output += frame.data.length;
      this.socket.send(frame.data, { binary: true });
      if (this.socket.bufferedAmount > VIEWER_BUFFER_LIMIT) {
        this.close(CLOSE_CODES.tooSlow, 'the viewer did not keep up with the terminal output');
      }
    } else if (frame.type === 'end') {
      this.end(frame.reason, 1000);
    }
  }

  /** Ends the session from the API's side (token revoked, host refused or silent, API stopping). */
  close(code: number, reason: string): void {
    this.end(reason, code);
  }

  private fromViewer(data: Buffer, binary: boolean): void {
    if (this.endedWith !== null) return;
    if (binary) {
      this.bytes.input += data.length;
      if (this.held) this.held.push(data);
      else this.bus.publish({ type: 'data', data });
      return;
    }
    const text = data.toString();
    const control = /^\{"type":"resize",/.test(text) ? parseSize(text) : null;
    if (control) this.bus.publish({ type: 'resize', size: control });
  }

  private keepalive(): void {
    if (this.held === null && Date.now() - this.heardAt > 3 * this.keepaliveMs) {
      this.close(CLOSE_CODES.unavailable, "the instance's host fell silent");
      return;
    }
    this.bus.publish({ type: 'keepalive' });
  }

  /** Ends once: tells the host to hang up (unless it ended there), closes the viewer (unless it left). */
  private end(reason: string, code: number | null): void {
    if (this.endedWith !== null) return;
    this.endedWith = reason;
    clearInterval(this.timer);
    if (code !== 1000) this.bus.publish({ type: 'close' });
    if (code !== null) this.socket.close(code, closeReason(reason));
    this.onEnd(reason);
  }
}
