import { rejectingFilter } from './placement-service';

describe('rejectingFilter', () => {
  it("names the first host's first rejecting filter, a bounded metric label", () => {
    expect(rejectingFilter('No valid host: tb1: Capacity: vcpus needs 1, 0 free; tb2: Claim: another took it')).toBe(
      'Capacity',
    );
    expect(rejectingFilter('No valid host: h-1: DriverKind: host has no container driver (offers none)')).toBe(
      'DriverKind',
    );
  });

  it('calls anything else other', () => {
    expect(rejectingFilter('No valid host')).toBe('other');
    expect(rejectingFilter('only 0 of 1 m1.tiny fit')).toBe('other');
  });
});
