import { explainNoValidHost, rankHosts } from './rank';
import type { HostCandidate, PlacementRequest } from './types';

const host = (name: string, over: Partial<HostCandidate> = {}): HostCandidate => ({
  id: name,
  name,
  enabled: true,
  up: true,
  drivers: ['container'],
  total: { vcpus: 4, ramMb: 4096, diskGb: 100 },
  ratios: { cpu: 4, ram: 1, disk: 1 },
  used: { vcpus: 0, ramMb: 0, diskGb: 0 },
  ...over,
});
const request: PlacementRequest = { kind: 'container', resources: { vcpus: 2, ramMb: 1024, diskGb: 10 } };

describe('rankHosts', () => {
  it('rejects each host with the first filter that fails and says why', () => {
    const { ranked, rejected } = rankHosts(request, [
      host('off', { enabled: false }),
      host('down', { up: false }),
      host('vm-only', { drivers: ['vm'] }),
      host('full', { used: { vcpus: 15, ramMb: 3500, diskGb: 0 } }),
      host('ok'),
    ]);
    expect(ranked.map((h) => h.name)).toEqual(['ok']);
    expect(rejected).toEqual([
      { host: 'off', filter: 'ComputeEnabled', reason: 'host is disabled' },
      { host: 'down', filter: 'ComputeEnabled', reason: 'host is down (no recent heartbeat)' },
      { host: 'vm-only', filter: 'DriverKind', reason: 'host has no container driver (offers vm)' },
      { host: 'full', filter: 'Capacity', reason: 'vcpus needs 2, 1 free; ramMb needs 1024, 596 free' },
    ]);
  });

  it('applies allocation ratios: 4 physical CPUs at ratio 4 hold 16 vCPUs', () => {
    const { ranked } = rankHosts(request, [host('dense', { used: { vcpus: 14, ramMb: 0, diskGb: 0 } })]);
    expect(ranked).toHaveLength(1);
  });

  it('spreads: the host with the largest free RAM share comes first', () => {
    const { ranked } = rankHosts(request, [
      host('busy', { used: { vcpus: 0, ramMb: 3000, diskGb: 0 } }),
      host('idle'),
      host('half', { used: { vcpus: 0, ramMb: 2048, diskGb: 0 } }),
    ]);
    expect(ranked.map((h) => h.name)).toEqual(['idle', 'half', 'busy']);
  });

  it('explains no valid host, host by host', () => {
    const { rejected } = rankHosts(request, [host('a', { enabled: false })]);
    expect(explainNoValidHost(rejected)).toBe('No valid host: a: ComputeEnabled: host is disabled');
    expect(explainNoValidHost([])).toBe('No valid host: no compute host is registered');
  });
});
