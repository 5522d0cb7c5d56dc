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
  /** deploy/testbed.sh's hosts, as the test suite's set-up makes them. */
  testbed: {
    /** The underlay's gateway: Redis and the registry answer here for the hosts. */
    gateway: string;
    /** The busybox image by the registry's underlay address, which the hosts' dockerd trust. */
    image: string;
    netns: (host: number) => string;
    runDir: (host: number) => string;
    dataDir: (host: number) => string;
    /** The host's own libvirtd. */
    libvirtUri: (host: number) => string;
    address: (host: number) => string;
  };
}

/** deploy/testbed.sh's underlay gateway address. */
const TESTBED_GATEWAY = '10.250.0.1';

export function testEnv(): TestEnv {
  return {
    dockerSocket: process.env['BERTH_DOCKER_SOCKET'] ?? '/var/run/docker.sock',
    bridge: process.env['BERTH_OVS_BRIDGE'] ?? 'br-int',
    image: process.env['BERTH_TEST_IMAGE'] ?? '127.0.0.1:5000/busybox:latest',
    sharedCpus: readFileSync('/sys/devices/system/cpu/online', 'utf8').trim(),
    lxcfsPath: process.env['BERTH_LXCFS_PATH'] ?? '/var/lib/lxcfs',
    vmImageDir: process.env['BERTH_TEST_VM_IMAGE_DIR'] ?? '/var/lib/berth/images/test-vm',
    testbed: {
      gateway: TESTBED_GATEWAY,
      image: `${TESTBED_GATEWAY}:5000/busybox:latest`,
      netns: (host) => `berth-tb${host}`,
      runDir: (host) => `/run/berth-testbed/tb${host}`,
      dataDir: (host) => `/var/lib/berth-testbed/tb${host}`,
      libvirtUri: (host) => `qemu+unix:///system?socket=/var/lib/berth-testbed/tb${host}/libvirt/run/libvirt-sock`,
      address: (host) => `10.250.0.${10 + host}`,
    },
  };
}
