import type { PortSpec } from '@berth/contracts';
import { CommandError, Failpoints, withRevert, type CommandRunner } from '@berth/platform';
import { plugContainerPort, unplugContainerPort } from './container-port';
import type { HostNet } from './host-net';

const port: PortSpec = {
  id: '3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c',
  networkId: 'n',
  mac: '02:be:00:00:00:01',
  ip: '10.0.0.2',
  prefixLength: 24,
  gateway: '10.0.0.1',
  vlan: 100,
};

/** Records each argv and its stdin instead of running it; fails the command whose program is `failOn`. */
function recorder(failOn?: string) {
  const calls: string[] = [];
  const run: CommandRunner = (argv, options) => {
    calls.push([...argv, ...(options?.input ? [`<<${options.input.trim().replace(/\n/g, ' | ')}`] : [])].join(' '));
    if (failOn && argv.join(' ').includes(failOn)) return Promise.reject(new CommandError(argv, 1, 'refused'));
    // The port's OpenFlow port number, which its admission flows name.
    return Promise.resolve(argv.includes('ofport') ? '7\n' : '');
  };
  return { calls, net: { run, bridge: 'br-int', failpoints: new Failpoints() } satisfies HostNet };
}

describe('plugContainerPort', () => {
  it('builds the veth, disables TX offload on netdev, moves it, adds the access port, sets the address', async () => {
    const { calls, net } = recorder();
    await withRevert((r) =>
      plugContainerPort(net, { instanceId: 'i-1', hostName: 'h', pid: 4242, port, datapath: 'netdev' }, r),
    );
    expect(calls).toEqual([
      'ip link add bvh3f1b0d5e6b3a type veth peer name bvp3f1b0d5e6b3a address 02:be:00:00:00:01',
      'ethtool -K bvp3f1b0d5e6b3a tx off',
      'ip -batch - <<link set dev bvp3f1b0d5e6b3a netns 4242 name eth0 | link set dev bvh3f1b0d5e6b3a up',
      'ovs-vsctl --timeout=10 --may-exist add-port br-int bvh3f1b0d5e6b3a tag=100 -- set Interface bvh3f1b0d5e6b3a ' +
        'external_ids:berth-instance="i-1" external_ids:berth-host="h" external_ids:berth-port="3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c" ' +
        'external_ids:iface-id="3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c" external_ids:attached-mac="02:be:00:00:00:01" ' +
        'external_ids:berth-allowed="02:be:00:00:00:01@10.0.0.2" external_ids:berth-firewall="any"',
      'ovs-ofctl -O OpenFlow14 --bundle add-flows br-int - <<delete cookie=0x9d7a2c1e0f9a8b7c/-1 | delete table=0,in_port=bvh3f1b0d5e6b3a | ' +
        'add table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=120,in_port=bvh3f1b0d5e6b3a,udp,tp_src=67,actions=drop | ' +
        'add table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=110,in_port=bvh3f1b0d5e6b3a,dl_src=02:be:00:00:00:01,ip,nw_src=10.0.0.2,actions=resubmit(,30) | ' +
        'add table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=110,in_port=bvh3f1b0d5e6b3a,dl_src=02:be:00:00:00:01,arp,arp_sha=02:be:00:00:00:01,arp_spa=10.0.0.2,actions=resubmit(,30) | ' +
        'add table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=100,in_port=bvh3f1b0d5e6b3a,actions=drop',
      'nsenter --target=4242 --net ip -batch - <<link set dev lo up | addr add 10.0.0.2/24 dev eth0 | ' +
        'link set dev eth0 up | route add default via 10.0.0.1 dev eth0',
      // Where it is now, for switches and neighbours that knew its MAC elsewhere (a migration).
      'nsenter --target=4242 --net busybox arping -U -c 1 -I eth0 10.0.0.2',
    ]);
  });

  it('leaves TX offload alone on the kernel datapath', async () => {
    const { calls, net } = recorder();
    await withRevert((r) =>
      plugContainerPort(net, { instanceId: 'i', hostName: 'h', pid: 4242, port, datapath: 'system' }, r),
    );
    expect(calls.some((c) => c.startsWith('ethtool'))).toBe(false);
  });

  it('undoes the admission flows, the OVS port and the veth when the address step fails', async () => {
    const { calls, net } = recorder('nsenter');
    await expect(
      withRevert((r) =>
        plugContainerPort(net, { instanceId: 'i', hostName: 'h', pid: 4242, port, datapath: 'netdev' }, r),
      ),
    ).rejects.toThrow('refused');
    expect(calls.slice(-3)).toEqual([
      'ovs-ofctl del-flows br-int cookie=0x9d7a2c1e0f9a8b7c/-1',
      'ovs-vsctl --timeout=10 --if-exists del-port br-int bvh3f1b0d5e6b3a',
      'ip link del bvh3f1b0d5e6b3a',
    ]);
  });

  it.each([
    ['an address with an injected line', { ...port, ip: '10.0.0.2/24 dev eth0\nlink del eth0' }],
    ['a gateway that is not an address', { ...port, gateway: '$(id)' }],
    ['an upper-case MAC', { ...port, mac: '02:BE:00:00:00:01' }],
    ['VLAN 4095', { ...port, vlan: 4095 }],
    ['a port id that is not a UUID', { ...port, id: '../../x' }],
  ])('refuses %s before running anything', async (_case, bad) => {
    const { calls, net } = recorder();
    await expect(
      withRevert((r) =>
        plugContainerPort(net, { instanceId: 'i', hostName: 'h', pid: 4242, port: bad, datapath: 'netdev' }, r),
      ),
    ).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});

describe('unplugContainerPort', () => {
  it('removes the rate limits, the admission flows, the OVS port and both veth ends, and tolerates their absence', async () => {
    const calls: string[] = [];
    const net: HostNet = {
      bridge: 'br-int',
      failpoints: new Failpoints(),
      run: (argv) => {
        calls.push(argv.join(' '));
        return argv[0] === 'ip'
          ? Promise.reject(new CommandError(argv, 1, 'Cannot find device "x"'))
          : Promise.resolve('');
      },
    };
    await unplugContainerPort(net, port.id);
    const tag = 'external_ids:berth-port="3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c"';
    expect(calls).toEqual([
      'ovs-ofctl dump-flows br-int cookie=0x3f1b0d5e6b3a4b8e/-1',
      'ovs-vsctl --timeout=10 --if-exists get Interface bvh3f1b0d5e6b3a external_ids:berth-meter',
      'ovs-vsctl --timeout=10 --if-exists clear Port bvh3f1b0d5e6b3a qos',
      `ovs-vsctl --timeout=10 --format=json --columns=_uuid find QoS ${tag} -- --columns=_uuid find Queue ${tag}`,
      'ovs-ofctl del-flows br-int cookie=0x9d7a2c1e0f9a8b7c/-1',
      'ovs-vsctl --timeout=10 --if-exists del-port br-int bvh3f1b0d5e6b3a',
      'ip link del bvh3f1b0d5e6b3a',
      'ip link del bvp3f1b0d5e6b3a',
    ]);
  });
});
