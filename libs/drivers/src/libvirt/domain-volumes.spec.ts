import type { VolumeAttachment } from '@berth/contracts';
import { parseStringPromise } from 'xml2js';
import { sampleLimits, sampleSpec } from '../testing/sample-spec';
import { disksIn, volumeDisksOf } from './domain-volumes';
import { instanceDomainXml } from './domain-xml';

const noLimits = { readIops: null, writeIops: null, readBps: null, writeBps: null };
const attachment = (id: string, over: Partial<VolumeAttachment> = {}): VolumeAttachment => ({
  volume: { id, sizeGb: 1, backend: 'file' },
  path: null,
  serial: id.slice(0, 20),
  throttle: noLimits,
  ...over,
});
const host = { hostName: 'h1', virtType: 'qemu' as const, maxVcpus: 2, sharedCpus: '0-1', bridge: 'br-int' };
const noBoot = { kernel: null, initrd: null };

describe("a VM's volumes in its definition", () => {
  const spec = sampleSpec({
    kind: 'vm',
    limits: sampleLimits(),
    volumes: [
      attachment('aaaaaaaa-0000-4000-8000-000000000001', {
        throttle: { ...noLimits, writeIops: 20, readBps: 1_000_000 },
      }),
      attachment('bbbbbbbb-0000-4000-8000-000000000002', { serial: 'a<b>&"c' }),
    ],
  });
  const fileOf = (a: VolumeAttachment) => `/pool/${a.volume.id}.raw`;

  it('adds each volume after the config drive, a raw virtio disk with its serial and only the throttles it has', async () => {
    const xml = instanceDomainXml(spec, host, noBoot, '/i/x', volumeDisksOf(spec, fileOf));
    const { domain } = await parseStringPromise(xml, { explicitArray: false });
    const [, , first, second] = domain.devices.disk;
    expect(first).toMatchObject({
      driver: { $: { type: 'raw', cache: 'none' } },
      source: { $: { file: `/pool/aaaaaaaa-0000-4000-8000-000000000001.raw` } },
      target: { $: { dev: 'vdc', bus: 'virtio' } },
      serial: 'aaaaaaaa-0000-4000-8',
      iotune: { write_iops_sec: '20', read_bytes_sec: '1000000' },
    });
    // A serial is text in the document, never markup.
    expect(second).toMatchObject({ target: { $: { dev: 'vdd' } }, serial: 'a<b>&"c' });
    expect(second.iotune).toBeUndefined();
    expect(await disksIn(xml)).toEqual([
      { dev: 'vda', file: '/i/x/disk.qcow2' },
      { dev: 'vdb', file: '/i/x/seed.iso' },
      { dev: 'vdc', file: '/pool/aaaaaaaa-0000-4000-8000-000000000001.raw' },
      { dev: 'vdd', file: '/pool/bbbbbbbb-0000-4000-8000-000000000002.raw' },
    ]);
  });

  it('refuses volumes on a host that holds none, rather than defining a domain without them', () => {
    expect(() => volumeDisksOf(spec)).toThrow('this host holds no volumes');
    expect(volumeDisksOf({ ...spec, volumes: [] })).toEqual([]);
  });
});
