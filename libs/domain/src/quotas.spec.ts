import { quotaExcesses, type QuotaSet } from './quotas';
import { roleAtMost } from './roles';

const limits: QuotaSet = { instances: 10, vcpus: 8, ramMb: 4096, diskGb: 100, ips: 10, volumes: 5, volumeGb: 50 };
const used: QuotaSet = { instances: 9, vcpus: 7, ramMb: 1024, diskGb: 10, ips: 9, volumes: 4, volumeGb: 50 };

describe('quotaExcesses', () => {
  it('allows a request that lands exactly on the limit', () => {
    expect(quotaExcesses(limits, used, { instances: 1, vcpus: 1, ramMb: 3072, ips: 1 })).toEqual([]);
  });

  it('names every resource that would pass its limit, with limit, use and request', () => {
    expect(quotaExcesses(limits, used, { instances: 2, vcpus: 1, ramMb: 4000 })).toEqual([
      { resource: 'instances', limit: 10, used: 9, requested: 2 },
      { resource: 'ramMb', limit: 4096, used: 1024, requested: 4000 },
    ]);
  });

  it('treats -1 as unlimited and ignores what is not requested', () => {
    expect(
      quotaExcesses({ ...limits, instances: -1 }, { ...used, instances: 10_000, vcpus: 100 }, { instances: 5 }),
    ).toEqual([]);
  });
});

describe('roleAtMost', () => {
  it.each([
    ['reader', 'reader', true],
    ['reader', 'member', true],
    ['member', 'member', true],
    ['admin', 'member', false],
    ['member', 'reader', false],
    ['admin', 'admin', true],
  ] as const)('%s at most %s: %s', (role, ceiling, expected) => {
    expect(roleAtMost(role, ceiling)).toBe(expected);
  });
});
