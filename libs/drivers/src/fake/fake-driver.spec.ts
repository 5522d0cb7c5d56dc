import { Failpoints } from '@berth/platform';
import { describeDriverContract } from '../testing/driver-contract';
import { sampleSpec } from '../testing/sample-spec';
import { FakeDriver } from './fake-driver';

const spec = (id: string) => sampleSpec({ id });

const driver = new FakeDriver();
const failing = new FakeDriver('container', new Failpoints(['fake.network']));
const limitsFailing = new FakeDriver('container', new Failpoints(['fake.set-limits']));

describeDriverContract('fake', {
  driver: () => driver,
  spec,
  leftovers: (s) => Promise.resolve([driver, failing].filter((d) => d.holds(s.id)).map((d) => `${d.name}:${s.id}`)),
  failingDriver: () => failing,
  failingStep: 'network',
  limitsFailingDriver: () => limitsFailing,
});
