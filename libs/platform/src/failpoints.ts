import type { Logger } from './logger';
/**
 * Named points in multi-step host changes where a test can inject a fault, like etcd's gofail or
 * FreeBSD's fail(9). They are armed only through the agent's BERTH_FAILPOINTS setting: `name` makes
 * the point throw (each step must undo itself), `name=hang` makes it wait for ever, so that a test
 * can kill the process at exactly that point (restart recovery). Unarmed, a check is one Map lookup.
 */
export type FailpointAction = 'throw' | 'hang';

export class Failpoints {
  private readonly armed: Map<string, FailpointAction>;

  constructor(
    points: Iterable<string | [string, FailpointAction]> = [],
    /** Told when a point starts to hang (the agent logs it, so that a test knows when to kill). */
    private readonly onHang: (name: string) => void = () => undefined,
  ) {
    this.armed = new Map([...points].map((p) => (typeof p === 'string' ? [p, 'throw' as const] : p)));
  }

  /**
   * A process's failpoints from its BERTH_FAILPOINTS, logging each hang in the words tests wait
   * for, and warning at start when any is armed.
   */
  static armed(spec: string | undefined, log: Logger): Failpoints {
    const failpoints = Failpoints.parse(spec, (failpoint) =>
      log.warn({ failpoint }, 'failpoint reached: hanging until killed'),
    );
    if (failpoints.list().length > 0) log.warn({ failpoints: failpoints.list() }, 'failpoints armed: for tests only');
    return failpoints;
  }

  /** "a,b=hang": `a` throws, `b` hangs. */
  static parse(spec: string | undefined, onHang?: (name: string) => void): Failpoints {
    const points = (spec ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry): [string, FailpointAction] => {
        const [name = '', action = 'throw'] = entry.split('=', 2);
        if (action !== 'throw' && action !== 'hang') throw new Error(`failpoint ${name}: unknown action ${action}`);
        return [name, action];
      });
    return new Failpoints(points, onHang);
  }

  /** Throws FailpointError if `name` is armed to throw; never returns if it is armed to hang. */
  async check(name: string): Promise<void> {
    const action = this.armed.get(name);
    if (action === 'throw') throw new FailpointError(name);
    if (action === 'hang') {
      this.onHang(name);
      await new Promise<never>(() => undefined);
    }
  }

  list(): string[] {
    return [...this.armed].map(([name, action]) => (action === 'throw' ? name : `${name}=${action}`));
  }
}

export class FailpointError extends Error {
  constructor(readonly failpoint: string) {
    super(`injected failure at ${failpoint}`);
    this.name = 'FailpointError';
  }
}
