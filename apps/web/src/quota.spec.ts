import type { FlavorView, QuotaView } from './generated/api-types';
import { quotaShortfalls } from './quota';

const flavor = { vcpus: 2, ramMb: 512, diskGb: 5 } as FlavorView;
const line = (limit: number, used: number) => ({ limit, used });

describe("the create form's quota check", () => {
  it('names each resource that count more instances would take past the quota, with what is left', () => {
    const quota: QuotaView = {
      instances: line(10, 8),
      vcpus: line(8, 4),
      ramMb: line(-1, 99999),
      diskGb: line(20, 10),
      ips: line(10, 8),
      volumes: line(10, 0),
      volumeGb: line(100, 0),
    };
    expect(quotaShortfalls(quota, flavor, 2)).toEqual([]);
    expect(quotaShortfalls(quota, flavor, 3)).toEqual([
      '3 instances asked, 2 left',
      '6 vCPUs asked, 4 left',
      '15 GB of disk asked, 10 left',
      '3 addresses asked, 2 left',
    ]);
  });

  it('never counts against an unlimited line, and shows a line already past its limit as 0 left', () => {
    const quota: QuotaView = {
      instances: line(-1, 500),
      vcpus: line(2, 3),
      ramMb: line(-1, 0),
      diskGb: line(-1, 0),
      ips: line(-1, 0),
      volumes: line(-1, 0),
      volumeGb: line(-1, 0),
    };
    expect(quotaShortfalls(quota, flavor, 1)).toEqual(['2 vCPUs asked, 0 left']);
  });
});
