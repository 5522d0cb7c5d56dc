import { ok, type Checked, type FieldError } from './field-error';
import { formatIPv4, parseIPv4 } from './ipam';

export const RULE_DIRECTION_VALUES = ['ingress', 'egress'] as const;
export const RULE_PROTOCOL_VALUES = ['tcp', 'udp', 'icmp', 'any'] as const;

/** A security group rule as asked for, checked; the remote group is still a reference (id or name). */
export interface RuleRequest {
  direction: (typeof RULE_DIRECTION_VALUES)[number];
  protocol: (typeof RULE_PROTOCOL_VALUES)[number];
  portMin: number | null;
  portMax: number | null;
  remoteCidr: string | null;
  remoteGroup: string | null;
}

const FIELDS = new Set(['direction', 'protocol', 'portMin', 'portMax', 'remoteCidr', 'remoteGroup']);

/**
 * Checks a rule (Neutron's security group rule): a direction and a protocol; a port range only for tcp and
 * udp, within 1-65535 and not reversed (portMax defaults to portMin); at most one of remoteCidr (an IPv4
 * CIDR without host bits) and remoteGroup. No remote: anyone.
 */
export function checkRule(input: Record<string, unknown>): Checked<RuleRequest> {
  const errors: FieldError[] = [];
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) errors.push({ field: key, rule: 'unknownField', message: `${key} is not a field of a rule` });
  }
  const { direction, protocol, portMin, portMax, remoteCidr, remoteGroup } = input;
  if (!RULE_DIRECTION_VALUES.includes(direction as never)) {
    errors.push({
      field: 'direction',
      rule: 'isIn',
      message: `direction must be one of: ${RULE_DIRECTION_VALUES.join(', ')}`,
    });
  }
  const proto = protocol === undefined ? 'any' : protocol;
  if (!RULE_PROTOCOL_VALUES.includes(proto as never)) {
    errors.push({
      field: 'protocol',
      rule: 'isIn',
      message: `protocol must be one of: ${RULE_PROTOCOL_VALUES.join(', ')}`,
    });
  }
  const isPort = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
  for (const [field, value] of [
    ['portMin', portMin],
    ['portMax', portMax],
  ] as const) {
    if (value !== undefined && value !== null && !isPort(value)) {
      errors.push({ field, rule: 'portNumber', message: `${field} must be a whole number from 1 to 65535` });
    }
  }
  const hasPorts = (portMin ?? null) !== null || (portMax ?? null) !== null;
  if (hasPorts && proto !== 'tcp' && proto !== 'udp') {
    errors.push({
      field: 'portMin',
      rule: 'portsNeedProtocol',
      message: 'portMin and portMax apply only to tcp and udp',
    });
  }
  if ((portMax ?? null) !== null && (portMin ?? null) === null) {
    errors.push({ field: 'portMin', rule: 'required', message: 'portMin is required with portMax' });
  }
  if (isPort(portMin) && isPort(portMax) && (portMax as number) < (portMin as number)) {
    errors.push({ field: 'portMax', rule: 'notReversed', message: 'portMax must not be below portMin' });
  }
  let cidr: string | null = null;
  if (remoteCidr !== undefined && remoteCidr !== null) {
    const m = typeof remoteCidr === 'string' ? /^([0-9.]+)\/(\d{1,2})$/.exec(remoteCidr) : null;
    const base = m ? parseIPv4(m[1] ?? '') : null;
    const prefix = Number(m?.[2] ?? 99);
    if (base === null || prefix > 32) {
      errors.push({ field: 'remoteCidr', rule: 'cidr', message: 'remoteCidr must be an IPv4 CIDR, like 10.0.0.0/24' });
    } else if (prefix < 32 && (base & (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)) >>> 0 !== base) {
      errors.push({ field: 'remoteCidr', rule: 'networkAddress', message: 'remoteCidr has host bits set' });
    } else {
      cidr = `${formatIPv4(base)}/${prefix}`;
    }
  }
  const group = remoteGroup ?? null;
  if (group !== null && (typeof group !== 'string' || group.length < 1 || group.length > 64)) {
    errors.push({ field: 'remoteGroup', rule: 'reference', message: 'remoteGroup must be a group id or name' });
  }
  if (remoteCidr !== undefined && remoteCidr !== null && group !== null) {
    errors.push({ field: 'remoteGroup', rule: 'oneRemote', message: 'give remoteCidr or remoteGroup, not both' });
  }
  if (errors.length > 0) return { ok: false, errors };
  const min = (portMin as number | null | undefined) ?? null;
  return ok({
    direction: direction as RuleRequest['direction'],
    protocol: proto as RuleRequest['protocol'],
    portMin: min,
    portMax: (portMax as number | null | undefined) ?? min,
    remoteCidr: cidr,
    remoteGroup: group as string | null,
  });
}
