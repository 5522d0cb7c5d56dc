import { explainNoValidHost, mainRefusal } from './explain';
import type { Rejection } from './types';

const rejection = (host: string, filter: string, code: string, reason: string): Rejection => ({
  host,
  filter,
  code,
  reason,
});

describe('why no host could take an instance', () => {
  it('names the filter that refused the most hosts, whatever its codes', () => {
    const rejected = [
      rejection('a', 'ComputeEnabled', 'disabled', 'host is disabled'),
      rejection('b-2.lab', 'Capacity', 'ramMb', 'ramMb needs 1024, 96 free'),
      rejection('c', 'Capacity', 'vcpus', 'vcpus needs 1, 0 free'),
    ];
    expect(mainRefusal(rejected)).toBe('Capacity');
    expect(explainNoValidHost(rejected)).toBe(
      'No valid host: a: ComputeEnabled: host is disabled; b-2.lab: Capacity: ramMb needs 1024, 96 free; c: Capacity: vcpus needs 1, 0 free',
    );
  });

  it('counts hosts per reason past ten hosts, and names the same main refusal', () => {
    const rejected = [
      ...Array.from({ length: 8 }, (_, n) => rejection(`full${n}`, 'Capacity', 'ramMb', 'ramMb needs 1024, 96 free')),
      ...Array.from({ length: 3 }, (_, n) => rejection(`off${n}`, 'ComputeEnabled', 'disabled', 'host is disabled')),
      ...Array.from({ length: 4 }, (_, n) => rejection(`z${n}`, 'AvailabilityZone', 'zone', 'host is in zone z2')),
    ];
    expect(mainRefusal(rejected)).toBe('Capacity');
    expect(explainNoValidHost(rejected)).toMatch(
      /^No valid host among 15 hosts: 8 × Capacity \(ramMb\), e\.g\. full0: /,
    );
  });

  it('breaks a tie by name, so that the same refusals always give the same word', () => {
    const tie = [rejection('b', 'Claim', 'race', 'taken'), rejection('a', 'Capacity', 'vcpus', 'full')];
    expect(mainRefusal(tie)).toBe('Capacity');
    expect(mainRefusal([...tie].reverse())).toBe('Capacity');
  });

  it('says when there was no host at all', () => {
    expect(mainRefusal([])).toBe('NoHosts');
    expect(explainNoValidHost([])).toBe('No valid host: no compute host is registered');
  });
});
