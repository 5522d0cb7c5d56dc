import { explainNoValidHost, mainRefusal } from './explain';
import type { Rejection } from './types';

const rejection = (host: string, filter: string, code: string, reason: string): Rejection => ({
  host,
  filter,
  code,
  reason,
});

describe('reading a "no valid host" message back', () => {
  it('names the filter that refused the most hosts, when each host is listed', () => {
    const message = explainNoValidHost([
      rejection('a', 'ComputeEnabled', 'disabled', 'host is disabled'),
      rejection('b-2.lab', 'Capacity', 'ramMb', 'ramMb needs 1024, 96 free'),
      rejection('c', 'Capacity', 'vcpus', 'vcpus needs 1, 0 free'),
    ]);
    expect(mainRefusal(message)).toBe('Capacity');
  });

  it('names the filter that refused the most hosts, when hosts are counted per reason', () => {
    const rejected = [
      ...Array.from({ length: 8 }, (_, n) => rejection(`full${n}`, 'Capacity', 'ramMb', 'ramMb needs 1024, 96 free')),
      ...Array.from({ length: 3 }, (_, n) => rejection(`off${n}`, 'ComputeEnabled', 'disabled', 'host is disabled')),
      ...Array.from({ length: 4 }, (_, n) => rejection(`z${n}`, 'AvailabilityZone', 'zone', 'host is in zone z2')),
    ];
    expect(mainRefusal(explainNoValidHost(rejected))).toBe('Capacity');
  });

  it('says when there was no host at all, and reads nothing from any other message', () => {
    expect(mainRefusal(explainNoValidHost([]))).toBe('NoHosts');
    expect(mainRefusal('agent failed: fetch failed')).toBeNull();
  });
});
