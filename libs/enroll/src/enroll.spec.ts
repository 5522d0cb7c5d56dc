import { agentEnv, envFile } from './enroll';
import { missingPrerequisites, parseProbe } from './prerequisites';
import { shQuote } from './ssh';

const GOOD = `docker_host=unix:///run/berth-testbed/tb2/docker.sock
docker_version=20.10.24+dfsg1
docker_root=/var/lib/berth-testbed/tb2/docker
libvirt_version=
ovs_rundir=/run/berth-testbed/tb2
ovs=yes
cgroups=v1
controllers=blkio cpu cpuacct cpuset devices freezer memory pids
veth=yes
tun=yes
node_path=/usr/bin/node
node_version=v20.19.2
agent_dir=/var/lib/berth-testbed/tb2/agent
authorized_keys=/var/lib/berth-testbed/tb2/ssh/authorized_keys
agent_installed=yes
`;

describe('host prerequisites', () => {
  it('finds nothing missing on a host with docker, OVS, cgroup v1, veth, node 20 and the agent', () => {
    expect(missingPrerequisites(parseProbe(GOOD), ['container'], '/opt/berth/agent.js')).toEqual([]);
  });

  it('names each missing prerequisite so an operator can act on it', () => {
    const bare = parseProbe(
      GOOD.replace('docker_version=20.10.24+dfsg1', 'docker_version=')
        .replace('ovs=yes', 'ovs=no')
        .replace('controllers=blkio cpu cpuacct cpuset devices freezer memory pids', 'controllers=cpu memory')
        .replace('node_version=v20.19.2', 'node_version=v18.20.0')
        .replace('agent_installed=yes', 'agent_installed=no'),
    );
    expect(missingPrerequisites(bare, ['container', 'vm'], '/opt/berth/agent.js')).toEqual([
      'dockerd does not answer at unix:///run/berth-testbed/tb2/docker.sock (install docker.io and start it)',
      'libvirtd does not answer at qemu:///system (install libvirt-daemon-system and start it)',
      'Open vSwitch does not answer (ovs-vsctl show failed; OVS_RUNDIR /run/berth-testbed/tb2)',
      'cgroup v1 lacks the controllers cpuset, pids, blkio',
      'Node.js 20 or later is needed to run the agent (found v18.20.0)',
      'the agent is not installed at /opt/berth/agent.js',
    ]);
  });
});

describe('the agent settings written to a host', () => {
  const plan = {
    name: 'tb2',
    address: '10.250.0.12',
    drivers: ['container' as const],
    agentPath: '/opt/berth/agent.js',
    agentEnv: { BERTH_REDIS_URL: 'redis://10.250.0.1:6379', BERTH_QUEUE_PREFIX: 'berth' },
    migrationKey: { privateKey: 'k', publicKey: 'p' },
  };

  it('point the agent at the host own dockerd and OVS, as the probe found them', () => {
    expect(agentEnv(plan, parseProbe(GOOD))).toEqual({
      BERTH_REDIS_URL: 'redis://10.250.0.1:6379',
      BERTH_QUEUE_PREFIX: 'berth',
      BERTH_HOST_NAME: 'tb2',
      BERTH_HOST_ADDRESS: '10.250.0.12',
      BERTH_DRIVERS: 'docker',
      BERTH_DOCKER_SOCKET: '/run/berth-testbed/tb2/docker.sock',
      BERTH_DISK_PATH: '/var/lib/berth-testbed/tb2/docker',
      OVS_RUNDIR: '/run/berth-testbed/tb2',
      BERTH_OVS_DB: 'unix:/run/berth-testbed/tb2/db.sock',
      BERTH_MIGRATION_KEY: '/var/lib/berth-testbed/tb2/agent/migration_key',
    });
  });

  it('quote every value as one shell word, and refuse a name that is not a variable', () => {
    expect(envFile({ A: "it's $(rm -rf /)" })).toBe(`A='it'\\''s $(rm -rf /)'\n`);
    expect(shQuote("a'b")).toBe(`'a'\\''b'`);
    expect(() => envFile({ 'A;B': 'x' })).toThrow(/not a variable name/);
  });
});
