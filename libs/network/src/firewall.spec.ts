import { firewallFlows, firewallPipeline, portRangeMatches, ruleLabel } from './firewall';

const RULE = '0b6f4c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b';
const port = { name: 'bvh3f1b0d5e6b3a', mac: '02:be:00:00:00:01', vlan: 100 };
const rule = (over: object) => ({
  id: RULE,
  direction: 'ingress' as const,
  protocol: 'tcp' as const,
  portMin: 8080,
  portMax: 8080,
  remoteCidrs: ['0.0.0.0/0'],
  ...over,
});

/** The ports a value/mask match covers. */
function covered(match: string): number[] {
  const [value = '', mask = '0xffff'] = match.split('/');
  const v = Number(value);
  const m = Number(mask);
  const ports: number[] = [];
  for (let p = 0; p <= 65535; p += 1) if ((p & m) === (v & m)) ports.push(p);
  return ports;
}

describe('port ranges as OpenFlow matches', () => {
  it.each([
    [8080, 8080, 1],
    [1, 65535, 16],
    [1024, 2047, 1],
    [1000, 2000, 8],
    [21, 23, 2],
  ])('%i-%i covers exactly that range in %i matches', (min, max, count) => {
    const matches = portRangeMatches(min, max);
    expect(matches).toHaveLength(count);
    const ports = matches.flatMap(covered).sort((a, b) => a - b);
    expect(ports).toEqual(Array.from({ length: max - min + 1 }, (_, i) => min + i));
  });

  it.each([
    [0, 10],
    [10, 9],
    [1, 65536],
    [1.5, 2],
  ])('refuses %s-%s', (min, max) => {
    expect(() => portRangeMatches(min, max)).toThrow('not a port range');
  });
});

describe('firewall flows', () => {
  it('send IPv4 for the port through conntrack in its VLAN’s zone, and admit a new connection by its rule', () => {
    const flows = firewallFlows({ ...port, firewall: { rules: [rule({})], cut: [] } }, '0x9d7a');
    expect(flows).toEqual([
      'table=30,cookie=0x9d7a,priority=100,ip,dl_dst=02:be:00:00:00:01,actions=ct(table=31,zone=100)',
      `table=31,cookie=0x9d7a,priority=100,ct_state=+new+trk,dl_dst=02:be:00:00:00:01,tcp,tp_dst=8080,actions=ct(commit,zone=100,exec(set_field:${ruleLabel(RULE)}->ct_label)),resubmit(,10)`,
    ]);
  });

  it('match the remote side by source for ingress, by destination for egress, and every protocol for "any"', () => {
    const [, ingress] = firewallFlows(
      {
        ...port,
        firewall: {
          rules: [rule({ protocol: 'udp', portMin: null, portMax: null, remoteCidrs: ['10.1.2.3/32'] })],
          cut: [],
        },
      },
      '0x1',
    );
    expect(ingress).toContain(',udp,nw_src=10.1.2.3/32,');
    const [, egress] = firewallFlows(
      {
        ...port,
        firewall: { rules: [rule({ direction: 'egress', protocol: 'any', remoteCidrs: ['10.9.0.0/16'] })], cut: [] },
      },
      '0x1',
    );
    expect(egress).toMatch(
      /^table=21,.*,in_port=bvh3f1b0d5e6b3a,ip,nw_dst=10\.9\.0\.0\/16,actions=ct\(commit.*resubmit\(,30\)$/,
    );
  });

  it('drop, in both directions, what a rule removed with "cut" had admitted', () => {
    const flows = firewallFlows({ ...port, firewall: { rules: [], cut: [RULE] } }, '0x1');
    expect(flows.filter((f) => f.includes(`ct_label=${ruleLabel(RULE)}`) && f.endsWith('actions=drop'))).toHaveLength(
      2,
    );
  });

  it('refuse a remote address that would inject a match', () => {
    expect(() =>
      firewallFlows(
        { ...port, firewall: { rules: [rule({ remoteCidrs: ['10.0.0.1,actions=NORMAL'] })], cut: [] } },
        '0x1',
      ),
    ).toThrow();
  });

  it('share a pipeline that drops invalid and unmatched new traffic and passes established replies', () => {
    const pipeline = firewallPipeline();
    expect(pipeline).toContain('table=31,priority=170,ct_state=+est-rel-inv+trk,actions=resubmit(,10)');
    expect(pipeline).toContain('table=21,priority=0,actions=drop');
    expect(pipeline).toContain('table=30,priority=0,actions=resubmit(,10)');
  });
});
