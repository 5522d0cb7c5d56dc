import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { lastLines } from '../console-tail';
import { endOnce, TerminalRefused, type Terminal, type TerminalListener } from '../terminal';
import { reportedAddresses } from './guest-console';

/**
 * The serial consoles of this host's guests: QEMU binds each one's to a socket in the instance's directory
 * (domain-xml.ts) and copies everything it prints to console.log there, across boots. QEMU serves one client
 * per socket at a time, so a console held by a session is refused to the next until it closes.
 */
export class SerialConsoles {
  private readonly held = new Set<string>();

  constructor(private readonly dirOf: (instanceId: string) => string) {}

  /** The last `lines` lines the guest printed, empty when it never printed anything. */
  async tail(instanceId: string, lines: number): Promise<string[]> {
    return lastLines(await this.log(instanceId), lines);
  }

  /** What the guest said about the interface with `mac` since it last booted (guest-console.ts), or null. */
  async reportedInterface(instanceId: string, mac: string): Promise<{ mac: string; addresses: string[] } | null> {
    const said = reportedAddresses(await this.log(instanceId), mac);
    return said.length > 0 ? { mac, addresses: said.slice(-1) } : null;
  }

  /** Connects to the running guest's serial console socket, for one session at a time. */
  async open(instanceId: string, running: boolean, listener: TerminalListener): Promise<Terminal> {
    if (!running) throw notRunning(instanceId);
    if (this.held.has(instanceId)) {
      throw new TerminalRefused('inUse', `the serial console of instance ${instanceId} is in use by another session`);
    }
    this.held.add(instanceId);
    const socket = createConnection(join(this.dirOf(instanceId), 'console.sock'));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    } catch (error) {
      this.held.delete(instanceId);
      socket.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      throw code === 'ENOENT' || code === 'ECONNREFUSED' ? notRunning(instanceId) : error;
    }
    const end = endOnce(listener);
    socket.on('data', (chunk: Buffer) => listener.onData(chunk));
    socket.on('error', (error) => end(`the serial console failed: ${error.message}`));
    socket.on('close', () => {
      this.held.delete(instanceId);
      end('the serial console closed');
    });
    return {
      kind: 'serial',
      write: (data) => void socket.write(data),
      pause: () => void socket.pause(),
      resume: () => void socket.resume(),
      resize: () => Promise.resolve(),
      close: async () => {
        socket.end();
        socket.destroySoon();
        await Promise.resolve();
      },
    };
  }

  private log(instanceId: string): Promise<string> {
    return readFile(join(this.dirOf(instanceId), 'console.log'), 'utf8').catch(() => '');
  }
}

function notRunning(instanceId: string): TerminalRefused {
  return new TerminalRefused('running', `instance ${instanceId} is not running, so its serial console is closed`);
}
