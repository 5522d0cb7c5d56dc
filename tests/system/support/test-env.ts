import { readFileSync } from 'node:fs';

/** Where the real daemons of a system test run; deploy/test.sh sets these, the defaults match deploy/up.sh. */
export interface TestEnv {
  dockerSocket: string;
  bridge: string;
  image: string;
  /** The CPUs shared instances float over: every online CPU, as an agent with no dedicated set has. */
  sharedCpus: string;
  /** Where deploy/lib.sh mounts lxcfs. */
  lxcfsPath: string;
  /** Berth's test VM image (deploy/images/vm): vmlinuz, initrd.img, disk.qcow2. */
  vmImageDir: string;
}

export function testEnv(): TestEnv {
  return {
    dockerSocket: process.env['BERTH_DOCKER_SOCKET'] ?? '/var/run/docker.sock',
    bridge: process.env['BERTH_OVS_BRIDGE'] ?? 'br-int',
    image: process.env['BERTH_TEST_IMAGE'] ?? '127.0.0.1:5000/busybox:latest',
    sharedCpus: readFileSync('/sys/devices/system/cpu/online', 'utf8').trim(),
    lxcfsPath: process.env['BERTH_LXCFS_PATH'] ?? '/var/lib/lxcfs',
    vmImageDir: process.env['BERTH_TEST_VM_IMAGE_DIR'] ?? '/var/lib/berth/images/test-vm',
  };
}
