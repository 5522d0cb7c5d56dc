import { explainNoValidHost, LIST_HOSTS_UP_TO } from './explain';
import { instancesThatFit } from './fit';
import { DEFAULT_POLICY_OPTIONS, schedulerPolicy, selectHosts } from './select';
import { candidate, request } from './testing';
import { imageCachedWeigher } from './weighers/image-cached';
import { ramWeigher, vcpuWeigher } from './weighers/resources';
import { serverGroupWeigher } from './weighers/server-group';
import { parseVlanRanges } from './vlan-ranges';

const first = () => 0;
const policy = (over: Partial<typeof DEFAULT_POLICY_OPTIONS> = {}) =>
  schedulerPolicy({ ...DEFAULT_POLICY_OPTIONS, subsetSize: 1, ...over });

describe('weighers', () => {
  it('Ram and Vcpu score what is free after ratios', () => {
    const host = candidate('a', { used: { vcpus: 4, pcpus: 0, ramMb: 1024, diskGb: 0, pids: 0 } });
    expect(ramWeigher.weigh(request(), host)).toBe(3072);
    expect(vcpuWeigher.weigh(request(), host)).toBe(12);
  });
  it('ImageCached scores a host holding the image', () => {
    expect(imageCachedWeigher.weigh(request(), candidate('a', { cachedImages: new Set(['busybox']) }))).toBe(1);
    expect(imageCachedWeigher.weigh(request(), candidate('b'))).toBe(0);
  });
  it('ServerGroup prefers fewer members for soft-anti-affinity and more for soft-affinity', () => {
    const members = new Map([
      ['id-a', 2],
      ['id-b', 1],
    ]);
    const anti = request({ group: { name: 'g', policy: 'soft-anti-affinity', members } });
    const aff = request({ group: { name: 'g', policy: 'soft-affinity', members } });
    expect([candidate('a'), candidate('b'), candidate('c')].map((h) => serverGroupWeigher.weigh(anti, h))).toEqual([
      -2, -1, -0,
    ]);
    expect([candidate('a'), candidate('b'), candidate('c')].map((h) => serverGroupWeigher.weigh(aff, h))).toEqual([
      2, 1, 0,
    ]);
  });
});

describe('selectHosts', () => {
  const hosts = [
    candidate('busy', { used: { vcpus: 0, pcpus: 0, ramMb: 3000, diskGb: 0, pids: 0 } }),
    candidate('idle'),
    candidate('half', { used: { vcpus: 0, pcpus: 0, ramMb: 2048, diskGb: 0, pids: 0 } }),
    candidate('off', { enabled: false }),
  ];

  it('prefers the most free RAM, not the largest free share', () => {
    const big = candidate('big', {
      total: { vcpus: 4, pcpus: 0, ramMb: 65536, diskGb: 100, pids: 100_000 },
      used: { vcpus: 0, pcpus: 0, ramMb: 32768, diskGb: 0, pids: 0 },
    });
    const small = candidate('small', { total: { vcpus: 4, pcpus: 0, ramMb: 4096, diskGb: 100, pids: 100_000 } });
    expect(selectHosts(request(), [small, big], policy({ vcpuMultiplier: 0 }), first).chosen?.name).toBe('big');
  });

  it('spreads by default: the emptiest host first, the next best as alternates', () => {
    const s = selectHosts(request(), hosts, policy({ vcpuMultiplier: 0 }), first);
    expect([s.chosen?.name, ...s.alternates.map((h) => h.name)]).toEqual(['idle', 'half', 'busy']);
    expect(s.passed).toBe(3);
    expect(s.rejected).toEqual([
      { host: 'off', filter: 'ComputeEnabled', code: 'disabled', reason: 'host is disabled' },
    ]);
  });

  it('packs with a negative RAM multiplier', () => {
    const s = selectHosts(request(), hosts, policy({ ramMultiplier: -1, vcpuMultiplier: 0 }), first);
    expect(s.chosen?.name).toBe('busy');
  });

  it('prefers a host that caches the image', () => {
    const s = selectHosts(
      request(),
      [candidate('cold'), candidate('warm', { cachedImages: new Set(['busybox']) })],
      policy(),
      first,
    );
    expect(s.chosen?.name).toBe('warm');
  });

  it('picks at random among the best subsetSize, never beyond', () => {
    const many = Array.from({ length: 20 }, (_, i) =>
      candidate(`h${String(i).padStart(2, '0')}`, { used: { vcpus: 0, pcpus: 0, ramMb: i * 10, diskGb: 0, pids: 0 } }),
    );
    const picked = new Set<string>();
    for (let i = 0; i < 200; i += 1)
      picked.add(selectHosts(request(), many, policy({ subsetSize: 3 }), Math.random).chosen?.name ?? '');
    expect([...picked].sort()).toEqual(['h00', 'h01', 'h02']);
  });

  it('spreads soft-anti-affinity members over as many hosts as it can', () => {
    const pool = [candidate('a'), candidate('b'), candidate('c')];
    const members = new Map<string, number>();
    const placed: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const s = selectHosts(
        request({ group: { name: 'g', policy: 'soft-anti-affinity', members } }),
        pool,
        policy(),
        first,
      );
      const host = s.chosen!;
      placed.push(host.name);
      members.set(host.id, (members.get(host.id) ?? 0) + 1);
    }
    expect(new Set(placed.slice(0, 3)).size).toBe(3);
    expect([...members.values()].sort()).toEqual([1, 2, 2]);
  });

  it('keeps nothing when no host passes', () => {
    const s = selectHosts(request({ kind: 'vm' }), hosts, policy(), first);
    expect(s).toMatchObject({ chosen: null, alternates: [], passed: 0 });
    expect(s.rejected).toHaveLength(4);
  });
});

describe('explainNoValidHost', () => {
  it('names each host when there are few', () => {
    const s = selectHosts(
      request(),
      [candidate('a', { enabled: false }), candidate('b', { zone: 'z2' })],
      policy(),
      first,
    );
    expect(explainNoValidHost(s.rejected)).toBe('No valid host: a: ComputeEnabled: host is disabled');
    const z = selectHosts(
      request({ zone: 'z1' }),
      [candidate('a', { enabled: false }), candidate('b', { zone: 'z2' })],
      policy(),
      first,
    );
    expect(explainNoValidHost(z.rejected)).toBe(
      'No valid host: a: ComputeEnabled: host is disabled; b: AvailabilityZone: host is in zone z2, not z1',
    );
  });

  it('counts hosts per reason when there are many', () => {
    const hosts = [
      ...Array.from({ length: 8 }, (_, i) =>
        candidate(`full${i}`, { used: { vcpus: 0, pcpus: 0, ramMb: 4000, diskGb: 0, pids: 0 } }),
      ),
      ...Array.from({ length: 4 }, (_, i) => candidate(`down${i}`, { up: false })),
    ];
    const s = selectHosts(request(), hosts, policy(), first);
    expect(s.rejected.length).toBeGreaterThan(LIST_HOSTS_UP_TO);
    expect(explainNoValidHost(s.rejected)).toBe(
      'No valid host among 12 hosts: 8 × Capacity (ramMb), e.g. full0: ramMb needs 1024, 96 free; ' +
        '4 × ComputeEnabled (down), e.g. down0: host is down (no recent heartbeat)',
    );
  });

  it('says when there is no host at all', () =>
    expect(explainNoValidHost([])).toBe('No valid host: no compute host is registered'));
});

describe('instancesThatFit', () => {
  it('takes the tightest resource and the instance limit', () => {
    const host = candidate('a', { used: { vcpus: 10, pcpus: 0, ramMb: 1024, diskGb: 0, pids: 0 }, instances: 3 });
    expect(instancesThatFit(host, { vcpus: 2, pcpus: 0, ramMb: 512, diskGb: 10, pids: 0 }, 50)).toBe(3);
    expect(instancesThatFit(host, { vcpus: 1, pcpus: 0, ramMb: 128, diskGb: 1, pids: 0 }, 5)).toBe(2);
    // total pids 100_000: two containers whose limit is 40_000 fit.
    expect(instancesThatFit(host, { vcpus: 1, pcpus: 0, ramMb: 128, diskGb: 1, pids: 40_000 }, 50)).toBe(2);
  });
});

describe('parseVlanRanges', () => {
  it('parses ranges and single VLANs', () =>
    expect(parseVlanRanges('100-199, 300')).toEqual([
      [100, 199],
      [300, 300],
    ]));
  it.each(['', '0-10', '5-4095', '20-10', 'all', '1-2-3'])('refuses %j', (t) => expect(parseVlanRanges(t)).toBeNull());
});
