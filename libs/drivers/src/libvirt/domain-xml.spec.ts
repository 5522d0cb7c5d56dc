import { parseStringPromise } from 'xml2js';
import { sampleLimits, sampleSpec } from '../testing/sample-spec';
import { domainXml, kernelCmdline, tapName, type DomainSpec } from './domain-xml';

const instance = sampleSpec({ kind: 'vm' });

function spec(overrides: Partial<DomainSpec> = {}): DomainSpec {
  return {
    instanceId: instance.id,
    title: 'web-1',
    hostName: 'h1',
    virtType: 'qemu',
    limits: sampleLimits({ vcpus: 2, ramMb: 256, cpuQuota: 50 }),
    maxVcpus: 4,
    sharedCpus: '0-3',
    disk: { path: '/var/lib/berth/instances/x/disk.qcow2', format: 'qcow2' },
    seedPath: '/var/lib/berth/instances/x/seed.iso',
    boot: { kernel: '/images/vmlinuz', initrd: '/images/initrd.img', cmdline: 'console=ttyS0' },
    port: instance.port,
    bridge: 'br-int',
    consoleLog: '/var/lib/berth/instances/x/console.log',
    consoleSocket: '/var/lib/berth/instances/x/console.sock',
    ...overrides,
  };
}

/** The parsed document, with attributes under $ and text under _. */
const parse = async (xml: string): Promise<any> => (await parseStringPromise(xml, { explicitArray: false })).domain;

describe('domain XML', () => {
  it("names the domain after the instance id and keeps the user's name only as its title", async () => {
    const d = await parse(domainXml(spec()));
    expect(d.name).toBe(`berth-${instance.id}`);
    expect(d.uuid).toBe(instance.id);
    expect(d.title).toBe('web-1');
    expect(d.metadata['berth:instance']).toMatchObject({ 'berth:id': instance.id, 'berth:port': instance.port.id });
  });

  it.each([
    ['markup', '</title><devices><disk/></devices><title>'],
    ['an entity', 'a & b &amp; c'],
    ['quotes', `it's "quoted"`],
    ['a CDATA end', 'x]]>y'],
    ['newlines', 'line one\nline two\n'],
  ])('escapes %s: the XML parses and holds the literal text', async (_what, text) => {
    const xml = domainXml(spec({ title: text, hostName: text }));
    const d = await parse(xml);
    // libvirt refuses line breaks in a title: they become spaces there, and stay literal in the metadata.
    expect(d.title).toBe(text.replace(/\n+/g, ' '));
    expect(d.metadata['berth:instance']['berth:host']).toBe(text);
    expect(Array.isArray(d.devices.disk) ? d.devices.disk : [d.devices.disk]).toHaveLength(2);
  });

  it('caps shared vCPUs with a per-vCPU quota over the shared CPUs, and may grow them live', async () => {
    const d = await parse(domainXml(spec()));
    expect(d.vcpu).toEqual({ _: '4', $: { placement: 'static', current: '2', cpuset: '0-3' } });
    expect(d.cputune).toEqual({ shares: '2048', period: '100000', quota: '50000' });
    expect(d.memory).toEqual({ _: String(256 * 1024), $: { unit: 'KiB' } });
  });

  it('pins each dedicated vCPU to its own host CPU, without growth', async () => {
    const limits = sampleLimits({ vcpus: 2, cpuPolicy: 'dedicated', pinnedCpus: [5, 7] });
    const d = await parse(domainXml(spec({ limits })));
    expect(d.vcpu).toEqual({ _: '2', $: { placement: 'static', current: '2' } });
    expect(d.cputune.vcpupin).toEqual([{ $: { vcpu: '0', cpuset: '5' } }, { $: { vcpu: '1', cpuset: '7' } }]);
  });

  it('throttles the disk with iotune only where limits are set', async () => {
    const throttled = await parse(
      domainXml(spec({ limits: sampleLimits({ diskWriteBps: 5 * 1024 * 1024, diskReadIops: 100 }) })),
    );
    expect(throttled.devices.disk[0].iotune).toEqual({
      write_bytes_sec: String(5 * 1024 * 1024),
      read_iops_sec: '100',
    });
    expect((await parse(domainXml(spec()))).devices.disk[0].iotune).toBeUndefined();
  });

  it('gives the domain a blkiotune weight only when the instance has one', async () => {
    expect((await parse(domainXml(spec({ limits: sampleLimits({ diskWeight: 500 }) })))).blkiotune).toEqual({
      weight: '500',
    });
    expect((await parse(domainXml(spec()))).blkiotune).toBeUndefined();
  });

  it('logs the serial console to a file and offers it on a host socket', async () => {
    expect((await parse(domainXml(spec()))).devices.serial).toEqual({
      $: { type: 'unix' },
      source: { $: { mode: 'bind', path: '/var/lib/berth/instances/x/console.sock' } },
      log: { $: { file: '/var/lib/berth/instances/x/console.log', append: 'on' } },
      target: { $: { port: '0' } },
    });
  });

  it("plugs a named tap into the OVS bridge on the port's VLAN, with its MAC and offloads off", async () => {
    const nic = (await parse(domainXml(spec()))).devices.interface;
    expect(nic).toMatchObject({
      $: { type: 'bridge' },
      mac: { $: { address: instance.port.mac } },
      source: { $: { bridge: 'br-int' } },
      virtualport: { $: { type: 'openvswitch' }, parameters: { $: { interfaceid: instance.port.id } } },
      vlan: { tag: { $: { id: String(instance.port.vlan) } } },
      target: { $: { dev: tapName(instance.port.id) } },
      driver: { host: { $: { csum: 'off' } }, guest: { $: { tso4: 'off' } } },
    });
    expect(tapName(instance.port.id)).toHaveLength(15);
  });

  it('boots the kernel directly when the image has one, and the disk otherwise', async () => {
    expect((await parse(domainXml(spec()))).os).toMatchObject({ kernel: '/images/vmlinuz', cmdline: 'console=ttyS0' });
    expect((await parse(domainXml(spec({ boot: null })))).os).toMatchObject({ boot: { $: { dev: 'hd' } } });
    expect(kernelCmdline(instance.port, '')).toBe(
      `console=ttyS0 panic=-1 berth.ip=${instance.port.ip}/${instance.port.prefixLength} berth.gw=${instance.port.gateway}`,
    );
  });
});
