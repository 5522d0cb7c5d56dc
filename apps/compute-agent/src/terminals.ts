import {
  decodeFrame,
  encodeFrame,
  TERMINAL_KEEPALIVE_MS,
  terminalChannels,
  type InstanceKind,
  type InstanceTerminalCommand,
  type TerminalFrame,
  type TerminalOpened,
} from '@berth/contracts';
import { TerminalRefused, type ComputeDriver, type Terminal } from '@berth/drivers';
import { errorMessage, type Logger } from '@berth/platform';
import type { PubSub } from '@berth/queue';

/** Bytes published and not yet taken by Redis past which a terminal's output is paused, and resumed below a quarter. */
const OUTPUT_HIGH_WATER = 256 * 1024;

interface Session {
  id: string;
  instanceId: string;
  /** The channel its output goes to. */
  output: string;
  terminal: Terminal | null;
  /** When the API last said anything on the session's input. */
  heardAt: number;
  pendingBytes: number;
  /** Why its terminal ended while it was still being opened. */
  endedWith: string | null;
  unsubscribe: (() => Promise<void>) | null;
  timer: NodeJS.Timeout | null;
}

/**
 * The host's side of the interactive console: opens an instance's terminal with its driver when the API asks
 * (an InstanceTerminalCommand, answered at once), then relays the session's frames between the terminal and its
 * two pub/sub channels until either side ends it. An API that falls silent for three keepalive periods (it died,
 * or lost Redis) is taken as gone: the terminal is hung up, so nothing runs on for a viewer who left.
 */
export class TerminalSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly drivers: ReadonlyMap<InstanceKind, ComputeDriver>,
    private readonly bus: Pick<PubSub, 'publish' | 'subscribe'>,
    private readonly prefix: string,
    private readonly hostName: string,
    private readonly log: Logger,
    private readonly keepaliveMs = TERMINAL_KEEPALIVE_MS,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  async open(command: InstanceTerminalCommand): Promise<TerminalOpened> {
    const { instance, sessionId, size } = command;
    const driver = this.drivers.get(instance.kind);
    if (!driver) throw new Error(`this host has no ${instance.kind} driver`);
    const open = this.sessions.get(sessionId);
    if (open?.terminal) return { opened: true, kind: open.terminal.kind };
    const { input, output } = terminalChannels(this.prefix, this.hostName, sessionId);
    const session: Session = {
      id: sessionId,
      instanceId: instance.id,
      output,
      terminal: null,
      heardAt: Date.now(),
      pendingBytes: 0,
      endedWith: null,
      unsubscribe: null,
      timer: null,
    };
    this.sessions.set(sessionId, session);
    let terminal: Terminal;
    try {
      terminal = await driver.openTerminal(instance, size, {
        onData: (chunk) => this.send(session, chunk),
        onEnd: (reason) => {
          // While it is still being opened, open() finishes it.
          if (session.terminal) void this.finish(session, reason);
          else session.endedWith = reason;
        },
      });
    } catch (error) {
      this.sessions.delete(sessionId);
      if (error instanceof TerminalRefused) return { opened: false, rule: error.rule, message: error.message };
      throw error;
    }
    session.terminal = terminal;
    try {
      session.unsubscribe = await this.bus.subscribe(input, (message) => this.heard(session, message));
    } catch (error) {
      await this.finish(session, `the terminal's input could not be subscribed: ${errorMessage(error)}`);
      throw error;
    }
    session.timer = setInterval(() => this.keepalive(session), this.keepaliveMs);
    // Ended while it was being opened (the shell exited at once): the viewer hears why.
    if (session.endedWith !== null) void this.finish(session, session.endedWith);
    else this.log.info({ sessionId, instanceId: instance.id, kind: terminal.kind }, 'terminal opened');
    return { opened: true, kind: terminal.kind };
  }

  /** Hangs up every session (the agent stops). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.finish(s, 'the host agent stopped')));
  }

  private heard(session: Session, message: Buffer): void {
    session.heardAt = Date.now();
    const frame = decodeFrame(message);
    const terminal = session.terminal;
    if (!frame || !terminal) return;
    switch (frame.type) {
      case 'data':
        terminal.write(frame.data);
        return;
      case 'resize':
        terminal.resize(frame.size).catch((error: unknown) => {
          this.log.debug({ sessionId: session.id, err: errorMessage(error) }, 'terminal resize failed');
        });
        return;
      case 'close':
        void this.finish(session, 'the viewer closed the terminal');
        return;
      case 'keepalive':
      case 'end':
        return;
    }
  }

  /** Publishes what the terminal printed, pausing it while Redis has not taken a high-water mark of it yet. */
  private send(session: Session, chunk: Buffer): void {
    session.pendingBytes += chunk.length;
    if (session.pendingBytes > OUTPUT_HIGH_WATER) session.terminal?.pause();
    void this.publish(session.output, { type: 'data', data: chunk }).finally(() => {
      session.pendingBytes -= chunk.length;
      if (session.pendingBytes < OUTPUT_HIGH_WATER / 4) session.terminal?.resume();
    });
  }

  private keepalive(session: Session): void {
    if (Date.now() - session.heardAt > 3 * this.keepaliveMs) {
      void this.finish(session, 'the viewer went silent');
      return;
    }
    void this.publish(session.output, { type: 'keepalive' });
  }

  /** Ends a session once: hangs its terminal up, tells the API why, and forgets it. */
  private async finish(session: Session, reason: string): Promise<void> {
    if (!this.sessions.delete(session.id)) return;
    if (session.timer) clearInterval(session.timer);
    await session.unsubscribe?.();
    await session.terminal?.close().catch((error: unknown) => {
      this.log.warn({ sessionId: session.id, err: errorMessage(error) }, 'terminal hang-up failed');
    });
    await this.publish(session.output, { type: 'end', reason });
    this.log.info({ sessionId: session.id, instanceId: session.instanceId, reason }, 'terminal closed');
  }

  private async publish(channel: string, frame: TerminalFrame): Promise<void> {
    await this.bus.publish(channel, encodeFrame(frame)).catch((error: unknown) => {
      this.log.warn({ channel, err: errorMessage(error) }, 'terminal output not published');
    });
  }
}
