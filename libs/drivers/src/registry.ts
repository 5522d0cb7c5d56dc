import type { ComputeDriver } from './compute-driver';

/** Drivers are picked by name from the agent's configuration (Incus' driver registry). */
export class UnknownDriverError extends Error {
  constructor(
    readonly driverName: string,
    readonly known: readonly string[],
  ) {
    super(`unknown compute driver "${driverName}"; known drivers: ${known.join(', ')}`);
    this.name = 'UnknownDriverError';
  }
}

export class DriverRegistry<Deps> {
  private readonly factories = new Map<string, (deps: Deps) => ComputeDriver>();

  register(name: string, factory: (deps: Deps) => ComputeDriver): this {
    this.factories.set(name, factory);
    return this;
  }

  create(name: string, deps: Deps): ComputeDriver {
    const factory = this.factories.get(name);
    if (!factory) throw new UnknownDriverError(name, [...this.factories.keys()]);
    return factory(deps);
  }
}
