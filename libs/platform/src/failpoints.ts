/**
 * Named points in multi-step host changes where a test can inject a failure, like etcd's gofail or
 * FreeBSD's fail(9). They are armed only through the agent's BERTH_FAILPOINTS setting; unarmed, a
 * check is one Set lookup. The fault-injection tests use them to prove that each step undoes itself.
 */
export class Failpoints {
  private readonly armed: Set<string>;

  constructor(names: Iterable<string> = []) {
    this.armed = new Set(names);
  }

  static parse(spec: string | undefined): Failpoints {
    return new Failpoints(
      (spec ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }

  /** Throws FailpointError if `name` is armed. */
  check(name: string): void {
    if (this.armed.has(name)) throw new FailpointError(name);
  }

  list(): string[] {
    return [...this.armed];
  }
}

export class FailpointError extends Error {
  constructor(readonly failpoint: string) {
    super(`injected failure at ${failpoint}`);
    this.name = 'FailpointError';
  }
}
