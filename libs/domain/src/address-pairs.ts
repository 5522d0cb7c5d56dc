import { invalid, ok, type Checked, type FieldError } from './field-error';
import { formatIPv4, parseIPv4 } from './ipam';

/** An allowed address pair as asked for: an address or CIDR, and a MAC (the port's own when left out). */
export interface AddressPairRequest {
  ip: string;
  mac: string | null;
}

export const MAX_ADDRESS_PAIRS = 10;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Checks the allowed address pairs of a port (Neutron's allowed_address_pairs): at most ten, each an IPv4
 * address or a CIDR without host bits, with an optional unicast MAC in lower case. Field names say which
 * pair: `allowedAddressPairs[2].ip`.
 */
export function checkAddressPairs(input: unknown, field = 'allowedAddressPairs'): Checked<AddressPairRequest[]> {
  if (!Array.isArray(input)) return invalid(field, 'array', `${field} must be a list of {ip, mac?}`);
  if (input.length > MAX_ADDRESS_PAIRS) {
    return invalid(field, 'maxSize', `${field} may hold at most ${MAX_ADDRESS_PAIRS} pairs`);
  }
  const errors: FieldError[] = [];
  const pairs: AddressPairRequest[] = [];
  input.forEach((raw: unknown, i) => {
    const at = `${field}[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ field: at, rule: 'object', message: `${at} must be an object {ip, mac?}` });
      return;
    }
    const { ip, mac, ...rest } = raw as Record<string, unknown>;
    for (const key of Object.keys(rest)) {
      errors.push({
        field: `${at}.${key}`,
        rule: 'unknown',
        message: `${at}.${key} is not a field of an address pair`,
      });
    }
    const cidr = typeof ip === 'string' ? /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(ip) : null;
    const base = cidr ? parseIPv4(cidr[1] ?? '') : null;
    const prefix = cidr?.[2] === undefined ? 32 : Number(cidr[2]);
    if (base === null || prefix > 32) {
      errors.push({ field: `${at}.ip`, rule: 'ipv4OrCidr', message: `${at}.ip must be an IPv4 address or CIDR` });
    } else if (prefix < 32 && (base & (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)) >>> 0 !== base) {
      errors.push({ field: `${at}.ip`, rule: 'networkAddress', message: `${at}.ip has host bits set` });
    }
    if (mac !== undefined && mac !== null && (typeof mac !== 'string' || !MAC.test(mac) || isMulticast(mac))) {
      errors.push({
        field: `${at}.mac`,
        rule: 'unicastMac',
        message: `${at}.mac must be a unicast MAC in lower case, like 02:be:00:00:00:01`,
      });
    }
    if (base !== null && typeof ip === 'string') {
      const text = cidr?.[2] === undefined ? formatIPv4(base) : `${formatIPv4(base)}/${prefix}`;
      pairs.push({ ip: text, mac: typeof mac === 'string' ? mac : null });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : ok(pairs);
}

const isMulticast = (mac: string) => (parseInt(mac.slice(0, 2), 16) & 1) === 1;
