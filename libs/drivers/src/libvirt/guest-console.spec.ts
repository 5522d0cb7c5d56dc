import { prefixOf, reportedAddresses } from './guest-console';

const MAC = '02:be:0a:00:00:05';
const table = (address: string, mask: string, mac = MAC, up = 'True') =>
  [
    'ci-info: ++++++++++++++++++++++++++++++Net device info++++++++++++++++++++++++++++++',
    'ci-info: +--------+------+-------------+---------------+--------+-------------------+',
    'ci-info: | Device |  Up  |   Address   |      Mask     | Scope  |     Hw-Address    |',
    `ci-info: |  ens3  | ${up} | ${address} | ${mask} | global | ${mac} |`,
    'ci-info: |   lo   | True |  127.0.0.1  |   255.0.0.0   |  host  |         .         |',
  ].join('\n');

describe('prefixOf', () => {
  it('turns a netmask into its prefix length and refuses what is not one', () => {
    expect(prefixOf('255.255.255.0')).toBe(24);
    expect(prefixOf('255.255.252.0')).toBe(22);
    expect(prefixOf('255.255.255.255')).toBe(32);
    expect(prefixOf('0.0.0.0')).toBe(0);
    expect(prefixOf('255.0.255.0')).toBeNull();
  });
});

describe('reportedAddresses', () => {
  it("reads the interface with the port's MAC from cloud-init's table, whatever the guest names it", () => {
    const log = `[    0.000000] Linux version 6.1.0 (gcc)\n${table('10.65.0.5', '255.255.255.0')}\n`;
    expect(reportedAddresses(log, MAC.toUpperCase())).toEqual(['10.65.0.5/24']);
  });

  it('forgets what an earlier boot said, and ignores other interfaces and ones that are down', () => {
    const log = [
      'Linux version 6.1.0',
      table('10.65.0.9', '255.255.255.0'),
      'Linux version 6.1.0',
      table('10.65.0.7', '255.255.255.0', '02:be:00:00:00:01'),
      table('10.65.0.8', '255.255.255.0', MAC, 'False'),
    ].join('\n');
    expect(reportedAddresses(log, MAC)).toEqual([]);
    expect(reportedAddresses(`${log}\n${table('10.65.0.5', '255.255.252.0')}`, MAC)).toEqual(['10.65.0.5/22']);
  });
});
