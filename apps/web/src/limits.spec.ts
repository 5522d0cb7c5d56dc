import type { FlavorView } from './generated/api-types';
import { boundsText, flavorValue, limitChanges, limitProblems, settableThrottles } from './limits';

const flavor = {
  name: 'm1.small',
  cpuQuota: null,
  pidsLimit: 256,
  diskReadIops: null,
  netEgressMbps: 100,
  limitBounds: { pidsLimit: { min: 64, max: 512 }, netEgressMbps: { max: 200 }, diskReadIops: { min: 100 } },
} as unknown as FlavorView;

describe("the limits forms' early checks", () => {
  it('offers a member only the throttles the flavor bounds, the cloud admin every one', () => {
    expect(settableThrottles(flavor, false).map((t) => t.key)).toEqual(['pidsLimit', 'diskReadIops', 'netEgressMbps']);
    expect(settableThrottles(flavor, true)).toHaveLength(9);
  });

  it("says the flavor's value and the range a member may choose", () => {
    expect(flavorValue(flavor, 'pidsLimit')).toBe('256');
    expect(flavorValue(flavor, 'cpuQuota')).toBe('100');
    expect(flavorValue(flavor, 'diskReadIops')).toBe('unlimited');
    expect(boundsText(flavor, 'pidsLimit')).toBe('from 64 to 512');
    expect(boundsText(flavor, 'netEgressMbps')).toBe('at most 200');
    expect(boundsText(flavor, 'diskReadIops')).toBe('at least 100');
    expect(boundsText(flavor, 'cpuQuota')).toBe('');
  });

  it("refuses a member's value outside the bounds, or on a throttle the flavor fixes, in the API's words", () => {
    const inputs = { pidsLimit: '600', netEgressMbps: '200', diskReadIops: '50', cpuQuota: '50', diskWeight: '' };
    expect(limitProblems(flavor, inputs, false)).toEqual({
      'limits.pidsLimit': "limits.pidsLimit must not be greater than 512, the flavor's bound",
      'limits.diskReadIops': "limits.diskReadIops must not be less than 100, the flavor's bound",
      'limits.cpuQuota': 'limits.cpuQuota is set by the flavor and cannot be changed per instance',
    });
    // The admin is held to the cloud-wide rules, which the API checks; only a non-number is refused here.
    expect(limitProblems(flavor, { ...inputs, netIngressMbps: '1.5' }, true)).toEqual({
      'limits.netIngressMbps': 'limits.netIngressMbps must be a whole number',
    });
  });

  it('sends only what was typed, as numbers', () => {
    expect(limitChanges({ pidsLimit: ' 300 ', diskWeight: '' })).toEqual({ pidsLimit: 300 });
    expect(limitChanges({ diskWeight: '  ' })).toBeUndefined();
  });
});
