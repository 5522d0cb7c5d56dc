/** Where the real daemons of a system test run; deploy/test.sh sets these, the defaults match deploy/up.sh. */
export interface TestEnv {
  dockerSocket: string;
  bridge: string;
  image: string;
}

export function testEnv(): TestEnv {
  return {
    dockerSocket: process.env['BERTH_DOCKER_SOCKET'] ?? '/var/run/docker.sock',
    bridge: process.env['BERTH_OVS_BRIDGE'] ?? 'br-int',
    image: process.env['BERTH_TEST_IMAGE'] ?? '127.0.0.1:5000/busybox:latest',
  };
}
