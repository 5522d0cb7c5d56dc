import type { VolumeAttachment } from '@berth/contracts';
import type { HostNet } from '@berth/network';
import type { CommandRunner } from '@berth/platform';
import type { VirtType } from './virt-type';

/** The libvirt driver's settings, from the agent's environment. */
export interface LibvirtDriverOptions {
  net: HostNet;
  hostName: string;
  uri: string;
  /** kvm or qemu (TCG), as probed by the agent (probeVirtType) or set by the operator. */
  virtType: VirtType;
  /** One directory per instance: its overlay disk, config drive, domain XML and console log. */
  instancesDir: string;
  /** This host's copies of VM image files (ImageCache). */
  imageCacheDir: string;
  stopTimeoutSec: number;
  sharedCpus: string;
  /** vCPUs a shared VM may grow to while it runs. */
  maxVcpus: number;
  /** The cloud's SSH key for fetching a migrating VM's disk from its source host (installed at enrollment). */
  migrationKeyPath: string;
  /** Each volume's file on this host; absent: this host attaches no volumes to VMs. */
  volumes?: { fileOf: (a: VolumeAttachment) => string };
  run?: CommandRunner;
}
