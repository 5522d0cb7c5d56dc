import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { join } from 'node:path';
import { TestStack } from '../system/support/stack';
import { testEnv } from '../system/support/test-env';
import { vmHost } from '../system/support/vm-host';
import { accessibilityProblems, launchChromium, logIn, openTab, type Tab } from './support/browser';

// The web console in Debian's Chromium against the built stack: a tenant's flows, live, and another tenant's view.

const env = testEnv();
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const PASSWORD = 'a long password for the console';
const vms = vmHost('e2e');
const PIDS_BOUNDS = { pidsLimit: 128, limitBounds: { pidsLimit: { min: 64, max: 512 } } };

describe('the web console in Chromium (real stack)', () => {
  let stack: TestStack;
  let browser: Browser;
  let alice: Tab;

  beforeAll(async () => {
    stack = await TestStack.start({ env: vms.env });
    const vm = (file: string) => join(env.vmImageDir, file);
    for (const [path, body] of [
      // A member may choose the processes limit of either flavor, within its bounds.
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 256, diskGb: 1, ...PIDS_BOUNDS }],
      ['/v1/flavors', { name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1, ...PIDS_BOUNDS }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      [
        '/v1/images',
        { name: 'test-vm', kind: 'vm', ref: vm('disk.qcow2'), kernelRef: vm('vmlinuz'), initrdRef: vm('initrd.img') },
      ],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
    for (const [project, user] of [
      ['shop', 'alice'],
      ['bank', 'bob'],
    ]) {
      const made = await stack.call('POST', '/v1/projects', { name: project });
      expect((await stack.call('POST', '/v1/users', { name: user, password: PASSWORD })).status).toBe(201);
      await stack.call('PUT', `/v1/projects/${made.body.id}/members/${user}`, { role: 'member' });
      // Room for four instances: a ranged create makes as many as fit.
      await stack.call('PUT', `/v1/projects/${made.body.id}/quotas`, { instances: 4 });
    }
    // Alice may also read the bank's project: the console switches to it without her password.
    const bank = ((await stack.call('GET', '/v1/projects')).body.items as any[]).find((p) => p.name === 'bank');
    expect((await stack.call('PUT', `/v1/projects/${bank.id}/members/alice`, { role: 'reader' })).status).toBe(200);
    // The cloud admin, with a password: a member of the admin project with role admin.
    const adminProject = ((await stack.call('GET', '/v1/projects')).body.items as any[]).find(
      (p) => p.name === 'admin',
    );
    expect((await stack.call('POST', '/v1/users', { name: 'ops', password: PASSWORD })).status).toBe(201);
    await stack.call('PUT', `/v1/projects/${adminProject.id}/members/ops`, { role: 'admin' });
    browser = await launchChromium();
    alice = await openTab(browser, stack.url);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await vms.remove();
  });

  it('logs a tenant in with a password; a wrong one is refused in the API’s words', async () => {
    const { page } = alice;
    await page.goto('/');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('Password').fill('not the password');
    await page.getByLabel('Project').fill('shop');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('were not accepted').waitFor();
    // The refusal is the one failed answer the browser saw (and Chromium logs it); nothing else went wrong.
    expect(alice.problems.splice(0).sort()).toEqual([
      'answer: 401 POST /v1/auth/tokens',
      'error: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    await logIn(page, 'alice', PASSWORD, 'shop');
    await page.getByText('No instances').waitFor();
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
  });

  it('creates a container and a VM from the form and shows both become ACTIVE without a reload', async () => {
    const { page } = alice;
    const loadsBefore = alice.loads();
    for (const [name, image] of [
      ['web-1', 'busybox (container)'],
      ['vm-1', 'test-vm (virtual machine)'],
    ] as const) {
      await page.getByRole('button', { name: 'Create instance' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('quota-left').waitFor();
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByLabel('Image').selectOption({ label: image });
      await dialog.getByLabel('Flavor').selectOption({ label: 'm1.tiny: 1 vCPU, 256 MB, 1 GB' });
      await dialog.getByLabel('Network').selectOption({ index: 1 });
      if (name === 'web-1') {
        // A limit past the flavor's bound is refused before the API is asked, in the API's words.
        await dialog.getByRole('button', { name: 'Limits' }).click();
        await dialog.getByLabel('Processes').fill('1000');
        await dialog.getByText("limits.pidsLimit must not be greater than 512, the flavor's bound").waitFor();
        expect(await dialog.getByRole('button', { name: 'Create' }).isDisabled()).toBe(true);
        await dialog.getByLabel('Processes').fill('300');
        expect(await accessibilityProblems(page)).toEqual([]);
      }
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.waitFor({ state: 'detached' });
    }
    for (const name of ['web-1', 'vm-1']) {
      const status = page.locator(`tr[data-instance="${name}"]`).getByTestId('status');
      await status.filter({ hasText: /^ACTIVE$/ }).waitFor({ timeout: 180_000 });
    }
    const made = ((await stack.call('GET', '/v1/instances')).body.items as any[]).find((i) => i.name === 'web-1');
    expect(made).toMatchObject({ kind: 'container', status: 'ACTIVE' });
    const row = page.locator('tr[data-instance="web-1"]');
    await row.getByText(made.ip).waitFor();
    // The limit asked in the form is the one the host read back from the container's pids cgroup.
    expect(made.limits.pidsLimit).toBe(300);
    await stack.until("web-1's processes limit read back", async () => {
      const applied = (await stack.call('GET', `/v1/instances/${made.id}`)).body.appliedLimits;
      return applied?.pidsLimit === 300 ? applied : null;
    });
    expect(alice.loads()).toBe(loadsBefore);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('makes as many as the quota holds from a ranged bulk create, and refuses early a least past it', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Create instance' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('quota-left').filter({ hasText: 'Quota left: 2 instances' }).waitFor();
    await dialog.getByLabel('Name').fill('batch');
    await dialog.getByLabel('Image').selectOption({ label: 'busybox (container)' });
    await dialog.getByLabel('Flavor').selectOption({ label: 'm1.tiny: 1 vCPU, 256 MB, 1 GB' });
    await dialog.getByLabel('Network').selectOption({ index: 1 });
    await dialog.getByLabel('As many as fit, within a range').check();
    await dialog.getByRole('spinbutton', { name: 'Up to' }).fill('5');
    await dialog.getByRole('spinbutton', { name: 'At least' }).fill('3');
    await dialog.getByText('Past the quota: 3 instances asked, 2 left').waitFor();
    expect(await dialog.getByRole('button', { name: 'Create' }).isDisabled()).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('spinbutton', { name: 'At least' }).fill('1');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    for (const name of ['batch-1', 'batch-2']) {
      const status = page.locator(`tr[data-instance="${name}"]`).getByTestId('status');
      await status.filter({ hasText: /^ACTIVE$/ }).waitFor({ timeout: 60_000 });
    }
    const batch = ((await stack.call('GET', '/v1/instances')).body.items as any[]).filter((i) =>
      i.name.startsWith('batch-'),
    );
    expect(batch.map((i) => i.name).sort()).toEqual(['batch-1', 'batch-2']);
    // Gone again, so that the pages after this one see the two instances they expect.
    for (const i of batch) expect((await stack.remove(i.id)).status).toBe('succeeded');
    for (const i of batch) await page.locator(`tr[data-instance="${i.name}"]`).waitFor({ state: 'detached' });
    expect(alice.problems).toEqual([]);
  });

  it('resizes an instance from its page and shows the limits its host read back change, live', async () => {
    const { page } = alice;
    const loadsBefore = alice.loads();
    const made = ((await stack.call('GET', '/v1/instances')).body.items as any[]).find((i) => i.name === 'web-1');
    await page.locator('tr[data-instance="web-1"]').getByRole('link', { name: 'web-1' }).click();
    await page.getByTestId('detail-MAC').filter({ hasText: made.mac }).waitFor();
    await page.getByRole('tab', { name: 'Limits' }).click();
    const memory = page.locator('tr[data-limit="Memory"]');
    await memory.getByText('256 MB').first().waitFor();
    await page.getByLabel('New flavor').selectOption({ label: 'm1.small: 1 vCPU, 512 MB, 1 GB' });
    await page.getByRole('button', { name: 'Resize' }).click();
    // Asked and applied (read back from the cgroup by the host) both show the new size.
    await memory.getByText('512 MB').nth(1).waitFor({ timeout: 60_000 });
    expect((await stack.call('GET', `/v1/instances/${made.id}`)).body.appliedLimits.ramMb).toBe(512);
    // Set limits: past the new flavor's bound refused early, within it applied and read back.
    await page.getByRole('button', { name: 'Set limits' }).click();
    await page.getByLabel('Processes').fill('600');
    await page.getByText("limits.pidsLimit must not be greater than 512, the flavor's bound").waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Processes').fill('400');
    await page.getByRole('button', { name: 'Apply limits' }).click();
    await page.locator('tr[data-limit="Processes"]').getByText('400').nth(1).waitFor({ timeout: 60_000 });
    expect((await stack.call('GET', `/v1/instances/${made.id}`)).body.appliedLimits.pidsLimit).toBe(400);
    expect(alice.loads()).toBe(loadsBefore);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('draws the CPU a busy loop in the container uses', async () => {
    const { page } = alice;
    const made = ((await stack.call('GET', '/v1/instances')).body.items as any[]).find((i) => i.name === 'web-1');
    await page.getByRole('tab', { name: 'Usage' }).click();
    const cpu = page.getByTestId('chart-CPU %');
    await cpu.filter({ hasText: /^CPU \d+$/ }).waitFor();
    await runCommand(['/usr/bin/docker', 'exec', '-d', `berth-${made.id}`, 'sh', '-c', 'while :; do :; done']);
    await cpu.filter({ hasText: /^CPU ([5-9]\d|1\d\d)$/ }).waitFor({ timeout: 30_000 });
    await runCommand(['/usr/bin/docker', 'exec', `berth-${made.id}`, 'pkill', '-f', 'while']).catch(() => '');
    expect(await accessibilityProblems(page)).toEqual([]);
    // Sampling ends with the tab: no request of it is left to meet the stop that follows.
    await page.getByRole('tab', { name: 'Details' }).click();
    await cpu.waitFor({ state: 'detached' });
  });

  it("types into the container's shell and the VM's serial console and reads what they print", async () => {
    const { page } = alice;
    const loadsBefore = alice.loads();
    const rows = page.getByTestId('terminal').locator('.xterm-rows');
    const state = page.getByTestId('terminal-state');
    // The container: a shell started in it, its root the container's remapped root.
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    await state.filter({ hasText: 'Connected' }).waitFor();
    await page.keyboard.type('echo shell-$((6*7)) $(id -u)');
    await page.keyboard.press('Enter');
    await rows.filter({ hasText: 'shell-42 0' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    // The keyboard alone leaves the terminal: Ctrl-] moves the focus out of it.
    await page.keyboard.press('Control+BracketRight');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Disconnect');
    await page.keyboard.press('Enter');
    await state.filter({ hasText: 'Disconnected' }).waitFor();

    // The VM: its serial console, where the test image runs a shell.
    await page.getByRole('link', { name: 'Instances' }).click();
    await page.locator('tr[data-instance="vm-1"]').getByRole('link', { name: 'vm-1' }).click();
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    await state.filter({ hasText: 'Connected' }).waitFor();
    await page.getByText('The serial console: press Enter').waitFor();
    await page.keyboard.press('Enter');
    await page.keyboard.type('echo serial-$((6*7)) $(uname -s)');
    await page.keyboard.press('Enter');
    await rows.filter({ hasText: 'serial-42 Linux' }).waitFor({ timeout: 30_000 });

    // Each session is in the audit trail, with how it ended.
    const vm = ((await stack.call('GET', '/v1/instances')).body.items as any[]).find((i) => i.name === 'vm-1');
    await page.getByRole('link', { name: 'Instances' }).click();
    const ops = (await stack.call('GET', `/v1/operations?action=instance.console&target=${vm.id}`)).body.items;
    expect(ops[0].steps[0]).toMatchObject({ name: 'open', status: 'succeeded', detail: 'the serial console' });
    await page.locator('tr[data-instance="web-1"]').getByRole('link', { name: 'web-1' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^ACTIVE$/ })
      .waitFor();
    expect(alice.loads()).toBe(loadsBefore);
  });

  it('stops an instance from its page and shows the operation live', async () => {
    const { page } = alice;
    const loadsBefore = alice.loads();
    const made = ((await stack.call('GET', '/v1/instances')).body.items as any[]).find((i) => i.name === 'web-1');
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^SHUTOFF$/ })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('tab', { name: 'Operations' }).click();
    for (const action of ['instance.stop', 'instance.resize']) {
      await page.locator(`tr[data-operation="${action}"]`).getByText('succeeded', { exact: true }).waitFor();
    }
    expect((await stack.call('GET', `/v1/instances/${made.id}`)).body.status).toBe('SHUTOFF');
    expect(alice.loads()).toBe(loadsBefore);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('shows another tenant none of it, and a 404 for its page by URL', async () => {
    const bob = await openTab(browser, stack.url);
    try {
      await logIn(bob.page, 'bob', PASSWORD, 'bank');
      await bob.page.getByText('No instances').waitFor();
      const [web] = (await stack.call('GET', '/v1/instances')).body.items.filter((i: any) => i.name === 'web-1');
      await bob.page.goto(`/instances/${web.id}`);
      await bob.page.getByText(`instance "${web.id}" not found`).waitFor();
      // Chromium logs the one answer it was meant to get, the 404 for another project's instance, as an error.
      expect(bob.problems.sort()).toEqual([
        `answer: 404 GET /v1/instances/${web.id}`,
        'error: Failed to load resource: the server responded with a status of 404 (Not Found)',
      ]);
    } finally {
      await bob.context.close();
    }
  });

  it("shows the cloud admin the hosts' use as bars and lets them disable and enable one; a tenant has no such page", async () => {
    expect(await alice.page.getByRole('link', { name: 'Hosts' }).count()).toBe(0);
    const ops = await openTab(browser, stack.url);
    try {
      await logIn(ops.page, 'ops', PASSWORD, 'admin');
      await ops.page.getByRole('link', { name: 'Hosts' }).click();
      const row = ops.page.locator(`tr[data-host="${stack.hostName}"]`);
      await row.getByText('2 instances').waitFor();
      await row.getByText(/^768 \/ \d+ MB$/).waitFor();
      expect(await accessibilityProblems(ops.page)).toEqual([]);
      await row.getByRole('button', { name: 'Disable' }).click();
      await row
        .getByTestId('enabled')
        .filter({ hasText: /^disabled/ })
        .waitFor();
      const host = ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === stack.hostName);
      expect(host.enabled).toBe(false);
      await row.getByRole('button', { name: 'Enable' }).click();
      await row
        .getByTestId('enabled')
        .filter({ hasText: /^enabled$/ })
        .waitFor();
      expect(ops.problems).toEqual([]);
    } finally {
      await ops.context.close();
    }
  });

  it("shows the project's quotas, audit trail and events, and switches to another of the user's projects", async () => {
    const { page } = alice;
    const loadsBefore = alice.loads();
    await page.getByRole('link', { name: 'Project' }).click();
    await page.locator('tr[data-quota="instances"]').getByText('2', { exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Audit trail' }).click();
    await page.getByLabel('Action').fill('instance.console');
    await page.locator('tr[data-operation="instance.console"]').first().waitFor();
    expect(await page.locator('tbody tr[data-operation]:not([data-operation="instance.console"])').count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.locator('tr[data-event="instance.updated"]').first().waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    // To the bank, where she reads only: a new token, the old one revoked, nothing of the shop shown.
    const before = JSON.parse(String(await page.evaluate("sessionStorage.getItem('berth.session')")));
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'bank (reader)' });
    await page.getByTestId('who').filter({ hasText: 'alice in bank (reader)' }).waitFor();
    await page.getByText('No instances').waitFor();
    await stack.until('the old token to be revoked', async () =>
      (await stack.call('GET', '/v1/instances', undefined, before.token)).status === 401 ? true : null,
    );
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'shop (member)' });
    await page.getByTestId('who').filter({ hasText: 'alice in shop (member)' }).waitFor();
    await page.locator('tr[data-instance="web-1"]').getByRole('link', { name: 'web-1' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^SHUTOFF$/ })
      .waitFor();
    expect(alice.loads()).toBe(loadsBefore);
    expect(alice.problems).toEqual([]);
  });

  it('lists the catalogue and makes a server group from its form; a bad name is refused in the API’s words', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Resources' }).click();
    await page.locator('tr[data-row="m1.tiny"]').waitFor();
    // A tenant reads flavors and creates none.
    expect(await page.getByRole('button', { name: 'Create', exact: true }).count()).toBe(0);
    await page.getByRole('tab', { name: 'Server groups' }).click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('not a name!');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText(/^name must be /).waitFor();
    expect((await stack.call('GET', '/v1/server-groups')).body.items).toEqual([]);
    alice.problems.splice(0);
    await dialog.getByLabel('Name').fill('web-spread');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tr[data-row="web-spread"]').getByText('anti-affinity').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    // A token for a script: its secret shown once, working, then revoked from the same table.
    await page.getByRole('tab', { name: 'Tokens' }).click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.getByLabel('Name').fill('ci-deploy');
    expect(await dialog.getByLabel('Role').inputValue()).toBe('member');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = await dialog.getByLabel('The secret').inputValue();
    expect((await stack.call('GET', '/v1/instances', undefined, secret)).status).toBe(200);
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const token = page.locator('tr[data-row="ci-deploy"]');
    await token.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await token.locator('td[data-label="Revoked"]').filter({ hasText: /\d/ }).waitFor();
    expect((await stack.call('GET', '/v1/instances', undefined, secret)).status).toBe(401);
    expect(await page.evaluate('JSON.stringify(sessionStorage)')).not.toContain(secret);
    await page.getByRole('link', { name: 'Instances' }).click();
    await page.locator('tr[data-instance="web-1"]').getByRole('link', { name: 'web-1' }).click();
    await page
      .getByTestId('status')
      .filter({ hasText: /^SHUTOFF$/ })
      .waitFor();
    expect(alice.problems).toEqual([]);
  });

  it('deletes the instance from its page and ends the session on log out', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.locator('tr[data-instance="web-1"]').waitFor({ state: 'detached', timeout: 60_000 });
    await page.locator('tr[data-instance="vm-1"]').getByRole('link', { name: 'vm-1' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('No instances').waitFor({ timeout: 120_000 });
    // The console's own token (in this tab's sessionStorage only) is revoked by the log out.
    const saved = JSON.parse(String(await page.evaluate("sessionStorage.getItem('berth.session')")));
    expect((await stack.call('GET', '/v1/instances', undefined, saved.token)).status).toBe(200);
    expect(page.url()).not.toContain(saved.token);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect((await stack.call('GET', '/v1/instances', undefined, saved.token)).status).toBe(401);
    expect(await page.evaluate("sessionStorage.getItem('berth.session')")).toBeNull();
    expect(alice.problems).toEqual([]);
  });
  it('works with the keyboard alone: logs in, moves between sections, opens and closes a dialog', async () => {
    const tab = await openTab(browser, stack.url);
    const { page } = tab;
    /** Presses Tab until the focused element is `selector` (or says `text`), as a keyboard user would. */
    const tabTo = async (selector: string, text?: string, most = 40) => {
      for (let n = 0; n < most; n += 1) {
        await page.keyboard.press('Tab');
        const reached = await page.evaluate(
          `(() => { const el = document.activeElement; return !!el && el.matches(${JSON.stringify(selector)}) &&
            (${JSON.stringify(text ?? null)} === null || el.textContent.trim() === ${JSON.stringify(text ?? '')}); })()`,
        );
        if (reached) return;
      }
      throw new Error(`Tab never reached ${selector} ${text ?? ''}`);
    };
    try {
      await page.goto('/');
      await tabTo('#login-user');
      await page.keyboard.type('alice');
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Tab');
      await page.keyboard.type('shop');
      await page.keyboard.press('Enter');
      await page.getByTestId('who').filter({ hasText: 'alice in shop' }).waitFor();
      await tabTo('a[href="/project"]');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Project shop' }).waitFor();
      await tabTo('a[href="/instances"]');
      await page.keyboard.press('Enter');
      await tabTo('button', 'Create instance');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      expect(tab.problems).toEqual([]);
    } finally {
      await tab.context.close();
    }
  });
});
