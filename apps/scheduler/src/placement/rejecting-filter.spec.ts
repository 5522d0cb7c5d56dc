import { rejectingFilter } from './placement-service';

describe('rejectingFilter', () => {
  it("names the first host's rejecting filter from the rejections themselves, a bounded metric label", () => {
    expect(
      rejectingFilter([
        { host: 'tb1', filter: 'Capacity', code: 'vcpus', reason: 'vcpus needs 1, 0 free' },
        { host: 'tb2', filter: 'Claim', code: 'race', reason: 'another request took the room first' },
      ]),
    ).toBe('Capacity');
    expect(
      rejectingFilter([{ host: 'h-1', filter: 'DriverKind', code: 'kind', reason: 'host has no container driver' }]),
    ).toBe('DriverKind');
  });

  it('calls a decision with no host to reject none', () => {
    expect(rejectingFilter([])).toBe('none');
  });
});
