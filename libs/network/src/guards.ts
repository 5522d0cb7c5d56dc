/**
 * Last-line checks on values that reach `ip -batch` input or ovs-vsctl arguments. They were validated
 * by the API already; these make the host plumbing safe on its own, whoever calls it.
 */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function assertIPv4(value: string, what: string): void {
  if (!IPV4.test(value)) throw new Error(`${what} is not an IPv4 address: ${JSON.stringify(value)}`);
}

export function assertMac(value: string): void {
  if (!MAC.test(value)) throw new Error(`not a lower-case MAC address: ${JSON.stringify(value)}`);
}

export function assertIfname(value: string): void {
  if (!IFNAME.test(value)) throw new Error(`not an interface name: ${JSON.stringify(value)}`);
}

export function assertPid(value: number): void {
  if (!Number.isSafeInteger(value) || value <= 1) throw new Error(`not a process id: ${value}`);
}

export function assertVlan(value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 4094) throw new Error(`VLAN must be 1-4094, got ${value}`);
}

export function assertPrefixLength(value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 32) throw new Error(`prefix length must be 1-32, got ${value}`);
}
