import { Failpoints, type CommandRunner } from '@berth/platform';
import type { HostNet } from './host-net';
import {
  admissionFlows,
  applyPortSecurity,
  portSecurityCookie,
  portSecurityOf,
  surveyAdmission,
} from './port-security';
import { meterCookie } from './qos';

const PORT = '3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c';
const own = { mac: '02:be:00:00:00:01', ip: '10.0.0.2' };

function recorder(answers: Array<[string, string]> = []) {
  const calls: string[] = [];
  const run: CommandRunner = (argv) => {
    const line = argv.join(' ');
    calls.push(line);
    return Promise.resolve(answers.find(([match]) => line.includes(match))?.[1] ?? '');
  };
  return { calls, net: { run, bridge: 'br-int', failpoints: new Failpoints() } satisfies HostNet };
}

describe('admission flows', () => {
  it('let in the port’s own MAC with its address (IP and ARP), drop DHCP answers and everything else', () => {
    const flows = admissionFlows({ name: 'bvh3f1b0d5e6b3a', portId: PORT, allowed: [own], firewall: null });
    expect(flows).toEqual([
      'table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=120,in_port=bvh3f1b0d5e6b3a,udp,tp_src=67,actions=drop',
      'table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=110,in_port=bvh3f1b0d5e6b3a,dl_src=02:be:00:00:00:01,ip,nw_src=10.0.0.2,actions=resubmit(,30)',
      'table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=110,in_port=bvh3f1b0d5e6b3a,dl_src=02:be:00:00:00:01,arp,arp_sha=02:be:00:00:00:01,arp_spa=10.0.0.2,actions=resubmit(,30)',
      'table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=100,in_port=bvh3f1b0d5e6b3a,actions=drop',
    ]);
  });

  it('let in an allowed address pair as well', () => {
    const pair = { mac: '02:be:00:00:00:09', ip: '10.0.0.128/25' };
    const flows = admissionFlows({ name: 'bvh3f1b0d5e6b3a', portId: PORT, allowed: [own, pair], firewall: null });
    expect(flows.filter((f) => f.includes('dl_src=02:be:00:00:00:09,ip,nw_src=10.0.0.128/25'))).toHaveLength(1);
    expect(flows.filter((f) => f.includes('arp_spa=10.0.0.128/25'))).toHaveLength(1);
  });

  it('let everything from the port go on when an admin switched port security off', () => {
    expect(admissionFlows({ name: 'bvh3f1b0d5e6b3a', portId: PORT, allowed: null, firewall: null })).toEqual([
      'table=0,cookie=0x9d7a2c1e0f9a8b7c,priority=100,in_port=bvh3f1b0d5e6b3a,actions=resubmit(,30)',
    ]);
  });

  it('follow the port’s spec: its own address, its pairs, or none when off', () => {
    const port = { id: PORT, networkId: 'n', ...own, prefixLength: 24, gateway: '10.0.0.1', vlan: 100 };
    const pair = { ip: '10.0.0.200', mac: own.mac };
    expect(portSecurityOf('bvh', { ...port, allowedAddressPairs: [pair] }).allowed).toEqual([own, pair]);
    expect(portSecurityOf('bvh', { ...port, portSecurity: false }).allowed).toBeNull();
    expect(portSecurityOf('bvh', port).allowed).toEqual([own]);
  });

  it('have a cookie of their own, apart from the port’s meter flow', () => {
    expect(portSecurityCookie(PORT)).not.toBe(meterCookie(PORT));
    expect(() => portSecurityCookie('../x')).toThrow('not a port id');
  });
});

describe('applyPortSecurity', () => {
  it('records what the port may send from, then replaces whatever table 0 held for it, in one bundle', async () => {
    const { calls, net } = recorder();
    await applyPortSecurity(net, { name: 'bvh3f1b0d5e6b3a', portId: PORT, allowed: [own], firewall: null });
    expect(calls).toEqual([
      'ovs-vsctl --timeout=10 set Interface bvh3f1b0d5e6b3a external_ids:berth-allowed=02:be:00:00:00:01@10.0.0.2 external_ids:berth-firewall=any',
      'ovs-ofctl -O OpenFlow14 --bundle add-flows br-int -',
    ]);
  });

  it('keeps a newer firewall the port has: an older one, from a refresh that arrived late, changes nothing', async () => {
    const firewall = (version: number) => ({ rules: [], cut: [], vlan: 100, version });
    const recorded = Buffer.from(JSON.stringify(firewall(2000))).toString('base64url');
    const target = (version: number) => ({
      name: 'bvh3f1b0d5e6b3a',
      portId: PORT,
      allowed: [own],
      firewall: firewall(version),
    });
    const older = recorder([['get Interface', `"${recorded}"\n`]]);
    expect(await applyPortSecurity(older.net, target(1000))).toBe(false);
    expect(older.calls).toEqual([
      'ovs-vsctl --timeout=10 --if-exists get Interface bvh3f1b0d5e6b3a external_ids:berth-firewall',
    ]);
    const newer = recorder([['get Interface', `"${recorded}"\n`]]);
    expect(await applyPortSecurity(newer.net, target(3000))).toBe(true);
    expect(newer.calls.map((c) => c.split(' ').slice(0, 4).join(' '))).toEqual([
      'ovs-vsctl --timeout=10 --if-exists get',
      'ovs-vsctl --timeout=10 set Interface',
      'ovs-ofctl -O OpenFlow14 --bundle',
    ]);
  });

  it.each([
    ['an address with an injected flow', { mac: own.mac, ip: '10.0.0.2,actions=NORMAL' }],
    ['a MAC that is not one', { mac: 'ff:ff', ip: own.ip }],
    ['a prefix over 32', { mac: own.mac, ip: '10.0.0.0/33' }],
  ])('refuses %s before running anything', async (_case, bad) => {
    const { calls, net } = recorder([['ofport', '7\n']]);
    await expect(
      applyPortSecurity(net, { name: 'bvh3f1b0d5e6b3a', portId: PORT, allowed: [bad], firewall: null }),
    ).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});

describe('surveyAdmission', () => {
  it('finds ports that lost their flows, flows of ports that are gone, and a missing forwarding catch-all', async () => {
    const flows = [
      ' cookie=0x9d7a2c1e0f9a8b7c, duration=1s, table=0, n_packets=0, priority=100,in_port=8 actions=drop',
      ' cookie=0x1111111111111111, duration=1s, table=0, n_packets=3, priority=100,in_port=9 actions=drop',
      ' cookie=0x0, duration=9s, table=0, n_packets=12, priority=0 actions=NORMAL',
    ].join('\n');
    const rows = {
      data: [
        [
          'bvhaaaaaaaaaaaa',
          7,
          [
            'map',
            [
              ['berth-port', PORT],
              ['berth-allowed', '02:be:00:00:00:01@10.0.0.2'],
            ],
          ],
        ],
        [
          'bvhbbbbbbbbbbbb',
          8,
          [
            'map',
            [
              ['berth-port', PORT],
              ['berth-allowed', '02:be:00:00:00:02@10.0.0.3'],
            ],
          ],
        ],
        ['trunk0', 1, ['map', []]],
        [
          'elsewhere',
          9,
          [
            'map',
            [
              ['berth-port', PORT],
              ['berth-allowed', 'any'],
            ],
          ],
        ],
      ],
    };
    const { net } = recorder([
      ['dump-flows', flows],
      ['list-ifaces', 'bvhaaaaaaaaaaaa\nbvhbbbbbbbbbbbb\ntrunk0\n'],
      ['list Interface', JSON.stringify(rows)],
    ]);
    expect(await surveyAdmission(net)).toEqual({
      // 7 records its addresses and has no drop flow; 8 has its flows; "elsewhere" is on another bridge.
      lost: [{ name: 'bvhaaaaaaaaaaaa', portId: PORT, allowed: [own], firewall: null }],
      // 9 is named by a flow, but no interface of this bridge has it: its port's flows go by their cookie.
      strays: ['0x1111111111111111'],
      pipeline: false,
    });
  });
});
