import { Failpoints, type CommandRunner } from '@berth/platform';
import type { HostNet } from './host-net';
import { halfMadeVeths } from './link';

/** `ip -o link show type veth` as the host prints it: a plugged port, a half-made pair, an unplugged host end, others. */
const LINKS = [
  '7: bvh3f1b0d5e6b3a@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master ovs-system state UP',
  '9: bvhaaaaaaaaaaaa@bvpaaaaaaaaaaaa: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN',
  '10: bvpaaaaaaaaaaaa@bvhaaaaaaaaaaaa: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN',
  '12: bvhbbbbbbbbbbbb@if11: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
  '14: veth1234@if13: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
  '16: bvhcccccccccccc1@if15: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN',
].join('\n');

function net(out: string): HostNet {
  const run: CommandRunner = () => Promise.resolve(out);
  return { run, bridge: 'br-int', failpoints: new Failpoints() };
}

describe('halfMadeVeths', () => {
  it("finds a pair whose peer is still in the host's namespace and a host end on no bridge port, nothing else", async () => {
    expect((await halfMadeVeths(net(LINKS), ['bvh3f1b0d5e6b3a'])).sort()).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
  });

  it('finds nothing when every host end is a bridge port', async () => {
    expect(await halfMadeVeths(net(LINKS.split('\n')[0] ?? ''), ['bvh3f1b0d5e6b3a'])).toEqual([]);
  });
});
