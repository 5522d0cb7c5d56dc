// Compiles apps/, libs/ and bench/ into dist/ with SWC, mirroring the source tree,
// and rewrites the @berth/* path aliases to relative imports. About a second on two cores.
import { transformFile } from '@swc/core';
import { createRequire } from 'node:module';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { swcOptions } = require('./swc-options.cjs');

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outDir = path.join(root, 'dist');
const sourceRoots = ['apps', 'libs', 'bench'];
const isTestFile = (file) =>
  /\.(spec|medium|system)\.ts$/.test(file) || file.includes(`${path.sep}testing${path.sep}fixtures`);

const tsconfig = JSON.parse(await readFile(path.join(root, 'tsconfig.base.json'), 'utf8'));
const aliases = Object.entries(tsconfig.compilerOptions.paths).map(([alias, [target]]) => [
  alias,
  path.join(root, target).replace(/\.ts$/, ''),
]);

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // apps/web is the browser's, built by vite.
      if (entry.name !== 'node_modules' && full !== path.join(root, 'apps', 'web')) yield* walk(full);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !isTestFile(full)) {
      yield full;
    }
  }
}

function rewriteAliases(code, sourceFile) {
  return code.replace(/require\("(@berth\/[a-z-/]+)"\)/g, (match, spec) => {
    const hit = aliases.find(([alias]) => alias === spec);
    if (!hit) throw new Error(`${sourceFile}: unknown alias ${spec}`);
    let rel = path.relative(path.dirname(sourceFile), hit[1]);
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `require("${rel}")`;
  });
}

// dist/web is the web console's own build (vite, `npm run build:web`): kept.
await mkdir(outDir, { recursive: true });
for (const entry of await readdir(outDir)) {
  if (entry !== 'web') await rm(path.join(outDir, entry), { recursive: true, force: true });
}
let count = 0;
for (const top of sourceRoots) {
  for await (const file of walk(path.join(root, top))) {
    const out = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    const result = await transformFile(file, { ...swcOptions(), filename: file, sourceFileName: file });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${rewriteAliases(result.code, file)}\n//# sourceMappingURL=${path.basename(out)}.map\n`);
    if (result.map) await writeFile(`${out}.map`, result.map);
    count += 1;
  }
}
console.log(`built ${count} files into dist/`);
