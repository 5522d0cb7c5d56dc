import { formatIPv4, macFromRandom, parseIPv4, pickAddress, planNetwork, poolSize, type NetworkPlan } from './ipam';

const ip = (s: string) => {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad test address ${s}`);
  return n;
};

function plan(input: Parameters<typeof planNetwork>[0]): NetworkPlan {
  const result = planNetwork(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

describe('parseIPv4', () => {
  it.each(['10.0.0.1', '0.0.0.0', '255.255.255.255'])('accepts %s', (s) => {
    expect(formatIPv4(ip(s))).toBe(s);
  });
  it.each(['10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.01', '0x0a.0.0.1', '10.0.0.1 ', '', '1.2.3.4/24', '::1'])(
    'rejects %j',
    (s) => expect(parseIPv4(s)).toBeNull(),
  );
});

describe('planNetwork', () => {
  it('defaults the pool to every host address of the subnet', () => {
    const p = plan({ cidr: '10.0.0.0/24', gateway: '10.0.0.1' });
    expect([formatIPv4(p.poolStart), formatIPv4(p.poolEnd)]).toEqual(['10.0.0.1', '10.0.0.254']);
    expect(poolSize(p)).toBe(253);
  });

  it.each([
    [{ cidr: '10.0.0.0', gateway: '10.0.0.1' }, 'cidr', 'cidr'],
    [{ cidr: '10.0.0.5/24', gateway: '10.0.0.1' }, 'cidr', 'networkAddress'],
    [{ cidr: '10.0.0.0/31', gateway: '10.0.0.1' }, 'cidr', 'prefixLength'],
    [{ cidr: '10.0.0.0/7', gateway: '10.0.0.1' }, 'cidr', 'prefixLength'],
    [{ cidr: '10.0.0.0/24', gateway: '10.0.1.1' }, 'gateway', 'inSubnet'],
    [{ cidr: '10.0.0.0/24', gateway: '10.0.0.0' }, 'gateway', 'inSubnet'],
    [{ cidr: '10.0.0.0/24', gateway: '10.0.0.255' }, 'gateway', 'inSubnet'],
    [{ cidr: '10.0.0.0/24', gateway: 'gw' }, 'gateway', 'ipv4'],
    [{ cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationStart: '10.0.1.5' }, 'allocationStart', 'inSubnet'],
    [{ cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationEnd: '10.0.0.255' }, 'allocationEnd', 'inSubnet'],
    [
      { cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationStart: '10.0.0.50', allocationEnd: '10.0.0.40' },
      'allocationEnd',
      'order',
    ],
    [
      { cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationStart: '10.0.0.1', allocationEnd: '10.0.0.1' },
      'allocationStart',
      'size',
    ],
  ])('rejects %j on %s (%s)', (input, field, rule) => {
    const result = planNetwork(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ field, rule });
  });

  it('suggests the network address when host bits are set', () => {
    const result = planNetwork({ cidr: '192.168.7.9/16', gateway: '192.168.0.1' });
    expect(!result.ok && result.errors[0]?.message).toContain('192.168.0.0/16');
  });
});

describe('pickAddress', () => {
  const small = plan({
    cidr: '10.1.0.0/29',
    gateway: '10.1.0.1',
    allocationStart: '10.1.0.1',
    allocationEnd: '10.1.0.4',
  });

  it('hands out the lowest free address and never the gateway', () => {
    const picks: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const r = pickAddress(small, picks);
      if (!r.ok) throw new Error('unexpected exhaustion');
      picks.push(r.value);
    }
    expect(picks.map(formatIPv4)).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.4']);
  });

  it('reports exhaustion on the network field', () => {
    const r = pickAddress(small, [ip('10.1.0.2'), ip('10.1.0.3'), ip('10.1.0.4')]);
    expect(r).toEqual({
      ok: false,
      refusal: 'exhausted',
      errors: [expect.objectContaining({ field: 'network', rule: 'exhausted' })],
    });
  });

  it('fills a hole left by a freed address', () => {
    const r = pickAddress(small, [ip('10.1.0.4'), ip('10.1.0.2')]);
    expect(r.ok && formatIPv4(r.value)).toBe('10.1.0.3');
  });

  it('ignores used addresses outside the pool', () => {
    const r = pickAddress(small, [ip('10.1.0.6'), ip('10.9.9.9')]);
    expect(r.ok && formatIPv4(r.value)).toBe('10.1.0.2');
  });

  it.each([
    ['10.1.0.3', [], true, ''],
    ['10.1.0.5', [], false, 'inPool'],
    ['10.1.0.1', [], false, 'notGateway'],
    ['10.1.0.3', ['10.1.0.3'], false, 'free'],
    ['10.1.0.x', [], false, 'ipv4'],
  ])('a requested %s with %j used: ok=%s %s', (requested, used, accepted, rule) => {
    const r = pickAddress(small, used.map(ip), requested);
    expect(r.ok).toBe(accepted);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ field: 'ip', rule });
    else expect(formatIPv4(r.value)).toBe(requested);
  });
});

describe('macFromRandom', () => {
  it('builds a locally administered unicast MAC under 02:be', () => {
    expect(macFromRandom(Uint8Array.from([0, 15, 160, 255]))).toBe('02:be:00:0f:a0:ff');
  });
});
