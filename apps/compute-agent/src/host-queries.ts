import type {
  ConsoleTail,
  ImagePullCommand,
  InstanceConsoleQuery,
  InstanceKind,
  InstanceStatsAnswer,
  InstanceStatsQuery,
} from '@berth/contracts';
import type { ComputeDriver } from '@berth/drivers';
import { errorMessage, type Logger } from '@berth/platform';
import type { Reporter } from './reporter';

/*
 * What a host answers or does without touching an instance's state: its console, its counters, and an image
 * pulled ahead (pre-warm). None takes the instance's lock.
 */

type Drivers = ReadonlyMap<InstanceKind, ComputeDriver>;

function driverFor(drivers: Drivers, kind: InstanceKind): ComputeDriver {
  const driver = drivers.get(kind);
  if (!driver) throw new Error(`this host has no ${kind} driver`);
  return driver;
}

export async function consoleTail(drivers: Drivers, query: InstanceConsoleQuery): Promise<ConsoleTail> {
  return { lines: await driverFor(drivers, query.instance.kind).consoleTail(query.instance, query.lines) };
}

/** Two readings of an instance's counters, `intervalMs` apart, from which the API works out rates. */
export async function stats(drivers: Drivers, query: InstanceStatsQuery): Promise<InstanceStatsAnswer> {
  const driver = driverFor(drivers, query.instance.kind);
  const first = await driver.usage(query.instance.id);
  if (!first) return { first: null, second: null };
  await new Promise((resolve) => setTimeout(resolve, query.intervalMs));
  return { first, second: await driver.usage(query.instance.id) };
}

/** Pre-warm: pulls the image, reporting progress on this host's step of the operation. */
export async function pullImage(
  drivers: Drivers,
  reporter: Reporter,
  hostName: string,
  command: ImagePullCommand,
  log: Logger,
): Promise<void> {
  const step = `pull ${hostName}`;
  const kind = command.kind ?? 'container';
  const driver = drivers.get(kind);
  if (!driver) {
    await reporter.imagePulled(command.operationId, hostName, command.imageRef, `this host has no ${kind} driver`);
    return;
  }
  try {
    await reporter.step(command.operationId, step, 'starting');
    await driver.cacheImage(command.imageRef, (detail) => reporter.step(command.operationId, step, detail));
    await reporter.imagePulled(command.operationId, hostName, command.imageRef);
  } catch (error) {
    log.warn({ image: command.imageRef, err: errorMessage(error) }, 'image pull failed');
    await reporter.imagePulled(command.operationId, hostName, command.imageRef, errorMessage(error));
  }
}
