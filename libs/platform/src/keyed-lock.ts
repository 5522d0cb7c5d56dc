/** Runs tasks with the same key one after another, in arrival order; different keys run in parallel. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Whether a task with this key is queued or running. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
