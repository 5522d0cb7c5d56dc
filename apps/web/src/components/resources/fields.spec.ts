import { fieldText, formBody, type FieldDef } from './fields';

const field = (name: string, type: FieldDef['type'], required = false): FieldDef => ({
  name,
  label: name,
  type,
  required,
});

describe("the resources' form fields", () => {
  it('sends what was typed, in the API’s types, and leaves out an empty optional field', () => {
    const fields = [
      field('name', 'text', true),
      field('vcpus', 'number', true),
      field('pidsLimit', 'number'),
      field('extraSpecs', 'map'),
      field('hosts', 'list'),
      field('limitBounds', 'bounds'),
      field('expiresAt', 'datetime'),
    ];
    const { body, problems } = formBody(fields, {
      name: 'm1.big',
      vcpus: '4',
      pidsLimit: '',
      extraSpecs: 'aggregate:disk=ssd\n\n hw:numa = 1 ',
      hosts: 'host-1, host-2  host-3',
      limitBounds: 'pidsLimit=64..512\nnetEgressMbps=..200\ndiskReadIops = 100..',
      expiresAt: '2027-01-02T03:04',
    });
    expect(problems).toEqual({});
    expect(body).toEqual({
      name: 'm1.big',
      vcpus: 4,
      extraSpecs: { 'aggregate:disk': 'ssd', 'hw:numa': '1' },
      hosts: ['host-1', 'host-2', 'host-3'],
      limitBounds: { pidsLimit: { min: 64, max: 512 }, netEgressMbps: { max: 200 }, diskReadIops: { min: 100 } },
      expiresAt: new Date('2027-01-02T03:04').toISOString(),
    });
  });

  it('names the field and the line of text it cannot read, and sends nothing for it', () => {
    const fields = [field('metadata', 'map'), field('limitBounds', 'bounds'), field('expiresAt', 'datetime')];
    const { body, problems } = formBody(fields, {
      metadata: 'disk=ssd\nno equals sign',
      limitBounds: 'pidsLimit=..',
      expiresAt: 'next tuesday',
    });
    expect(problems).toEqual({
      metadata: 'metadata line 2 must be key=value',
      limitBounds: 'limitBounds line 1 must be name=min..max (either end may be left out)',
      expiresAt: 'expiresAt must be a date and time',
    });
    expect(body).toEqual({});
  });

  it('sends an emptied map or list in an edit, so that its last entry can go', () => {
    const fields = [field('metadata', 'map'), field('hosts', 'list')];
    expect(formBody(fields, { metadata: '', hosts: ' ' }).body).toEqual({});
    expect(formBody(fields, { metadata: '', hosts: ' ' }, true).body).toEqual({ metadata: {}, hosts: [] });
  });

  it('opens an edit with the current values as the fields show them', () => {
    expect(fieldText(field('metadata', 'map'), { disk: 'ssd', zone: 'b' })).toBe('disk=ssd\nzone=b');
    expect(fieldText(field('hosts', 'list'), ['host-1', 'host-2'])).toBe('host-1, host-2');
    expect(fieldText(field('name', 'text'), null)).toBe('');
  });
});
