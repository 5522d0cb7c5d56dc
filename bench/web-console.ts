/**
 * bench/web-console: what the web console costs a browser. Against the stack deploy/up.sh runs (its API serves the
 * console's production build): the gzipped JavaScript and CSS the first page loads (index.html's own assets), and the
 * terminal's chunk loaded on demand; then, in Debian's Chromium (playwright-core), route changes between the
 * instances list (with `instances` containers in it), the project page and the resources page, each timed in the
 * page from the link's click to the new page's content in the DOM (its heading and first row), median and p90 over
 * `rounds` rounds. Writes the figures to docs/benchmarks.md.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/web-console.js [rounds] [instances]
 */
import { chromium, type Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, percentile } from './support/stats';

const rounds = Number(process.argv[2] ?? 20);
const instances = Number(process.argv[3] ?? 10);
const url = process.env['BERTH_URL'] ?? '';
const PASSWORD = 'a long benchmark password';
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** The gzipped size of each asset index.html names (what the first page loads), and of the lazy chunks. */
async function bundle(): Promise<{ js: number; css: number; lazy: number }> {
  const html = await (await fetch(`${url}/`)).text();
  const named = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
  const size = async (path: string) => gzipSync(Buffer.from(await (await fetch(`${url}${path}`)).arrayBuffer())).length;
  let js = 0;
  let css = 0;
  for (const path of named) {
    if (path.endsWith('.js')) js += await size(path);
    else css += await size(path);
  }
  // The entry's dynamic imports: chunks named in it that index.html does not name.
  const entry = named.find((p) => p.endsWith('.js')) ?? '';
  const code = await (await fetch(`${url}${entry}`)).text();
  const lazy = [...new Set([...code.matchAll(/assets\/[\w-]+\.js/g)].map((m) => `/${m[0]}`))].filter(
    (p) => !named.includes(p),
  );
  let lazyBytes = 0;
  for (const path of lazy) lazyBytes += await size(path);
  return { js, css, lazy: lazyBytes };
}

/** Clicks the link and waits in the page until `ready` matches; the time between, in ms, from the page's own clock. */
async function routeChange(page: Page, link: string, ready: string): Promise<number> {
  // In the page (a string: this program has no DOM types): click, then look for `ready` at each frame.
  return page.evaluate<number>(`new Promise((resolve, reject) => {
    const anchor = [...document.querySelectorAll('nav a')].find((a) => a.textContent === ${JSON.stringify(link)});
    if (!anchor) return reject(new Error('no link ${link}'));
    const started = performance.now();
    anchor.click();
    const check = () =>
      document.querySelector(${JSON.stringify(ready)}) ? resolve(performance.now() - started) : requestAnimationFrame(check);
    check();
  })`);
}

async function main(): Promise<void> {
  assertStack();
  const tag = randomBytes(3).toString('hex');
  const project = await api('POST', '/v1/projects', { name: `web-bench-${tag}` });
  await api('POST', '/v1/users', { name: `web-bench-${tag}`, password: PASSWORD });
  await api('PUT', `/v1/projects/${project.id}/members/web-bench-${tag}`, { role: 'member' });
  await api('PUT', `/v1/projects/${project.id}/quotas`, { instances: -1, vcpus: -1, ramMb: -1, diskGb: -1, ips: -1 });
  const network = (await api('GET', '/v1/networks')).items[0]?.name as string;
  const made = await api('POST', '/v1/instances', {
    name: `web-bench-${tag}`,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox',
    network,
    count: instances,
    project: project.id,
  });
  const ids = (made.instances as Array<{ instance: { id: string }; operationId: string }>).map((i) => i.instance.id);
  const browser = await chromium.launch({
    executablePath: process.env['BERTH_CHROMIUM'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    for (const i of made.instances) await finished(i.operationId);
    const sizes = await bundle();
    const page = await browser.newPage({ baseURL: url, viewport: { width: 1280, height: 900 } });
    await page.goto('/');
    await page.getByLabel('User').fill(`web-bench-${tag}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Project').fill(project.name);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('tr[data-instance]').first().waitFor();
    const times: Record<string, number[]> = { Project: [], Resources: [], Instances: [] };
    const targets: Array<[string, string]> = [
      ['Project', 'tr[data-quota="instances"]'],
      ['Resources', 'tr[data-row]'],
      ['Instances', 'tr[data-instance]'],
    ];
    for (let round = -2; round < rounds; round += 1) {
      for (const [link, ready] of targets) {
        const ms = await routeChange(page, link, ready);
        if (round >= 0) times[link]?.push(ms); // The first two rounds warm the caches.
      }
    }
    const row = (name: string, values: number[]) =>
      `| ${name} | ${median(values).toFixed(1)} ms | ${percentile(values, 90).toFixed(1)} ms | ${Math.max(...values).toFixed(1)} ms |`;
    const all = Object.values(times).flat();
    writeSection(
      'web-console',
      `## web-console

\`node dist/bench/web-console.js ${rounds} ${instances}\`: the console's production build as the API serves it, in
Debian's Chromium (headless, playwright-core), logged in as a member of a project with ${instances} containers. The
first page loads index.html's own assets; the terminal (xterm.js) is a chunk loaded when a console is opened. Route
changes are timed in the page, from the link's click to the new page's first row in the DOM (data served from the
API: the first visit of each page in a round may ask it again), ${rounds} rounds after two to warm up. ${machineLine()}

| first page, gzipped | JavaScript | CSS | loaded on demand (terminal) |
|---|---|---|---|
| bytes | ${kb(sizes.js)} | ${kb(sizes.css)} | ${kb(sizes.lazy)} |

| route change to | median | p90 | max |
|---|---|---|---|
${row('Project (quotas)', times['Project'] ?? [])}
${row('Resources (flavors)', times['Resources'] ?? [])}
${row('Instances (the list)', times['Instances'] ?? [])}

**Initial JavaScript ${kb(sizes.js)} gzipped** (target for issue 19: at most 350 KB). **Route changes: median
${median(all).toFixed(1)} ms, p90 ${percentile(all, 90).toFixed(1)} ms** (target: under 100 ms).`,
    );
    console.log(`initial JS ${kb(sizes.js)} gz; route change median ${median(all).toFixed(1)} ms`);
  } finally {
    await browser.close();
    for (const id of ids) await api('DELETE', `/v1/instances/${id}`).catch(() => undefined);
    for (const id of ids) {
      while (
        (
          await fetch(`${url}/v1/instances/${id}`, {
            headers: { authorization: `Bearer ${process.env['BERTH_TOKEN']}` },
          })
        ).status !== 404
      ) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await api(
      'DELETE',
      `/v1/users/${(await api('GET', '/v1/users')).items.find((u: any) => u.name === `web-bench-${tag}`).id}`,
    );
    await api('DELETE', `/v1/projects/${project.id}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
