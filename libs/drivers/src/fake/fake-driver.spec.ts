import type { InstanceSpec } from '@berth/contracts';
import { Failpoints } from '@berth/platform';
import { describeDriverContract } from '../testing/driver-contract';
import { FakeDriver } from './fake-driver';

const spec = (id: string): InstanceSpec => ({
  id,
  name: 'contract',
  kind: 'container',
  vcpus: 1,
  ramMb: 64,
  diskGb: 1,
  imageRef: 'busybox',
  pidsLimit: 64,
  port: {
    id: '3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c',
    networkId: 'n',
    mac: '02:be:00:00:00:01',
    ip: '10.0.0.2',
    prefixLength: 24,
    gateway: '10.0.0.1',
    vlan: 100,
  },
});

const driver = new FakeDriver();
const failing = new FakeDriver('container', new Failpoints(['fake.network']));

describeDriverContract('fake', {
  driver: () => driver,
  spec,
  leftovers: (s) => Promise.resolve([driver, failing].filter((d) => d.holds(s.id)).map((d) => `${d.name}:${s.id}`)),
  failingDriver: () => failing,
  failingStep: 'network',
});
