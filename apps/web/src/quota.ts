import type { FlavorView, QuotaView } from './generated/api-types';

/** What `count` more of `flavor` would take beyond the project's quota, one line per resource. */
export function quotaShortfalls(quota: QuotaView, flavor: FlavorView, count: number): string[] {
  const asks: Array<[keyof QuotaView, number, string]> = [
    ['instances', count, 'instances'],
    ['vcpus', flavor.vcpus * count, 'vCPUs'],
    ['ramMb', flavor.ramMb * count, 'MB of RAM'],
    ['diskGb', flavor.diskGb * count, 'GB of disk'],
    ['ips', count, 'addresses'],
  ];
  return asks.flatMap(([key, need, unit]) => {
    const { limit, used } = quota[key];
    const left = limit - used;
    return limit !== -1 && need > left ? [`${need} ${unit} asked, ${Math.max(0, left)} left`] : [];
  });
}
