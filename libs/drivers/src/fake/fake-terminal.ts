import type { TerminalKind } from '@berth/contracts';
import { endOnce, type Terminal, type TerminalListener } from '../terminal';

/**
 * The fake driver's terminal: a line discipline with echo and a prompt, and nothing behind it. `exit` ends it, as
 * a shell's exit would; so does its instance stopping. Enough for the relay between API and host to be tested.
 */
export class FakeTerminals {
  private readonly open = new Map<string, Set<(reason: string) => void>>();

  start(instanceId: string, kind: TerminalKind, listener: TerminalListener): Terminal {
    const ends = this.open.get(instanceId) ?? new Set<(reason: string) => void>();
    this.open.set(instanceId, ends);
    const ended = endOnce(listener);
    const end = (reason: string) => {
      ends.delete(end);
      ended(reason);
    };
    ends.add(end);
    let line = '';
    listener.onData(Buffer.from('$ '));
    return {
      kind,
      write: (data) => {
        for (const char of data.toString()) {
          if (char !== '\r' && char !== '\n') {
            line += char;
            listener.onData(Buffer.from(char));
            continue;
          }
          listener.onData(Buffer.from('\r\n'));
          if (line.trim() === 'exit') return end('the shell exited');
          listener.onData(Buffer.from('$ '));
          line = '';
        }
      },
      pause: () => undefined,
      resume: () => undefined,
      resize: () => Promise.resolve(),
      close: () => Promise.resolve(end('the terminal was hung up')),
    };
  }

  /** The instance stopped or went: its terminals end. */
  endAll(instanceId: string, reason: string): void {
    for (const end of [...(this.open.get(instanceId) ?? [])]) end(reason);
    this.open.delete(instanceId);
  }
}
