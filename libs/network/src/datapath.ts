import { access } from 'node:fs/promises';
import type { DatapathType } from './ovs';

/**
 * The kernel datapath needs the openvswitch module; without it (this development machine) OVS runs
 * bridges in userspace (`netdev`). Production hosts load the module and get `system`.
 */
export async function probeDatapath(sysModuleDir = '/sys/module/openvswitch'): Promise<DatapathType> {
  try {
    await access(sysModuleDir);
    return 'system';
  } catch {
    return 'netdev';
  }
}
