// The web console's main pages as PNGs in docs/screenshots/, taken in Debian's Chromium against the stack that
// deploy/up.sh runs: a demo project with a user and two containers (made here, removed after), the tenant's pages and
// the cloud admin's. Run: deploy/up.sh && . .berth/env && npm run screenshots
import { chromium } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

const url = process.env.BERTH_URL;
const token = process.env.BERTH_TOKEN;
if (!url || !token) throw new Error('set BERTH_URL and BERTH_TOKEN (deploy/up.sh, then: . .berth/env)');
const out = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs/screenshots');
const PASSWORD = 'a long password for the screenshots';
const tag = randomBytes(3).toString('hex');

async function api(method, route, body) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function until(check) {
  for (let i = 0; i < 600; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

async function logIn(page, user, project) {
  await page.goto('/');
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Project').fill(project);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('who').waitFor();
}

const project = await api('POST', '/v1/projects', { name: `demo-${tag}` });
const user = await api('POST', '/v1/users', { name: `alice-${tag}`, password: PASSWORD });
await api('PUT', `/v1/projects/${project.id}/members/${user.name}`, { role: 'member' });
const admins = (await api('GET', '/v1/projects')).items.find((p) => p.name === 'admin');
const operator = await api('POST', '/v1/users', { name: `ops-${tag}`, password: PASSWORD });
await api('PUT', `/v1/projects/${admins.id}/members/${operator.name}`, { role: 'admin' });
const network = (await api('GET', '/v1/networks')).items[0]?.name;
const made = [];
for (const name of ['web-1', 'web-2']) {
  const res = await api('POST', '/v1/instances', {
    name,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox',
    network,
    project: project.id,
  });
  made.push(res.instance.id);
}
await until(async () =>
  (await Promise.all(made.map((id) => api('GET', `/v1/instances/${id}`)))).every((i) => i.status === 'ACTIVE'),
);

await mkdir(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ baseURL: url, viewport: { width: 1280, height: 800 } });
  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  await page.goto('/');
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await shot('login');
  await logIn(page, user.name, project.name);
  await page.locator('tr[data-instance="web-1"]').getByText('ACTIVE').waitFor();
  await shot('instances');
  await page.locator('tr[data-instance="web-1"]').getByRole('link', { name: 'web-1' }).click();
  await page.getByTestId('detail-MAC').waitFor();
  await shot('instance');
  await page.getByRole('tab', { name: 'Limits' }).click();
  await page.locator('tr[data-limit="Memory"]').waitFor();
  await shot('instance-limits');
  await page.getByRole('tab', { name: 'Console', exact: true }).click();
  await page.getByTestId('terminal-state').filter({ hasText: 'Connected' }).waitFor();
  await page.keyboard.type('uname -a; df -h /; id\r');
  await page.waitForTimeout(1000);
  await shot('instance-console');
  await page.getByRole('link', { name: 'Project' }).click();
  await page.locator('tr[data-quota="instances"]').waitFor();
  await shot('project');
  await page.getByRole('button', { name: 'Log out' }).click();
  await logIn(page, operator.name, 'admin');
  await page.getByRole('link', { name: 'Hosts' }).click();
  await page.locator('tr[data-host]').first().waitFor();
  await shot('hosts');
  await page.getByRole('link', { name: 'Peak preparation' }).click();
  await page.locator('#capacity-flavor').selectOption('m1.tiny');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.getByTestId('capacity-total').waitFor();
  await shot('peak');
  await page.getByRole('button', { name: 'Log out' }).click();
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  for (const id of made) await api('DELETE', `/v1/instances/${id}`);
  await until(async () => {
    const left = await Promise.all(
      made.map((id) => fetch(`${url}/v1/instances/${id}`, { headers: { authorization: `Bearer ${token}` } })),
    );
    return left.every((r) => r.status === 404);
  });
  await api('DELETE', `/v1/users/${user.id}`);
  await api('DELETE', `/v1/users/${operator.id}`);
  await api('DELETE', `/v1/projects/${project.id}`);
}
