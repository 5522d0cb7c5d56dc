import ipaddr from 'ipaddr.js';
import { invalid, ok, type Checked, type FieldError } from './field-error';

/**
 * IPv4 address management, as plain arithmetic on 32-bit numbers. There is no DHCP in Berth: the
 * API picks each port's address from the network's allocation pool when the port is created.
 */
export interface NetworkPlan {
  /** Canonical "a.b.c.d/n". */
  cidr: string;
  prefixLength: number;
  network: number;
  broadcast: number;
  gateway: number;
  poolStart: number;
  poolEnd: number;
}

export interface NetworkInput {
  cidr: string;
  gateway: string;
  allocationStart?: string | undefined;
  allocationEnd?: string | undefined;
}

export const MIN_PREFIX = 8;
export const MAX_PREFIX = 30;

/** Strict dotted quad: four decimal octets, no leading zeros, no shorthand. */
export function parseIPv4(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) || /(^|\.)0\d/.test(text)) return null;
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatIPv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function planNetwork(input: NetworkInput): Checked<NetworkPlan> {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(input.cidr);
  const base = match ? parseIPv4(match[1] ?? '') : null;
  if (!match || base === null) return invalid('cidr', 'cidr', 'cidr must be an IPv4 network such as 10.0.0.0/24');
  const prefixLength = Number(match[2]);
  if (prefixLength < MIN_PREFIX || prefixLength > MAX_PREFIX) {
    return invalid('cidr', 'prefixLength', `cidr prefix length must be between ${MIN_PREFIX} and ${MAX_PREFIX}`);
  }
  const mask = maskOf(prefixLength);
  const network = (base & mask) >>> 0;
  if (network !== base) {
    return invalid(
      'cidr',
      'networkAddress',
      `cidr has host bits set; did you mean ${formatIPv4(network)}/${prefixLength}?`,
    );
  }
  const broadcast = (network | ~mask) >>> 0;
  const inside = (a: number) => a > network && a < broadcast;

  const gateway = parseIPv4(input.gateway);
  if (gateway === null) return invalid('gateway', 'ipv4', 'gateway must be an IPv4 address');
  if (!inside(gateway)) return invalid('gateway', 'inSubnet', `gateway must be a host address inside ${input.cidr}`);

  const poolStart = input.allocationStart === undefined ? network + 1 : parseIPv4(input.allocationStart);
  if (poolStart === null) return invalid('allocationStart', 'ipv4', 'allocationStart must be an IPv4 address');
  if (!inside(poolStart)) {
    return invalid('allocationStart', 'inSubnet', `allocationStart must be a host address inside ${input.cidr}`);
  }
  const poolEnd = input.allocationEnd === undefined ? broadcast - 1 : parseIPv4(input.allocationEnd);
  if (poolEnd === null) return invalid('allocationEnd', 'ipv4', 'allocationEnd must be an IPv4 address');
  if (!inside(poolEnd)) {
    return invalid('allocationEnd', 'inSubnet', `allocationEnd must be a host address inside ${input.cidr}`);
  }
  if (poolEnd < poolStart) return invalid('allocationEnd', 'order', 'allocationEnd must not be before allocationStart');
  if (poolStart === poolEnd && poolStart === gateway) {
    return invalid('allocationStart', 'size', 'the allocation pool holds only the gateway');
  }
  return ok({
    cidr: `${formatIPv4(network)}/${prefixLength}`,
    prefixLength,
    network,
    broadcast,
    gateway,
    poolStart,
    poolEnd,
  });
}

/** Number of addresses the pool can hand out (the gateway is never handed out). */
export function poolSize(plan: NetworkPlan): number {
  const gatewayInPool = plan.gateway >= plan.poolStart && plan.gateway <= plan.poolEnd ? 1 : 0;
  return plan.poolEnd - plan.poolStart + 1 - gatewayInPool;
}

/**
 * Chooses a port's address. A requested address must lie in the pool, must not be the gateway and
 * must be free; otherwise the lowest free address in the pool is returned. `used` need not be sorted.
 */
/** An address picked, or why not: a malformed request (invalid), or one the network cannot give now (conflict). */
export type AddressPick =
  { ok: true; value: number } | { ok: false; errors: FieldError[]; refusal: 'invalid' | 'free' | 'exhausted' };

/** A refused pick: `rule` is the field error's rule (a taken or exhausted address is its own refusal too). */
const refused = (
  refusal: 'invalid' | 'free' | 'exhausted',
  field: string,
  rule: string,
  message: string,
): AddressPick => ({
  ok: false,
  errors: [{ field, rule, message }],
  refusal,
});

export function pickAddress(plan: NetworkPlan, used: Iterable<number>, requested?: string): AddressPick {
  const taken = new Set(used);
  if (requested !== undefined) {
    const address = parseIPv4(requested);
    if (address === null) return refused('invalid', 'ip', 'ipv4', 'ip must be an IPv4 address');
    if (address < plan.poolStart || address > plan.poolEnd) {
      return refused(
        'invalid',
        'ip',
        'inPool',
        `ip must lie in the network's allocation pool ${formatIPv4(plan.poolStart)}-${formatIPv4(plan.poolEnd)}`,
      );
    }
    if (address === plan.gateway) return refused('invalid', 'ip', 'notGateway', 'ip is the network gateway');
    if (taken.has(address)) return refused('free', 'ip', 'free', `ip ${requested} is already in use on this network`);
    return { ok: true, value: address };
  }
  taken.add(plan.gateway);
  const blocking = [...taken].filter((a) => a >= plan.poolStart && a <= plan.poolEnd).sort((a, b) => a - b);
  let candidate = plan.poolStart;
  for (const address of blocking) {
    if (address > candidate) break;
    candidate = address + 1;
  }
  if (candidate > plan.poolEnd)
    return refused('exhausted', 'network', 'exhausted', 'the network has no free address left');
  return { ok: true, value: candidate };
}

/** A locally administered unicast MAC under Berth's prefix 02:be, from four random bytes. */
export function macFromRandom(random: Uint8Array): string {
  if (random.length < 4) throw new Error('macFromRandom needs 4 random bytes');
  return ['02', 'be', ...Array.from(random.subarray(0, 4), (b) => b.toString(16).padStart(2, '0'))].join(':');
}
