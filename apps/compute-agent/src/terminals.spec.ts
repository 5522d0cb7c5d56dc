import {
  CONTRACT_VERSION,
  decodeFrame,
  encodeFrame,
  terminalChannels,
  type InstanceSpec,
  type InstanceTerminalCommand,
  type TerminalFrame,
} from '@berth/contracts';
import { FakeDriver, noSteps } from '@berth/drivers';
import { sampleSpec } from '@berth/drivers/testing';
import { createLogger } from '@berth/platform';
import { TerminalSessions } from './terminals';

/** Redis pub/sub as the sessions use it, in memory: what was published on each channel, and its subscribers. */
class MemoryBus {
  readonly published = new Map<string, TerminalFrame[]>();
  readonly handlers = new Map<string, (message: Buffer) => void>();

  publish(channel: string, message: Buffer): Promise<void> {
    const frame = decodeFrame(message);
    if (frame) this.published.set(channel, [...(this.published.get(channel) ?? []), frame]);
    return Promise.resolve();
  }

  subscribe(channel: string, handler: (message: Buffer) => void): Promise<() => Promise<void>> {
    this.handlers.set(channel, handler);
    return Promise.resolve(() => {
      this.handlers.delete(channel);
      return Promise.resolve();
    });
  }

  /** The API's side: sends a frame on a session's input. */
  send(channel: string, frame: TerminalFrame): void {
    this.handlers.get(channel)?.(encodeFrame(frame));
  }

  output(channel: string): string {
    const frames = this.published.get(channel) ?? [];
    return Buffer.concat(frames.flatMap((f) => (f.type === 'data' ? [f.data] : []))).toString();
  }

  ends(channel: string): string[] {
    return (this.published.get(channel) ?? []).flatMap((f) => (f.type === 'end' ? [f.reason] : []));
  }
}

const HOST = 'node-1';

describe('the host side of interactive consoles', () => {
  let driver: FakeDriver;
  let bus: MemoryBus;
  let sessions: TerminalSessions;
  let spec: InstanceSpec;

  const command = (sessionId: string): InstanceTerminalCommand => ({
    v: CONTRACT_VERSION,
    type: 'instance.terminal',
    instance: spec,
    sessionId,
    size: { cols: 80, rows: 24 },
  });

  beforeEach(async () => {
    driver = new FakeDriver('container');
    bus = new MemoryBus();
    sessions = new TerminalSessions(new Map([['container', driver]]), bus, 'p', HOST, createLogger('t', 'silent'), 50);
    spec = sampleSpec();
    await driver.spawn(spec, noSteps);
  });
  afterEach(() => sessions.closeAll());

  it("relays keystrokes to the instance's terminal and what it prints back, until the shell exits", async () => {
    const { input, output } = terminalChannels('p', HOST, 's1');
    expect(await sessions.open(command('s1'))).toEqual({ opened: true, kind: 'shell' });
    bus.send(input, { type: 'data', data: Buffer.from('echo hi\r') });
    expect(bus.output(output)).toBe('$ echo hi\r\n$ ');
    bus.send(input, { type: 'resize', size: { cols: 100, rows: 30 } });
    bus.send(input, { type: 'data', data: Buffer.from('exit\r') });
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.ends(output)).toEqual(['the shell exited']);
    expect(sessions.size).toBe(0);
    expect(bus.handlers.has(input)).toBe(false);
  });

  it('hangs the terminal up when the API says close, and says why once', async () => {
    const { input, output } = terminalChannels('p', HOST, 's2');
    await sessions.open(command('s2'));
    bus.send(input, { type: 'close' });
    bus.send(input, { type: 'close' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.ends(output)).toEqual(['the viewer closed the terminal']);
    expect(sessions.size).toBe(0);
  });

  it('hangs up a session whose API fell silent for three keepalive periods, and keeps one that speaks', async () => {
    const silent = terminalChannels('p', HOST, 'quiet');
    const talking = terminalChannels('p', HOST, 'talking');
    await sessions.open(command('quiet'));
    await sessions.open(command('talking'));
    const talk = setInterval(() => bus.send(talking.input, { type: 'keepalive' }), 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(talk);
    expect(bus.ends(silent.output)).toEqual(['the viewer went silent']);
    expect(bus.ends(talking.output)).toEqual([]);
    expect((bus.published.get(talking.output) ?? []).some((f) => f.type === 'keepalive')).toBe(true);
    expect(sessions.size).toBe(1);
  });

  it('answers with the rule when the instance does not run, and holds nothing', async () => {
    await driver.powerOff(spec, noSteps);
    expect(await sessions.open(command('s3'))).toEqual({
      opened: false,
      rule: 'running',
      message: `instance ${spec.id} is not running`,
    });
    expect(sessions.size).toBe(0);
    expect(bus.handlers.size).toBe(0);
  });

  it('ends the session when the instance stops under it', async () => {
    const { output } = terminalChannels('p', HOST, 's4');
    await sessions.open(command('s4'));
    await driver.powerOff(spec, noSteps);
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.ends(output)).toEqual(['the instance stopped']);
    expect(sessions.size).toBe(0);
  });
});
