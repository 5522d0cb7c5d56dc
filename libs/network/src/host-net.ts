import { Failpoints, runCommand, type CommandRunner } from '@berth/platform';

/** How this host's plumbing is reached: the command runner, OVS's database and the bridge. */
export interface HostNet {
  run: CommandRunner;
  /** ovsdb-server socket, for hosts that run their own OVS (the testbed); default: OVS's own. */
  ovsDb?: string;
  bridge: string;
  failpoints: Failpoints;
}

export function hostNet(options: Partial<HostNet> & { bridge: string }): HostNet {
  return { run: runCommand, failpoints: new Failpoints(), ...options };
}
