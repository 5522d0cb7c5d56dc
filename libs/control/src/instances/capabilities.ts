import type { DriverCapability } from '@berth/contracts';
import { BerthError } from '@berth/domain';
import type { InstanceRecord } from '@berth/data';

/** Why the instance's host cannot do this, or null when it can (or its capabilities are not known). */
export function lacking(instance: InstanceRecord, capability: DriverCapability): string | null {
  if (instance.hostCapabilities === null || instance.hostCapabilities.includes(capability)) return null;
  return (
    `the ${instance.kind} driver of host ${instance.hostName ?? '?'} cannot do this: ` +
    `it does not claim the capability ${capability}`
  );
}

/** Refuses (409, reason capability) what the driver of the instance's host does not claim to do. */
export function requireCapability(instance: InstanceRecord, capability: DriverCapability): void {
  const why = lacking(instance, capability);
  if (why) throw BerthError.conflict(why, 'action', 'capability');
}
