import type { InstanceSpec } from '@berth/contracts';
import { containerConfig } from './container-config';

const spec: InstanceSpec = {
  id: '3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c',
  name: 'web',
  kind: 'container',
  diskGb: 1,
  imageRef: 'busybox',
  limits: {
    vcpus: 1,
    ramMb: 128,
    cpuPolicy: 'shared',
    pinnedCpus: [],
    cpuQuota: 100,
    pidsLimit: 1024,
    diskReadIops: null,
    diskWriteIops: null,
    diskReadBps: null,
    diskWriteBps: null,
    diskWeight: null,
    netIngressMbps: null,
    netEgressMbps: null,
  },
  port: {
    id: '0b6f4c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b',
    networkId: 'n',
    mac: '02:be:00:00:00:01',
    ip: '10.0.0.2',
    prefixLength: 24,
    gateway: '10.0.0.1',
    vlan: 100,
  },
};
const ctx = { hostName: 'h', stopTimeoutSec: 10, lxcfs: null, sharedCpus: '0-1', blockDevice: null, storageOpt: null };

describe('a container’s sandbox', () => {
  it('drops NET_RAW and MKNOD, adds nothing, and keeps no-new-privileges', () => {
    const { HostConfig } = containerConfig(spec, ctx);
    expect(HostConfig).toMatchObject({
      Privileged: false,
      CapAdd: [],
      CapDrop: ['NET_RAW', 'MKNOD'],
      SecurityOpt: ['no-new-privileges'],
    });
  });

  it('keeps NET_RAW where the flavor gave it back, and still drops MKNOD', () => {
    const { HostConfig } = containerConfig({ ...spec, grants: ['NET_RAW'] }, ctx);
    expect(HostConfig).toMatchObject({ CapAdd: [], CapDrop: ['MKNOD'] });
  });

  it('holds the writable layer to its disk where dockerd can, and asks nothing where it cannot', () => {
    expect(containerConfig(spec, { ...ctx, storageOpt: { size: '1G' } }).HostConfig?.StorageOpt).toEqual({
      size: '1G',
    });
    expect(containerConfig(spec, ctx).HostConfig).not.toHaveProperty('StorageOpt');
  });
});
