import { Failpoints, type CommandRunner } from '@berth/platform';
import type { HostNet } from './host-net';
import { clearPortRates, meterCookie, orphanQosRows, parseTcRate, setPortRates } from './qos';

const PORT = '3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c';

/** Answers OVS queries from `answers` (first matching substring), records every argv. */
function recorder(answers: Array<[string, string]> = []) {
  const calls: string[] = [];
  const run: CommandRunner = (argv) => {
    const line = argv.join(' ');
    calls.push(line);
    return Promise.resolve(answers.find(([match]) => line.includes(match))?.[1] ?? '');
  };
  return { calls, net: { run, bridge: 'br-int', failpoints: new Failpoints() } satisfies HostNet };
}

describe('parseTcRate', () => {
  it.each([
    ['20Mbit', 20_000_000],
    ['512Kbit', 512_000],
    ['1Gbit', 1_000_000_000],
    ['1.5Mbit', 1_500_000],
    ['999bit', 999],
  ])('reads %s', (text, bits) => expect(parseTcRate(text)).toBe(bits));

  it('refuses what is not a rate', () => expect(parseTcRate('20MB')).toBeNull());
});

describe('setPortRates', () => {
  it('on a netdev bridge: linux-htb for traffic to the instance, a meter on its OpenFlow port for traffic from it', async () => {
    const { calls, net } = recorder([['ofport', '7\n']]);
    await setPortRates(
      net,
      { name: 'bvh3f1b0d5e6b3a', portId: PORT, datapath: 'netdev' },
      { ingressMbps: 20, egressMbps: 30 },
    );
    expect(calls.find((c) => c.includes('create QoS'))).toContain('other_config:max-rate=20000000');
    expect(calls).toContain(
      'ovs-ofctl -O OpenFlow13 add-meter br-int meter=7,kbps,burst,band=type=drop,rate=30000,burst_size=6000',
    );
    expect(calls).toContain(
      'ovs-ofctl -O OpenFlow13 add-flow br-int table=10,cookie=0x3f1b0d5e6b3a4b8e,priority=100,in_port=7,actions=meter:7,NORMAL',
    );
    expect(calls.some((c) => c.includes('ingress_policing'))).toBe(false);
  });

  it("changes the port's own meter in place, without adding it again or re-recording it", async () => {
    const { calls, net } = recorder([['ofport', '7\n"7"\n']]);
    await setPortRates(
      net,
      { name: 'bvh3f1b0d5e6b3a', portId: PORT, datapath: 'netdev' },
      { ingressMbps: null, egressMbps: 40 },
    );
    expect(calls.filter((c) => c.includes('meter=7'))).toEqual([
      'ovs-ofctl -O OpenFlow13 mod-meter br-int meter=7,kbps,burst,band=type=drop,rate=40000,burst_size=8000',
    ]);
    expect(calls.some((c) => c.includes('external_ids:berth-meter=7'))).toBe(false);
  });

  it('on a kernel datapath: ingress policing instead of a meter', async () => {
    const { calls, net } = recorder();
    await setPortRates(
      net,
      { name: 'bvh3f1b0d5e6b3a', portId: PORT, datapath: 'system' },
      { ingressMbps: null, egressMbps: 10 },
    );
    expect(calls).toContain(
      'ovs-vsctl --timeout=10 set Interface bvh3f1b0d5e6b3a ingress_policing_rate=10000 ingress_policing_burst=2000',
    );
    expect(calls.some((c) => c.includes('meter'))).toBe(false);
  });

  it('updates existing QoS rows in place instead of making new ones', async () => {
    const found = (uuid: string) => JSON.stringify({ data: [[['uuid', uuid]]], headings: ['_uuid'] });
    const { calls, net } = recorder([['find QoS', `${found('qos-uuid')}\n${found('queue-uuid')}\n`]]);
    await setPortRates(
      net,
      { name: 'bvh3f1b0d5e6b3a', portId: PORT, datapath: 'system' },
      { ingressMbps: 5, egressMbps: null },
    );
    expect(calls).toContain(
      'ovs-vsctl --timeout=10 set QoS qos-uuid other_config:max-rate=5000000 -- set Queue queue-uuid ' +
        'other_config:max-rate=5000000 -- set Port bvh3f1b0d5e6b3a qos=qos-uuid',
    );
    expect(calls.some((c) => c.includes('create'))).toBe(false);
  });

  it.each([
    ['a rate of 0', { ingressMbps: 0, egressMbps: null }],
    ['a fractional rate', { ingressMbps: 1.5, egressMbps: null }],
  ])('refuses %s before running anything', async (_case, rates) => {
    const { calls, net } = recorder();
    await expect(
      setPortRates(net, { name: 'bvh3f1b0d5e6b3a', portId: PORT, datapath: 'netdev' }, rates),
    ).rejects.toThrow();
    expect(calls).toEqual([]);
  });

  it('refuses a port id that cannot be a cookie', () => expect(() => meterCookie('../x')).toThrow());
});

describe('clearPortRates', () => {
  it('deletes the meter its flow names even when the port, and the meter id on it, are already gone', async () => {
    const { calls, net } = recorder([
      ['dump-flows', ` cookie=${meterCookie(PORT)}, priority=100,in_port=34 actions=meter:34,NORMAL`],
    ]);
    await clearPortRates(net, { name: 'bvh3f1b0d5e6b3a', portId: PORT });
    expect(calls).toContain('ovs-ofctl -O OpenFlow13 del-meter br-int meter=34');
    expect(calls.indexOf('ovs-ofctl -O OpenFlow13 del-meter br-int meter=34')).toBeGreaterThan(
      calls.findIndex((c) => c.includes('del-flows')),
    );
  });
});

describe('orphanQosRows', () => {
  const table = (data: unknown[][]) => JSON.stringify({ data, headings: [] });
  const tag = (port: string) => ['map', [['berth-port', port]]];
  const output = [
    table([
      [['uuid', 'q-live'], tag('p-live')],
      [['uuid', 'q-gone'], tag('p-gone')],
      [
        ['uuid', 'q-other'],
        ['map', []],
      ],
    ]),
    table([[['uuid', 'q-live']], [['set', []]]]),
    table([
      [['uuid', 'u-live'], tag('p-live')],
      [['uuid', 'u-gone'], tag('p-gone')],
      [
        ['uuid', 'u-other'],
        ['map', []],
      ],
    ]),
  ].join('\n');

  it("finds Berth's QoS rows no port uses and their queues, and leaves others' and the attached ones", async () => {
    const net = { run: () => Promise.resolve(output), bridge: 'br-int', failpoints: new Failpoints() };
    expect(await orphanQosRows(net)).toEqual({ qos: ['q-gone'], queues: ['u-gone'] });
  });
});
