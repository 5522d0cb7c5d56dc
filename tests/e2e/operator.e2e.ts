import { randomInt } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { TestStack } from '../system/support/stack';
import { testEnv } from '../system/support/test-env';
import { accessibilityProblems, launchChromium, logIn, openTab, type Tab } from './support/browser';

// The cloud admin's console in Debian's Chromium, on two hosts of deploy/testbed.sh: a drain watched as its
// instances move, a migration reverted, and a peak prepared (capacity, dry run, a reservation made and released).

const env = testEnv();
const tb = env.testbed;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const PASSWORD = 'a long password for the operator';

describe("the cloud admin's console in Chromium (two testbed hosts)", () => {
  let stack: TestStack;
  let browser: Browser;
  let ops: Tab;
  let first: string;
  let second: string;
  const hostId = async (name: string) =>
    ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === name).id as string;
  const placed = async () =>
    ((await stack.call('GET', '/v1/instances')).body.items as any[]).map((i) => [i.name, i.host, i.status]);

  beforeAll(async () => {
    stack = await TestStack.start({
      agent: false,
      testbedHosts: [1, 2],
      // Snapshots go through the registry on the testbed's gateway; hosts switched off and on are re-read at once.
      env: { BERTH_SNAPSHOT_REGISTRY: `${tb.gateway}:5000`, BERTH_HOST_CACHE_MS: '50' },
    });
    [first = '', second = ''] = stack.testbedHostNames;
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: tb.image }],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
      ['/v1/projects', { name: 'shop' }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
    const adminProject = ((await stack.call('GET', '/v1/projects')).body.items as any[]).find(
      (p) => p.name === 'admin',
    );
    expect((await stack.call('POST', '/v1/users', { name: 'ops', password: PASSWORD })).status).toBe(201);
    await stack.call('PUT', `/v1/projects/${adminProject.id}/members/ops`, { role: 'admin' });
    // Two containers on the first host: the second takes none while they are built.
    await stack.call('PATCH', `/v1/hosts/${await hostId(second)}`, { enabled: false });
    for (const name of ['app-1', 'app-2']) {
      expect(await stack.createInstance({ name, network: 'vlan100' })).toMatchObject({ host: first, status: 'ACTIVE' });
    }
    await stack.call('PATCH', `/v1/hosts/${await hostId(second)}`, { enabled: true });
    browser = await launchChromium();
    ops = await openTab(browser, stack.url);
    await logIn(ops.page, 'ops', PASSWORD, 'admin');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('drains a host and shows its instances move to the other, live', async () => {
    const { page } = ops;
    await page.getByRole('link', { name: 'Hosts' }).click();
    const row = (name: string) => page.locator(`tr[data-host="${name}"]`);
    await row(first).getByText('2 instances').waitFor();
    await row(first).getByRole('button', { name: 'Drain' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Drain' }).click();
    await page.getByTestId('drain').waitFor();
    await page
      .getByTestId('drain-status')
      .filter({ hasText: /^(succeeded|failed)$/ })
      .waitFor({ timeout: 100_000 });
    expect(await page.getByTestId('drain').textContent()).toMatch(/^Drain: succeeded/);
    await row(second).getByText('2 instances').waitFor();
    await row(first).getByText('0 instances').waitFor();
    await page.getByTestId('overview-instances').getByText('ACTIVE container 2').waitFor();
    expect((await placed()).sort()).toEqual([
      ['app-1', second, 'ACTIVE'],
      ['app-2', second, 'ACTIVE'],
    ]);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('migrates an instance from its page and reverts the move', async () => {
    const { page } = ops;
    const row = page.locator(`tr[data-host="${first}"]`);
    await row.getByRole('button', { name: 'Enable' }).click();
    await row
      .getByTestId('enabled')
      .filter({ hasText: /^enabled$/ })
      .waitFor();
    await page.getByRole('link', { name: 'Instances' }).click();
    await page.locator('tr[data-instance="app-1"]').getByRole('link', { name: 'app-1' }).click();
    await page.getByRole('button', { name: 'Migrate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^VERIFY_MIGRATION$/ })
      .waitFor({ timeout: 120_000 });
    expect((await placed()).find(([name]) => name === 'app-1')).toEqual(['app-1', first, 'VERIFY_MIGRATION']);
    await page.getByRole('button', { name: 'Revert move' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^ACTIVE$/ })
      .waitFor({ timeout: 120_000 });
    expect((await placed()).find(([name]) => name === 'app-1')).toEqual(['app-1', second, 'ACTIVE']);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('prepares a peak: how many more fit and where, where a burst would go, room reserved and released', async () => {
    const { page } = ops;
    await page.getByRole('link', { name: 'Peak preparation' }).click();
    await page.locator('#capacity-flavor').selectOption('m1.tiny');
    await page.getByRole('button', { name: 'Ask' }).click();
    const capacity = await stack.call('GET', '/v1/capacity?flavor=m1.tiny');
    await page
      .getByTestId('capacity-total')
      .filter({ hasText: `${capacity.body.total} more m1.tiny containers fit` })
      .waitFor();
    for (const h of capacity.body.hosts) {
      await page.locator(`tr[data-capacity-host="${h.host}"]`).getByText(String(h.fits), { exact: true }).waitFor();
    }

    const dryRun = page.locator('#dry-run-flavor').locator('xpath=ancestor::form');
    await page.locator('#dry-run-flavor').selectOption('m1.tiny');
    await page.locator('#dry-run-image').selectOption('busybox');
    await page.locator('#dry-run-network').selectOption('vlan100');
    await dryRun.getByRole('button', { name: 'Try' }).click();
    await page
      .getByTestId('dry-run-placed')
      .filter({ hasText: /^1 of 1 would be placed, over 2 hosts/ })
      .waitFor();

    // Bad input is refused in the form, in the API's words for the field; nothing is made.
    await page.locator('#reservation-flavor').selectOption('m1.tiny');
    await page.locator('#reservation-ends').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Reserve' }).click();
    await page.getByText('endsAt must be after startsAt and in the future').waitFor();
    expect((await stack.call('GET', '/v1/reservations')).body.items).toEqual([]);
    ops.problems.splice(0);

    await page.locator('#reservation-ends').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 16));
    await page.locator('#reservation-project').selectOption({ label: 'shop' });
    await page.getByRole('button', { name: 'Reserve' }).click();
    const reserved = page.locator('tr[data-reservation="m1.tiny"]');
    await reserved.getByText('1 of 1').waitFor();
    const [made] = (await stack.call('GET', '/v1/reservations')).body.items;
    expect(made).toMatchObject({ flavor: 'm1.tiny', count: 1, free: 1, status: 'active' });
    expect(await accessibilityProblems(page)).toEqual([]);
    await reserved.getByRole('button', { name: 'Release' }).click();
    await reserved.getByText('released').waitFor();

    // The image pulled ahead on the one host chosen, that host's step shown as it ends.
    await page.locator('#prewarm-image').selectOption({ label: 'busybox' });
    await page.getByLabel(second, { exact: true }).check();
    await page.getByRole('button', { name: 'Pre-warm' }).click();
    // The operation as the API keeps it first (a failure then says whether the host ever pulled), then the page's.
    const started = await stack.until('the pre-warm to be asked', async () => {
      const [op] = (await stack.call('GET', '/v1/operations?action=image.prewarm')).body.items;
      return op ?? null;
    });
    const prewarm = await stack.operation(started.id, 100_000).catch(async (error: unknown) => {
      const now = (await stack.call('GET', `/v1/operations/${started.id}`)).body;
      throw new Error(`${String(error)}; the operation is ${JSON.stringify(now)}`);
    });
    expect(prewarm.steps.map((s: any) => [s.name, s.status])).toEqual([[`pull ${second}`, 'succeeded']]);
    await page
      .getByTestId('pre-warm-status')
      .filter({ hasText: /^succeeded$/ })
      .waitFor();
    await page.getByTestId('pre-warm').getByText(`pull ${second}: succeeded`).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(ops.problems).toEqual([]);
  });

  it('counts a create refused for no valid host under the filter that refused it', async () => {
    const { page } = ops;
    // Both hosts switched off: the scheduler turns each down (ComputeEnabled), and the create fails.
    const both = async (enabled: boolean) => {
      for (const name of [first, second]) await stack.call('PATCH', `/v1/hosts/${await hostId(name)}`, { enabled });
    };
    await both(false);
    const refused = await stack.call('POST', '/v1/instances', {
      name: 'nowhere',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'vlan100',
    });
    try {
      expect(refused.status).toBe(202);
      expect((await stack.operation(refused.body.operationId)).status).toBe('failed');
    } finally {
      await both(true);
    }
    await page.getByRole('link', { name: 'Hosts' }).click();
    await page.getByTestId('overview-refusals').getByText('ComputeEnabled: 1').waitFor();
    await page.getByTestId('overview-instances').getByText('ERROR container 1').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect((await stack.remove(refused.body.instance.id)).status).toBe('succeeded');
  });

  it("sets a project's quota and a member's role from the resources page", async () => {
    const { page } = ops;
    await page.getByRole('link', { name: 'Resources' }).click();
    await page.getByRole('tab', { name: 'Members and quotas' }).click();
    await page.locator('#admin-project').selectOption({ label: 'shop' });
    await page.locator('#quota-instances').fill('5');
    await page.getByRole('button', { name: 'Save quotas' }).click();
    await page.getByText('Saved.').waitFor();
    const shop = ((await stack.call('GET', '/v1/projects')).body.items as any[]).find((p) => p.name === 'shop');
    expect((await stack.call('GET', `/v1/projects/${shop.id}/quotas`)).body.instances.limit).toBe(5);
    await page.locator('#member-user').fill('ops');
    await page.locator('#member-role').selectOption('reader');
    await page.getByRole('button', { name: 'Set role' }).click();
    await page.locator('tr[data-member="ops"]').getByText('reader').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(ops.problems).toEqual([]);
  });

  it('makes a flavor with the limits members may choose; a bound the API refuses is shown under its field', async () => {
    const { page } = ops;
    await page.getByRole('tab', { name: 'Flavors' }).click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('m1.bounded');
    await dialog.getByLabel('vCPUs').fill('1');
    await dialog.getByLabel('RAM (MB)').fill('128');
    await dialog.getByLabel('Disk (GB)').fill('1');
    await dialog.getByLabel('Processes').fill('128');
    // A line the form cannot read is refused before sending; a bound below the cloud's rule by the API.
    await dialog.getByLabel('Limits members may choose').fill('pidsLimit 64-512');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText('limitBounds line 1 must be name=min..max').waitFor();
    await dialog.getByLabel('Limits members may choose').fill('pidsLimit=1..512');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText(/^limitBounds\.pidsLimit\.min must not be less than 16/).waitFor();
    expect(((await stack.call('GET', '/v1/flavors')).body.items as any[]).map((f) => f.name)).toEqual(['m1.tiny']);
    ops.problems.splice(0);
    await dialog.getByLabel('Limits members may choose').fill('pidsLimit=64..512\ncpuQuota=10..');
    await dialog.getByLabel('Extra specs').fill('aggregate:disk=ssd');
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    const made = ((await stack.call('GET', '/v1/flavors')).body.items as any[]).find((f) => f.name === 'm1.bounded');
    expect(made).toMatchObject({
      pidsLimit: 128,
      limitBounds: { pidsLimit: { min: 64, max: 512 }, cpuQuota: { min: 10 } },
      extraSpecs: { 'aggregate:disk': 'ssd' },
    });
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(ops.problems).toEqual([]);
  });

  it('groups a host in an aggregate and changes its members and metadata from the resources page', async () => {
    const { page } = ops;
    await page.getByRole('tab', { name: 'Aggregates' }).click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('ssd');
    await dialog.getByLabel('Metadata').fill('disk=ssd');
    await dialog.getByLabel('Hosts').fill(first);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('tr[data-row="ssd"]');
    await row.getByText(first).waitFor();
    await row.getByRole('button', { name: 'Edit' }).click();
    expect(await dialog.getByLabel('Hosts').inputValue()).toBe(first);
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByLabel('Hosts').fill(`${first}, ${second}`);
    await dialog.getByLabel('Metadata').fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText(second).waitFor();
    const [ssd] = (await stack.call('GET', '/v1/aggregates')).body.items;
    expect(ssd).toMatchObject({ name: 'ssd', metadata: {} });
    expect([...ssd.hosts].sort()).toEqual([first, second].sort());
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(ops.problems).toEqual([]);
  });
});
