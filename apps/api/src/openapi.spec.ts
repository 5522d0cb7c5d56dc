import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument, renderOpenApiJson } from './openapi';
import { renderCliSpec } from './openapi-cli';
import { renderApiReference } from './openapi-markdown';
import { renderWebTypes } from './openapi-types';

const docs = resolve(__dirname, '../../../docs');

describe('the committed API reference', () => {
  it('is what the code generates (run `npm run docs` after changing the API)', async () => {
    const doc = await buildOpenApiDocument();
    expect(readFileSync(resolve(docs, 'openapi.json'), 'utf8')).toBe(renderOpenApiJson(doc));
    expect(readFileSync(resolve(docs, 'api.md'), 'utf8')).toBe(renderApiReference(doc));
    expect(readFileSync(resolve(docs, '../apps/cli/src/generated/api.ts'), 'utf8')).toBe(renderCliSpec(doc));
    expect(readFileSync(resolve(docs, '../apps/web/src/generated/api-types.ts'), 'utf8')).toBe(renderWebTypes(doc));
  });
});
