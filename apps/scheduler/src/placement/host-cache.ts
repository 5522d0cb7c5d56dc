import type { PlacementWorkflow } from '@berth/control';
import { withClaim, type HostCandidate, type Resources } from '@berth/domain';
import type { EntityManager } from 'typeorm';

/**
 * The scheduler's copy of every host's state (Nova's HostManager): reloaded in one query when older
 * than `maxAgeMs`, updated at once with this scheduler's own claims, and re-read host by host after
 * a lost race. It only decides where to try: the claim in PostgreSQL is the authority.
 */
export class HostStateCache {
  private list: HostCandidate[] = [];
  private readonly index = new Map<string, number>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: PlacementWorkflow,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Every host. `manager` is the connection to read with if a reload is due: inside a decision,
   * the decision's own, so that a decision never waits for a second connection from the pool.
   */
  async hosts(manager?: EntityManager): Promise<readonly HostCandidate[]> {
    if (this.now() - this.loadedAt > this.maxAgeMs) await this.reloadAll(manager);
    return this.list;
  }

  async host(id: string, manager?: EntityManager): Promise<HostCandidate | null> {
    await this.hosts(manager);
    const i = this.index.get(id);
    return i === undefined ? null : (this.list[i] ?? null);
  }

  /** Counts a claim of ours (or undoes one, with sign -1) ahead of the next reload. */
  applyClaim(hostId: string, r: Resources, sign: 1 | -1 = 1): void {
    this.replace(hostId, (h) => withClaim(h, r, sign));
  }

  /** Re-reads one host (after a claim there failed: someone else took the room). */
  async reload(hostId: string, manager?: EntityManager): Promise<void> {
    const fresh = await this.store.hostState(hostId, manager);
    if (fresh) this.replace(hostId, () => fresh);
  }

  private replace(hostId: string, change: (h: HostCandidate) => HostCandidate): void {
    const i = this.index.get(hostId);
    const current = i === undefined ? undefined : this.list[i];
    if (i === undefined || !current) return;
    // Copy on write: a decision in progress keeps iterating the array it was given.
    const next = [...this.list];
    next[i] = change(current);
    this.list = next;
  }

  /**
   * Outside a decision, concurrent reloads share one query. Inside one (`manager` given) the decision
   * reads on its own connection and never waits for a shared load, which may itself be waiting for
   * a connection that the decisions hold.
   */
  private async reloadAll(manager?: EntityManager): Promise<void> {
    if (manager) {
      this.install(await this.store.hostStates(manager));
      return;
    }
    this.loading ??= this.store
      .hostStates()
      .then((hosts) => this.install(hosts))
      .finally(() => {
        this.loading = null;
      });
    await this.loading;
  }

  private install(hosts: HostCandidate[]): void {
    this.list = hosts;
    this.index.clear();
    hosts.forEach((h, i) => this.index.set(h.id, i));
    this.loadedAt = this.now();
  }
}
