import { checkAddressPairs } from './address-pairs';

describe('checkAddressPairs', () => {
  it('takes addresses and CIDRs, with or without a MAC', () => {
    expect(checkAddressPairs([{ ip: '10.0.0.50' }, { ip: '10.0.0.128/25', mac: '02:be:00:00:00:09' }])).toEqual({
      ok: true,
      value: [
        { ip: '10.0.0.50', mac: null },
        { ip: '10.0.0.128/25', mac: '02:be:00:00:00:09' },
      ],
    });
  });

  it.each([
    [[{ ip: '10.0.0.300' }], 'allowedAddressPairs[0].ip', 'ipv4OrCidr'],
    [[{ ip: '10.0.0.5/33' }], 'allowedAddressPairs[0].ip', 'ipv4OrCidr'],
    [[{ ip: '10.0.0.5/24' }], 'allowedAddressPairs[0].ip', 'networkAddress'],
    [[{ ip: '10.0.0.5', mac: '03:be:00:00:00:01' }], 'allowedAddressPairs[0].mac', 'unicastMac'],
    [[{ ip: '10.0.0.5', mac: '02:BE:00:00:00:01' }], 'allowedAddressPairs[0].mac', 'unicastMac'],
    [[{ ip: '10.0.0.5', vlan: 3 }], 'allowedAddressPairs[0].vlan', 'unknown'],
    [['10.0.0.5'], 'allowedAddressPairs[0]', 'object'],
    [{ ip: '10.0.0.5' }, 'allowedAddressPairs', 'array'],
    [Array.from({ length: 11 }, () => ({ ip: '10.0.0.5' })), 'allowedAddressPairs', 'maxSize'],
  ])('refuses %j naming %s (%s)', (input, field, rule) => {
    const checked = checkAddressPairs(input);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.errors).toContainEqual(expect.objectContaining({ field, rule }));
  });
});
