/*
 * What a guest says about its network on its serial console, read the way any cloud image allows: the kernel's
 * banner starts each boot ("Linux version ..."), and cloud-init prints its "Net device info" table (ci-info) once the
 * network is up. Nothing here knows a particular image.
 */

/** The kernel's first line on every boot of a Linux guest whose console is the serial port. */
const BOOT_BANNER = 'Linux version ';

/** A row of cloud-init's "Net device info" table: | device | up | address | mask | scope | hw-address |. */
const CI_INFO_ROW =
  /^ci-info: \|\s*(\S+)\s*\|\s*(True|False)\s*\|\s*(\d+\.\d+\.\d+\.\d+)\s*\|\s*(\d+\.\d+\.\d+\.\d+)\s*\|[^|]*\|\s*([0-9a-f:]{17})\s*\|/im;

/** The prefix length of a dotted netmask (255.255.255.0 -> 24), or null when it is not a netmask. */
export function prefixOf(mask: string): number | null {
  const bits = mask
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1*0*$/.test(bits) && bits.length === 32 ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : null;
}

/**
 * The IPv4 addresses (address/prefix) the guest reported for the interface with `mac` since it last booted, in the
 * order it reported them; empty when it has said nothing of it since.
 */
export function reportedAddresses(consoleLog: string, mac: string): string[] {
  const boot = consoleLog.lastIndexOf(BOOT_BANNER);
  const addresses: string[] = [];
  for (const line of consoleLog.slice(Math.max(0, boot)).split('\n')) {
    const row = CI_INFO_ROW.exec(line.trim());
    if (!row || row[2] !== 'True' || row[5]?.toLowerCase() !== mac.toLowerCase()) continue;
    const prefix = prefixOf(row[4] ?? '');
    if (prefix !== null) addresses.push(`${row[3]}/${prefix}`);
  }
  return addresses;
}
