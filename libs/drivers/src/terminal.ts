import type { TerminalKind, TerminalRefusal, TerminalSize } from '@berth/contracts';

/** Where an open terminal's output and its end go; given at open, so that nothing it prints first is lost. */
export interface TerminalListener {
  /** What the terminal printed, as it prints it. */
  onData(chunk: Buffer): void;
  /** Called once when the terminal ends, for whatever reason (the shell exited, the guest went away, close()). */
  onEnd(reason: string): void;
}

/** An interactive terminal of a running instance (ComputeDriver.openTerminal). */
export interface Terminal {
  readonly kind: TerminalKind;
  /** Keystrokes, as typed. */
  write(data: Buffer): void;
  /** Stops reading its output while the viewer's side cannot take more, and starts again. */
  pause(): void;
  resume(): void;
  /** The viewer's window changed size; a serial port has no size and ignores it. */
  resize(size: TerminalSize): Promise<void>;
  /**
   * Hangs up: a shell is sent SIGHUP, as a terminal's hang-up does (what it started in the foreground goes with it),
   * a serial port is let go for the next session. The listener's onEnd follows. Calling it again does nothing.
   */
  close(): Promise<void>;
}

/** A terminal that cannot be opened now, for a reason the caller can act on (the API's 409 names `rule`). */
export class TerminalRefused extends Error {
  constructor(
    readonly rule: TerminalRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'TerminalRefused';
  }
}

/** Calls `onEnd` once, however many ways a terminal learns it ended. */
export function endOnce(listener: TerminalListener): (reason: string) => void {
  let ended = false;
  return (reason) => {
    if (ended) return;
    ended = true;
    listener.onEnd(reason);
  };
}
